"""Eight Python threads at once: calls with their own arrays, callbacks, cdef of new
declarations on one shared library and loads of the same library -- every result
checked, no crash, and no deadlock (joins time out and fail)."""

import os
import threading
import time

import numpy as np
import pytest

import ndffi

STRESS = os.environ.get("NDFFI_STRESS") == "1"
NTHREADS = 8
NEXTRA = 256  # int extra_K(int x) { return x * 3 + K; }

CODE = r"""
#include <stdint.h>
void scale(const double *x, double *out, long n, double k) { for (long i = 0; i < n; i++) out[i] = x[i] * k; }
int64_t isum(const int32_t *x, long n) { int64_t s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
long apply_n(long (*cb)(long), long n) { long s = 0; for (long i = 0; i < n; i++) s += cb(i); return s; }
typedef struct { int32_t id; double v; } Item;
double item_total(const Item *items, long n) {
    double s = 0; for (long i = 0; i < n; i++) s += items[i].id * items[i].v; return s; }
Item item_make(int32_t id, double v) { Item it = {id, v}; return it; }
""" + "".join(f"int extra_{k}(int x) {{ return x * 3 + {k}; }}\n" for k in range(NEXTRA))

CDEF = """
void scale(const double *x, double *out, long n, double k);
int64_t isum(const int32_t *x, long n);
long apply_n(long (*cb)(long), long n);
typedef struct { int32_t id; double v; } Item;
double item_total(const Item *items, long n);
Item item_make(int32_t id, double v);
"""


@pytest.fixture(scope="module")
def lib(module_cache):
    return ndffi.inline(CODE, cdef=CDEF)


def _worker(lib, tid, iterations, barrier, errors, counts):
    rng = np.random.default_rng(tid)
    held = ndffi.load(str(lib.path))  # one more handle of the same library, this thread's
    held.cdef("int64_t isum(const int32_t *x, long n);", release_gil=False)
    try:
        barrier.wait(timeout=60)
        for it in range(iterations):
            op = (it + tid) % 7
            if op == 0:
                n = int(rng.integers(0, 2000))
                x = rng.standard_normal(n)
                out = np.empty(n)
                k = float(tid + 1)
                lib.scale(x, out, n, k)
                np.testing.assert_array_equal(out, x * k)
            elif op == 1:
                x = rng.integers(-(2**31), 2**31, size=int(rng.integers(0, 3000)), dtype=np.int32)
                assert lib.isum(x, len(x)) == int(x.astype(np.int64).sum())
                assert held.isum(x, len(x)) == int(x.astype(np.int64).sum())
            elif op == 2:
                n = int(rng.integers(0, 50))
                seen = []

                def cb(i, tid=tid):
                    seen.append(threading.get_ident())  # noqa: B023
                    return i * tid

                assert lib.apply_n(cb, n) == tid * n * (n - 1) // 2
                assert seen == [threading.get_ident()] * n
            elif op == 3:
                # a new declaration on the shared library, raced by the other threads:
                # some names are this thread's own, some every thread declares
                k = int(rng.integers(0, NEXTRA))
                lib.cdef(f"int extra_{k}(int x);")
                assert getattr(lib, f"extra_{k}")(tid) == tid * 3 + k
            elif op == 4:
                other = ndffi.load(str(lib.path))
                other.cdef(CDEF)
                x = np.arange(10, dtype=np.int32)
                assert other.isum(x, 10) == 45
                assert other.item_make(tid, 0.5).id == tid
            elif op == 5:
                items = np.zeros(int(rng.integers(1, 20)), lib.types.Item.dtype)
                items["id"] = np.arange(len(items)) + tid
                items["v"] = 0.5
                want = float((items["id"] * 0.5).sum())
                assert lib.item_total(items, len(items)) == want
            else:
                cb = ndffi.callback("long(long)", lambda i: -i)
                assert lib.apply_n(cb, 10) == -45
                try:
                    lib.isum(np.zeros(3, np.int64), 3)
                except TypeError:
                    pass
                else:
                    raise AssertionError("an int64 array was accepted for const int32_t *")
            counts[tid] += 1
    except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
        errors.append((tid, exc))


def _run(lib, iterations, timeout):
    barrier = threading.Barrier(NTHREADS)
    errors = []
    counts = [0] * NTHREADS
    threads = [
        threading.Thread(target=_worker, args=(lib, t, iterations, barrier, errors, counts), daemon=True)
        for t in range(NTHREADS)
    ]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, timeout - (time.monotonic() - start)))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"threads still running after {timeout} s (deadlock?): {alive}"
    if errors:
        tid, exc = errors[0]
        raise AssertionError(f"thread {tid} failed ({len(errors)} failures)") from exc
    assert counts == [iterations] * NTHREADS


def test_threads(lib):
    _run(lib, 300, timeout=120)


def test_threads_cdef_only(lib):
    """Only declarations and loads, so the races between them are dense."""
    path = str(lib.path)
    barrier = threading.Barrier(NTHREADS)
    errors = []

    def work(tid):
        try:
            barrier.wait(timeout=60)
            for k in range(NEXTRA):
                kk = (k * 7 + tid) % NEXTRA
                lib.cdef(f"int extra_{kk}(int x);")
                assert getattr(lib, f"extra_{kk}")(1) == 3 + kk
                if k % 16 == 0:
                    ndffi.load(path).cdef(f"int extra_{kk}(int x);")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(NTHREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "deadlock: threads still running after 120 s"
    if errors:
        raise errors[0]


def test_threads_first_lookup_one_function(lib):
    """Threads looking a function up for the first time at once all get the same Function."""
    fresh = ndffi.load(str(lib.path)).cdef("int extra_0(int x);")
    barrier = threading.Barrier(NTHREADS)
    got = [None] * NTHREADS

    def work(tid):
        barrier.wait(timeout=60)
        got[tid] = fresh.extra_0

    threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(NTHREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(f is got[0] for f in got) and got[0] is fresh.extra_0
    assert got[0](1) == 3


@pytest.mark.stress
@pytest.mark.skipif(not STRESS, reason="set NDFFI_STRESS=1 (make stress)")
def test_threads_stress(lib):
    _run(lib, 20_000, timeout=1200)
