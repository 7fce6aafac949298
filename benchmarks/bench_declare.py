"""Declaring, measured in instructions: declare + resolve + first call of a new function.

For a new name each time: ``lib.cdef("int addK(int, int);")`` then ``lib.addK(1, 2)``
(the symbol found with dlsym, the call plan made, the function object made, the first
call), against ctypes (``CDLL`` attribute, ``argtypes``/``restype``, the call) and cffi's
ABI mode (``ffi.cdef`` + attribute + call), on a generated C library that exports enough
distinct ``addK`` symbols.

    python benchmarks/bench_declare.py [--only ndffi,ctypes,cffi_abi] [--n1 200] [--n2 1200]
    python benchmarks/bench_declare.py --child ndffi 500   # one loop, by hand or under valgrind

Each contender runs under ``valgrind --tool=callgrind`` twice, with N1 and N2 declarations,
each a fresh process with ``OPENBLAS_NUM_THREADS=1``; the figure is
``(Ir(N2) - Ir(N1)) / (N2 - N1)``, so start-up, imports and building the names cancel out
(both runs build the N2 names and texts before the loop).  A figure that grows with N2
means declaring gets slower as the library grows.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "_build")
SYMBOLS = 5000  # the addK functions the generated library exports
LIBPATH = os.path.join(BUILD, f"libdeclare{SYMBOLS}.so")
CONTENDERS = ("ndffi", "ctypes", "cffi_abi")


def build():
    """The generated library of SYMBOLS functions ``int addK(int, int)`` (built once)."""
    import subprocess

    if os.path.exists(LIBPATH):
        return LIBPATH
    os.makedirs(BUILD, exist_ok=True)
    src = os.path.join(BUILD, f"declare{SYMBOLS}.c")
    with open(src, "w") as fh:
        fh.write("".join(f"int add{k}(int a, int b) {{ return a + b + {k}; }}\n" for k in range(SYMBOLS)))
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", LIBPATH + ".tmp", src], check=True)
    os.replace(LIBPATH + ".tmp", LIBPATH)
    return LIBPATH


def child(contender, n, total):
    """Declare, resolve and call ``n`` new functions (the names of ``total`` made first)."""
    build()
    names = [f"add{k}" for k in range(total)]
    texts = [f"int add{k}(int, int);" for k in range(total)]
    if contender == "ndffi":
        import ndffi

        lib = ndffi.load(LIBPATH)
        for k in range(n):
            lib.cdef(texts[k])
            r = getattr(lib, names[k])(1, 2)
    elif contender == "ctypes":
        import ctypes

        lib = ctypes.CDLL(LIBPATH)
        c_int = ctypes.c_int
        for k in range(n):
            f = getattr(lib, names[k])
            f.argtypes = (c_int, c_int)
            f.restype = c_int
            r = f(1, 2)
    elif contender == "cffi_abi":
        import cffi

        ffi = cffi.FFI()
        lib = ffi.dlopen(LIBPATH)
        for k in range(n):
            ffi.cdef(texts[k])
            r = getattr(lib, names[k])(1, 2)
    else:
        raise SystemExit(f"unknown contender {contender!r}")
    if n and r != 3 + n - 1:
        raise SystemExit(f"{contender}: add{n - 1}(1, 2) gave {r}")


def _ir(contender, n, total, outdir, env):
    import subprocess

    out = os.path.join(outdir, f"cg.{contender}.{n}")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sys.executable, os.path.abspath(__file__)]
    cmd += ["--child", contender, str(n), "--total", str(total)]
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"callgrind run failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    with open(out) as fh:
        for line in fh:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise RuntimeError("no totals/summary line in " + out)


def measure(contenders, n1, n2):
    """Instructions per declaration + first call, {contender: Ir}."""
    import concurrent.futures
    import tempfile

    build()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    jobs = [(c, n) for c in contenders for n in (n1, n2)]
    with (
        tempfile.TemporaryDirectory(prefix="ndffi-cg-declare-") as outdir,
        concurrent.futures.ThreadPoolExecutor(min(2, os.cpu_count() or 1)) as pool,
    ):
        futs = {job: pool.submit(_ir, *job, n2, outdir, env) for job in jobs}
        ir = {job: fut.result() for job, fut in futs.items()}
    return {c: (ir[(c, n2)] - ir[(c, n1)]) / (n2 - n1) for c in contenders}


def main(argv=None):
    import argparse
    import importlib.util

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="ndffi,ctypes", help="comma-separated: " + ", ".join(CONTENDERS))
    ap.add_argument("--n1", type=int, default=200)
    ap.add_argument("--n2", type=int, default=1200)
    ap.add_argument("--child", nargs=2, metavar=("CONTENDER", "N"), help="run one loop (under valgrind)")
    ap.add_argument("--total", type=int, help="--child: names made before the loop (default N)")
    args = ap.parse_args(argv)
    if args.child:
        n = int(args.child[1])
        child(args.child[0], n, args.total or n)
        return 0
    if args.n2 > SYMBOLS:
        raise SystemExit(f"--n2 is at most {SYMBOLS} (the symbols of the generated library)")
    contenders = [c for c in args.only.split(",") if c]
    contenders = [c for c in contenders if importlib.util.find_spec(c.split("_")[0]) or print(f"skipped {c}")]
    results = measure(contenders, args.n1, args.n2)
    print(f"declare + first call of a new function (callgrind, N = {args.n1} and {args.n2})")
    for c, v in results.items():
        print(f"{c:>10} {v:>12.0f} instructions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
