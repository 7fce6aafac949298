"""Function.wrap(): In, Out, InOut, len_of, shape_of, scalar pass-through, check=."""

import inspect

import numpy as np
import pytest

import ndffi
from conftest import clib_fixture

nlib = clib_fixture(
    "numpy_funcs",
    """
    double dsum(const double *x, long n);
    int normalize(double *x, int n);
    int solve(const double *d, double *x, int n);
    int arange_fill(double start, double step, double *out, int n);
    void cumsum(const double *x, int n, double *out);
    void matvec(const double *a, const double *x, int m, int n, double *y);
""",
)


# ---- the seed's three Fibonacci wrappers, one line each ---------------------------


@pytest.fixture(scope="module")
def seed(fiblib):
    fib = fiblib.fib.ufunc()
    fibseries = fiblib.fibseries.wrap(a=ndffi.In, elements=ndffi.len_of("a"), series=ndffi.Out(like="a"))
    fibmatrix = fiblib.fibmatrix.wrap(
        a=ndffi.In(ndim=2), rows=ndffi.shape_of("a", 0), columns=ndffi.shape_of("a", 1), matrix=ndffi.Out(like="a")
    )
    return fib, fibseries, fibmatrix


def test_seed_fib(seed):
    fib = seed[0]
    assert fib(8) == 13
    assert fib(23) == 17711
    assert fib(0) == -1


def test_seed_fibseries(seed):
    fibseries = seed[1]
    r = fibseries([1, 2, 3, 4, 5, 6, 7, 8])
    assert r.dtype == np.intc
    assert r.tolist() == [0, 1, 1, 2, 3, 5, 8, 13]
    assert fibseries(range(1, 12)).tolist() == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55]
    assert fibseries([5, 13, 2, 6]).tolist() == [3, 144, 1, 5]


def test_seed_fibmatrix(seed):
    fibmatrix = seed[2]
    assert fibmatrix([[3, 4], [5, 6]]).tolist() == [[1, 2], [3, 5]]
    m = fibmatrix(np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
    assert m.tolist() == [[0, 1, 1], [2, 3, 5], [8, 13, 21]]
    assert m.dtype == np.intc and m.shape == (3, 3)
    with pytest.raises(ValueError, match=r"fibmatrix\(\) argument 'a': expected a 2-dimensional array, got 1"):
        fibmatrix([1, 2, 3])


# ---- In ------------------------------------------------------------------------


def test_in_zero_copy_for_exact_arrays(seed, fiblib):
    fibseries = seed[1]
    a = np.array([5, 13, 2], dtype=np.intc)
    out = fibseries(a)
    assert out.tolist() == [3, 144, 1]
    assert not np.shares_memory(out, a)


def test_in_converts_other_dtypes_and_layouts(seed):
    fibseries, fibmatrix = seed[1], seed[2]
    assert fibseries(np.array([5, 13, 2], dtype=np.int64)).tolist() == [3, 144, 1]
    assert fibseries(np.array([5, 13, 2], dtype=np.int8)).tolist() == [3, 144, 1]
    assert fibseries(np.arange(12, dtype=np.intc)[::4]).tolist() == [-1, 2, 13]
    assert fibmatrix(np.arange(1, 7, dtype=np.intc).reshape(2, 3).T).tolist() == [[0, 2], [1, 3], [1, 5]]
    # a read-only array to a non-const 'int *' In parameter is copied, never rejected
    ro = np.array([[3, 4], [5, 6]], dtype=np.intc)
    ro.flags.writeable = False
    assert fibmatrix(ro).tolist() == [[1, 2], [3, 5]]


def test_in_rejects_values_that_do_not_convert(seed):
    fibseries = seed[1]
    with pytest.raises(
        TypeError,
        match=r"fibseries\(\) argument 'a': expected values convertible to "
        r"int32 \(NumPy's 'same_kind' rule\), got float64",
    ):
        fibseries([1.5, 2.0])
    with pytest.raises(OverflowError, match=r"fibseries\(\) argument 'a': values out of range for int32"):
        fibseries([1, 2**40])
    with pytest.raises(TypeError, match=r"argument 'a'"):
        fibseries(["x"])


def test_in_never_converts_records_or_overflows_floats():
    lib = ndffi.inline(
        """typedef struct { double a; double b; } ab;
        double get_a(const ab *t) { return t->a; }
        float first(const float *x) { return x[0]; }""",
        name="wrap_in_records",
    )
    get_a = lib.get_a.wrap(t=ndffi.In)
    good = np.zeros(1, lib.types.ab.dtype)
    good["a"] = 1.5
    assert get_a(good) == 1.5
    swapped = np.zeros(1, [("b", "<f8"), ("a", "<i4")])  # NumPy would cast it by position
    swapped["a"], swapped["b"] = 1, 2.5
    with pytest.raises(TypeError, match=r"get_a\(\) argument 't': expected records of the struct's dtype"):
        get_a(swapped)
    first = lib.first.wrap(x=ndffi.In)
    assert first([0.5, 1e30]) == 0.5
    with pytest.raises(OverflowError, match=r"first\(\) argument 'x': values out of range for float32"):
        first([1.0, 1e300])  # never inf


# ---- Out -------------------------------------------------------------------------


def test_out_buffer_given_by_keyword(seed):
    fibseries = seed[1]
    buf = np.zeros(3, dtype=np.intc)
    assert fibseries([5, 13, 2], series=buf) is buf
    assert buf.tolist() == [3, 144, 1]
    with pytest.raises(
        TypeError,
        match=r"fibseries\(\) argument 'series' \(Out\): expected a C-contiguous "
        r"writeable int32 ndarray, got int64 array",
    ):
        fibseries([5, 13, 2], series=np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"argument 'series' \(Out\): expected shape \(3,\), got \(4,\)"):
        fibseries([5, 13, 2], series=np.zeros(4, dtype=np.intc))


def test_out_shape_from_an_argument_and_scalar_pass_through(nlib):
    fill = nlib.arange_fill.wrap(out=ndffi.Out(shape="n"))
    assert str(inspect.signature(fill)) == "(start, step, n, *, out=None)"
    count, out = fill(1.0, 0.5, 4)
    assert count == 4
    assert out.tolist() == [1.0, 1.5, 2.0, 2.5] and out.dtype == np.float64
    with pytest.raises(TypeError, match=r"arange_fill\(\) argument 'n': expected an int"):
        fill(1.0, 0.5, 4.0)
    # scalars are still checked by the C call itself
    with pytest.raises(TypeError, match=r"arange_fill\(\) argument 1 'start'"):
        fill("a", 0.5, 2)


def test_out_shape_tuple_and_constant(nlib):
    cum = nlib.cumsum.wrap(x=ndffi.In, n=ndffi.len_of("x"), out=ndffi.Out(shape=(ndffi.len_of("x"),)))
    assert cum([1, 2, 3]).tolist() == [1.0, 3.0, 6.0]
    first_two = nlib.cumsum.wrap(x=ndffi.In, n=2, out=ndffi.Out(shape=2))
    assert str(inspect.signature(first_two)) == "(x, *, out=None)"
    assert first_two([1.0, 2.0, 3.0]).tolist() == [1.0, 3.0]


def test_matvec_two_inputs_and_shapes(nlib):
    matvec = nlib.matvec.wrap(
        a=ndffi.In(ndim=2),
        x=ndffi.In(ndim=1),
        m=ndffi.shape_of("a", 0),
        n=ndffi.shape_of("a", 1),
        y=ndffi.Out(shape=(ndffi.shape_of("a", 0),)),
    )
    a = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(matvec(a, [1, 2, 3]), a @ np.array([1.0, 2, 3]))


# ---- InOut and check= ----------------------------------------------------------------


def test_inout_in_place_with_status(nlib):
    normalize = nlib.normalize.wrap(x=ndffi.InOut, n=ndffi.len_of("x"), check=ndffi.nonzero_raises)
    x = np.array([3.0, 4.0])
    assert normalize(x) is None
    assert x.tolist() == [0.6, 0.8]
    with pytest.raises(ndffi.StatusError, match=r"normalize\(\) failed with status 2") as exc:
        normalize(np.zeros(3))
    assert exc.value.status == 2 and exc.value.function == "normalize"


def test_inout_never_copies(nlib):
    normalize = nlib.normalize.wrap(x=ndffi.InOut, n=ndffi.len_of("x"), check=ndffi.nonzero_raises)
    msg = r"normalize\(\) argument 'x' \(InOut\): expected a C-contiguous writeable float64 ndarray, got "
    with pytest.raises(TypeError, match=msg + r"list \(never copied\)"):
        normalize([3.0, 4.0])
    with pytest.raises(TypeError, match=msg + r"float32 array \(never copied\)"):
        normalize(np.ones(2, dtype=np.float32))
    with pytest.raises(
        TypeError, match=msg + r"a float64 array that is not contiguous \(strides \(16,\)\) \(never copied\); C writes"
    ):
        normalize(np.ones(4)[::2])
    ro = np.ones(2)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match=msg + r"a read-only array"):
        normalize(ro)


def test_solve_status(nlib):
    solve = nlib.solve.wrap(d=ndffi.In, x=ndffi.InOut, n=ndffi.len_of("x"), check=ndffi.nonzero_raises)
    assert str(inspect.signature(solve)) == "(d, x)"
    x = np.array([2.0, 9.0])
    solve([2, 3], x)
    assert x.tolist() == [1.0, 3.0]
    with pytest.raises(ndffi.StatusError, match=r"solve\(\) failed with status -1"):
        solve([0, 1], x)
    neg = nlib.solve.wrap(d=ndffi.In, x=ndffi.InOut, n=ndffi.len_of("x"), check=ndffi.negative_raises)
    with pytest.raises(ndffi.StatusError):
        neg([0.0, 1.0], x)
    seen = []
    custom = nlib.solve.wrap(d=ndffi.In, x=ndffi.InOut, n=ndffi.len_of("x"), check=seen.append)
    custom([1.0, 1.0], x)
    assert seen == [0]


def test_result_and_outputs_as_tuple(nlib):
    dsum = nlib.dsum.wrap(x=ndffi.In, n=ndffi.len_of("x"))
    assert dsum([1, 2, 3.5]) == 6.5
    assert str(inspect.signature(dsum)) == "(x)"


# ---- signature and docstring -----------------------------------------------------------


def test_signature_and_docstring(seed):
    fibseries = seed[1]
    sig = inspect.signature(fibseries)
    assert list(sig.parameters) == ["a", "series"]
    assert sig.parameters["series"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["series"].default is None
    doc = fibseries.__doc__
    assert "void fibseries(const int *a, int elements, int *series)" in doc
    assert "Parameters\n----------\na : array_like of int32" in doc
    assert "Returns\n-------\nseries : ndarray of int32" in doc
    assert "``elements`` is passed as ``a.size``." in doc
    assert fibseries.__name__ == "fibseries"
    assert "fibseries(a, *, series=None)" in repr(fibseries)
    assert fibseries.function.prototype == "void fibseries(const int *a, int elements, int *series)"


def test_named_wrapper(fiblib):
    w = fiblib.fibseries.wrap(
        a=ndffi.In, elements=ndffi.len_of("a"), series=ndffi.Out(like="a"), name="fibonacci_series"
    )
    assert w.__name__ == "fibonacci_series"
    with pytest.raises(TypeError, match=r"fibonacci_series\(\) argument 'a'"):
        w([0.5])


# ---- wrong specifications ----------------------------------------------------------------


def test_specification_errors(fiblib, nlib):
    with pytest.raises(
        TypeError,
        match=r"wrap\(\) of fibseries\(\): no parameter named 'b'; "
        r"the parameters are: a, elements, series",
    ):
        fiblib.fibseries.wrap(b=ndffi.In)
    with pytest.raises(TypeError, match=r"parameter 'elements' \('int'\) is not a pointer, so it cannot be In"):
        fiblib.fibseries.wrap(elements=ndffi.In)
    with pytest.raises(TypeError, match=r"parameter 'a' \('const int \*'\) is not an integer"):
        fiblib.fibseries.wrap(a=ndffi.len_of("series"))
    with pytest.raises(TypeError, match=r"refers to 'elements', which is not an In, InOut or Out array"):
        fiblib.fibseries.wrap(a=ndffi.In, series=ndffi.Out(like="elements"))
    with pytest.raises(TypeError, match=r"points to const, so it cannot be an output"):
        fiblib.fibseries.wrap(a=ndffi.Out(like="series"), series=ndffi.In)
    with pytest.raises(TypeError, match=r"points to const, so C cannot write it: use In"):
        nlib.solve.wrap(d=ndffi.InOut)
    with pytest.raises(TypeError, match=r"Out needs a shape"):
        fiblib.fibseries.wrap(series=ndffi.Out)
    with pytest.raises(TypeError, match=r"refers to 'c', which is not a parameter"):
        fiblib.fibseries.wrap(a=ndffi.In, elements=ndffi.len_of("c"))


def test_in_copies_misaligned_arrays(seed):
    fibseries = seed[1]
    raw = np.zeros(4 * 3 + 1, dtype=np.uint8)[1:]
    a = raw.view(np.intc)
    a[:] = [5, 13, 2]
    assert not a.flags.aligned
    assert fibseries(a).tolist() == [3, 144, 1]


def test_parameters_named_like_keywords_go_in_a_dict(clib_dir):
    lib = ndffi.load("libnumpy_funcs", clib_dir)
    lib.cdef("double dsum(const double *name, long check);")
    w = lib.dsum.wrap({"name": ndffi.In, "check": ndffi.len_of("name")}, name="total")
    assert str(inspect.signature(w)) == "(name)"
    assert w.__name__ == "total" and w([1.0, 2.0]) == 3.0
    import pickle

    assert pickle.loads(pickle.dumps(w))([4.0, 5.0]) == 9.0


def test_a_status_check_that_can_never_fire_is_refused():
    lib = ndffi.inline(
        "unsigned long f(void) { return (unsigned long)-1; } void g(void) {} int h(void) { return -1; }",
        name="wrap_checks",
    )
    with pytest.raises(TypeError, match=r"negative_raises can never fire on a 'unsigned long' result"):
        lib.f.wrap(check=ndffi.negative_raises)
    with pytest.raises(TypeError, match=r"check= needs a status result; the C result is void"):
        lib.g.wrap(check=ndffi.nonzero_raises)
    with pytest.raises(TypeError, match=r"check= must be callable, got 1"):
        lib.h.wrap(check=1)
    with pytest.raises(ndffi.StatusError, match=r"h\(\) failed with status -1"):
        lib.h.wrap(check=ndffi.negative_raises)()
