"""Benchmark: ``double gauss(double)`` applied element-wise to float64 arrays.

    python benchmarks/bench_ufunc.py [--repeat N] [--sizes 1e6,1e7] [--callgrind]

Compares, in nanoseconds per element:

- ndffi ufunc, one thread and ``threads=N`` (N = 2 and every available core);
- a plain C loop calling the same function pointer (a few lines of C, loaded with ndffi)
  -- the floor for calling a C function per element;
- ``np.frompyfunc`` over a ctypes function and ``np.vectorize`` (1e5 elements only:
  they cost hundreds of ns per element);
- the NumPy expression ``np.exp(-0.5 * x * x)``.

The bars: the single-threaded ufunc within 1.2x of the C loop per element, and with
threads at least 1.7x faster than one thread on 2 cores for 1e7 elements.  Each method
is timed `repeat` times, interleaved with the others so that a change in machine load
hits all of them, and the best time is kept.  ``--callgrind`` counts instructions per
element instead (valgrind; two array lengths in fresh processes, differenced), the
repeatable measure for the first bar on a busy machine.
"""

import argparse
import ctypes
import os
import pathlib
import subprocess
import sys
import threading
import time

import numpy as np

import ndffi

HERE = pathlib.Path(__file__).resolve().parent
BUILD = HERE / "_build"

GAUSS_C = r"""
#include <math.h>
double gauss(double x) { return exp(-0.5 * x * x); }
"""

# The loop lives in its own library, so the compiler cannot inline gauss into it: it
# calls through the pointer, as the ufunc does.
LOOP_C = r"""
void apply_d_d(double (*f)(double), const double *x, double *y, long n) {
    for (long i = 0; i < n; i++) y[i] = f(x[i]);
}
"""


def build(name, source):
    BUILD.mkdir(exist_ok=True)
    src = BUILD / f"{name}.c"
    out = BUILD / f"lib{name}.so"
    old = src.read_text() if src.exists() else None
    if not out.exists() or old != source:
        src.write_text(source)
        cc = os.environ.get("CC", "cc").split()
        subprocess.run(cc + ["-O2", "-fPIC", "-shared", "-o", str(out), str(src), "-lm"], check=True)
    return str(out)


def halves_on_two_python_threads(u, x, out):
    """Control for the threads bar: the 1-thread ufunc on each half of the array from
    two Python threads at once (the loop runs without the GIL).  What this gains is
    what the machine's cores can give at this moment."""
    h = x.size // 2
    t = threading.Thread(target=u, args=(x[:h],), kwargs={"out": out[:h]})
    t.start()
    u(x[h:], out=out[h:])
    t.join()


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_all():
    lib = ndffi.load(build("bench_gauss", GAUSS_C))
    lib.cdef("double gauss(double x);")
    loop = ndffi.load(build("bench_loop", LOOP_C))
    loop.cdef("void apply_d_d(double (*f)(double), const double *x, double *y, long n);")
    fp = ndffi.cast("double (*)(double)", lib.gauss.address)
    return lib, loop, fp


def run_once(method, n):
    """One run for callgrind: set-up, then `method` over n elements."""
    lib, loop, fp = load_all()
    u = lib.gauss.ufunc()
    x = np.linspace(-3.0, 3.0, n)
    out = np.empty(n)
    if method == "loop":
        loop.apply_d_d(fp, x, out, n)
    elif method == "ufunc":
        u(x, out=out)


def callgrind():
    import re
    import shutil

    if not shutil.which("valgrind"):
        print("valgrind is not installed")
        return 1
    sizes = (100_000, 300_000)
    counts = {}
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    for method in ("none", "loop", "ufunc"):
        for n in sizes:
            proc = subprocess.run(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--callgrind-out-file=/dev/null",
                    sys.executable,
                    __file__,
                    "--one",
                    method,
                    str(n),
                ],
                capture_output=True,
                text=True,
                env=env,
            )
            m = re.search(r"Collected : (\d+)", proc.stderr)
            if not m:
                print(proc.stderr[-2000:])
                return 1
            counts[method, n] = int(m.group(1))
    dn = sizes[1] - sizes[0]
    base = (counts["none", sizes[1]] - counts["none", sizes[0]]) / dn
    per = {m: (counts[m, sizes[1]] - counts[m, sizes[0]]) / dn - base for m in ("loop", "ufunc")}
    print("instructions per element (callgrind, set-up differenced away):")
    print(f"  C loop through the pointer  {per['loop']:7.1f}")
    print(f"  ndffi ufunc, 1 thread       {per['ufunc']:7.1f}   ({per['ufunc'] / per['loop']:.2f}x the C loop)")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--sizes", default="1e6,1e7")
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        run_once(args.one[0], int(args.one[1]))
        return 0
    if args.callgrind:
        return callgrind()

    lib, loop, fp = load_all()
    gauss_path = lib.path

    ncores = cores()
    u1 = lib.gauss.ufunc()
    u2 = lib.gauss.ufunc(threads=2)
    uall = lib.gauss.ufunc(threads=0)

    cg = ctypes.CDLL(gauss_path).gauss
    cg.argtypes, cg.restype = [ctypes.c_double], ctypes.c_double
    frompy = np.frompyfunc(cg, 1, 1)
    vectorized = np.vectorize(cg, otypes=[np.float64])

    rng = np.random.default_rng(0)
    print(
        f"double gauss(double) element-wise; {ncores} core(s) available; NumPy {np.__version__}; best of {args.repeat}"
    )
    print(f"{'method':38s} {'elements':>9s} {'ns/element':>11s} {'vs C loop':>10s}")
    results = {}
    for n in [int(float(s)) for s in args.sizes.split(",")]:
        x = rng.normal(size=n)
        out = np.empty_like(x)
        small = x[:100_000]
        # check they agree before timing
        loop.apply_d_d(fp, x, out, n)
        ref = out.copy()
        assert np.array_equal(u1(x), ref) and np.array_equal(u2(x), ref)
        assert np.allclose(frompy(small[:100]).astype(float), ref[:100])
        methods = {
            "C loop through the pointer": (lambda: loop.apply_d_d(fp, x, out, n), n),  # noqa: B023
            "ndffi ufunc, 1 thread": (lambda: u1(x, out=out), n),  # noqa: B023
            "ndffi ufunc, threads=2": (lambda: u2(x, out=out), n),  # noqa: B023
            f"ndffi ufunc, threads=0 ({ncores})": (lambda: uall(x, out=out), n),  # noqa: B023
            "control: 1-thread ufunc, 2 Py threads": (lambda: halves_on_two_python_threads(u1, x, out), n),  # noqa: B023
            "NumPy np.exp(-0.5 * x * x)": (lambda: np.exp(-0.5 * x * x), n),  # noqa: B023
            "np.frompyfunc(ctypes gauss)": (lambda: frompy(small), small.size),  # noqa: B023
            "np.vectorize(ctypes gauss)": (lambda: vectorized(small), small.size),  # noqa: B023
        }
        times = {k: [] for k in methods}
        for _ in range(args.repeat):  # interleaved: load changes hit every method
            for k, (fn, m) in methods.items():
                times[k].append(best(fn, 1) / m)
        floor = min(times["C loop through the pointer"])
        for k, (_fn, m) in methods.items():
            t = min(times[k])
            results[(k, n)] = t
            print(f"{k:38s} {m:9.0e} {t * 1e9:11.2f} {t / floor:9.2f}x")
        print()

    n_big = max(int(float(s)) for s in args.sizes.split(","))
    floor = results[("C loop through the pointer", n_big)]
    single = results[("ndffi ufunc, 1 thread", n_big)]
    two = results[("ndffi ufunc, threads=2", n_big)]
    control = results[("control: 1-thread ufunc, 2 Py threads", n_big)]
    ok1 = single <= 1.2 * floor
    ok2 = single / two >= 1.7
    print(f"bar: ufunc 1 thread / C loop at {n_big:.0e} = {single / floor:.2f} (<= 1.2): {'ok' if ok1 else 'MISSED'}")
    print(
        f"bar: ufunc 1 thread / threads=2 at {n_big:.0e} = {single / two:.2f} (>= 1.7 on 2 cores): "
        f"{'ok' if ok2 else 'MISSED'}" + ("" if ncores >= 2 else " (only one core here)")
    )
    print(f"      the machine's parallel capacity now (control): {single / control:.2f}x from two threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
