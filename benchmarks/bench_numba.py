"""Benchmark: C functions called from Numba-compiled loops, and Numba callbacks called by C.

    python benchmarks/bench_numba.py [--calls 1e7] [--sort 1e6] [--repeat 7]

Part 1, a ``@numba.njit`` loop making ``--calls`` calls, in ns per call:

- ``double gauss(double)`` and ``double dsum(const double *, long)`` on a 10-element
  array, declared with ndffi; through cffi in ABI mode (``ffi.dlopen``) and in API mode
  (an out-of-line module registered with Numba); through ctypes;
- the same loop written in C, calling the function through a pointer from another
  library (what every compiled loop here does: no inlining across libraries).

Part 2, ``qsort`` of ``--sort`` random doubles through ndffi: a Python comparator
(``ndffi.callback``), a ``numba.cfunc`` comparator, and ``np.sort`` for reference.

Each loop is timed ``--repeat`` times, interleaved with the others so that a change of
machine load hits all of them, and the best time is kept.  Every result is checked
against the C loop's (part 1) or ``np.sort``'s (part 2).
"""

import argparse
import ctypes
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np

import ndffi

try:
    import numba
    from numba import types
    from numba.core.typing import cffi_utils
except ImportError:
    sys.exit("bench_numba.py needs numba: pip install 'ndffi[numba]'")
import cffi

HERE = pathlib.Path(__file__).resolve().parent
BUILD = HERE / "_build"

FUNCS_C = r"""
#include <math.h>
double gauss(double x) { return exp(-0.5 * x * x); }
double dsum(const double *x, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += x[i];
    return s;
}
"""
DECLS = "double gauss(double x); double dsum(const double *x, long n);"

# The C loops live in their own library, as Numba's code does: calls through a pointer.
LOOPS_C = r"""
double gauss_loop(double (*f)(double), long n) {
    double s = 0, step = 1.0 / n;
    for (long i = 0; i < n; i++) s += f(i * step);
    return s;
}
double dsum_loop(double (*f)(const double *, long), const double *x, long len, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += f(x, len);
    return s;
}
"""


def build_lib(name, source):
    BUILD.mkdir(exist_ok=True)
    src, out = BUILD / f"{name}.c", BUILD / f"lib{name}.so"
    if not out.exists() or not src.exists() or src.read_text() != source:
        src.write_text(source)
        cc = os.environ.get("CC", "cc").split()
        subprocess.run(cc + ["-O2", "-fPIC", "-shared", "-o", str(out), str(src), "-lm"], check=True)
    return str(out)


def build_cffi_api():
    """The cffi API-mode module (compiled in a child: cffi's compile chdir()s)."""
    name = "_bench_numba_cffi"
    stamp = BUILD / f"{name}.src"
    if not stamp.exists() or stamp.read_text() != FUNCS_C + DECLS or not list(BUILD.glob(name + ".*.so")):
        code = (
            "import cffi, sys\n"
            "ffi = cffi.FFI(); ffi.cdef(sys.argv[1])\n"
            "ffi.set_source('_bench_numba_cffi', sys.argv[2], libraries=['m'],\n"
            "               extra_compile_args=['-O2'])\n"
            "ffi.compile(tmpdir=sys.argv[3])\n"
        )
        subprocess.run([sys.executable, "-c", code, DECLS, FUNCS_C, str(BUILD)], check=True, stdout=subprocess.DEVNULL)
        stamp.write_text(FUNCS_C + DECLS)
    sys.path.insert(0, str(BUILD))
    import _bench_numba_cffi as mod

    cffi_utils.register_module(mod)
    return mod


def scalar_loop(f):
    @numba.njit
    def loop(n):
        s, step = 0.0, 1.0 / n
        for i in range(n):
            s += f(i * step)
        return s

    return loop


def array_loop(call):
    # call(x, len): the contender's way of passing an array
    @numba.njit
    def loop(x, n):
        s = 0.0
        for _i in range(n):
            s += call(x, x.size)
        return s

    return loop


def contenders(path):
    nd = ndffi.load(path).cdef(DECLS)
    nd_gauss, nd_dsum = nd.gauss, nd.dsum

    abi_ffi = cffi.FFI()
    abi_ffi.cdef(DECLS)
    abi = abi_ffi.dlopen(path)
    abi_gauss, abi_dsum = abi.gauss, abi.dsum

    api = build_cffi_api()
    api_ffi, api_gauss, api_dsum = api.ffi, api.lib.gauss, api.lib.dsum

    ct = ctypes.CDLL(path)
    ct_gauss, ct_dsum = ct.gauss, ct.dsum
    ct_gauss.argtypes, ct_gauss.restype = [ctypes.c_double], ctypes.c_double
    ct_dsum.argtypes, ct_dsum.restype = [ctypes.c_void_p, ctypes.c_long], ctypes.c_double

    scalar = {
        "ndffi": scalar_loop(nd_gauss),
        "cffi ABI (dlopen)": scalar_loop(abi_gauss),
        "cffi API": scalar_loop(api_gauss),
        "ctypes": scalar_loop(ct_gauss),
    }
    array = {
        "ndffi": array_loop(numba.njit(lambda x, n: nd_dsum(x, n))),
        "cffi ABI (dlopen)": array_loop(numba.njit(lambda x, n: abi_dsum(abi_ffi.from_buffer(x), n))),
        "cffi API": array_loop(numba.njit(lambda x, n: api_dsum(api_ffi.from_buffer(x), n))),
        "ctypes": array_loop(numba.njit(lambda x, n: ct_dsum(x.ctypes, n))),
    }
    return nd, scalar, array


def loop_instructions(jitted):
    """Machine instructions of the compiled loop around the C call (the innermost
    backward branch whose body calls), a count that machine load cannot change."""
    asm = next(iter(jitted.inspect_asm().values()))
    lines = [ln.strip() for ln in asm.splitlines()]
    labels = {ln[:-1]: i for i, ln in enumerate(lines) if re.fullmatch(r"\.LBB\w+:", ln)}
    best = None
    for i, ln in enumerate(lines):
        m = re.fullmatch(r"j\w+\s+(\.LBB\w+)", ln)
        start = labels.get(m.group(1)) if m else None
        if start is None or start > i:
            continue
        body = [x for x in lines[start : i + 1] if x and not x.startswith((".", "#"))]
        if any(x.startswith("call") for x in body) and (best is None or len(body) < len(best)):
            best = body
    return len(best) if best else None


def timed(fn, *args):
    t0 = time.perf_counter()
    r = fn(*args)
    return time.perf_counter() - t0, r


def bench_calls(n, repeat):
    path = build_lib("nbfuncs", FUNCS_C)
    nd, scalar, array = contenders(path)
    loops = ndffi.load(build_lib("nbloops", LOOPS_C)).cdef(
        "double gauss_loop(double (*f)(double), long n);"
        "double dsum_loop(double (*f)(const double *, long), const double *x, long len, long n);"
    )
    x = np.random.default_rng(0).random(10)
    n_arr = max(1, n // 10)
    c_scalar = lambda: loops.gauss_loop(nd.gauss, n)  # noqa: E731
    c_array = lambda: loops.dsum_loop(nd.dsum, x, x.size, n_arr)  # noqa: E731
    want_s, want_a = c_scalar(), c_array()
    rows = {}
    for name in scalar:  # compile, and check the results once
        got_s, got_a = scalar[name](n), array[name](x, n_arr)
        assert got_s == want_s, (name, got_s, want_s)
        assert got_a == want_a, (name, got_a, want_a)
        rows[name] = [float("inf"), float("inf")]
    rows["C loop"] = [float("inf"), float("inf")]
    for _ in range(repeat):
        for name in scalar:
            rows[name][0] = min(rows[name][0], timed(scalar[name], n)[0])
            rows[name][1] = min(rows[name][1], timed(array[name], x, n_arr)[0])
        rows["C loop"][0] = min(rows["C loop"][0], timed(c_scalar)[0])
        rows["C loop"][1] = min(rows["C loop"][1], timed(c_array)[0])
    print(
        f"njit loop, ns per call (best of {repeat}; gauss {n:.0e} calls, dsum of 10 doubles "
        f"{n_arr:.0e} calls); instructions of the compiled loop around the call"
    )
    print(
        f"{'':20s} {'gauss':>8s} {'vs cffi API':>12s} {'dsum':>8s} {'vs cffi API':>12s} "
        f"{'instr gauss':>12s} {'instr dsum':>11s}"
    )
    ref = rows["cffi API"]
    for name, (ts, ta) in rows.items():
        s, a = ts / n * 1e9, ta / n_arr * 1e9
        ins = (loop_instructions(scalar[name]), loop_instructions(array[name])) if name in scalar else ("", "")
        print(f"{name:20s} {s:8.2f} {ts / ref[0]:11.2f}x {a:8.2f} {ta / ref[1]:11.2f}x {ins[0]!s:>12s} {ins[1]!s:>11s}")


def bench_sort(n, repeat):
    libc = ndffi.load(None).cdef(
        "void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));"
    )
    typed = ndffi.load(None).cdef(  # the same qsort, its comparator typed for Python
        "void qsort(double *base, size_t n, size_t size, int (*cmp)(const double *, const double *));"
    )

    @numba.cfunc(types.intc(types.CPointer(types.float64), types.CPointer(types.float64)))
    def nb_cmp(a, b):
        return (a[0] > b[0]) - (a[0] < b[0])

    py_cmp = ndffi.callback("int(const double *, const double *)", lambda a, b: (a[0] > b[0]) - (a[0] < b[0]))
    data = np.random.default_rng(1).random(n)
    want = np.sort(data)
    best = {
        "Python comparator (ndffi.callback)": float("inf"),
        "numba.cfunc comparator": float("inf"),
        "np.sort": float("inf"),
    }
    for i in range(repeat):
        a = data.copy()
        if i == 0:  # once: it is slow
            t, _ = timed(typed.qsort, a, a.size, a.itemsize, py_cmp)
            assert np.array_equal(a, want)
            best["Python comparator (ndffi.callback)"] = t
        a = data.copy()
        t, _ = timed(libc.qsort, a, a.size, a.itemsize, nb_cmp)
        assert np.array_equal(a, want)
        best["numba.cfunc comparator"] = min(best["numba.cfunc comparator"], t)
        a = data.copy()
        best["np.sort"] = min(best["np.sort"], timed(np.sort, a)[0])
    print(f"\nqsort of {n:.0e} doubles (ms; best of {repeat}, the Python comparator once)")
    py = best["Python comparator (ndffi.callback)"]
    for name, t in best.items():
        print(f"{name:36s} {t * 1e3:10.1f} ms  {py / t:8.1f}x faster than Python")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=float, default=1e7)
    ap.add_argument("--sort", type=float, default=1e6)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    print(f"numba {numba.__version__}, cffi {cffi.__version__}, NumPy {np.__version__}")
    bench_calls(int(args.calls), args.repeat)
    bench_sort(int(args.sort), args.repeat)


if __name__ == "__main__":
    main()
