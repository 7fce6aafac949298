"""Reference counts, object growth, memory growth and Pointer lifetimes around calls.

Every kind of call (scalars, arrays, buffers, str, struct values by pointer and by
value, Pointer results, callbacks, and calls that raise) must leave its arguments'
reference counts where they were and create no objects that outlive it; a Pointer that
views memory Python owns keeps its owner alive, so safe API never reaches freed memory.
"""

import gc
import os
import sys
import weakref

import numpy as np
import pytest

import ndffi
from conftest import skip_if_sanitized

STRESS = os.environ.get("NDFFI_STRESS") == "1"
stress = [pytest.mark.stress, pytest.mark.skipif(not STRESS, reason="set NDFFI_STRESS=1 (make stress)")]

CODE = r"""
#include <string.h>
typedef struct { int a; double b; } P;
int add(int a, int b) { return a + b; }
double dsum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void fill(double *x, long n, double v) { for (long i = 0; i < n; i++) x[i] = v; }
long slen(const char *s) { return s ? (long)strlen(s) : -1; }
long bsum(const unsigned char *b, long n) { long s = 0; for (long i = 0; i < n; i++) s += b[i]; return s; }
double pget(P p) { return p.a + p.b; }
double pptr(const P *p) { return p->a + p->b; }
P pmake(int a, double b) { P p = {a, b}; return p; }
double *ident(double *p) { return p; }
double *plus1(double *p) { return p + 1; }
const char *sid(const char *s) { return s; }
void *vid(void *p) { return p; }
int *stat4(void) { static int x[4] = {1, 2, 3, 4}; return x; }
int apply(int (*cb)(int), int x) { return cb ? cb(x) : -1; }
"""
CDEF = """
typedef struct { int a; double b; } P;
int add(int a, int b);
double dsum(const double *x, long n);
void fill(double *x, long n, double v);
long slen(const char *s);
long bsum(const unsigned char *b, long n);
double pget(P p);
double pptr(const P *p);
P pmake(int a, double b);
double *ident(double *p);
double *plus1(double *p);
const char *sid(const char *s);
void *vid(void *p);
int *stat4(void);
int apply(int (*cb)(int), int x);
"""


@pytest.fixture(scope="module")
def lib(module_cache):
    return ndffi.inline(CODE, cdef=CDEF)


def _refcounts(objs):
    return [sys.getrefcount(o) for o in objs]


def check_no_leak(fn, *objs, n=300, slack=20):
    """fn() n times changes no refcount of objs and leaves < slack new gc objects."""
    for _ in range(20):
        fn()
    gc.collect()
    before = _refcounts(objs)
    nobj = len(gc.get_objects())
    for _ in range(n):
        fn()
    gc.collect()
    after = _refcounts(objs)
    grown = len(gc.get_objects()) - nobj
    assert after == before, f"reference counts changed: {before} -> {after}"
    assert grown < slack, f"{grown} more gc-tracked objects after {n} calls"


def raises(exc, fn, *args):
    def call():
        try:
            fn(*args)
        except exc:
            return
        raise AssertionError(f"{fn} did not raise {exc}")

    return call


# ------------------------------------------------------------------ reference counts


def test_scalar_calls(lib):
    big, f = 2**20 + 12345, 2.5
    check_no_leak(lambda: lib.add(big, 7), big)
    check_no_leak(lambda: lib.fill(np.empty(0), 0, f), f)


def test_scalar_results(lib):
    r = lib.add(2**20, 2**20)
    assert sys.getrefcount(r) == 2
    check_no_leak(lambda: lib.add(1, 2))


def test_array_and_buffer_arguments(lib):
    a = np.arange(10.0)
    out = np.empty(10)
    b = bytes(range(10))
    ba = bytearray(range(10))
    mv = memoryview(ba)
    check_no_leak(lambda: lib.dsum(a, 10), a)
    check_no_leak(lambda: lib.fill(out, 10, 1.0), out)
    check_no_leak(lambda: lib.bsum(b, 10), b)
    check_no_leak(lambda: lib.bsum(ba, 10), ba)
    check_no_leak(lambda: lib.bsum(mv, 10), mv, ba)
    assert lib.dsum(a, 10) == 45.0 and lib.bsum(b, 10) == 45


def test_str_and_bytes_for_char_pointer(lib):
    s, b = "h\u00e9llo world", b"hello"
    check_no_leak(lambda: lib.slen(s), s)
    check_no_leak(lambda: lib.slen(b), b)
    check_no_leak(lambda: lib.slen(None))
    assert lib.slen(s) == len(s.encode())


def test_struct_values(lib):
    P = lib.types.P
    v = P(3, 0.5)
    t = (3, 0.5)
    d = {"a": 3, "b": 0.5}
    recs = np.zeros(2, P.dtype)
    check_no_leak(lambda: lib.pget(v), v)
    check_no_leak(lambda: lib.pget(t), t)
    check_no_leak(lambda: lib.pget(d), d)
    check_no_leak(lambda: lib.pptr(v), v)
    check_no_leak(lambda: lib.pptr(recs), recs)
    check_no_leak(lambda: lib.pmake(1, 2.0))
    r = lib.pmake(1, 2.0)
    assert sys.getrefcount(r) == 2 and (r.a, r.b) == (1, 2.0)


def test_pointer_results_and_arguments(lib):
    a = np.arange(4.0)
    check_no_leak(lambda: lib.ident(a), a)
    check_no_leak(lambda: lib.stat4())
    p = ndffi.new("double[4]")
    check_no_leak(lambda: lib.dsum(p, 4), p)
    check_no_leak(lambda: lib.ident(p), p)
    r = lib.stat4()
    assert sys.getrefcount(r) == 2
    check_no_leak(lambda: r.as_array(4), r)
    check_no_leak(lambda: r[2], r)


def test_callbacks(lib):
    def f(x):
        return x + 1

    cb = ndffi.callback("int(int)", f)
    check_no_leak(lambda: lib.apply(cb, 5), cb, f)
    check_no_leak(lambda: lib.apply(f, 5), f)
    big = 2**20

    def g(x):
        return big

    check_no_leak(lambda: lib.apply(g, 5), g, big)
    assert lib.apply(cb, 5) == 6


def test_callback_objects_are_freed():
    refs = []
    for _ in range(50):

        def f(x):
            return x

        cb = ndffi.callback("int(int)", f)
        refs.append((weakref.ref(f),))
        del cb, f
    gc.collect()
    assert all(r[0]() is None for r in refs), "a freed Callback keeps its Python function"


def test_error_paths(lib):
    big = 2**40
    s = "x"
    a32 = np.zeros(4, np.float32)
    ro = np.zeros(4)
    ro.flags.writeable = False

    def boom(x):
        raise KeyError(x)

    def wrong_arity():
        return 1

    def bad_result(x):
        return "no"

    check_no_leak(raises(OverflowError, lib.add, big, 1), big)
    check_no_leak(raises(TypeError, lib.add, s, 1), s)
    check_no_leak(raises(TypeError, lib.dsum, a32, 4), a32)
    check_no_leak(raises(TypeError, lib.fill, ro, 4, 1.0), ro)
    check_no_leak(raises(TypeError, lib.pget, (1, 2.0, 3)))
    check_no_leak(raises(TypeError, lib.add, 1))
    check_no_leak(raises(KeyError, lib.apply, boom, 1), boom)
    check_no_leak(raises(TypeError, lib.apply, wrong_arity, 1), wrong_arity)
    check_no_leak(raises(TypeError, lib.apply, bad_result, 1), bad_result)
    check_no_leak(raises(TypeError, lib.slen, 42))


def test_new_and_cast(lib):
    a = np.arange(4.0)
    check_no_leak(lambda: ndffi.new("int *", 5))
    check_no_leak(lambda: ndffi.new("double[16]"))
    check_no_leak(lambda: ndffi.cast("double *", a), a)
    check_no_leak(lambda: ndffi.cast("long", 5))


# ------------------------------------------------------------------ Pointer lifetimes


def test_view_keeps_new_memory_alive():
    p = ndffi.new("double[1000]")
    v = p.as_array(1000)
    del p
    gc.collect()
    junk = [ndffi.new("double[1000]") for _ in range(20)]  # reuse freed memory if any
    for j in junk:
        j.as_array(1000)[:] = -1
    v[:] = np.arange(1000)
    assert v.sum() == 999 * 1000 / 2
    assert isinstance(v.base, ndffi.Pointer)


def test_cast_keeps_array_alive():
    a = np.arange(8.0)
    w = weakref.ref(a)
    p = ndffi.cast("double *", a)
    del a
    gc.collect()
    assert w() is not None
    assert p[7] == 7.0


@pytest.mark.parametrize("fname,offset", [("ident", 0), ("plus1", 1)])
def test_pointer_result_into_an_array_argument_keeps_it_alive(lib, fname, offset):
    a = np.arange(8.0)
    w = weakref.ref(a)
    p = getattr(lib, fname)(a)
    del a
    gc.collect()
    assert w() is not None, "a Pointer into an argument's memory let the argument be freed"
    assert p[0] == float(offset)
    v = p.as_array(4)
    del p
    gc.collect()
    assert w() is not None
    assert list(v) == [offset + i for i in range(4)]


def test_pointer_result_into_a_slice_keeps_the_base(lib):
    a = np.arange(8.0)
    w = weakref.ref(a)
    p = lib.vid(a[4:])
    del a
    gc.collect()
    assert w() is not None
    assert ndffi.cast("double *", p)[0] == 4.0


def test_pointer_result_into_str_and_bytes_arguments(lib):
    s = "".join(["h\u00e9llo", str(12345)])  # a new str, not interned
    w = lib.sid(s)
    del s
    gc.collect()
    assert w.string() == "h\u00e9llo12345".encode()
    b = bytes(bytearray(b"bytes here"))
    q = lib.sid(b)
    del b
    gc.collect()
    assert q.string() == b"bytes here"


def test_pointer_result_through_pointer_argument(lib):
    p = ndffi.new("double[4]")
    p.as_array(4)[:] = [1, 2, 3, 4]
    q = lib.plus1(p)
    del p
    gc.collect()
    assert q[0] == 2.0


def test_pointer_result_into_other_memory_keeps_nothing(lib):
    a = np.arange(8.0)
    r = lib.stat4()
    w = weakref.ref(a)
    lib.dsum(a, 8)
    del a
    gc.collect()
    assert w() is None
    assert list(r.as_array(4)) == [1, 2, 3, 4]


# ------------------------------------------------------------------ memory growth


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _mixed_calls(lib, n):
    P = lib.types.P
    a = np.arange(16.0)
    out = np.empty(16)
    cb = ndffi.callback("int(int)", lambda x: x + 1)
    v = P(1, 2.0)
    for i in range(n):
        lib.add(i & 0xFFFF, 1)
        lib.dsum(a, 16)
        lib.fill(out, 16, 1.0)
        lib.slen("abc")
        lib.pget((1, 2.0))
        lib.pptr(v)
        lib.pmake(i & 0xFF, 1.0)
        lib.ident(a)[0]
        lib.apply(cb, i & 0xFF)
        lib.apply(lambda x: x, 1)
        ndffi.new("double[8]").as_array(8)
        try:
            lib.add(2**40, 0)
        except OverflowError:
            pass
        try:
            lib.apply(lambda: 0, 1)
        except TypeError:
            pass


def _check_rss(lib, n):
    _mixed_calls(lib, 2000)  # warm up: caches, free lists, closures reused
    gc.collect()
    before = _rss()
    _mixed_calls(lib, n)
    gc.collect()
    grown = _rss() - before
    assert grown < 1 << 20, f"RSS grew by {grown} bytes over {n} iterations"


@skip_if_sanitized
def test_rss_smoke(lib):
    _check_rss(lib, 10_000)


@skip_if_sanitized
@pytest.mark.stress
@pytest.mark.skipif(not STRESS, reason="set NDFFI_STRESS=1 (make stress)")
def test_rss_stress(lib):
    _check_rss(lib, 1_000_000)
