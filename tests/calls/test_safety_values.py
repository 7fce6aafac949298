"""The values C receives are exactly the values given, and what C hands back can be
called: structs and function pointers through `...`, by-value structs at the edge of
the System V register sequences (where libffi 3.4.4 to 3.4.6 passes wrong data),
long double kept to its last digit, ufuncs of struct-valued functions, and calls through
function pointers read from C.  C side: tests/clib/values.c.
"""

import gc
import math

import numpy as np
import pytest

import ndffi
from conftest import AARCH64_LINUX, CHAR_SIGNED, ENGINE, clib_fixture

DECLS = """
    struct va_il { long a; double b; };
    struct va_ff { float x, y; };
    struct va_if { int i; float f; };
    struct va_dd { double x, y; };
    struct va_big { long a, b, c; double d; };
    struct va_c3 { char c[3]; };
    void va_get_il(double *out, int n, ...);
    void va_get_ff(double *out, int n, ...);
    void va_get_if(double *out, int n, ...);
    void va_get_dd(double *out, int n, ...);
    void va_get_big(double *out, int n, ...);
    void va_get_c3(double *out, int n, ...);
    double va_mixed(int n, ...);
    long va_deref(int n, ...);
    int va_call_int(int option, ...);
    void *va_pass_ptr(int option, ...);
    int vt_twice(int x);
    int call_int_fp(int (*f)(int), int x);

    double ld_echo_d(double x);
    float ld_echo_f(float x);
    long double ld_echo(long double x);
    long double ld_next(long double x);
    long double ld_sum3(long double a, double b, long double c);
    void ld_bytes(long double x, unsigned char *out);
    struct ld_rec { long double v; int k; };
    struct ld_rec ld_rec_make(long double v, int k);
    long double ld_rec_get(const struct ld_rec *r);
    struct d_rec { double d; float f; };
    double d_rec_get(const struct d_rec *r);
    long double ld_call(long double (*cb)(long double), long double x);
    double d_call(double (*cb)(double), double x);
    float f_call(float (*cb)(float), float x);

    struct upt { double x; int k; };
    struct upt upt_make(double x, int k);
    double upt_norm(struct upt p);
    struct upt upt_scale(struct upt p, double s);
    struct ubig { long a, b, c; };
    struct ubig ubig_make(long a);

    int vt_add1(int x);
    double vt_hyp(double a, double b);
    extern int (*g_int_fn)(int);
    extern void (*g_null_fn)(void);
    struct vt_ops { int (*f)(int); double (*g)(double, double); };
    extern struct vt_ops g_ops;
    int (*vt_pick(int k))(int);
    struct vt_ops vt_get_ops(void);
"""

lib = clib_fixture("values", DECLS)


# ---- structs through `...` --------------------------------------------------------------

char = (lambda x: x) if CHAR_SIGNED else (lambda x: x % 256)  # a byte with its top bit set
# (struct, its field values for argument i, fields per value)
VA_STRUCTS = {
    "il": (lambda i: (-(i + 1) * 3, i + 0.25), 2),
    "ff": (lambda i: (i + 0.5, -i - 0.75), 2),
    "if": (lambda i: (-7 * i - 1, i + 0.125), 2),
    "dd": (lambda i: (i / 4, -1e300 * (i + 1)), 2),
    "big": (lambda i: (i, -(2**40) - i, 2**62 + i, i + 1.5), 4),
    "c3": (lambda i: (i, char(-i - 1), 100 - i), 3),
}


@pytest.mark.parametrize("kind", sorted(VA_STRUCTS))
@pytest.mark.parametrize("n", [1, 2, 5, 6, 7, 8, 9, 12])
def test_struct_by_value_through_varargs(lib, kind, n):
    """Each struct reaches va_arg(ap, struct s) whole, in registers and past them on the stack."""
    values, width = VA_STRUCTS[kind]
    T = lib.types["struct va_" + kind]
    args = []
    for i in range(n):
        v = values(i)
        args.append(T(list(v)) if kind == "c3" else T(*v))
    out = np.full(n * width, np.nan)
    getattr(lib, "va_get_" + kind)(out, n, *args)
    expected = [x for i in range(n) for x in values(i)]
    assert out.tolist() == [float(x) for x in expected]


def test_struct_varargs_mixed_with_scalars(lib):
    il, ff = lib.types["struct va_il"], lib.types["struct va_ff"]
    assert lib.va_mixed(0, il(3, 0.5), 2.0, 7, ff(5.0, 2.5)) == 3000 + 50 + 20 + 7 + 2.5 + 0.625


def test_struct_address_through_varargs_is_a_cast(lib):
    v = lib.types["struct va_il"](42, 0.5)
    assert lib.va_deref(0, ndffi.cast("struct va_il *", v)) == 42
    p = lib.new("struct va_il *", v)
    assert lib.va_deref(0, p) == 42
    assert lib.va_deref(0, None) == -1


# ---- function pointers through `...` -----------------------------------------------------


def test_callback_through_varargs(lib):
    cb = ndffi.callback("int(int)", lambda x: x * 10 + 1)
    assert lib.va_call_int(1, cb, 4) == 41
    assert lib.va_call_int(1, lib.vt_twice, 21) == 42  # a C function is a function pointer too
    assert lib.va_call_int(1, ndffi.cast("int (*)(int)", cb), 5) == 51


def test_plain_callable_through_varargs_is_refused(lib):
    with pytest.raises(TypeError, match=r"va_call_int\(\) argument 2.*ndffi\.callback\(\"sig\", f\)"):
        lib.va_call_int(1, lambda x: x, 4)


def test_released_callback_through_varargs_is_refused(lib):
    cb = ndffi.callback("int(int)", lambda x: x)
    cb.release()
    with pytest.raises(ValueError, match="released"):
        lib.va_call_int(1, cb, 4)


def test_cast_takes_a_callback_and_keeps_it_alive(lib):
    p = ndffi.cast("int (*)(int)", ndffi.callback("int(int)", lambda x: x - 3))
    gc.collect()
    assert lib.call_int_fp(p, 10) == 7  # the Pointer keeps the Callback
    v = ndffi.cast("void *", ndffi.callback("int(int)", lambda x: x + 100))
    gc.collect()
    assert lib.va_pass_ptr(0, v) == v
    assert lib.call_int_fp(ndffi.cast("int (*)(int)", v), 1) == 101
    twice = ndffi.cast("int (*)(int)", lib.vt_twice)
    assert twice.address == lib.vt_twice.address and lib.call_int_fp(twice, 8) == 16


def test_cast_checks_the_callback_signature():
    cb = ndffi.callback("int(int)", lambda x: x)
    with pytest.raises(TypeError, match=r"expected a function pointer 'double \(\*\)\(double\)'"):
        ndffi.cast("double (*)(double)", cb)
    with pytest.raises(TypeError, match="code"):
        ndffi.cast("int *", cb)
    with pytest.raises(TypeError, match=r"ndffi\.callback"):
        ndffi.cast("void *", lambda x: x)


# ---- long double ----------------------------------------------------------------------

HUGE = np.longdouble("1e4000")
# x87's 80-bit format (x86-64) or IEEE quad (AArch64 Linux): the bytes that hold the value
LD_BYTES = 10 if np.finfo(np.longdouble).nmant == 63 else 16


def test_long_double_out_of_double_range_is_overflow(lib):
    for bad in (HUGE, -HUGE, np.longdouble(np.finfo(np.float64).max) * 2):
        with pytest.raises(OverflowError, match=r"ld_echo_d\(\) argument 1 'x'.*double's range"):
            lib.ld_echo_d(bad)
        with pytest.raises(OverflowError, match="float's range"):
            lib.ld_echo_f(bad)
    with pytest.raises(OverflowError, match="float's range"):
        lib.ld_echo_f(np.longdouble(3.5e38))
    assert lib.ld_echo_d(np.longdouble(1) / 3) == 1 / 3  # rounds, as C does
    assert lib.ld_echo_d(np.longdouble("inf")) == math.inf  # infinity is in range
    assert math.isnan(lib.ld_echo_d(np.longdouble("nan")))


def test_long_double_is_exact_both_ways(lib):
    third = np.longdouble(1) / 3
    assert float(third) != third  # more than a double
    for x in (
        third,
        -third,
        HUGE,
        np.nextafter(np.longdouble(1), np.longdouble(2)),
        np.longdouble(2) ** -16440,
        np.longdouble(2**64 - 1),
    ):
        r = lib.ld_echo(x)
        assert type(r) is np.longdouble and r == x
    assert lib.ld_next(np.longdouble(1)) == np.nextafter(np.longdouble(1), np.longdouble(2))
    assert lib.ld_echo(2**64 - 1) == np.longdouble(2**64 - 1)  # a wide int, exactly
    assert lib.ld_echo(10**4000) == np.longdouble("1e4000")
    with pytest.raises(OverflowError):
        lib.ld_echo(10**5000)
    assert lib.ld_sum3(third, 0.5, third) == third + np.longdouble(0.5) + third
    out = np.zeros(16, np.uint8)
    lib.ld_bytes(third, out)
    assert bytes(out[:LD_BYTES]) == third.tobytes()[:LD_BYTES]
    v = ndffi.cast("long double", third)
    assert lib.ld_echo(v) == third


def test_long_double_through_varargs_is_not_promoted():
    libc = ndffi.load(None).cdef("int snprintf(char *s, size_t n, const char *fmt, ...);")
    buf = bytearray(64)
    libc.snprintf(buf, 64, b"%.20Lg", np.longdouble(1) / 3)
    # a double would print 0.33333333333333331483
    assert buf.rstrip(b"\0") == (b"0.33333333333333333334" if LD_BYTES == 10 else b"0.33333333333333333333")


def test_long_double_struct_fields(lib):
    third = np.longdouble(1) / 3
    r = lib.ld_rec_make(third, 5)
    assert type(r.v) is np.longdouble and r.v == third and r.k == 5
    R = lib.types["struct ld_rec"]
    assert lib.ld_rec_get(R(third, 1)) == third
    D = lib.types["struct d_rec"]
    with pytest.raises(OverflowError, match="double's range"):
        D(HUGE, 0)
    d = D(1.0, 0)
    with pytest.raises(OverflowError, match="float's range"):
        d.f = np.longdouble(1e39)
    with pytest.raises(OverflowError, match="float's range"):
        d.f = 1e39
    p = ndffi.new("long double *", third)
    assert type(p[0]) is np.longdouble and p[0] == third


def test_long_double_callbacks(lib):
    third = np.longdouble(1) / 3
    seen = []

    def f(x):
        seen.append(x)
        return x * 2

    assert lib.ld_call(f, third) == third * 2
    assert type(seen[0]) is np.longdouble and seen[0] == third
    with pytest.raises(OverflowError, match="double's range"):
        lib.d_call(lambda x: HUGE, 1.0)
    with pytest.raises(OverflowError, match="float's range"):
        lib.f_call(lambda x: 1e39, 1.0)


def test_long_double_ufunc_is_exact(lib):
    third = np.longdouble(1) / 3
    u = lib.ld_next.ufunc()
    x = np.array([third, 1, HUGE], np.longdouble)
    r = u(x)
    assert r.dtype == np.longdouble
    assert r.tolist() == [np.nextafter(v, np.longdouble("inf")) for v in x]


# ---- ufuncs of struct-valued functions ------------------------------------------------


def test_ufunc_of_struct_result(lib):
    T = lib.types["struct upt"]
    u = lib.upt_make.ufunc()
    r = u(np.array([1.5, -2.0, 0.25]), np.array([1, 2, 3], np.intc))
    assert r.dtype == T.dtype
    assert r["x"].tolist() == [3.0, -4.0, 0.5] and r["k"].tolist() == [2, 3, 4]
    assert u(1.5, 7)["k"] == 8  # broadcasting, scalars
    out = np.zeros(2, T.dtype)
    assert u([1, 2], [3, 4], out=out) is out and out["x"].tolist() == [2, 4]
    big = lib.ubig_make.ufunc()(np.array([3, -4]))  # returned in memory
    assert big.dtype == lib.types["struct ubig"].dtype
    assert big.tolist() == [(3, -3, 9), (-4, 4, 16)]


def test_ufunc_of_struct_argument(lib):
    T = lib.types["struct upt"]
    pts = np.array([(1.5, 2), (-1.0, 3), (0.5, -4)], T.dtype)
    assert lib.upt_norm.ufunc()(pts).tolist() == [3.0, -3.0, -2.0]
    scaled = lib.upt_scale.ufunc()(pts, 2.0)
    assert scaled.dtype == T.dtype and scaled.tolist() == [(3.0, 4), (-2.0, 6), (1.0, -8)]
    assert lib.upt_norm.ufunc()(pts[::2]).tolist() == [3.0, -2.0]  # strided
    other = np.zeros(2, [("k", np.intc), ("x", np.float64)])  # another layout
    with pytest.raises(TypeError, match="struct upt"):
        lib.upt_norm.ufunc()(other)
    with pytest.raises(TypeError, match="struct upt"):
        lib.upt_norm.ufunc()(np.array([1.0, 2.0]))


# ---- calling function pointers read from C ---------------------------------------------


def test_global_function_pointer_is_callable(lib):
    f = lib.g_int_fn
    assert isinstance(f, ndffi.Pointer) and f(21) == 42
    assert f.address == lib.vt_twice.address
    with pytest.raises(OverflowError, match=r"argument 1.*int"):
        f(2**40)
    with pytest.raises(TypeError, match="takes 1 argument"):
        f(1, 2)
    with pytest.raises(ValueError, match="NULL"):
        lib.g_null_fn()


def test_struct_field_and_result_function_pointers_are_callable(lib):
    ops = lib.g_ops
    assert ops.f(1) == 2 and ops.g(3.0, 4.0) == 5.0
    assert lib.vt_pick(0)(5) == 10 and lib.vt_pick(1)(5) == 6
    ops2 = lib.vt_get_ops()
    assert ops2.g(5.0, 12.0) == 13.0
    with pytest.raises(TypeError, match="float"):
        ops.g("x", 1.0)


def test_callable_pointer_keeps_its_library(clib_dir):
    l2 = ndffi.load("libvalues", clib_dir).cdef("int (*vt_pick(int k))(int);")
    f = l2.vt_pick(1)
    del l2
    gc.collect()
    assert f(41) == 42


def test_pointer_to_non_function_is_not_callable():
    p = ndffi.new("int *", 3)
    with pytest.raises(TypeError, match="not a function"):
        p()
    v = ndffi.cast("void *", 0)
    with pytest.raises(TypeError, match="not a function"):
        v()


def test_callback_cast_back_to_a_function_is_callable():
    cb = ndffi.callback("int(int, int)", lambda a, b: a * b)
    p = ndffi.cast("int (*)(int, int)", cb)
    assert p(6, 7) == 42


def test_struct_no_engine_passes_through_varargs_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("NDFFI_CACHE_DIR", str(tmp_path))
    # What no engine passes right: on AArch64 a record aligned to 16 by an attribute (a
    # packed one is its memory image in general registers there), on x86-64 SysV one
    # aligned above 64.  A packed record is passed in memory by ndffi's engine on x86-64
    # and refused by a call through libffi.
    pk = "struct pk { char c; int i; } __attribute__((packed));"
    bad = (
        "struct bad { long a; int i; } __attribute__((aligned(16)));"
        if AARCH64_LINUX
        else "struct bad { long a; int i; } __attribute__((aligned(128)));"
    )
    src = (
        """#include <stdarg.h>
        %s
        int vt_first(int n, ...) { return n; }
        int vt_pk(int n, ...) {
          va_list ap; va_start(ap, n); struct pk p = va_arg(ap, struct pk);
          long after = va_arg(ap, long); va_end(ap);
          return p.c * 1000 + p.i + (int)after * 100000;
        }"""
        % pk
    )
    lib = ndffi.inline(src, cdef=pk + bad + " int vt_first(int n, ...); int vt_pk(int n, ...);")
    with pytest.raises(TypeError, match=r"vt_first\(\) argument 2.*cannot be passed by value"):
        lib.vt_first(0, lib.types["struct bad"](1, 2))
    if AARCH64_LINUX or ENGINE:
        assert lib.vt_pk(0, lib.types["struct pk"](3, -4), 7) == 702996
    else:
        with pytest.raises(TypeError, match=r"vt_pk\(\): 'struct pk' cannot be passed by value through libffi"):
            lib.vt_pk(0, lib.types["struct pk"](3, -4), 7)
