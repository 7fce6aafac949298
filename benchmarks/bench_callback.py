"""C calling a Python callback: ndffi against ctypes CFUNCTYPE and cffi ffi.callback.

A C loop calls `int f(int)` N times (default 1e6) through a function pointer; the
callback is the same Python function for every library.  Printed: nanoseconds per
callback (best of --repeat runs, loop overhead included) and ndffi's ratio to ctypes and
to cffi.  The outer C call releases the GIL (the default of ndffi, ctypes' CDLL and
cffi), so each callback retakes it; "GIL held" rows use ndffi's release_gil=False and
ctypes' PyDLL.

    python benchmarks/bench_callback.py [-n 1000000] [--repeat 7]
    python benchmarks/bench_callback.py --callgrind    # instructions per callback

--callgrind runs each case in fresh processes under valgrind for two loop lengths and
prints the difference per callback, which cancels start-up and is repeatable on a noisy
machine.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
BUILD = HERE / "_build"
C_SOURCE = r"""
long loop_int(int (*f)(int), long n) {
    long s = 0, i;
    for (i = 0; i < n; i++) s += f((int)i);
    return s;
}
"""
CASES = ["ndffi", "ndffi-libffi", "ctypes", "cffi", "ndffi-gil-held", "ctypes-gil-held"]


def build_lib():
    BUILD.mkdir(exist_ok=True)
    src, lib = BUILD / "cbloop.c", BUILD / "libcbloop.so"
    if not lib.exists() or not src.exists() or src.read_text() != C_SOURCE:
        src.write_text(C_SOURCE)
        cc = os.environ.get("CC", "cc").split()
        subprocess.run(cc + ["-O2", "-fPIC", "-shared", "-o", str(lib), str(src)], check=True)
    return str(lib)


def f(x):
    return x


def make_case(name, path):
    """A no-argument function that runs the C loop for n callbacks: run(n)."""
    if name.startswith("ndffi"):
        import ndffi

        lib = ndffi.load(path).cdef("long loop_int(int (*f)(int), long n);", release_gil=name != "ndffi-gil-held")
        cb = ndffi.values.builtin_types.callback("int(int)", f, 0, name != "ndffi-libffi")
        loop = lib.loop_int
        return lambda n: loop(cb, n)
    if name.startswith("ctypes"):
        import ctypes

        dll = (ctypes.PyDLL if name == "ctypes-gil-held" else ctypes.CDLL)(path)
        proto = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
        loop = dll.loop_int
        loop.argtypes, loop.restype = [proto, ctypes.c_long], ctypes.c_long
        cb = proto(f)
        return lambda n: loop(cb, n)
    if name == "cffi":
        import cffi

        ffi = cffi.FFI()
        ffi.cdef("long loop_int(int (*f)(int), long n);")
        dll = ffi.dlopen(path)
        cb = ffi.callback("int(int)", f)
        loop = dll.loop_int
        return lambda n: loop(cb, n)
    raise ValueError(name)


def time_case(name, path, n, repeat):
    run = make_case(name, path)
    expect = n * (n - 1) // 2
    assert run(1000) == 1000 * 999 // 2
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        got = run(n)
        best = min(best, time.perf_counter() - t0)
        assert got == expect, (name, got, expect)
    return best / n * 1e9


def callgrind_case(name, path, n):
    out = BUILD / f"callgrind.{name}.{n}.out"
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--_run",
        name,
        "-n",
        str(n),
    ]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    for line in proc.stdout.splitlines():
        if "Collected" in line:
            return int(line.split()[-1])
    raise RuntimeError(proc.stdout)


def table(rows, unit):
    by = dict(rows)
    print(f"{'case':<18} {unit:>14}   ndffi / this")
    for name, v in rows:
        mine = by.get("ndffi-gil-held" if name.endswith("gil-held") else "ndffi")
        ratio = f"{mine / v:.2f}x" if mine else ""
        print(f"{name:<18} {v:>14.1f}   {ratio}")
    print()
    if "ndffi" in by and "ctypes" in by:
        print(f"ndffi / ctypes = {by['ndffi'] / by['ctypes']:.2f}   (bar <= 0.6)")
    if "ndffi-gil-held" in by and "ctypes-gil-held" in by:
        print(f"GIL held: ndffi / ctypes = {by['ndffi-gil-held'] / by['ctypes-gil-held']:.2f}   (bar <= 0.6)")
    if "ndffi" in by and "cffi" in by:
        print(f"ndffi / cffi   = {by['ndffi'] / by['cffi']:.2f}   (bar <= 0.5)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000, help="callbacks per run")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--_run", help=argparse.SUPPRESS)
    args = ap.parse_args()
    path = build_lib()
    if args._run:
        make_case(args._run, path)(args.n)
        return
    cases = args.cases.split(",")
    try:
        import cffi  # noqa: F401
    except ImportError:
        print("cffi is not installed: its row is left out (pip install cffi)\n")
        cases = [c for c in cases if c != "cffi"]
    if args.callgrind:
        small, large = 2_000, 22_000
        rows = [(c, (callgrind_case(c, path, large) - callgrind_case(c, path, small)) / (large - small)) for c in cases]
        print(f"instructions per callback (callgrind, {large} - {small} callbacks)\n")
        table(rows, "instr/callback")
    else:
        rows = [(c, time_case(c, path, args.n, args.repeat)) for c in cases]
        print(f"ns per callback (best of {args.repeat} runs of {args.n})\n")
        table(rows, "ns/callback")


if __name__ == "__main__":
    main()
