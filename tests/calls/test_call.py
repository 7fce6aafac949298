"""Calls as a whole: varargs (foo's my_printf and libc's snprintf/printf), errno,
argument count and keyword errors, repr and help, threads and the GIL, and leaks.

Scalar conversions are in test_scalars.py, array and pointer arguments and results in
test_pointers.py.
"""

import gc
import os
import pydoc
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import ndffi
from conftest import FOO_CDEF, ArrayInterfaceOnly, DLPackOnly, clib_fixture, skip_if_sanitized

lib = clib_fixture("foo", FOO_CDEF)
lib_gil = clib_fixture("foo", FOO_CDEF, release_gil=False)  # functions keep the GIL in calls
elib = clib_fixture("foo", "int set_errno(int v); int add(int a, int b);", use_errno=True)


@pytest.fixture(scope="module")
def libc():
    libc = ndffi.load("c")
    libc.cdef("""
        int snprintf(char *str, size_t size, const char *format, ...);
        int printf(const char *format, ...);
        int fflush(void *stream);
    """)
    return libc


# ---- varargs ------------------------------------------------------------------------


def _printed(lib, *args):
    n = lib.my_printf(*args)
    s = lib.last_printed().string()
    assert n == len(s)
    return s


def test_varargs_basic(lib):
    assert _printed(lib, b"plain") == b"plain"
    assert _printed(lib, "%d %d %u", 1, -2, 3) == b"1 -2 3"
    assert _printed(lib, "%.3f|%g", 2.5, np.float32(0.5)) == b"2.500|0.5"  # float -> double
    assert _printed(lib, "%s and %s", "héllo", b"bytes") == "héllo and bytes".encode()
    assert _printed(lib, "%ld", ndffi.cast("long", 2**40)) == b"1099511627776"
    assert _printed(lib, "%d", ndffi.cast("short", -1)) == b"-1"  # promoted to int
    assert _printed(lib, "%d", ndffi.cast("unsigned char", 300)) == b"44"  # cast wraps like C
    assert _printed(lib, "%f", ndffi.cast("float", 1.25)) == b"1.250000"
    assert _printed(lib, "%d %d", True, np.int8(-3)) == b"1 -3"


def test_varargs_large_ints(lib):
    assert _printed(lib, "%ld", 2**40) == b"1099511627776"
    assert _printed(lib, "%ld", -(2**63)) == str(-(2**63)).encode()
    assert _printed(lib, "%lu", 2**63) == str(2**63).encode()
    assert _printed(lib, "%lu", 2**64 - 1) == str(2**64 - 1).encode()
    assert _printed(lib, "%lu", np.uint64(2**64 - 1)) == str(2**64 - 1).encode()
    assert _printed(lib, "%ld", np.int64(-5)) == b"-5"
    with pytest.raises(OverflowError, match=r"^my_printf\(\) argument 2"):
        lib.my_printf("%lu", 2**64)
    with pytest.raises(OverflowError, match=r"^my_printf\(\) argument 3"):
        lib.my_printf("%d %ld", 1, -(2**63) - 1)


def test_varargs_pointers(lib):
    x = np.arange(3.0)
    assert _printed(lib, "%p", x) == f"{x.ctypes.data:#x}".encode()
    b = bytearray(b"xyz")
    assert _printed(lib, "[%.3s]", b) == b"[xyz]"


def test_varargs_wrong_types(lib):
    for bad in ([1], {"a": 1}, object(), 1 + 2j):
        with pytest.raises(TypeError, match=r"^my_printf\(\) argument 2: cannot pass"):
            lib.my_printf("%d", bad)
    with pytest.raises(TypeError, match=r"^my_printf\(\) argument 1 'fmt'"):
        lib.my_printf(5)
    with pytest.raises(TypeError, match=r"my_printf\(\) takes at least 1 argument"):
        lib.my_printf()


def test_libc_snprintf_and_printf(libc, capfd):
    buf = bytearray(64)
    n = libc.snprintf(buf, len(buf), b"%s=%d %.2f %ld", b"x", 42, 3.14159, 2**40)
    assert n == 23 and bytes(buf[:n]) == b"x=42 3.14 1099511627776" and buf[n] == 0
    small = bytearray(4)
    assert libc.snprintf(small, len(small), "%d", 123456) == 6 and small == b"123\0"
    with pytest.raises(TypeError, match=r"snprintf\(\) argument 1 'str'"):
        libc.snprintf(b"immutable", 9, b"%d", 1)
    capfd.readouterr()
    assert libc.printf(b"hello %d %s %.1f\n", 5, "wörld", 0.25) == len("hello 5 wörld 0.2\n".encode())
    libc.fflush(None)
    assert capfd.readouterr().out == "hello 5 wörld 0.2\n"


# ---- errno --------------------------------------------------------------------------


def test_errno(elib, lib):
    assert elib.set_errno(17) == -1
    assert ndffi.errno() == 17
    elib.set_errno(0)
    assert ndffi.errno() == 0
    elib.set_errno(34)
    lib.set_errno(99)  # a library without use_errno leaves ndffi.errno() alone
    assert ndffi.errno() == 34
    elib.add(1, 2)  # a call that does not touch errno keeps it
    assert ndffi.errno() == 34


def test_errno_is_per_thread(elib):
    elib.set_errno(5)
    seen = {}

    def worker():
        seen["before"] = ndffi.errno()
        elib.set_errno(33)
        seen["after"] = ndffi.errno()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == {"before": 0, "after": 33}
    assert ndffi.errno() == 5


# ---- argument errors, keywords, repr --------------------------------------------------


def test_argument_count_errors(lib):
    proto = r"; declared as 'int add\(int a, int b\)'$"
    with pytest.raises(
        TypeError, match=r"^add\(\) takes 2 arguments \(1 given\): missing argument 2 'b' of type 'int'" + proto
    ):
        lib.add(1)
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 arguments \(3 given\)" + proto):
        lib.add(1, 2, 3)
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 arguments \(0 given\): missing argument 1 'a'"):
        lib.add()
    with pytest.raises(TypeError, match=r"^noop\(\) takes 0 arguments \(1 given\); declared as 'void noop\(void\)'$"):
        lib.noop(1)
    with pytest.raises(TypeError, match=r"^echo_int\(\) takes 1 argument \(2 given\); declared as"):
        lib.echo_int(1, 2)
    assert lib.noop() is None


def test_keyword_arguments(lib):
    assert lib.add(a=5, b=-2) == 3
    assert lib.add(b=1, a=5) == 6
    assert lib.add(1, b=2) == 3
    assert lib.dsum(x=np.arange(4.0), n=4) == 6.0
    assert lib.wsum_i8(1, 2, 3, 4, 5, 6, 7, h=8) == 204
    with pytest.raises(TypeError, match=r"^add\(\) got multiple values for argument 'a'$"):
        lib.add(1, a=2)
    with pytest.raises(TypeError, match=r"^add\(\) got an unexpected keyword argument 'c' \(parameters: a, b\)$"):
        lib.add(1, c=2)
    with pytest.raises(TypeError, match=r"^add\(\) got an unexpected keyword argument 'b\\x00'; did you mean 'b'"):
        lib.add(1, **{"b\0": 2})  # never taken for 'b'
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 arguments"):
        lib.add(a=1)
    with pytest.raises(TypeError, match=r"^add\(\) argument 2 'b': expected int"):
        lib.add(a=1, b=1.5)


def test_repr_and_help_show_prototype(lib):
    assert lib.dsum.prototype == "double dsum(const double *x, long n)"
    assert repr(lib.dsum) == "<ndffi.Function double dsum(const double *x, long n)>"
    assert lib.dsum.__doc__.startswith("double dsum(const double *x, long n)")
    assert lib.dsum.__name__ == "dsum"
    assert "int add(int a, int b)" in pydoc.render_doc(lib.add)
    assert "int my_printf(const char *fmt, ...)" in repr(lib.my_printf)


# ---- threads and the GIL ------------------------------------------------------------


@pytest.mark.parametrize("which", ["lib", "lib_gil"])
def test_threads_call_the_same_function(request, which):
    lib = request.getfixturevalue(which)
    nthreads, rounds = 8, 300
    barrier = threading.Barrier(nthreads)
    errors = []

    def worker(k):
        try:
            x = np.arange(1000, dtype=np.float64) * (k + 1)
            want = 499500.0 * (k + 1)
            out = np.zeros(100 + k, dtype=np.intc)
            barrier.wait()
            for r in range(rounds):
                got = lib.dsum(x, len(x))
                if got != want:
                    errors.append((k, r, got, want))
                lib.fill_ints(out, len(out), k * 1000 + r)
                if not (out == k * 1000 + r).all():
                    errors.append((k, r, "fill_ints"))
                if lib.add(k, r) != k + r or lib.wsum_i8(k, r, 0, 0, 0, 0, 0, 1) != k + 2 * r + 8:
                    errors.append((k, r, "add/wsum"))
        except Exception as e:  # pragma: no cover - reported below
            errors.append((k, repr(e)))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.fixture(scope="module")
def callslib(clib_dir):
    lib = ndffi.load("libcalls", clib_dir)
    lib.cdef("int wait_flag(int *flags, int timeout_ms);")
    lib_gil = ndffi.load("libcalls", clib_dir)
    lib_gil.cdef("int wait_flag(int *flags, int timeout_ms);", release_gil=False)
    return lib, lib_gil


def _flag_setter(flags, deadline):
    """Wait (in Python) for C to announce it has started, then set the flag it waits for."""

    def run():
        while not flags[0] and time.monotonic() < deadline:
            time.sleep(0.0005)
        flags[1] = 1

    return threading.Thread(target=run)


def test_gil_is_released_during_the_call(callslib):
    lib, _ = callslib
    flags = np.zeros(2, dtype=np.intc)
    setter = _flag_setter(flags, time.monotonic() + 30)
    setter.start()
    # C waits for flags[1], which only Python code in the other thread sets
    got = lib.wait_flag(flags, 30000)
    setter.join()
    assert got == 1


def test_release_gil_false_keeps_the_gil(callslib):
    _, lib_gil = callslib
    assert lib_gil.wait_flag.release_gil is False
    flags = np.zeros(2, dtype=np.intc)
    setter = _flag_setter(flags, time.monotonic() + 30)
    setter.start()
    got = lib_gil.wait_flag(flags, 300)  # holding the GIL: the setter cannot run meanwhile
    setter.join()
    assert got == 0
    assert flags.tolist() == [1, 1]  # it ran, but only after the call returned


def test_python_runs_while_another_thread_is_inside_slow_sum(clib_dir):
    lib = ndffi.load("libthreads", clib_dir)
    lib.cdef("long slow_sum(const long *x, long n, int sleep_ms);")
    x = np.arange(100, dtype=np.int_)
    span = {}

    def worker():
        span["t0"] = time.monotonic()
        span["result"] = lib.slow_sum(x, len(x), 400)
        span["t1"] = time.monotonic()

    ticks = []
    t = threading.Thread(target=worker)
    t.start()
    while t.is_alive():
        ticks.append(time.monotonic())  # Python code in the main thread
        time.sleep(0.001)
    t.join()
    assert span["result"] == 4950
    # Ticks well inside the call (not in the few microseconds around it): the call did
    # not hold the GIL.  Holding it, no tick could fall in this window.
    inside = [s for s in ticks if span["t0"] + 0.1 < s < span["t1"] - 0.1]
    assert span["t1"] - span["t0"] >= 0.4
    assert len(inside) > 0


# ---- leaks --------------------------------------------------------------------------


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
@skip_if_sanitized
def test_no_rss_growth_over_a_million_array_calls(lib):
    x = np.random.default_rng(0).standard_normal(10)
    dsum = lib.dsum
    want = float(np.sum(x))
    for _ in range(100_000):
        dsum(x, 10)
    gc.collect()
    before = _rss_bytes()
    for _ in range(1_000_000):
        dsum(x, 10)
    gc.collect()
    growth = _rss_bytes() - before
    assert dsum(x, 10) == pytest.approx(want)
    assert growth < 1 << 20, f"RSS grew by {growth} bytes over 1e6 calls"


def _mixed_calls(lib, x, xf, ints, mv, buf, ai):
    lib.dsum(x, 10)
    lib.dsum(mv, 10)  # buffer protocol path
    lib.dsum(ai, 10)  # __array_interface__ path
    lib.fill_ints(ints, 4, 1)
    lib.my_strlen("héllo")  # str path
    lib.upcase(buf)
    lib.add(b=1, a=2)  # keyword path
    lib.my_printf("%d %s %p", 1, "x", x)  # variadic path
    try:
        lib.dsum(xf, 10)  # error paths
    except TypeError:
        pass
    try:
        lib.add(2**40, 1)
    except OverflowError:
        pass
    try:
        lib.dsum(x[::2], 5)
    except TypeError:
        pass
    try:
        lib.add(1)
    except TypeError:
        pass


def _mixed_args():
    x = np.arange(10.0)
    return (x, x.astype(np.float32), np.zeros(4, np.intc), memoryview(x), bytearray(b"abc\0"), ArrayInterfaceOnly(x))


def test_no_python_memory_growth_tracemalloc(lib):
    args = _mixed_args()
    for _ in range(2000):
        _mixed_calls(lib, *args)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(2000):
            _mixed_calls(lib, *args)
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(10_000):  # 1.2e5 calls, a third of them raising
            _mixed_calls(lib, *args)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024, f"traced memory grew by {after - before} bytes"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
@skip_if_sanitized
def test_no_rss_growth_mixed_paths(lib):
    args = _mixed_args()
    for _ in range(10_000):
        _mixed_calls(lib, *args)
    gc.collect()
    before = _rss_bytes()
    for _ in range(50_000):
        _mixed_calls(lib, *args)
    gc.collect()
    growth = _rss_bytes() - before
    assert growth < 1 << 20, f"RSS grew by {growth} bytes"


def test_argument_refcounts_unchanged(lib):
    x, xf, ints, mv, buf, ai = args = _mixed_args()
    objs = [x, xf, ints, mv, buf, ai]
    d = DLPackOnly(np.arange(10.0))
    h = lib.h_open(b"h")
    objs += [d, h]
    for _ in range(100):
        _mixed_calls(lib, *args)
        lib.dsum(d, 10)
        lib.h_name(h)
    gc.collect()
    counts = [sys.getrefcount(o) for o in objs]
    for _ in range(10_000):
        _mixed_calls(lib, *args)
        lib.dsum(d, 10)
        lib.h_name(h)
        lib.dsum(x=x, n=10)
    gc.collect()
    assert [sys.getrefcount(o) for o in objs] == counts
    assert lib.h_close(h) == 0


def test_function_objects_are_not_leaked(lib, clib_dir):
    import weakref

    lib2 = ndffi.load("libfoo", clib_dir)
    lib2.cdef("int add(int a, int b);")
    f = lib2.add
    r = weakref.ref(f)
    assert f(1, 2) == 3
    del f, lib2
    gc.collect()
    assert r() is None
