"""Declared C functions inside Numba's nopython code, and numba.cfunc callbacks passed to C.

Skipped when Numba is not installed (it is an optional extra: ``pip install ndffi[numba]``).
"""

import subprocess
import sys

import numpy as np
import pytest

numba = pytest.importorskip("numba")
from numba import carray, types  # noqa: E402
from numba.core.errors import TypingError  # noqa: E402

import ndffi  # noqa: E402
from conftest import clib_fixture  # noqa: E402

DECLS = """
    int iadd(int a, int b);
    int isub(int a, int b);
    signed char schar_neg(signed char v);
    unsigned short ushort_twice(unsigned short v);
    unsigned long long u64_mix(unsigned long long a, unsigned char b);
    _Bool is_positive(double x);
    int bool_to_int(_Bool b);
    float fscale(float x, double f);
    enum shade { DARK = 1, LIGHT = 2 };
    int shade_value(enum shade s);
    double many_args(int a, long b, short c, unsigned char d, double e, float f, int g, long h,
                     signed char i, double j);
    double dsum(const double *x, long n);
    void dscale(double *x, long n, double f);
    long isum(const int32_t *x, int n);
    int first_int(const void *p);
    double *advance(double *x, long k);
    typedef struct { double x, y; int id; } point;
    double point_norm2(const point *p, int n);
    void point_shift(point *p, int n, double dx);
    point point_make(double x, double y);
    double point_x(point p);
    int sum_ints(int n, ...);
    double apply(double (*f)(double), double x);
    double apply_sum(double (*f)(double), const double *x, long n);
    typedef struct { double (*f)(double); double scale; } scaled_op;
    double run_op(const scaled_op *op, double x);
    struct counter;
    struct counter *counter_get(void);
    long counter_bump(struct counter *c, long by);
    int call_dcmp(int (*cmp)(const double *, const double *), double a, double b);
"""


lib = clib_fixture("numba_funcs", DECLS)
gauss_lib = clib_fixture("numpy_funcs", "double gauss(double x);")


@pytest.fixture(scope="module")
def libc():
    return ndffi.load(None).cdef(
        "void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));"
    )


def typing_error(fn, *args):
    with pytest.raises(TypingError) as info:
        fn(*args)
    return str(info.value)


# ---- import ---------------------------------------------------------------------


def test_import_ndffi_does_not_import_numba(clib_dir):
    code = (
        "import sys, ndffi, numpy as np\n"
        f"lib = ndffi.load('libnumba_funcs', {clib_dir!r}).cdef('double dsum(const double *x, long n);')\n"
        "assert lib.dsum(np.ones(3), 3) == 3.0\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_numba_loads_the_extension_by_its_entry_point(clib_dir):
    # A fresh process that imports only numba and ndffi: Numba's first compilation runs
    # the numba_extensions entry point, nothing else registers the types.
    code = (
        "import numba, ndffi, numpy as np\n"
        f"lib = ndffi.load('libnumba_funcs', {clib_dir!r}).cdef('int iadd(int a, int b);')\n"
        "iadd = lib.iadd\n"
        "print(numba.njit(lambda a: iadd(a, 2))(40))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "42"


# ---- scalars --------------------------------------------------------------------


def test_scalar_calls_give_the_c_results(lib):
    iadd, schar_neg, ushort_twice, u64_mix = lib.iadd, lib.schar_neg, lib.ushort_twice, lib.u64_mix
    is_positive, bool_to_int, fscale = lib.is_positive, lib.bool_to_int, lib.fscale

    @numba.njit
    def calls(a, b):
        return (
            iadd(a, b),
            schar_neg(100),
            ushort_twice(40000),
            u64_mix(2**56 - 1, 255),
            is_positive(-0.5),
            is_positive(0.5),
            bool_to_int(True),
            bool_to_int(False),
            fscale(1.5, 2.0),
        )

    got = calls(3, 4)
    assert got == (7, -100, 14464, (2**56 - 1) * 256 + 255, False, True, 7, -7, 3.0)
    assert got == (
        lib.iadd(3, 4),
        lib.schar_neg(100),
        lib.ushort_twice(40000),
        lib.u64_mix(2**56 - 1, 255),
        lib.is_positive(-0.5),
        lib.is_positive(0.5),
        lib.bool_to_int(True),
        lib.bool_to_int(False),
        lib.fscale(1.5, 2.0),
    )


def test_scalars_are_never_truncated(lib):
    # as from Python: an integer of another type is range-checked when the call runs, a
    # float is no integer (int(x) truncates on purpose)
    iadd = lib.iadd

    @numba.njit
    def add(x, y):
        return iadd(x, y)

    assert add(2**31 - 1, 0) == 2**31 - 1 and add(-(2**31), 0) == -(2**31) and add(np.int8(-3), 1) == -2
    for big in (2**31, -(2**31) - 1, 2**32 + 5):
        with pytest.raises(OverflowError, match=r"iadd\(\) argument 1.*expected an int in \[-2147483648, 2147483647\]"):
            add(big, 0)
    with pytest.raises(numba.core.errors.TypingError, match=r"expected an integer for 'int', got float64"):
        numba.njit(lambda x: iadd(x, 1))(2.9)
    assert numba.njit(lambda x: iadd(int(x), 1))(2.9) == 3


def test_enum_and_many_arguments_on_the_stack(lib):
    light = lib.types.shade.LIGHT

    @numba.njit
    def calls():
        return (lib.shade_value(2), lib.shade_value(light), lib.many_args(1, 2, 3, 4, 5.5, 6.5, 7, 8, -9, 10.0))

    assert calls() == (20, 20, lib.many_args(1, 2, 3, 4, 5.5, 6.5, 7, 8, -9, 10.0)) == (20, 20, 38.0)


def test_a_function_through_the_library_attribute_and_as_an_argument(lib):
    @numba.njit
    def through_library(a):
        return lib.iadd(a, 1)

    @numba.njit
    def call(f, a, b):
        return f(a, b)

    assert through_library(41) == 42
    assert call(lib.iadd, 5, 3) == 8
    assert call(lib.isub, 5, 3) == 2


def test_a_non_number_for_a_scalar_is_a_typing_error(lib):
    iadd = lib.iadd
    msg = typing_error(numba.njit(lambda x: iadd(x, 1)), np.ones(2))
    assert "iadd() argument 1 'a': expected a number for 'int'" in msg
    msg = typing_error(numba.njit(lambda: iadd(1)))
    assert "iadd() takes 2 arguments, 1 given" in msg


# ---- arrays ---------------------------------------------------------------------


def test_array_calls_pass_the_data_and_c_writes_in_place(lib):
    dsum, dscale, isum = lib.dsum, lib.dscale, lib.isum

    @numba.njit
    def work(x, ints):
        dscale(x, x.size, 2.0)
        return dsum(x, x.size), isum(ints, ints.size), dsum(x[1:], x.size - 1)

    x = np.arange(6.0)
    got = work(x, np.arange(5, dtype=np.int32))
    np.testing.assert_array_equal(x, np.arange(6.0) * 2)
    assert got == (30.0, 10, 30.0)


def test_a_2d_c_array_passes_its_data(lib):
    dsum = lib.dsum
    a = np.arange(12.0).reshape(3, 4)
    assert numba.njit(lambda a: dsum(a, a.size))(a) == a.sum()


def test_wrong_element_type_is_a_typing_error(lib):
    dsum = lib.dsum
    msg = typing_error(numba.njit(lambda x: dsum(x, x.size)), np.ones(3, np.float32))
    assert "dsum() argument 1 'x': expected a C-contiguous float64 array" in msg
    assert "'const double *'" in msg and "float32" in msg


def test_read_only_array_for_a_non_const_pointer_is_a_typing_error(lib):
    dscale, dsum = lib.dscale, lib.dsum
    x = np.ones(3)
    x.flags.writeable = False
    msg = typing_error(numba.njit(lambda x: dscale(x, x.size, 2.0)), x)
    assert "dscale() argument 1 'x': expected a writeable array for 'double *'" in msg
    assert "readonly" in msg
    assert numba.njit(lambda x: dsum(x, x.size))(x) == 3.0  # const double *: fine
    np.testing.assert_array_equal(x, 1.0)


def test_0d_array_for_a_pointer_is_a_typing_error(lib):
    dsum = lib.dsum
    msg = typing_error(numba.njit(lambda x: dsum(x, 1)), np.array(3.0))
    assert "dsum() argument 1 'x'" in msg
    assert "got a 0-d float64 array: a number is not a pointer" in msg
    assert numba.njit(lambda x: dsum(x, 1))(np.array([3.0])) == 3.0


def test_non_contiguous_array_is_refused_when_called(lib):
    dsum = lib.dsum
    f = numba.njit(lambda x: dsum(x, 3))
    x = np.arange(6.0)
    with pytest.raises(TypeError, match=r"dsum\(\) argument 1 'x': expected a C-contiguous array"):
        f(x[::2])
    assert f(x[3:]) == 12.0  # the same layout-'A' code, contiguous data


def test_unaligned_array_is_refused_when_called(lib):
    dsum = lib.dsum
    raw = np.zeros(8 * 4 + 1, np.uint8)
    x = raw[1:].view(np.float64)
    assert not x.flags.aligned
    with pytest.raises(TypeError, match="not aligned to 8 bytes"):
        numba.njit(lambda x: dsum(x, x.size))(x)


def test_none_passes_null(lib):
    dsum = lib.dsum
    assert numba.njit(lambda: dsum(None, 0))() == 0.0


# ---- structs by pointer -----------------------------------------------------------


def test_record_arrays_and_records_for_struct_pointers(lib):
    norm2, shift = lib.point_norm2, lib.point_shift

    @numba.njit
    def work(p):
        shift(p, p.size, 1.0)
        return norm2(p, p.size), norm2(p[1], 1)

    p = np.zeros(3, lib.types.point.dtype)
    p["x"], p["y"] = [1, 2, 3], 1
    assert work(p) == (4 + 9 + 16 + 3, 10.0)
    np.testing.assert_array_equal(p["x"], [2, 3, 4])
    np.testing.assert_array_equal(p["id"], [1, 1, 1])


def test_a_record_array_of_another_layout_is_a_typing_error(lib):
    norm2 = lib.point_norm2
    other = np.zeros(2, [("x", "f8"), ("y", "f4"), ("id", "i4"), ("pad", "i8")])
    msg = typing_error(numba.njit(lambda p: norm2(p, p.size)), other)
    assert "point_norm2() argument 1 'p'" in msg
    assert "field 'y': C has float64 at offset 8" in msg
    msg = typing_error(numba.njit(lambda p: norm2(p, p.size)), np.zeros(3))
    assert "a plain float64 array, not a structured array" in msg


# ---- pointers -------------------------------------------------------------------


def test_ndffi_pointers_are_raw_pointers(lib):
    dsum, first_int = lib.dsum, lib.first_int
    p = ndffi.new("double[4]", [1, 2, 3, 4.5])
    q = ndffi.new("int *", 17)

    @numba.njit
    def work(p, q):
        return dsum(p, 4), first_int(q), p[3]

    assert work(p, q) == (10.5, 17, 4.5)


def test_pointer_results_and_opaque_handles(lib):
    advance, get, bump = lib.advance, lib.counter_get, lib.counter_bump

    @numba.njit
    def work(x, handle):
        bump(get(), 5)  # a result passed on inside compiled code
        return advance(x, 2)[0], bump(handle, 1)

    start = lib.counter_bump(lib.counter_get(), 0)
    assert work(np.arange(5.0), lib.counter_get()) == (2.0, start + 6)


def test_pointer_to_const_for_a_non_const_pointer_is_a_typing_error(lib):
    dscale = lib.dscale
    p = ndffi.cast("const double *", np.ones(3))
    msg = typing_error(numba.njit(lambda p: dscale(p, 3, 2.0)), p)
    assert "dscale() argument 1 'x'" in msg and "pointer to const" in msg


def test_pointer_of_another_type_is_a_typing_error(lib):
    dsum, bump = lib.dsum, lib.counter_bump
    msg = typing_error(numba.njit(lambda p: dsum(p, 1)), ndffi.new("int *"))
    assert "dsum() argument 1 'x'" in msg and "int32" in msg
    msg = typing_error(numba.njit(lambda p: bump(p, 1)), lib.new("point *"))
    assert "counter_bump() argument 1 'c'" in msg


# ---- what Numba cannot call -------------------------------------------------------


@pytest.mark.parametrize(
    "name, args, expected",
    [
        ("point_x", (1.0,), "point_x() argument 1 'p': a struct passed by value"),
        ("point_make", (1.0, 2.0), "point_make() result: a struct result (by value)"),
        ("sum_ints", (1, 2), "sum_ints(): variadic functions (...) cannot be called from Numba"),
        ("apply", (None, 1.0), "apply() argument 1 'f': function-pointer (callback) parameters"),
    ],
)
def test_unsupported_signatures_are_typing_errors(lib, name, args, expected):
    f = getattr(lib, name)
    if len(args) == 1:
        jitted = numba.njit(lambda a: f(a))
    else:
        jitted = numba.njit(lambda a, b: f(a, b))
    assert expected in typing_error(jitted, *args)


# ---- ufuncs -----------------------------------------------------------------------


def test_vectorize_calling_a_declared_function_matches_its_ufunc(gauss_lib):
    gauss = gauss_lib.gauss

    @numba.vectorize(["float64(float64)"])
    def nb_gauss(x):
        return gauss(x)

    x = np.linspace(-4, 4, 1001).reshape(7, 143)
    np.testing.assert_array_equal(nb_gauss(x), gauss.ufunc()(x))
    np.testing.assert_array_equal(nb_gauss(x[0]), [gauss(v) for v in x[0]])


# ---- numba.cfunc callbacks --------------------------------------------------------


@numba.cfunc(types.intc(types.voidptr, types.voidptr))
def compare_doubles(a, b):
    x, y = carray(a, 1, np.float64)[0], carray(b, 1, np.float64)[0]
    return (x > y) - (x < y)


@numba.cfunc("float64(float64)")
def square(x):
    return x * x


def test_cfunc_comparator_sorts_without_python_callbacks(libc):
    a = np.random.default_rng(1).random(10000)
    before = ndffi._ndffi._closure_stats()
    libc.qsort(a, a.size, a.itemsize, compare_doubles)
    assert ndffi._ndffi._closure_stats() == before  # no callback was made
    np.testing.assert_array_equal(a, np.sort(a))


def test_cfunc_with_typed_pointers_for_void_pointers(libc):
    @numba.cfunc(types.intc(types.CPointer(types.int64), types.CPointer(types.int64)))
    def descending(a, b):
        return (a[0] < b[0]) - (a[0] > b[0])

    a = np.array([3, 9, -2, 5], np.int64)
    libc.qsort(a, a.size, a.itemsize, descending)
    assert a.tolist() == [9, 5, 3, -2]


def test_cfunc_signature_mismatch_names_the_parameter(libc, lib):
    a = np.ones(3)
    with pytest.raises(TypeError) as info:
        libc.qsort(a, 3, 8, square)
    msg = str(info.value)
    assert "qsort() argument 4 'cmp'" in msg
    assert "'int (*)(const void *, const void *)'" in msg
    assert "numba cfunc 'square' of C type 'double (*)(double)'" in msg

    @numba.cfunc(types.float64(types.float32))
    def narrow(x):
        return x

    with pytest.raises(
        TypeError,
        match=r"apply\(\) argument 1 'f'.*parameter 1: C passes "
        r"'double', the cfunc takes float32",
    ):
        lib.apply(narrow, 1.0)

    @numba.cfunc(types.intc(types.CPointer(types.float32), types.CPointer(types.float64)))
    def typed_wrong(a, b):
        return 0

    with pytest.raises(
        TypeError,
        match=r"call_dcmp\(\) argument 1 'cmp'.*parameter 1: C passes "
        r"'const double \*', the cfunc takes float32\*",
    ):
        lib.call_dcmp(typed_wrong, 1.0, 2.0)


def test_cfunc_with_typed_pointers(lib):
    @numba.cfunc(types.intc(types.CPointer(types.float64), types.CPointer(types.float64)))
    def less(a, b):
        return a[0] < b[0]

    assert lib.call_dcmp(less, 1.0, 2.0) == 1
    assert lib.call_dcmp(less, 3.0, 2.0) == 0


def test_cfunc_called_by_c_many_times(lib):
    x = np.linspace(0, 1, 1001)
    assert lib.apply(square, 3.0) == 9.0
    assert lib.apply_sum(square, x, x.size) == pytest.approx((x * x).sum(), rel=1e-12)


def test_cfunc_in_a_struct_field(lib):
    op = lib.types.scaled_op(square, 2.0)
    assert lib.run_op(op, 3.0) == 18.0
    op.f = square
    with pytest.raises(TypeError, match="field 'f' of 'scaled_op'.*numba cfunc 'compare_doubles'"):
        op.f = compare_doubles
    assert lib.run_op(op, 4.0) == 32.0


def test_cfunc_address_cast_to_the_c_type(lib):
    fp = ndffi.cast("double (*)(double)", square.address)
    assert lib.apply(fp, 5.0) == 25.0
