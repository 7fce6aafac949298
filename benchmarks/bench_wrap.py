"""Instructions per call of wrapped functions (Function.wrap), under callgrind.

The cookbook's fibonacci.c (python/ndffi/examples): ``fib(10)`` through ``lib.fib.wrap()``,
and ``fibseries(a)`` (and with ``series=out``) through ``lib.fibseries.wrap(a=ndffi.In,
elements=ndffi.len_of("a"), series=ndffi.Out(like="a"))``, ``a`` 10 int32s.  Two loop
lengths in fresh processes (``OPENBLAS_NUM_THREADS=1``), the difference per call.

    python benchmarks/bench_wrap.py [--n1 2000] [--n2 12000]
    python benchmarks/bench_wrap.py --child fibseries 1000
"""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "_build")
SRC = os.path.join(HERE, "..", "python", "ndffi", "examples", "fibonacci.c")
LIB = os.path.join(BUILD, "libfibwrap.so")
CALLS = ("fib", "fibseries", "fibseries_out")


def build():
    if not os.path.exists(LIB):
        os.makedirs(BUILD, exist_ok=True)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", LIB + ".tmp", SRC], check=True)
        os.replace(LIB + ".tmp", LIB)


def child(call, n):
    import timeit

    import numpy as np

    import ndffi

    build()
    lib = ndffi.load(LIB)
    lib.cdef("int fib(int a); void fibseries(const int *a, int elements, int *series);")
    a = np.arange(10, dtype=np.int32)
    out = np.zeros(10, dtype=np.int32)
    if call == "fib":
        f, stmt = lib.fib.wrap(), "f(10)"
    else:
        f = lib.fibseries.wrap(a=ndffi.In, elements=ndffi.len_of("a"), series=ndffi.Out(like="a"))
        stmt = "f(a)" if call == "fibseries" else "f(a, series=out)"
    timeit.Timer(stmt, globals={"f": f, "a": a, "out": out}).timeit(n)


def _ir(call, n):
    out = f"/tmp/ndffi-cg-wrap.{os.getpid()}.{call}.{n}"
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sys.executable, __file__, "--child", call]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    subprocess.run(cmd + [str(n)], env=env, check=True, capture_output=True)
    try:
        with open(out) as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(("totals:", "summary:")))
    finally:
        os.unlink(out)


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n1", type=int, default=2000)
    ap.add_argument("--n2", type=int, default=12000)
    ap.add_argument("--child", nargs=2, metavar=("CALL", "N"))
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    build()
    for call in CALLS:
        per = (_ir(call, args.n2) - _ir(call, args.n1)) / (args.n2 - args.n1)
        print(f"{call:>14} {per:>8.0f} instructions/call", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
