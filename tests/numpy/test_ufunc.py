"""Function.ufunc() and .gufunc(): real numpy.ufunc objects calling C per element."""

import gc
import sys
import weakref

import numpy as np
import pytest

import ndffi
from conftest import clib_fixture
from ndffi.numpy.ufunc import info

DECLS = """
    double gauss(double x);
    void gauss_loop(const double *x, long n, double *y);
    float gaussf(float x);
    double hypot3(double x, double y, double z);
    long lmuladd(long a, int b, double c);
    void to_polar(double x, double y, double *r, double *theta);
    int divmod_int(int a, int b, int *rem);
    uint8_t clamp_u8(int16_t v);
    unsigned long long mix_u64(unsigned long long a, unsigned char b);
    _Bool is_odd(long long v);
    long double ld_twice(long double x);
    double scale_by(const double *factor, double x);
    double dsum(const double *x, long n);
    void cumsum(const double *x, int n, double *out);
    void matvec(const double *a, const double *x, int m, int n, double *y);
    double c_exp(double x);
    double add2(double a, double b);
    double dsum16(const double *x, short n);
    double counted(double x);
    long counted_calls(void);
    void free(void *p);
    int printf(const char *fmt, ...);
"""


lib = clib_fixture("numpy_funcs", DECLS)


def gauss_np(x):
    return np.exp(-0.5 * x * x)


def gauss_c(lib, x):
    """gauss over x by the C library's own loop (the reference for a ufunc of gauss)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.empty_like(x)
    lib.gauss_loop(x, x.size, y)
    return y


def assert_gauss(lib, got, x):
    """`got` is gauss over x: bit for bit what C computes, within an ulp of NumPy (whose exp
    differs from the C library's by an ulp on some CPUs, AVX-512 among them)."""
    assert got.shape == np.shape(x)
    assert np.array_equal(got, gauss_c(lib, x))
    np.testing.assert_array_max_ulp(got, gauss_np(np.asarray(x, dtype=np.float64)), maxulp=1)


# ---- element-wise ufuncs -------------------------------------------------------------


def test_fib_is_a_real_ufunc(fiblib):
    fib = fiblib.fib.ufunc()
    assert isinstance(fib, np.ufunc)
    assert (fib.nin, fib.nout, fib.types) == (1, 1, ["i->i"])
    assert fib.__name__ == "fib"
    assert "int fib(int a)" in fib.__doc__
    assert info(fib)["loop"] == "typed"
    r = fib(np.arange(10).reshape(2, 5))
    assert r.dtype == np.int32 and r.shape == (2, 5)
    assert r.tolist() == [[-1, 0, 1, 1, 2], [3, 5, 8, 13, 21]]
    assert fib(8) == 13 and isinstance(fib(8), np.int32)


def test_ufunc_machinery(lib, fiblib):
    fib = fiblib.fib.ufunc()
    out = np.full(4, 99, dtype=np.int32)
    assert fib(np.arange(1, 5), out=out) is out
    assert out.tolist() == [0, 1, 1, 2]
    out = np.full(4, 99, dtype=np.int32)
    fib(np.arange(1, 5), out=out, where=np.array([True, False, True, False]))
    assert out.tolist() == [0, 99, 1, 99]
    # NumPy's casting rules: same_kind by default; floats do not go to an int loop
    with pytest.raises(
        TypeError,
        match=r"Cannot cast ufunc 'fib' input from dtype\('float64'\) "
        r"to dtype\('int32'\) with casting rule 'same_kind'",
    ):
        fib(np.array([1.5]))
    assert fib(np.array([8.0]), casting="unsafe").tolist() == [13]
    # int64 -> int32 is 'same_kind' (values wrap, as in astype); casting="safe" refuses it
    with pytest.raises(
        TypeError,
        match=r"Cannot cast ufunc 'fib' input from dtype\('int64'\) "
        r"to dtype\('int32'\) with casting rule 'safe'",
    ):
        fib(np.arange(3), casting="safe")
    # int64 output buffer: the int32 result is cast safely
    out64 = np.zeros(3, dtype=np.int64)
    fib(np.array([8, 9, 10]), out=out64)
    assert out64.tolist() == [13, 21, 34]
    # broadcasting with three inputs
    h = lib.hypot3.ufunc()
    r = h(np.array([[3.0], [0.0]]), np.array([4.0, 0.0]), 12.0)
    assert r.shape == (2, 2)
    assert np.allclose(r, np.sqrt(np.array([[9.0], [0.0]]) + np.array([16.0, 0.0]) + 144.0))


def test_gauss_matches_numpy_on_any_layout(lib):
    gauss = lib.gauss.ufunc(name="gauss")
    x = np.linspace(-4, 4, 1001)
    assert_gauss(lib, gauss(x), x)
    assert_gauss(lib, gauss(x[::7]), x[::7])
    m = x[:1000].reshape(20, 50).T
    assert_gauss(lib, gauss(m), m)
    assert gauss(x.astype(np.float32)).dtype == np.float64
    assert_gauss(lib, gauss(np.arange(5)), np.arange(5.0))
    assert lib.gaussf.ufunc().types == ["f->f"]
    assert np.allclose(lib.gaussf.ufunc()(np.float32(1.0)), np.exp(-0.5))


def test_pointer_outputs(lib):
    polar = lib.to_polar.ufunc(outputs=["r", "theta"])
    assert (polar.nin, polar.nout) == (2, 2)
    x, y = np.array([1.0, 0.0, -2.0]), np.array([0.0, 3.0, 0.0])
    r, theta = polar(x, y)
    assert np.allclose(r, np.hypot(x, y)) and np.allclose(theta, np.arctan2(y, x))
    # by default every pointer to a non-const number is an output, in C order
    r2, t2 = lib.to_polar.ufunc()(x, y)
    assert np.array_equal(r, r2) and np.array_equal(theta, t2)
    # the order asked for
    t3, r3 = lib.to_polar.ufunc(outputs=["theta", "r"])(x, y)
    assert np.array_equal(r, r3) and np.array_equal(theta, t3)
    # broadcasting and strided outputs
    rr = np.zeros((3, 4))[:, ::2]
    tt = np.zeros((2, 3)).T
    polar(np.ones((3, 1)), np.array([0.0, 1.0]), out=(rr, tt))
    assert np.allclose(rr, np.hypot(1.0, np.array([0.0, 1.0]))) and np.allclose(tt[:, 1], np.pi / 4)


def test_result_and_pointer_output(lib):
    dm = lib.divmod_int.ufunc()
    assert (dm.nin, dm.nout) == (2, 2)
    q, r = dm([7, 9, -7, 5], [2, 4, 2, 0])
    assert q.tolist() == [3, 2, -3, 0] and r.tolist() == [1, 1, -1, 0]


def test_generic_loops(lib):
    c = lib.clamp_u8.ufunc()
    assert c.types == ["h->B"] and info(c)["loop"].startswith("generic")
    assert c(np.array([-5, 100, 300], dtype=np.int16)).tolist() == [0, 100, 255]
    assert lib.mix_u64.ufunc()(np.array([1, 2], np.uint64), np.array([3, 4], np.uint8)).tolist() == [259, 516]
    odd = lib.is_odd.ufunc()(np.arange(-2, 3))
    assert odd.dtype == np.bool_ and odd.tolist() == [False, True, False, True, False]
    ld = lib.ld_twice.ufunc()
    assert info(ld)["loop"] == "generic (libffi)"
    assert ld(np.array([1.5, -2.25], np.longdouble)).tolist() == [3.0, -4.5]
    assert lib.lmuladd.ufunc()(np.arange(3), 3, 0.5).tolist() == [0, 3, 6]
    # a pointer to const is an input passed by address
    s = lib.scale_by.ufunc()
    assert (s.nin, s.nout) == (2, 1)
    assert s(np.array([2.0, 3.0]), np.array([5.0, 5.0])).tolist() == [10.0, 15.0]


@pytest.mark.direct
def test_generic_loop_takes_the_direct_stub(lib):
    assert lib.lmuladd.direct and info(lib.lmuladd.ufunc())["loop"] == "generic (direct stub)"
    assert info(lib.clamp_u8.ufunc())["loop"] == "generic (direct stub)"


def test_generic_loop_through_libffi_matches_the_direct_stub(lib):
    # the same function called through libffi: the generic loop's two engines agree
    addr = lib._handle.symbol("lmuladd")
    f = lib._ns.function("lmuladd", addr, lib._handle, True, False, False)
    assert not f.direct
    slow, fast = f.ufunc(), lib.lmuladd.ufunc()
    assert info(slow)["loop"] == "generic (libffi)"
    rng = np.random.default_rng(0)
    a = rng.integers(-(2**40), 2**40, 1000)
    b = rng.integers(-(2**31), 2**31, 1000).astype(np.intc)
    c = rng.normal(scale=1e6, size=1000)
    expected = a * b.astype(np.int64) + c.astype(np.int64)
    assert np.array_equal(slow(a, b, c), expected)
    assert np.array_equal(fast(a, b, c), expected)
    # signatures with a compiled loop ignore how the Function calls: the loop is C
    g = lib._ns.function("gauss", lib._handle.symbol("gauss"), lib._handle, True, False, False)
    assert info(g.ufunc())["loop"] == "typed"


def test_calls_reach_c_once_per_element(lib):
    before = lib.counted_calls()
    counted = lib.counted.ufunc()
    counted(np.arange(1000.0))
    assert lib.counted_calls() - before == 1000


# ---- threads ------------------------------------------------------------------------


def test_threads_give_the_same_results(lib):
    x = np.random.default_rng(1).normal(size=300_001)
    one = lib.gauss.ufunc()
    for threads in (2, 3, 0):
        many = lib.gauss.ufunc(threads=threads, min_chunk=1000)
        assert np.array_equal(many(x), one(x))
        assert np.array_equal(many(x[::3]), one(x[::3]))
    assert info(lib.gauss.ufunc(threads=2))["threads"] == 2
    polar = lib.to_polar.ufunc(threads=2, min_chunk=100)
    r, t = polar(x, x[::-1])
    r1, t1 = lib.to_polar.ufunc()(x, x[::-1])
    assert np.array_equal(r, r1) and np.array_equal(t, t1)
    # operands that need casting reach the loop through NumPy's buffers
    xf = x.astype(np.float32)
    assert np.array_equal(lib.gauss.ufunc(threads=2, min_chunk=1000)(xf), one(xf))
    with pytest.raises(ValueError, match="threads must be >= 0"):
        lib.gauss.ufunc(threads=-1)


def test_threads_leave_dependent_iterations_on_one_thread(lib):
    # reduce (output stride 0) and accumulate (output one behind the input) depend on
    # the previous iteration: they must give exactly the serial answer
    add = lib.add2.ufunc(threads=4, min_chunk=16)
    x = np.random.default_rng(3).normal(size=100_000)
    serial = lib.add2.ufunc()
    assert add.reduce(x) == serial.reduce(x)
    assert np.array_equal(add.accumulate(x), serial.accumulate(x))
    assert np.array_equal(add.accumulate(x), np.cumsum(x))
    # in place (same memory, same strides) is independent and may be split
    y = x.copy()
    add(y, 1.0, out=y)
    assert np.array_equal(y, x + 1.0)
    # overlapping but shifted: NumPy copies or the split is refused; the result is serial's
    z = x.copy()
    add(z[1:], 1.0, out=z[:-1])
    assert np.array_equal(z[:-1], x[1:] + 1.0)


def test_floating_point_errors_from_worker_threads_reach_numpy(lib):
    x = np.zeros(200_000)
    x[-1] = 1000.0  # overflows in the last chunk, run by a worker thread
    e = lib.c_exp.ufunc(threads=2, min_chunk=1000)
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError, match="overflow encountered in c_exp"):
            e(x)
    with np.errstate(over="ignore"):
        assert np.isinf(e(x)[-1])


KEPT_CALLBACK_C = r"""
static double (*g)(double);
void set_g(double (*f)(double)) { g = f; }
double apply(double x) { return g ? g(x) : -1; }
"""


@pytest.mark.parametrize("threads", [1, 4])
def test_callback_exceptions_in_a_loop_raise_from_the_ufunc(threads):
    # A callback the C function calls in the loop raises from the ufunc, as from a call,
    # instead of going to sys.unraisablehook while the ufunc returns on_error values.
    lib = ndffi.inline(KEPT_CALLBACK_C, name="ufunc_kept_callback")
    seen = []

    def f(x):
        if x in (700.0, 150_000.0):  # the first chunk, and a worker's
            raise ValueError(f"no {x}")
        return x * 10

    cb = ndffi.callback("double(double)", f)
    lib.set_g(cb)
    u = lib.apply.ufunc(threads=threads, min_chunk=1000)
    x = np.arange(200_000.0)
    old_hook = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        with pytest.raises(ValueError, match="no 700.0") as e:
            u(x)
        assert e.value.__notes__ == ["(the callback raised 1 more exception before the C function returned)"]
        with pytest.raises(ValueError, match="no 700.0"):
            u(x[::2].reshape(-1, 4))  # strided, through NumPy's iterator
        with pytest.raises(ValueError, match="no 700.0"):
            u(np.array([700.0]))  # small: NumPy keeps the GIL
        assert np.array_equal(u(x[:500]), x[:500] * 10)  # and the next loop is clean
        assert lib.apply(3.0) == 30.0
    finally:
        sys.unraisablehook = old_hook
    assert seen == []


# ---- generalized ufuncs ---------------------------------------------------------------


def test_gufunc_reduction(lib):
    normf = lib.dsum.gufunc("(n)->()")
    assert normf.signature == "(n)->()"
    a = np.arange(12.0).reshape(3, 4)
    assert np.array_equal(normf(a), a.sum(axis=-1))
    assert np.array_equal(normf(a.T), a.T.sum(axis=-1))  # strided core: copied
    assert np.array_equal(normf(a, axes=[0, ()]), a.sum(axis=0))
    assert normf(np.arange(5)) == 10.0  # cast from int64
    assert normf(np.zeros((2, 0))).tolist() == [0.0, 0.0]


def test_gufunc_outputs_and_two_inputs(lib, fiblib):
    cs = lib.cumsum.gufunc("(n)->(n)")
    a = np.arange(8.0).reshape(2, 4)
    assert np.array_equal(cs(a), np.cumsum(a, axis=-1))
    assert np.array_equal(cs(a.T.copy().T), np.cumsum(a, axis=-1))
    out = np.zeros((4, 2)).T  # strided output: scattered
    cs(a, out=out)
    assert np.array_equal(out, np.cumsum(a, axis=-1))
    mv = lib.matvec.gufunc("(m,n),(n)->(m)")
    A = np.arange(24.0).reshape(4, 2, 3)
    v = np.array([1.0, -1.0, 2.0])
    assert np.allclose(mv(A, v), A @ v)
    series = fiblib.fibseries.gufunc("(n)->(n)", elements="n")
    assert series(np.arange(1, 9).reshape(2, 4)).tolist() == [[0, 1, 1, 2], [3, 5, 8, 13]]


def test_gufunc_core_dimension_must_fit_its_parameter(lib):
    f = lib.dsum16.gufunc("(n)->()")
    assert f(np.ones(32767)) == 32767.0
    with pytest.raises(
        OverflowError,
        match=r"dsum16: core dimension 0 of size 40000 does not fit "
        r"parameter 'n'",
    ):
        f(np.ones(40000))


def test_gufunc_threads(lib):
    a = np.random.default_rng(2).normal(size=(5000, 7))
    normf = lib.dsum.gufunc("(n)->()", threads=2, min_chunk=64)
    assert np.allclose(normf(a), a.sum(axis=-1))


def test_gufunc_specification_errors(lib):
    with pytest.raises(
        ValueError,
        match=r"signature '\(n\)->\(\),\(\)' has 1 input\(s\) and 2 output\(s\), "
        r"but the C parameters give inputs \(x\) and outputs \(<result>\)",
    ):
        lib.dsum.gufunc("(n)->(),()")
    with pytest.raises(ValueError, match=r"'n' takes core dimension 'k'"):
        lib.dsum.gufunc("(n)->()", n="k")
    with pytest.raises(ValueError, match="not a generalized ufunc signature"):
        lib.dsum.gufunc("n->")
    with pytest.raises(TypeError, match=r"no parameter named 'q'"):
        lib.dsum.gufunc("(n)->()", q="n")


# ---- what cannot be a ufunc ------------------------------------------------------------


def test_ufunc_errors(lib):
    with pytest.raises(
        TypeError,
        match=r"ufunc\(\) of free\(\): parameter 'p' \('void \*'\) is neither a "
        r"number nor a pointer to one",
    ):
        lib.free.ufunc()
    with pytest.raises(TypeError, match=r"cannot make a ufunc of variadic printf\(\)"):
        lib.printf.ufunc()
    with pytest.raises(TypeError, match=r"output 'factor' must be a pointer to a non-const number"):
        lib.scale_by.ufunc(outputs=["factor"])
    with pytest.raises(TypeError, match=r"no parameter named 'z'"):
        lib.to_polar.ufunc(outputs=["z"])
    with pytest.raises(ValueError, match="at least one input and one output"):
        lib.counted_calls.ufunc()


# ---- lifetime ------------------------------------------------------------------------------


def test_ufunc_keeps_function_and_library_alive(clib_dir, lib):
    own = ndffi.load("libnumpy_funcs", clib_dir)
    own.cdef("double gauss(double x);")
    f = own.gauss
    gauss = f.ufunc()
    ref = weakref.ref(f)
    del own, f
    gc.collect()
    assert ref() is not None
    x = np.linspace(0, 1, 11)
    assert_gauss(lib, gauss(x), x)
    assert info(gauss)["function"] is ref()
    del gauss
    gc.collect()
    assert ref() is None


REV_C = "void rev(const double *a, double *out, int n) { for (int i = 0; i < n; i++) out[i] = a[n - 1 - i]; }"


def test_gufunc_output_over_its_input_reads_the_input():
    # NumPy passes out= that is the input itself as the same memory: C gets a copy of
    # the input block, as it would of a strided one, never its own output
    rev = ndffi.inline(REV_C, name="gufunc_rev").rev
    g = rev.gufunc("(n)->(n)")
    a = np.arange(4.0)
    assert g(a, out=a).tolist() == [3.0, 2.0, 1.0, 0.0] and a.tolist() == [3.0, 2.0, 1.0, 0.0]
    m = np.arange(8.0).reshape(2, 4)
    g(m, out=m)
    assert m.tolist() == [[3.0, 2.0, 1.0, 0.0], [7.0, 6.0, 5.0, 4.0]]
    assert rev.gufunc("(n)->(n)", threads=2)(np.arange(4.0)).tolist() == [3, 2, 1, 0]
    w = rev.wrap(a=ndffi.In, out=ndffi.Out(like="a"), n=ndffi.len_of("a"))
    b = np.arange(4.0)
    assert w(b, out=b).tolist() == [3.0, 2.0, 1.0, 0.0]  # wrap() too


def test_gufunc_core_dimension_c_is_not_given_is_refused():
    rev = ndffi.inline(REV_C, name="gufunc_rev").rev
    with pytest.raises(ValueError, match=r"core dimension 'm' of '\(n\)->\(m\)' is given to no C parameter"):
        rev.gufunc("(n)->(m)")
