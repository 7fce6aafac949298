"""Callbacks: Python functions behind C function pointers, the thread-safe Allocator, and
pointer-to-pointer parameters from arrays.

C side: tests/clib/callbacks.c (the cookbook's allocator examples and float** fragment,
callbacks of many signatures, stored handlers, threads that C starts) and libc's qsort.
"""

import array
import ctypes
import gc
import math
import os
import subprocess
import sys
import threading
import traceback
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ndffi
from conftest import ENGINE, X86_64_SYSV
from ndffi import _ndffi

CDEF = """
    typedef void *(*allocator2_t)(int, int *);
    typedef void *(*allocator_t)(int, int *, char);
    typedef int (*handler_t)(int);
    void foo(allocator2_t allocator);
    int func(allocator_t allocator);
    void fill_with(float *(*allocator)(long, const long *), long n, float v);

    double sum2d(const float *const *data, int rows, int cols);
    void scale2d(float **data, int rows, int cols, float k);
    void foo_rows(float **data, int len, int cols, double *out);
    double sum_ragged(const double *const *rows, const int *lens, int n);
    int count_rows(void *const *rows);
    size_t total_strlen(const char *const *strs);

    int call_int(int (*f)(int), int x);
    long loop_int(int (*f)(int), long n);
    double loop_double(double (*f)(double), long n);
    int call_twice(handler_t f, int x);
    double call_mixed(double (*f)(int8_t, uint16_t, float, double, long long, _Bool, size_t),
                      int8_t a, uint16_t b, float c, double d, long long e, _Bool g, size_t h);
    long long ret_schar(signed char (*f)(void));
    long long ret_uchar(unsigned char (*f)(void));
    long long ret_short(short (*f)(void));
    long long ret_ushort(unsigned short (*f)(void));
    long long ret_int(int (*f)(void));
    unsigned long long ret_uint(unsigned int (*f)(void));
    long long ret_longlong(long long (*f)(void));
    unsigned long long ret_ulonglong(unsigned long long (*f)(void));
    int ret_bool(_Bool (*f)(void));
    double ret_float(float (*f)(void));
    double ret_double(double (*f)(void));
    double ret_longdouble(long double (*f)(long double));
    double call_wide(double (*f)(int, int, int, int, int, int, int, int, double, double, double,
                                 double, double, double, double, double, double, double));
    double sum_from(const double *(*f)(int), int n);
    size_t strlen_from(const char *(*f)(int), int i);
    void fill_through(void (*f)(double *, int), double *out, int n);
    int apply_to_each(int (*f)(const int *), const int *v, int n);
    int call_returned(int (*(*get)(int))(int), int which, int x);
    int twice_c(int x);
    void set_handler(handler_t f);
    int call_handler(int x);
    typedef int (*regs_t)(int, short);
    typedef double (*frame_t)(double, short);
    typedef int (*ffi_t)(short, int, int, int, int, int, int);
    void set_regs(regs_t f);    int call_regs(int x);    int now_regs(regs_t f, int x);
    int given_is_stored_regs(void);    int call_regs_in_thread(int x);
    void set_frame(frame_t f);  double call_frame(int x); double now_frame(frame_t f, int x);
    int given_is_stored_frame(void);   double call_frame_in_thread(int x);
    void set_ffi(ffi_t f);      int call_ffi(int x);     int now_ffi(ffi_t f, int x);
    int given_is_stored_ffi(void);     int call_ffi_in_thread(int x);
    long run_threads(int (*f)(int), int nthreads, int iters);
    int call_in_thread(int (*f)(int), int x);
    struct opaque;
    struct other;
    struct opaque *call_opaque(struct opaque *(*f)(struct opaque *), struct opaque *p);
    int alloc_typed(allocator_t allocator, char code, int n);
    typedef struct { long a; double b; } Pair;
"""


@pytest.fixture(scope="module")
def lib(clib_dir):
    return ndffi.load("libcallbacks", clib_dir).cdef(CDEF)


@pytest.fixture(scope="module")
def libc():
    return ndffi.load(None).cdef(
        "void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));"
    )


@pytest.fixture
def unraisable(monkeypatch):
    """The reports that reach sys.unraisablehook during the test."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    yield seen
    seen.clear()  # the reports' tracebacks hold the test's frame


# ---- the cookbook's allocators ------------------------------------------------------


def test_seed_allocate_function(lib):
    # "Dynamic allocation through callbacks", with a pointer result instead of a c_long.
    allocated_arrays = []

    def allocate(dim, shape):
        x = np.zeros(shape.as_array(dim), "f4")
        allocated_arrays.append(x)
        return x

    lib.foo(ndffi.callback("void *(int, int *)", allocate))
    np.testing.assert_array_equal(allocated_arrays[0], [[1, 2, 3], [2, 4, 6]])
    # The library's typedef names the signature as well.
    lib.foo(lib.callback("allocator2_t", allocate))
    np.testing.assert_array_equal(allocated_arrays[1], [[1, 2, 3], [2, 4, 6]])


def test_seed_allocator_class(lib):
    def call():
        alloc = ndffi.Allocator()
        assert lib.func(alloc) == 0
        return tuple(alloc.arrays[:3])

    a, b = call()
    assert a.dtype == np.float64 and a.shape == (2, 3, 4)
    np.testing.assert_array_equal(a.ravel(), np.arange(24) * 0.5)
    assert b.dtype == np.intc and b.shape == (5,)
    np.testing.assert_array_equal(b, [0, 10, 20, 30, 40])


def test_allocator_two_argument_form(lib):
    alloc = ndffi.Allocator("f4")
    lib.foo(alloc)
    lib.foo(alloc)
    assert len(alloc.arrays) == 2
    for x in alloc.arrays:
        np.testing.assert_array_equal(x, [[1, 2, 3], [2, 4, 6]])
    assert len(alloc.take()) == 2 and alloc.arrays == []


def test_allocator_dtype_from_result_type(lib):
    alloc = ndffi.Allocator()  # float *(*)(long, const long *): float32 from the result
    lib.fill_with(alloc, 4, 2.5)
    (x,) = alloc.arrays
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, [2.5] * 4)


@pytest.mark.parametrize("code", list("?bBhHiIlLqQefdgFD"))
def test_allocator_typecodes(lib, code):
    alloc = ndffi.Allocator()
    assert lib.alloc_typed(alloc, ord(code), 3) == 1
    (x,) = alloc.arrays
    assert x.dtype == np.dtype(code) and x.shape == (3,)


def test_allocator_bad_typecode(lib):
    with pytest.raises(TypeError, match="typecode 'z'"):
        lib.alloc_typed(ndffi.Allocator(), ord("z"), 3)


def test_allocator_needs_dtype_for_void_result(lib):
    with pytest.raises(TypeError, match="needs dtype="):
        lib.foo(ndffi.Allocator())


def test_allocator_typecode_mismatch_raises(lib):
    alloc = ndffi.Allocator("f4")
    with pytest.raises(TypeError, match="typecode 'd'"):
        lib.func(alloc)


def test_allocator_rejects_other_signatures(lib):
    with pytest.raises(TypeError, match="an Allocator serves"):
        lib.call_int(ndffi.Allocator(), 1)


@pytest.mark.skipif(not X86_64_SYSV, reason="the C side calls the callback by the x86-64 SysV convention")
def test_a_failing_callback_writes_only_its_result_in_memory(clib_dir, unraisable):
    # C's result buffer for a struct returned in memory holds exactly the struct: after an
    # exception (C gets on_error), or a call through a released Callback, nothing past it
    # is written.
    lib = ndffi.load("libcallbacks", clib_dir).cdef(
        "struct s24 { long a, b, c; }; long sret_canary(void *f); long last_canary(void);"
    )
    canary = 0x1111111111111111

    def boom():
        raise ZeroDivisionError

    ok = lib.callback("struct s24 (void)", lambda: (7, 8, 9))
    assert lib.sret_canary(ndffi.cast("void *", ok)) == 7 and lib.last_canary() == canary
    failing = lib.callback("struct s24 (void)", boom)
    with pytest.raises(ZeroDivisionError):
        lib.sret_canary(ndffi.cast("void *", failing))
    assert lib.last_canary() == canary
    p = ndffi.cast("void *", ok)
    ok.release()
    assert lib.sret_canary(p) == 0 and lib.last_canary() == canary
    check_reported(unraisable)


def test_memory_holding_references_is_never_handed_to_c(lib):
    # An array of Python objects as a callback's pointer result, or an Allocator of such a
    # dtype: C would overwrite the references (a crash when the array is next used).
    kept = np.zeros(6, object)
    with pytest.raises(TypeError, match=r"result: expected an array of data .*objects"):
        lib.foo(lambda ndim, shape: kept)  # C got NULL and wrote nothing
    assert kept.tolist() == [0] * 6
    with pytest.raises(TypeError, match=r"Allocator\(dtype=object\)"):
        ndffi.Allocator(dtype=object)
    from ndffi.callback import _dtype_of_typecode  # what a typecode C asks for is taken as

    with pytest.raises(TypeError, match="typecode 'O'"):
        _dtype_of_typecode(ord("O"))


def test_allocator_is_thread_safe(lib):
    alloc = ndffi.Allocator()
    errors = []

    def work(k):
        try:
            for _ in range(30):
                assert lib.func(alloc) == 0
                a, b = alloc.take()
                assert a.shape == (2, 3, 4) and b.shape == (5,)
                np.testing.assert_array_equal(a.ravel(), np.arange(24) * 0.5)
                np.testing.assert_array_equal(b, [0, 10, 20, 30, 40])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert alloc.all_arrays == []


def test_allocator_never_hands_a_finished_threads_arrays_to_a_new_thread(lib):
    # The OS gives a new thread the identifier of one that finished (glibc: at once);
    # the arrays belong to the thread, not to its identifier.
    alloc = ndffi.Allocator()
    seen = {}

    def first():
        seen["ident"] = threading.get_ident()
        assert lib.func(alloc) == 0  # two arrays, left to the allocator

    def later():
        seen["same"] = threading.get_ident() == seen["ident"]
        seen["arrays"], seen["took"] = alloc.arrays, alloc.take()

    t = threading.Thread(target=first)
    t.start()
    t.join()
    left = alloc.all_arrays
    assert len(left) == 2
    for _ in range(50):  # until a thread gets the finished one's identifier
        t = threading.Thread(target=later)
        t.start()
        t.join()
        assert seen["arrays"] == [] and seen["took"] == []
        if seen["same"]:
            break
    else:
        pytest.skip("no thread was given a finished thread's identifier")
    assert alloc.arrays == [] and alloc.take() == []  # nor to this thread
    assert len(alloc.all_arrays) == 2 and all(a is b for a, b in zip(alloc.all_arrays, left, strict=True))
    freed = [weakref.ref(a) for a in left]
    del left
    alloc.clear()  # and not kept forever
    gc.collect()
    assert [r() for r in freed] == [None, None]


def test_allocator_arrays_of_threads_c_starts(lib):
    # run from C's own threads, one after the other: each is a new thread
    alloc = ndffi.Allocator()
    got = []

    def f(x):
        got.append((len(alloc.arrays), lib.func(alloc), len(alloc.arrays)))  # left to it
        return 2 * x + 1

    assert lib.run_threads(f, 1, 1) == 0
    assert lib.run_threads(f, 1, 1) == 0
    assert got == [(0, 0, 2), (0, 0, 2)]
    assert len(alloc.all_arrays) == 4 and alloc.arrays == []
    alloc.clear()


# ---- pointer to pointers ----------------------------------------------------------


def test_seed_float_pointer_pointer(lib):
    x = np.array([[10, 20, 30], [40, 50, 60], [80, 90, 100]], "f4")
    assert lib.sum2d(x, 3, 3) == x.sum()
    out = np.zeros(3)
    lib.foo_rows(x, len(x), 3, out)
    np.testing.assert_array_equal(out, x.sum(axis=1))
    lib.scale2d(x, 3, 3, 2.0)  # zero copy: C writes into x
    np.testing.assert_array_equal(x[0], [20, 40, 60])


def test_rows_any_stride_along_first_axis(lib):
    x = np.arange(24, dtype="f4").reshape(6, 4)
    assert lib.sum2d(x[::2], 3, 4) == x[::2].sum()
    assert lib.sum2d(x[::-1], 6, 4) == x.sum()
    assert lib.sum2d(x[1:4, 1:3], 3, 2) == x[1:4, 1:3].sum()  # rows contiguous, stride 16
    lib.scale2d(x[::3], 2, 4, 0.0)
    assert x[0].sum() == 0 and x[3].sum() == 0 and x[1].sum() != 0


def test_rows_list_ragged(lib):
    rows = [np.array([1.0, 2.0, 3.0]), np.array([10.0]), np.arange(5.0)]
    lens = np.array([len(r) for r in rows], np.intc)
    assert lib.sum_ragged(rows, lens, 3) == 6 + 10 + 10
    x = np.array([[10, 20, 30], [40, 50, 60]], "f4")
    assert lib.sum2d([x[0], x[1][:2]], 2, 2) == 10 + 20 + 40 + 50
    assert lib.sum2d((x[1], x[0]), 2, 3) == x.sum()


def test_rows_checked(lib):
    x = np.ones((3, 4), "f4")
    with pytest.raises(TypeError, match=r"sum2d\(\) argument 1 'data'.*not contiguous"):
        lib.sum2d(x[:, ::2], 3, 2)
    with pytest.raises(TypeError, match="float32"):
        lib.sum2d(np.ones((3, 4)), 3, 4)
    with pytest.raises(TypeError, match="1-D"):
        lib.sum2d(np.ones(4, "f4"), 1, 4)
    ro = np.ones((2, 2), "f4")
    ro.flags.writeable = False
    assert lib.sum2d(ro, 2, 2) == 4  # const rows: read-only is fine
    with pytest.raises(TypeError, match="read-only"):
        lib.scale2d(ro, 2, 2, 3.0)  # float **: C may write
    with pytest.raises(TypeError, match=r"argument 1 'data' row 1: .*read-only"):
        lib.scale2d([x[0], ro[0]], 2, 2, 3.0)
    with pytest.raises(TypeError, match=r"row 1: .*float32.*float64"):
        lib.sum2d([x[0], np.ones(4)], 2, 4)


def test_rows_table_is_null_terminated(lib):
    rows = [np.zeros(2), np.zeros(3, np.int8), bytearray(4)]
    assert lib.count_rows(rows) == 3
    assert lib.count_rows(np.zeros((5, 2))) == 5
    assert lib.total_strlen([b"ab", "cde", b""]) == 5


# ---- qsort ------------------------------------------------------------------------


def test_qsort_int32_decorated_comparator(libc):
    @ndffi.callback("int(const void *, const void *)")
    def cmp(a, b):
        x, y = ndffi.cast("const int *", a)[0], ndffi.cast("const int *", b)[0]
        return (x > y) - (x < y)

    rng = np.random.default_rng(1)
    arr = rng.integers(-1000, 1000, 257).astype(np.int32)
    expected = np.sort(arr)
    libc.qsort(arr, len(arr), arr.itemsize, cmp)
    np.testing.assert_array_equal(arr, expected)


def test_qsort_float64_lambda(libc):
    rng = np.random.default_rng(2)
    arr = rng.standard_normal(500)
    expected = np.sort(arr)
    libc.qsort(
        arr,
        len(arr),
        arr.itemsize,
        lambda a, b: int(np.sign(a.as_array(1, np.float64)[0] - b.as_array(1, np.float64)[0])),
    )
    np.testing.assert_array_equal(arr, expected)


def test_qsort_descending_records_order(libc):
    arr = np.array([3, 1, 2], np.int32)
    libc.qsort(arr, 3, 4, lambda a, b: ndffi.cast("int *", b)[0] - ndffi.cast("int *", a)[0])
    assert arr.tolist() == [3, 2, 1]


# ---- exceptions -------------------------------------------------------------------


def failing_callback(x):
    raise KeyError(f"no entry for {x}")


def test_exception_reaches_the_caller_with_traceback(lib):
    with pytest.raises(KeyError, match="no entry for 5") as info:
        lib.call_int(failing_callback, 5)
    names = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert names[0] == "test_exception_reaches_the_caller_with_traceback"
    assert names[-1] == "failing_callback"


def test_exception_counts_later_ones(libc):
    arr = np.arange(20, dtype=np.int32)[::-1].copy()
    calls = []

    def cmp(a, b):
        calls.append(1)
        raise ValueError("cannot compare")

    with pytest.raises(ValueError, match="cannot compare") as info:
        libc.qsort(arr, len(arr), 4, cmp)
    notes = getattr(info.value, "__notes__", [])
    assert notes == [f"(the callback raised {len(calls) - 1} more exceptions before the C function returned)"]


def test_exception_returns_on_error_to_c(lib, unraisable):
    # From a thread C starts the exception has no ndffi caller: C sees on_error and the
    # exception goes to sys.unraisablehook.
    cb = ndffi.callback("int(int)", failing_callback, on_error=-7)
    assert lib.call_in_thread(cb, 3) == -7
    assert len(unraisable) == 1
    report = unraisable[0]
    assert isinstance(report.exc_value, KeyError)
    assert "outside any ndffi call" in report.err_msg
    if sys.version_info >= (3, 13):  # PyErr_FormatUnraisable names it in the message instead
        assert report.object is None and repr(failing_callback) in report.err_msg
    else:
        assert report.object is failing_callback
    assert lib.call_in_thread(ndffi.callback("int(int)", failing_callback), 3) == 0


def test_bad_result_is_an_exception(lib):
    with pytest.raises(OverflowError, match=r"callback .*<lambda> result: expected int in"):
        lib.call_int(lambda x: 2**40, 1)
    with pytest.raises(TypeError, match="callback .*<lambda> result: expected int"):
        lib.call_int(lambda x: "seven", 1)
    with pytest.raises(TypeError, match="callback .*<lambda> result: expected int"):
        lib.call_int(lambda x: 1.5, 1)


def test_nested_calls_keep_exceptions_apart(lib):
    def inner(x):
        raise ArithmeticError("inner")

    def outer(x):
        with pytest.raises(ArithmeticError):
            lib.call_int(inner, x)
        return lib.call_int(lambda y: y + 1, x) * 10

    assert lib.call_int(outer, 4) == 50

    def outer_fails(x):
        return lib.call_int(inner, x)

    with pytest.raises(ArithmeticError, match="inner") as info:
        lib.call_int(outer_fails, 1)
    names = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert names[-2:] == ["outer_fails", "inner"]
    assert lib.call_int(lambda y: y, 3) == 3  # nothing left pending


def test_nested_calls_switch_gil_modes(clib_dir, lib):
    # A call that keeps the GIL, whose callback makes a call that releases it, whose
    # callback raises, caught inside: each callback retakes the GIL its own way.
    held = ndffi.load("libcallbacks", clib_dir).cdef("int call_int(int (*f)(int), int x);", release_gil=False)

    def inner(x):
        if x < 0:
            raise ValueError("negative")
        return x + 1

    def outer(x):
        with pytest.raises(ValueError):
            lib.call_int(inner, -1)
        return lib.call_int(inner, x) * 2

    assert held.call_int(outer, 20) == 42
    assert lib.call_int(lambda x: held.call_int(outer, x), 1) == 4
    assert lib.loop_int(lambda i: held.call_int(inner, i), 100) == sum(range(1, 101))


def test_exception_with_gil_held(clib_dir):
    lib = ndffi.load("libcallbacks", clib_dir).cdef("int call_int(int (*f)(int), int x);", release_gil=False)
    assert not lib.call_int.release_gil
    assert lib.call_int(lambda x: x * 3, 5) == 15
    with pytest.raises(KeyError):
        lib.call_int(failing_callback, 5)


# ---- lifetime ---------------------------------------------------------------------


def test_callback_after_free_reports_and_returns_zero(lib, unraisable):
    cb = ndffi.callback("int(int)", lambda x: x + 100)
    lib.set_handler(cb)
    assert lib.call_handler(1) == 101
    del cb
    gc.collect()
    assert lib.call_handler(1) == 0  # no crash
    assert len(unraisable) == 1
    assert isinstance(unraisable[0].exc_value, RuntimeError)
    assert "garbage-collected" in str(unraisable[0].exc_value)
    assert "int (*)(int)" in str(unraisable[0].exc_value)
    lib.set_handler(None)


def test_release_stops_serving_c(lib, unraisable):
    freed = []

    class Target:
        def __call__(self, x):
            return x + 100

        def __del__(self):
            freed.append(True)

    cb = ndffi.callback("int(int)", Target())
    address = cb.address
    with cb:
        lib.set_handler(cb)
        assert lib.call_handler(1) == 101
    assert cb.released and freed == [True]  # the callable is let go at once
    assert lib.call_handler(2) == 0  # a stale pointer in C: no crash
    assert len(unraisable) == 1 and "garbage-collected or released" in str(unraisable[0].exc_value)
    with pytest.raises(
        ValueError,
        match=r"set_handler\(\) argument 1 .*the callback 'int \(\*\)\(int\)' "
        r"was released",
    ):
        lib.set_handler(cb)
    for what in ("address", "pointer"):
        with pytest.raises(ValueError, match=f"the {what} of a released callback"):
            getattr(cb, what)
    with pytest.raises(RuntimeError, match="this callback has been released"):
        cb(1)
    cb.release()  # again: nothing more to do
    lib.set_handler(None)
    # a new callback of the same type gets a closure of its own, not the released one
    other = ndffi.callback("int(int)", lambda x: -x)
    assert other.address != address
    lib.set_handler(other)
    assert lib.call_handler(5) == -5
    lib.set_handler(None)


def test_stored_handler_exception_inside_a_call(lib):
    # A stored handler that C calls during another ndffi call: that call raises it.
    cb = ndffi.callback("int(int)", failing_callback)
    lib.set_handler(cb)
    with pytest.raises(KeyError):
        lib.call_handler(2)
    lib.set_handler(None)


def test_plain_callable_is_wrapped_for_the_call_only(lib):
    for i in range(50):  # fills the free list's quarantine
        assert lib.call_int(lambda x: x + i, 1) == 1 + i  # noqa: B023
    before = _ndffi._closure_stats()
    for i in range(50):
        assert lib.call_int(lambda x: x - i, 1) == 1 - i  # noqa: B023
    after = _ndffi._closure_stats()
    assert (after[0] + after[1]) - (before[0] + before[1]) == 0  # closures come back from the free list
    assert after[2] - before[2] == 50
    assert after[4] - before[4] == 50  # and go back to it


# ---- a plain callable's pointer that C keeps ----------------------------------------
#
# Its closure is recycled once the call returns; a late call through the pointer C kept
# must never run the callable the recycled closure serves next: it is reported and
# returns 0, and the closure is retired.  Each of the three signatures (callbacks.c's
# STORED) is entered a different way -- from C's registers, through the register frame,
# through libffi -- and no other test uses them, so their free lists are these tests'.

ENTRIES = {
    "regs": lambda g: lambda x, s: g(x),
    "frame": lambda g: lambda x, s: g(int(x)),
    "ffi": lambda g: lambda s, x, a, b, c, d, e: g(x),
}
Q = _ndffi._closure_quarantine


class Stored:
    """lib's functions of one STORED signature."""

    def __init__(self, lib, kind):
        self.kind, self.wrap = kind, ENTRIES[kind]
        for f in ("set", "call", "now", "given_is_stored", "call_in_thread"):
            name = f"{f}_{kind}" if f != "call_in_thread" else f"call_{kind}_in_thread"
            setattr(self, f, getattr(lib, name))

    def one_call(self):
        """One one-call closure that does nothing; whether it was the stored one."""
        self.now(self.wrap(lambda x: 0), 0)
        return self.given_is_stored() == 1

    def make_the_next_call_reuse_the_stored_closure(self):
        """A plan's free list is first in, first out, and turns round once more than Q
        closures are in it: find where the stored closure is in the round, and turn the
        list until it is next."""
        for _ in range(1000):
            if self.one_call():
                break
        else:
            raise AssertionError("the stored closure never came back from the free list")
        period = 1
        while not self.one_call():
            period += 1
        for _ in range(period - 1):
            assert not self.one_call()


@pytest.fixture(params=list(ENTRIES))
def stored(lib, request):
    s = Stored(lib, request.param)
    yield s
    s.set(None)


def check_reported(unraisable, n=1):
    assert len(unraisable) == n
    for u in unraisable:
        assert isinstance(u.exc_value, RuntimeError)
        assert "it returned 0" in str(u.exc_value)


def test_stored_plain_callable_late_call_runs_no_one_elses_code(lib, stored, unraisable):
    stored.set(stored.wrap(lambda x: 100 + x))  # C keeps a one-call closure
    live = lib.callback(f"{stored.kind}_t", stored.wrap(lambda x: 200 + x))  # made afterwards
    for k in range(3 * Q):  # one-call closures come and go
        assert stored.now(stored.wrap(lambda x, k=k: x + k), 1) == 1 + k
    assert stored.call(5) == 0
    check_reported(unraisable)
    assert stored.now(live, 5) == 205


def test_stored_pointer_called_inside_the_call_its_closure_serves_now(lib, stored, unraisable):
    stored.set(stored.wrap(lambda x: 100 + x))
    stored.make_the_next_call_reuse_the_stored_closure()
    seen = []

    def f(x):
        seen.append(x)
        return -7 if len(seen) > 1 else stored.call(x) + 1  # a nested ndffi call: C calls the kept pointer

    assert stored.now(stored.wrap(f), 3) == 1
    assert stored.given_is_stored() == 1  # it was the kept closure that served f
    assert seen == [3]
    check_reported(unraisable)
    assert stored.call(4) == 0  # retired: ownerless from now on
    check_reported(unraisable, 2)


def test_stored_pointer_called_by_another_python_thread(lib, stored, unraisable):
    stored.set(stored.wrap(lambda x: 100 + x))
    stored.make_the_next_call_reuse_the_stored_closure()
    got, seen = {}, []

    def f(x):
        seen.append(x)
        if len(seen) == 1:  # another thread, inside an ndffi call, calls the kept pointer
            t = threading.Thread(target=lambda: got.setdefault("r", stored.call(x)))
            t.start()
            t.join()
        return 7

    assert stored.now(stored.wrap(f), 3) == 7
    assert stored.given_is_stored() == 1
    assert seen == [3] and got == {"r": 0}
    check_reported(unraisable)


def test_stored_pointer_called_by_a_c_thread_during_another_call(lib, stored, unraisable):
    stored.set(stored.wrap(lambda x: 100 + x))
    seen = []

    def f(x):
        seen.append(x)
        return 55 if len(seen) > 1 else stored.call_in_thread(x) + 1

    assert stored.now(stored.wrap(f), 3) == 1  # the kept closure is in quarantine
    assert stored.given_is_stored() == 0
    assert seen == [3]
    check_reported(unraisable)


def test_a_closure_c_kept_is_retired(lib, stored, unraisable):
    stored.set(stored.wrap(lambda x: 100 + x))
    assert stored.call(1) == 0  # the late call shows C kept it
    check_reported(unraisable)
    assert not any(stored.one_call() for _ in range(1000))  # a turn of the free list is < 100
    assert stored.call(2) == 0
    check_reported(unraisable, 2)


def test_plain_callables_from_c_threads_and_nested_calls_still_served(lib):
    # what a one-call closure serves: its call, C's own threads, and one-call closures
    # of calls made inside its callable
    assert lib.call_in_thread(lambda x: x * 3, 5) == 15
    assert lib.call_int(lambda x: lib.call_int(lambda y: y + 1, x) * 2, 4) == 10
    assert lib.call_twice(lambda x: lib.call_in_thread(lambda y: y - 1, x), 9) == 7


def test_plain_callable_cannot_be_stored(lib):
    p = lib.new("handler_t *")
    with pytest.raises(TypeError, match="kept alive"):
        p[0] = lambda x: x
    cb = ndffi.callback("int(int)", lambda x: -x)
    p[0] = cb
    assert lib.call_int(p[0], 4) == -4


# ---- threads ----------------------------------------------------------------------


def check_threads(lib, fn, nthreads, iters):
    assert lib.run_threads(fn, nthreads, iters) == 0


def test_foreign_threads(lib):
    calls = [0]

    def f(x):
        calls[0] += 1
        return 2 * x + 1

    cb = ndffi.callback("int(int)", f)
    check_threads(lib, cb, 8, 20000)
    assert calls[0] == 8 * 20000


def test_foreign_threads_with_a_lambda(lib):
    check_threads(lib, lambda x: 2 * x + 1, 4, 2000)


def test_foreign_threads_detect_wrong_results(lib):
    assert lib.run_threads(lambda x: 2 * x, 2, 100) == 200


def test_python_threads_and_callbacks_concurrently(lib):
    results = {}

    def work(k):
        results[k] = lib.loop_int(lambda x: x % 7 + k, 20000)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    base = sum(x % 7 for x in range(20000))
    assert results == {k: base + 20000 * k for k in range(4)}


THREAD_EXIT_UNDER_HELD_GIL = """
import ndffi, sys, time
lib = ndffi.load("libcallbacks", sys.argv[1]).cdef("int start_worker(int (*f)(int), int x);")
held = ndffi.load("libcallbacks", sys.argv[1]).cdef("void stop_worker(void);", release_gil=False)
api = ndffi.load(None).cdef(
    "void *PyInterpreterState_Main(void); void *PyInterpreterState_ThreadHead(void *);"
    "void *PyThreadState_Next(void *); int PyGILState_Check(void); void *PyGILState_GetThisThreadState(void);"
    "void *PyThreadState_Get(void);", release_gil=False)

def thread_states():
    n, ts = 0, api.PyInterpreterState_ThreadHead(api.PyInterpreterState_Main())
    while ts:
        n, ts = n + 1, api.PyThreadState_Next(ts)
    return n

def settled(n):  # the main thread deletes them when it runs its pending calls (a GIL switch)
    for _ in range(1000):
        if thread_states() == n:
            return n
        time.sleep(0.001)
    return thread_states()

before = thread_states()
for k in range(20):
    assert lib.start_worker(lambda x: x + k, 40) == 40 + k
    held.stop_worker()  # the worker exits while this call holds the GIL
after = settled(before)
# the main thread's own PyGILState binding is untouched by the deletions
assert api.PyGILState_Check() == 1
assert api.PyGILState_GetThisThreadState().address == api.PyThreadState_Get().address
assert lib.start_worker(lambda x: x * 2, 21) == 42
held.stop_worker()
print(before, after, settled(before))
"""


def test_a_thread_c_started_exits_while_the_gil_is_held(clib_dir):
    # The thread state kept for a thread that called back is given back when it exits,
    # without waiting for the GIL (a call that keeps it may be joining that thread):
    # every one is deleted, none is left behind, and nothing hangs.
    r = subprocess.run(
        [sys.executable, "-c", THREAD_EXIT_UNDER_HELD_GIL, str(clib_dir)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    before, after, again = map(int, r.stdout.split())
    assert before >= 1 and after == before and again == before


@pytest.mark.stress
@pytest.mark.skipif(os.environ.get("NDFFI_STRESS") != "1", reason="set NDFFI_STRESS=1 (make stress)")
def test_stress_foreign_threads(lib):
    cb = ndffi.callback("int(int)", lambda x: 2 * x + 1)
    check_threads(lib, cb, 8, 200000)


# ---- signatures and conversions ----------------------------------------------------


def test_kept_int_arguments_keep_their_values(lib):
    # int argument objects are reused between calls only when the callback let go of them
    kept, every_other = [], []

    def f(x):
        kept.append(x)
        return x

    def g(x):
        if x % 2:
            every_other.append(x)
        return x

    assert lib.loop_int(f, 3000) == sum(range(3000))
    assert kept == list(range(3000))
    assert lib.loop_int(g, 3000) == sum(range(3000))
    assert every_other == list(range(1, 3000, 2))
    assert lib.call_int(lambda x: x, -(2**31)) == -(2**31)  # outside the reused range
    assert lib.call_int(lambda x: x, -1000) == -1000


def test_kept_double_arguments_keep_their_values(lib):
    # like ints, float argument objects are reused only when the callback let go of them
    kept, every_other, ids = [], [], set()

    def f(x):
        kept.append(x)
        return x

    def g(x):
        if int(x) % 2:
            every_other.append(x)
        ids.add(type(x))
        return -x

    assert lib.loop_double(f, 3000) == sum(i + 0.5 for i in range(3000))
    assert kept == [i + 0.5 for i in range(3000)]
    assert len({id(x) for x in kept}) == 3000
    assert lib.loop_double(g, 3000) == -sum(i + 0.5 for i in range(3000))
    assert every_other == [i + 0.5 for i in range(1, 3000, 2)]
    assert ids == {float}
    cb = lib.callback("double(double)", lambda x: x * 2)
    assert lib.loop_double(cb, 1000) == 2 * sum(i + 0.5 for i in range(1000))
    assert cb(3.25) == 6.5  # a call from Python gets its own float


def test_mixed_arguments(lib):
    seen = []

    def f(a, b, c, d, e, g, h):
        seen.append((a, b, c, d, e, g, h))
        return a + b + c + d + e + g + h

    r = lib.call_mixed(f, -5, 65535, 0.25, 1e10, -(2**62), True, 2**63)
    assert seen == [(-5, 65535, 0.25, 1e10, -(2**62), True, 2**63)]
    assert r == -5 + 65535 + 0.25 + 1e10 - 2**62 + 1 + 2**63


@pytest.mark.parametrize(
    "name,good,bad",
    [
        ("schar", [-128, 127], [128, -129]),
        ("uchar", [0, 255], [256, -1]),
        ("short", [-32768, 32767], [32768]),
        ("ushort", [0, 65535], [65536, -1]),
        ("int", [-(2**31), 2**31 - 1], [2**31]),
        ("uint", [0, 2**32 - 1], [2**32, -1]),
        ("longlong", [-(2**63), 2**63 - 1], [2**63]),
        ("ulonglong", [0, 2**64 - 1], [2**64, -1]),
    ],
)
def test_integer_results(lib, name, good, bad):
    fn = getattr(lib, f"ret_{name}")
    for v in good:
        assert fn(lambda: v) == v  # noqa: B023
        assert fn(lambda: np.int64(v) if abs(v) < 2**63 else v) == v  # noqa: B023
    for v in bad:
        with pytest.raises(OverflowError, match="result"):
            fn(lambda: v)  # noqa: B023


def test_other_results(lib):
    assert lib.ret_bool(lambda: True) == 1
    assert lib.ret_bool(lambda: False) == 0
    assert lib.ret_float(lambda: 1.5) == 1.5
    with pytest.raises(OverflowError):
        lib.ret_float(lambda: 1e300)
    assert lib.ret_double(lambda: 7) == 7.0
    assert lib.ret_longdouble(lambda x: x * 2) == 3.0


def test_stack_arguments_reach_a_callback(lib):
    # (read from C's stack by the engine's closure entry on x86-64 System V, else by libffi's)
    def f(*args):
        assert args == (1, 2, 3, 4, 5, 6, 7, 8, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5)
        return sum(args)

    cb = lib.callback(
        "double(int, int, int, int, int, int, int, int, double, double, double,"
        " double, double, double, double, double, double, double)",
        f,
    )
    assert cb.direct == ENGINE
    assert lib.call_wide(cb) == 36 + 50.0


def test_pointer_arguments_are_typed(lib):
    v = np.array([3, 4, 5], np.intc)
    seen = []

    def f(p):
        seen.append(p.type.cname)
        return p[0] * 2

    assert lib.apply_to_each(f, v, 3) == 24
    assert seen == ["const int *"] * 3

    def fill(out, n):
        out.as_array(n)[:] = np.arange(n) * 1.5

    out = np.zeros(4)
    lib.fill_through(fill, out, 4)
    np.testing.assert_array_equal(out, [0, 1.5, 3, 4.5])


def test_pointer_results(lib):
    keep = np.array([1.0, 2.0, 3.0, 4.0])
    assert lib.sum_from(lambda n: keep, 4) == 10.0
    assert lib.sum_from(lambda n: keep[1:], 2) == 5.0  # a view of kept memory
    assert lib.sum_from(lambda n: ndffi.cast("const double *", keep), 3) == 6.0
    assert lib.sum_from(lambda n: None, 3) == -1
    with pytest.raises(ValueError, match="dangling pointer"):
        lib.sum_from(lambda n: np.ones(n), 2)
    with pytest.raises(ValueError, match="dangling pointer"):
        lib.sum_from(lambda n: ndffi.new("double[4]"), 2)
    with pytest.raises(TypeError, match="a plain int is not a pointer"):
        lib.sum_from(lambda n: keep.ctypes.data, 2)
    with pytest.raises(TypeError, match="float64"):
        lib.sum_from(lambda n: np.ones(2, np.float32), 2)
    names = [b"", b"hello", "héllo"]
    assert [lib.strlen_from(lambda i: names[i], i) for i in range(3)] == [0, 5, 6]


class ByInterface:
    """An array by __array_interface__ that owns its memory."""

    def __init__(self, n):
        self.data = np.zeros(n)

    @property
    def __array_interface__(self):
        return self.data.__array_interface__


@pytest.mark.parametrize(
    "make",
    [
        lambda n: bytearray(8 * n),
        lambda n: memoryview(bytearray(8 * n)),
        lambda n: array.array("d", [0.0] * n),
        lambda n: np.zeros(n),
        lambda n: np.zeros(2 * n)[n:],
        lambda n: ByInterface(n),
        lambda n: np.frombuffer(bytearray(8 * n)),
        lambda n: memoryview(np.zeros(n)),
        lambda n: ndffi.new("double[8]"),
        lambda n: ndffi.cast("void *", bytearray(8 * n)),
    ],
    ids=[
        "bytearray",
        "memoryview",
        "array.array",
        "ndarray",
        "view",
        "__array_interface__",
        "frombuffer",
        "memoryview of ndarray",
        "new",
        "cast",
    ],
)
def test_pointer_result_freed_on_return_is_refused(lib, make):
    # The conversion's own hold on the result (a buffer export, an array view) goes
    # before the check: what counts is what outlives the callback.
    with pytest.raises(ValueError, match="would be freed when the callback returns"):
        lib.alloc_typed(lambda ndim, shape, code: make(8), ord("d"), 8)


def test_pointer_result_kept_alive_elsewhere_is_accepted(lib):
    keep = [bytearray(64), array.array("d", [0.0] * 8), np.zeros(8), ByInterface(8), ndffi.new("double[8]")]
    views = [lambda k: k, lambda k: memoryview(k) if not isinstance(k, (ByInterface, ndffi.Pointer)) else k]
    for k in keep:
        for view in views:
            assert lib.alloc_typed(lambda ndim, shape, code: view(k), ord("d"), 8) == 1  # noqa: B023
    buf = array.array("d", [1.0, 2.0, 3.0])
    assert lib.sum_from(lambda n: buf, 3) == 6.0
    assert lib.sum_from(lambda n: memoryview(buf), 3) == 6.0
    with pytest.raises(ValueError, match="would be freed"):
        lib.sum_from(lambda n: array.array("d", [1.0, 2.0, 3.0]), 3)
    # struct values: one made in the callback dies with it; a view of kept memory does not
    with pytest.raises(ValueError, match="would be freed"):
        lib.alloc_typed(lambda ndim, shape, code: lib.types.Pair(1, 2.0), ord("d"), 1)
    pairs = lib.new("Pair[2]")
    assert lib.alloc_typed(lambda ndim, shape, code: pairs[1], ord("d"), 1) == 1


def test_struct_pointers_keep_their_type(lib):
    p = lib.cast("struct opaque *", 0x1000)
    seen = []

    def f(q):
        seen.append(q.type.cname)
        return q

    assert lib.call_opaque(f, p) == p
    assert seen == ["struct opaque *"]
    assert lib.call_opaque(lambda q: None, p) is not None  # a NULL Pointer
    assert not lib.call_opaque(lambda q: None, p)
    with pytest.raises(TypeError, match="struct other"):
        lib.call_opaque(lambda q: lib.cast("struct other *", 0x2000), p)


def test_struct_by_value_is_refused_clearly():
    with pytest.raises(TypeError, match="cannot make a callback of type.*incomplete type 'struct s'"):
        ndffi.callback("int(struct s)", abs)


def test_function_pointer_results(lib):
    twice = ndffi.callback("int(int)", lambda x: 2 * x)
    neg = ndffi.callback("int(int)", lambda x: -x)
    table = {0: twice, 1: neg, 2: lib.twice_c, 3: None}
    get = lambda which: table[which]  # noqa: E731
    assert [lib.call_returned(get, w, 21) for w in range(4)] == [42, -21, 42, -12345]
    with pytest.raises(TypeError, match="plain callable cannot be returned"):
        lib.call_returned(lambda w: lambda x: x, 0, 1)


def test_c_function_as_callback(lib):
    assert lib.call_int(lib.twice_c, 21) == 42
    with pytest.raises(TypeError, match="got C function"):
        lib.call_int(lib.sum2d, 1)


def test_signature_checked(lib):
    cb = ndffi.callback("double(double)", math.sqrt)
    with pytest.raises(
        TypeError,
        match=r"call_int\(\) argument 1 'f': expected a function pointer "
        r"'int \(\*\)\(int\)', got a callback 'double \(\*\)\(double\)'",
    ):
        lib.call_int(cb, 1)
    with pytest.raises(TypeError, match="a callable or None"):
        lib.call_int(5, 1)
    # const on a parameter itself does not change the function type
    assert lib.call_int(ndffi.callback("int(const int)", lambda x: x + 1), 1) == 2


def test_callback_object():
    @ndffi.callback("int(int)")
    def inc(x):
        """Add one."""
        return x + 1

    assert isinstance(inc, ndffi.Callback)
    assert inc(1) == 2  # callable from Python too
    assert inc.__name__ == "test_callback_object.<locals>.inc"
    assert inc.__doc__ == "Add one."
    assert inc.prototype == "int (int)"
    assert inc.ctype.cname == "int (*)(int)"
    assert inc.address == ndffi.addressof(inc) == int(inc.pointer)
    assert "int (*)(int)" in repr(inc)
    assert ndffi.callback(ndffi.typeof("int (*)(int)"), abs)(-3) == 3
    with pytest.raises(TypeError, match="variadic"):
        ndffi.callback("int(int, ...)", print)
    with pytest.raises(TypeError, match="expected a callable"):
        ndffi.callback("int(int)", 5)
    with pytest.raises(TypeError, match="function type"):
        ndffi.callback("int", abs)
    with pytest.raises(ndffi.CDefError):
        ndffi.callback("int(int", abs)


def test_on_error_values(lib, unraisable):
    cb = ndffi.callback("double(void)", lambda: 1 / 0, on_error=float("nan"))
    with pytest.raises(ZeroDivisionError):
        lib.ret_double(cb)
    # Called by C that ndffi did not call (here ctypes): C gets on_error, the hook the error.
    assert math.isnan(ctypes.CFUNCTYPE(ctypes.c_double)(cb.address)())
    assert isinstance(unraisable[0].exc_value, ZeroDivisionError)
    with pytest.raises(OverflowError, match="on_error"):
        ndffi.callback("unsigned char(void)", int, on_error=256)
    # ints beyond a C long, where the result type takes them
    ndffi.callback("long double(void)", int, on_error=2**63)
    cb = ndffi.callback("double(void)", lambda: 1 / 0, on_error=2**70)
    assert ctypes.CFUNCTYPE(ctypes.c_double)(cb.address)() == 2.0**70
    cb = ndffi.callback("unsigned long(void)", lambda: 1 / 0, on_error=2**64 - 1)
    assert ctypes.CFUNCTYPE(ctypes.c_ulong)(cb.address)() == 2**64 - 1
    ptr = ndffi.callback("const double *(int)", failing_callback, on_error=None)
    with pytest.raises(KeyError):
        lib.sum_from(ptr, 1)


# ---- the direct entry against libffi, on random signatures -------------------------

KINDS = ["int", "long long", "unsigned char", "short", "double", "float", "void *"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(KINDS), max_size=10),
    st.sampled_from(["int", "double", "float", "long long", "void"]),
    st.randoms(use_true_random=False),
)
def test_direct_entry_matches_libffi(params, result, rnd):
    sig = f"{result}({', '.join(params) or 'void'})"
    values = []
    for p in params:
        if p in ("double", "float"):
            values.append(float(rnd.randint(-1000, 1000)) / 4)
        elif p == "void *":
            values.append(ndffi.cast("void *", rnd.randint(0, 2**40)))
        elif p == "unsigned char":
            values.append(rnd.randint(0, 255))
        else:
            values.append(rnd.randint(-30000, 30000))

    def fn(*args):
        got.append([a.address if isinstance(a, ndffi.Pointer) else a for a in args])
        return None if result == "void" else 42

    want = [v.address if isinstance(v, ndffi.Pointer) else v for v in values]
    ns = ndffi.Namespace()
    ns.cdef(f"{result} target({', '.join(params) or 'void'});")
    for allow_direct in (True, False):
        got = []
        cb = ns.callback(sig, fn, 0, allow_direct)
        call = ns.function("target", cb.address, None)
        r = call(*values)
        assert got == [want]
        assert r == (None if result == "void" else 42)


# Up to five integer or pointer arguments enter the callback straight from the registers
# C passed them in; six, or any floating-point argument, through the saved frame.
INT_KINDS = [
    ("int", -7),
    ("unsigned char", 200),
    ("void *", 2**40 + 8),
    ("short", -300),
    ("long long", -(2**40)),
    ("unsigned", 2**32 - 1),
]


REG_RESULTS = [
    ("int", -5),
    ("unsigned char", 255),
    ("long long", -(2**50)),
    ("double", 0.25),
    ("float", -1.5),
    ("void", None),
    ("void *", None),
]


@pytest.mark.direct
@pytest.mark.parametrize("n", range(7))
def test_register_entry_is_taken(n):
    kinds = [k for k, _ in INT_KINDS[:n]]
    for result, _ in REG_RESULTS:
        assert ndffi.callback(f"{result}({', '.join(kinds) or 'void'})", print).direct, (result, kinds)
    # a floating-point argument too: the frame entry
    assert ndffi.callback(f"int({', '.join(kinds + ['double'])})", print).direct
    # a struct by value, or more integers than registers: the engine's entry
    ns = ndffi.Namespace()
    ns.cdef("struct v2 { double x, y; }; struct big { long a[4]; };")
    sigs = [f"struct v2({', '.join(kinds + ['struct v2'])})", f"struct big({', '.join(kinds + ['long'] * 7)})"]
    for sig in sigs:
        assert ns.callback(sig, print).direct, sig


@pytest.mark.parametrize("result,value", REG_RESULTS)
@pytest.mark.parametrize("n", range(7))
def test_register_entry_every_arity(n, result, value):
    kinds = INT_KINDS[:n]
    params = ", ".join(k for k, _ in kinds) or "void"
    values = [ndffi.cast("void *", v) if k == "void *" else v for k, v in kinds]
    want = [v for _, v in kinds]
    got = []

    def fn(*args):
        got.append([a.address if isinstance(a, ndffi.Pointer) else a for a in args])
        return value

    ns = ndffi.Namespace()
    ns.cdef(f"{result} target({params});")
    cb = ns.callback(f"{result}({params})", fn)
    r = ns.function("target", cb.address, None)(*values)
    assert got == [want]
    if result == "void *":
        assert not r  # NULL
    else:
        assert r == value
    # An exception: on_error reaches C, the exception the caller.
    cb = ns.callback(f"{result}({params})", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        ns.function("target", cb.address, None)(*values)
