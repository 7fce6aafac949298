"""Records by value into and out of callbacks, and through libffi calls, where libffi's
description of the record decides which registers are read.

A union or a bit-field nested at an offset inside a record has eightbytes that depend on
that offset, so the record is described from its outermost start; a record of at most 16
bytes with an eightbyte of padding only takes no register for it.  Each C function below
puts known values into such a record and hands it to a callback (or takes one back), and
each value must arrive as C wrote it.
"""

import pytest

import ndffi
from conftest import ENGINE, X86_64_SYSV, classified

C = r"""
/* a union at offset 4: eightbytes INTEGER (a, f[0]), SSE (f[1]) */
typedef struct { unsigned a; union { float f[2]; int i; } u; } nu;
/* a struct with a bit-field at offset 4: INTEGER (x, in.a), SSE (in.f) */
typedef struct { float x; struct { unsigned a : 4; float f; } in; } nb;
/* a union two levels down, in an array: INTEGER, SSE */
typedef struct { int k; struct { union { float f; int i; } v[1]; } w[1]; float g; } deep;
/* eightbytes of padding only: INTEGER, none; SSE, none; bit-field, none */
typedef struct { _Alignas(16) char c; } pad_i;
typedef struct { double d; } __attribute__((aligned(16))) pad_d;
typedef struct { int a : 3; } __attribute__((aligned(16))) pad_bf;

void call_nu(void (*fp)(nu, long), long k) { nu v = {7, {{1.5f, -2.25f}}}; fp(v, k); }
void call_nb(void (*fp)(nb, double)) { nb v = {0.5f, {5, 3.25f}}; fp(v, 9.5); }
void call_deep(void (*fp)(deep, int)) { deep v = {3, {{{{{4.5f}}}}}, -1.75f}; fp(v, 11); }
double from_nu(nu (*fp)(int)) { nu v = fp(2); return v.a * 100 + v.u.f[0] + v.u.f[1]; }

double nu_sum(nu v, long k) { return v.a * 100 + v.u.f[0] * 10 + v.u.f[1] + k * 1000; }
nu nu_make(unsigned a, float f0, float f1) { nu v = {a, {{f0, f1}}}; return v; }
double nb_sum(nb v, double y) { return v.x + v.in.a * 10 + v.in.f * 100 + y * 1000; }
double deep_sum(deep v, int n) { return v.k + v.w[0].v[0].f * 10 + v.g * 100 + n * 1000; }
long pad_i_sum(pad_i v, long x, long y) { return v.c * 10000 + x * 100 + y; }
double pad_d_sum(pad_d v, long x, double y) { return v.d + x * 100 + y * 10; }
long pad_bf_sum(pad_bf v, long x, long y) { return v.a * 10000 + x * 100 + y; }
"""

pytestmark = classified


@pytest.fixture(scope="module")
def lib():
    return ndffi.inline(C, name="callback_records")


def through_libffi(lib, name):
    return lib._ns.function(name, lib._handle.symbol(name), lib._handle, allow_direct=False)


def test_a_union_inside_a_record_reaches_a_callback(lib):
    got = []
    lib.call_nu(lib.callback("void(nu, long)", lambda v, k: got.append((v.a, list(v.u.f), k))), 5)
    assert got == [(7, [1.5, -2.25], 5)]


def test_a_bit_field_inside_a_record_reaches_a_callback(lib):
    got = []
    lib.call_nb(
        lib.callback("void(nb, double)", lambda v, y: got.append((v.x, getattr(v, "in").a, getattr(v, "in").f, y)))
    )
    assert got == [(0.5, 5, 3.25, 9.5)]


def test_a_union_deep_inside_a_record_reaches_a_callback(lib):
    got = []
    cb = lib.callback("void(deep, int)", lambda v, n: got.append((v.k, float(v.w[0]["v"][0]["f"]), v.g, n)))
    lib.call_deep(cb)
    assert got == [(3, 4.5, -1.75, 11)]


def test_a_callback_returns_a_record_with_a_union_inside(lib):
    assert lib.from_nu(lib.callback("nu(int)", lambda n: (n, {"f": [0.5, 0.25]}))) == 200.75


@pytest.mark.parametrize("engine", ["own", "libffi"])
def test_records_with_inner_unions_and_padding_eightbytes_in_calls(lib, engine):
    f = (lambda name: getattr(lib, name)) if engine == "own" else (lambda name: through_libffi(lib, name))
    assert f("nu_sum")((7, {"f": [1.5, -2.25]}), 3) == 3000 + 700 + 15 - 2.25
    v = f("nu_make")(9, 0.5, -4.0)
    assert (v.a, list(v.u.f)) == (9, [0.5, -4.0])
    assert f("nb_sum")((0.5, (5, 3.25)), 2.0) == 0.5 + 50 + 325 + 2000
    assert f("deep_sum")((3, [([{"f": 4.5}],)], -1.75), 2) == 3 + 45 - 175 + 2000
    # the register after a padding-only eightbyte is the next argument's (x86-64 System V);
    # AArch64 refuses these records of 16 bytes aligned to 16 that are no HFA
    pads = [("pad_i_sum", ((42,), 7, 8), 420708), ("pad_d_sum", ((0.5,), 7, 8.0), 780.5)]
    pads.append(("pad_bf_sum", ((-3,), 7, 8), -30000 + 708))
    for name, args, want in pads:
        if X86_64_SYSV:
            assert f(name)(*args) == want
        else:
            with pytest.raises(TypeError, match="cannot be passed by value on this platform"):
                f(name)(*args)


PAD_C = r"""
typedef struct { _Alignas(16) char c; } pad_i;
typedef struct { double d; } __attribute__((aligned(16))) pad_d;
typedef struct { int a : 3; } __attribute__((aligned(16))) pad_bf;
long call_pad_i(long (*fp)(pad_i, long, long)) { pad_i v; v.c = 42; return fp(v, 7, 8); }
double call_pad_d(double (*fp)(pad_d, long, double)) { pad_d v = {0.5}; return fp(v, 7, 8.0); }
long call_pad_bf(long (*fp)(pad_bf, long, long)) { pad_bf v; v.a = -3; return fp(v, 7, 8); }
/* in registers, then on the stack once they run out */
long call_pad_i_late(long (*fp)(long, long, long, long, long, pad_i, pad_i, long)) {
  pad_i a, b; a.c = 1; b.c = 2; return fp(10, 20, 30, 40, 50, a, b, 9);
}
"""


@pytest.mark.skipif(not X86_64_SYSV, reason="the padding-only eightbyte of x86-64 System V")
def test_a_record_with_a_padding_only_eightbyte_reaches_a_callback(lib):
    # Such an eightbyte takes no register.  libffi's closure entry takes one for it, which
    # would shift every later argument: the engine's entry reads them, and where only
    # libffi's could (NDFFI_FORCE_LIBFFI=1) the callback is refused when made.
    pad = ndffi.inline(PAD_C, name="callback_pad_records")
    calls = [
        ("call_pad_i", "long(pad_i, long, long)", lambda v, x, y: v.c * 10000 + x * 100 + y, 420708),
        ("call_pad_d", "double(pad_d, long, double)", lambda v, x, y: v.d + x * 100 + y * 10, 780.5),
        ("call_pad_bf", "long(pad_bf, long, long)", lambda v, x, y: v.a * 10000 + x * 100 + y, -30000 + 708),
        (
            "call_pad_i_late",
            "long(long, long, long, long, long, pad_i, pad_i, long)",
            lambda *a: sum(a[:5]) + a[5].c * 1000 + a[6].c * 100 + a[7],
            150 + 1000 + 200 + 9,
        ),
    ]
    for name, sig, f, want in calls:
        if ENGINE:
            assert getattr(pad, name)(pad.callback(sig, f)) == want, name
        else:
            record = next(t for t in ("pad_i", "pad_d", "pad_bf") if t in sig)
            with pytest.raises(TypeError, match=f"'{record}' cannot be passed to a callback by value .* padding only"):
                pad.callback(sig, f)
    # as a result it comes back in rax or xmm0 alone, and a pointer to it is no record
    for record in ("pad_i", "pad_d", "pad_bf"):
        assert pad.callback(f"{record}(long)", lambda x: None) is not None
        assert pad.callback(f"void({record} *, long)", lambda p, x: None) is not None
