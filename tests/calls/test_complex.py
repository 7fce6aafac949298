"""C99 complex numbers (``float _Complex``, ``double _Complex``) against
tests/clib/complex.c and libm: by value as arguments and results (registers and the
stack), in structs, through pointers to NumPy arrays and C memory, as globals and in
callbacks; what is refused, and why.  The values are small binary fractions, so C's
complex arithmetic and Python's agree exactly.
"""

import cmath
import ctypes.util

import numpy as np
import pytest

import ndffi
from conftest import clib_fixture

DECLS = """
    double _Complex zmul(double _Complex a, double _Complex b);
    float _Complex zmulf(float _Complex a, float _Complex b);
    double zreal_plus_imag(double _Complex z);
    double _Complex zmany(double _Complex a, int i, double _Complex b, double _Complex c, float _Complex d, int j,
                          double _Complex e, double _Complex f, double _Complex g, double _Complex h,
                          double _Complex k, float x);
    _Complex float zmixf(float _Complex a, float f, float _Complex b, double d);
    struct zpair { double _Complex a; float _Complex b; int n; };
    struct zpair zpair_make(double _Complex a, float _Complex b, int n);
    double _Complex zpair_sum(struct zpair p);
    struct zhalf { float _Complex z; };
    struct zhalf zhalf_conj(struct zhalf h);
    void zscale(double _Complex *z, long n, double _Complex s);
    float _Complex zsumf(const float _Complex *z, long n);
    extern double _Complex zglobal;
    double _Complex zapply(double _Complex (*f)(double _Complex, float _Complex), double _Complex x,
                           float _Complex y);
    double _Complex zapply_many(double _Complex (*f)(double _Complex, double _Complex, double _Complex,
                                                    double _Complex, double _Complex, double _Complex),
                                double _Complex x);
"""

lib = clib_fixture("complex", DECLS)
held = clib_fixture("complex", DECLS, release_gil=False)


@pytest.fixture(params=["release", "hold"])
def zlib(request, lib, held):
    return lib if request.param == "release" else held


def test_by_value_results_are_python_complex(zlib):
    r = zlib.zmul(1.5 + 2j, -0.5 + 4j)
    assert type(r) is complex and r == (1.5 + 2j) * (-0.5 + 4j)
    rf = zlib.zmulf(1.5 + 2j, -0.5 + 4j)
    assert type(rf) is complex and rf == (1.5 + 2j) * (-0.5 + 4j)
    assert zlib.zreal_plus_imag(0.25 - 3j) == 0.25 - 30


@pytest.mark.parametrize(
    "value, expected",
    [
        (3, 3 + 0j),
        (2.5, 2.5 + 0j),
        (True, 1 + 0j),
        (np.float32(0.5), 0.5 + 0j),
        (np.int64(-7), -7 + 0j),
        (np.complex64(1 - 2j), 1 - 2j),
        (np.complex128(0.5 + 0.25j), 0.5 + 0.25j),
        (np.clongdouble(2 + 3j), 2 + 3j),
        (np.array(1.5 - 1j), 1.5 - 1j),
        (np.array(4), 4 + 0j),
    ],
)
def test_accepted_numbers(lib, value, expected):
    assert lib.zmul(value, 1) == expected
    assert lib.zmulf(value, 1) == expected


def test_dunder_complex_and_float(lib):
    class Z:
        def __complex__(self):
            return 0.5 + 8j

    class F:
        def __float__(self):
            return 0.75

    assert lib.zmul(Z(), 1) == 0.5 + 8j
    assert lib.zmul(F(), 1) == 0.75


def test_failing_dunder_complex_names_the_argument(lib):
    class Bad:
        def __complex__(self):
            raise ValueError("no")

    with pytest.raises(ValueError, match=r"zmul\(\) argument 1 'a'"):
        lib.zmul(Bad(), 1)


@pytest.mark.parametrize("bad", ["1+2j", b"1", None, [1j], (1, 2), np.array([1j]), object()])
def test_refused_values_name_the_parameter(lib, bad):
    with pytest.raises(TypeError, match=r"zmul\(\) argument 2 'b': expected a complex number for 'double _Complex'"):
        lib.zmul(1, bad)


def test_float_complex_range_is_checked(lib):
    with pytest.raises(OverflowError, match=r"zmulf\(\) argument 1 'a': expected a value within float's range"):
        lib.zmulf(1e300j, 1)
    with pytest.raises(OverflowError, match="float's range"):
        lib.zmulf(1, -1e39)
    inf = lib.zmulf(complex("inf"), 1)  # infinities and NaNs are values, as for float
    assert cmath.isinf(inf)


def test_stack_and_mixed_registers(zlib):
    a, b, c, d, e, f, g, h, k = (0.5 * n + 0.25j * (n + 1) for n in range(1, 10))
    expected = a + 3 * b + 2 * c + 3 * d + (-2) * e + 5 * f + 7 * g + 11 * h + 13 * k + 0.5
    assert zlib.zmany(a, 3, b, c, d, -2, e, f, g, h, k, 0.5) == expected
    assert zlib.zmixf(1 + 2j, 0.5, -4 + 8j, 0.25) == (1 + 2j) + 0.5 * (-4 + 8j) + 0.25


def test_in_structs(zlib):
    p = zlib.zpair_make(1.5 - 2j, 0.25 + 0.5j, 3)
    assert type(p.a) is complex and p.a == 1.5 - 2j and p.b == 0.25 + 0.5j and p.n == 3
    p.b = 2
    assert p.b == 2 + 0j
    assert zlib.zpair_sum(p) == (1.5 - 2j) + 2 * 3
    assert zlib.zpair_sum((1j, 1 + 1j, 2)) == 1j + (1 + 1j) * 2
    assert zlib.zpair_sum({"a": 0.5, "b": 1j, "n": -1}) == 0.5 - 1j
    with pytest.raises(TypeError, match="'b'.*expected a complex number for 'float _Complex', got str"):
        zlib.zpair_sum((1, "x", 2))
    assert zlib.zhalf_conj((1.5 + 2.5j,)).z == 1.5 - 2.5j
    dt = zlib.typeof("struct zpair").dtype
    assert dt.fields["a"] == (np.dtype(np.complex128), 0) and dt.fields["b"] == (np.dtype(np.complex64), 16)
    rows = np.zeros(2, dtype=dt)
    rows["a"], rows["b"], rows["n"] = [1j, 2], [0.5, 1j], [2, 3]
    assert zlib.zpair_sum(rows[1].item()) == 2 + 1j * 3  # a row as the tuple of its fields


def test_arrays_of_complex(zlib):
    z = np.array([1 + 1j, 2 - 0.5j, -3j], dtype=np.complex128)
    zlib.zscale(z, len(z), 2j)
    assert z.tolist() == [(1 + 1j) * 2j, (2 - 0.5j) * 2j, -3j * 2j]
    assert zlib.zsumf(np.array([1 + 2j, 0.5 - 1j], dtype=np.complex64), 2) == 1.5 + 1j
    with pytest.raises(TypeError, match="zscale.*argument 1 'z'"):
        zlib.zscale(np.zeros(3, dtype=np.complex64), 3, 1)  # C writes complex128 there
    with pytest.raises(TypeError, match="zsumf.*argument 1 'z'"):
        zlib.zsumf(np.zeros(3), 3)


def test_c_memory_and_globals(lib):
    p = ndffi.new("double _Complex[3]")
    p[0], p[1] = 1 + 2j, 3
    assert (p[0], p[1], p[2]) == (1 + 2j, 3 + 0j, 0j)
    lib.zscale(p, 2, 1j)
    assert (p[0], p[1]) == ((1 + 2j) * 1j, 3j)
    with pytest.raises(TypeError, match="expected a complex number for 'double _Complex', got str"):
        p[2] = "1"
    assert p[2] == 0j
    assert lib.zglobal == 1.5 + 2.5j
    lib.zglobal = -1j
    assert lib.zglobal == -1j and lib.zreal_plus_imag(lib.zglobal) == -10


def test_ctype_facts(lib):
    t = ndffi.typeof("double _Complex")
    assert lib.typeof("double _Complex") is t or lib.typeof("double _Complex").cname == t.cname
    assert t.dtype == np.complex128 and lib.typeof("float _Complex *").item.dtype == np.complex64
    assert (t.kind, t.cname, t.size, t.alignment) == ("complex", "double _Complex", 16, 8)
    f = ndffi.typeof("float _Complex")
    assert (f.kind, f.size, f.alignment) == ("complex", 8, 4)
    with pytest.raises(TypeError, match="values are made with new"):
        t(1j)


def test_callbacks(zlib):
    seen = []

    def f(x, y):
        seen.append((x, y))
        return x * y

    assert zlib.zapply(f, 1.5 + 1j, 0.5 - 2j) == (1.5 + 1j) * (0.5 - 2j) * 2
    assert seen == [(1.5 + 1j, 0.5 - 2j)] and all(type(v) is complex for v in seen[0])
    assert zlib.zapply(lambda x, y: 3, 1, 1) == 6  # a real result is a complex one
    assert zlib.zapply_many(lambda *z: sum(z) - z[5] * 1j, 0.5 + 0.25j) == (21 - 6j) * (0.5 + 0.25j)


def test_callback_bad_result_raises_from_the_call(zlib):
    with pytest.raises(TypeError, match="complex number for 'double _Complex'"):
        zlib.zapply(lambda x, y: "no", 1, 1)


def test_libm():
    m = ndffi.load(ctypes.util.find_library("m") or "libm.so.6")
    m.cdef(
        "double _Complex cexp(double _Complex); float _Complex csqrtf(float _Complex); double cabs(double _Complex);"
    )
    assert cmath.isclose(m.cexp(1j * cmath.pi), -1, abs_tol=1e-15)
    assert m.csqrtf(-4) == 2j
    assert m.cabs(3 - 4j) == 5.0


@pytest.mark.parametrize(
    "decl, message",
    [
        ("long double _Complex f(long double _Complex);", "'long double _Complex' is not supported"),
        ("int _Complex f(void);", "invalid combination of type specifiers"),
        ("double _Complex _Complex f(void);", "invalid combination of type specifiers"),
    ],
)
def test_refused_declarations(lib, decl, message):
    with pytest.raises(ndffi.CDefError, match=message):
        lib.cdef(decl)


def test_through_varargs_is_refused():
    c = ndffi.load(None)
    c.cdef("int snprintf(char *s, size_t n, const char *fmt, ...);")
    buf = bytearray(16)
    with pytest.raises(TypeError, match="snprintf"):
        c.snprintf(buf, 16, b"%f", 1j)
