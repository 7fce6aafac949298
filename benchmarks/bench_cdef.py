"""Time declaring: how cdef scales with what a library already declares.

* notebook: a library that already declares N functions (N = 10 ... 100 000) gets one
  more cdef call of one declaration, again and again, as a notebook cell or a
  long-running program adds them: microseconds per cdef call (the median) and cdef calls
  per second.
  Declaring must not get slower as the library grows.
* batch: the same libraries, one cdef call of 100 new declarations: microseconds per
  declaration.
* wide: one struct of F members (F = 1 000 ... 100 000): microseconds per member.
* deep: a chain of D typedefs, each a pointer to the one before (`typedef p0 *p1;`), and
  a chain of D structs, each holding the one before by value, in one cdef call:
  microseconds per declaration, and where cdef refuses a chain deeper than the limit
  (nd_limits.h: 1000 levels).

Each other figure is the best of --repeat runs (each run a fresh library), wall clock.

    python benchmarks/bench_cdef.py [--sizes 10,100,1000,10000,100000] [--wide 1000,10000,100000]
                                    [--deep 100,1000,20000] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import ndffi


def _library(n):
    lib = ndffi.load(None)
    for start in range(0, n, 10000):  # filled in chunks, as a program would
        lib.cdef("".join(f"int f{i}(int x);\n" for i in range(start, min(n, start + 10000))))
    return lib


def notebook(n, repeat, calls=20):
    """Microseconds per cdef call of one new declaration in a library of n (the median of
    `calls` calls on each of `repeat` fresh libraries: the library grows by `calls` only)."""
    times = []
    for r in range(repeat):
        lib = _library(n)
        for k in range(calls):
            text = f"int g{r}_{k}(int x);"
            t0 = time.perf_counter()
            lib.cdef(text)
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def batch(n, repeat, size=100):
    """Microseconds per declaration of one cdef call of `size` declarations."""
    best = float("inf")
    for _r in range(repeat):
        lib = _library(n)
        text = "".join(f"int h{k}(int x);\n" for k in range(size))
        t0 = time.perf_counter()
        lib.cdef(text)
        best = min(best, time.perf_counter() - t0)
    return best / size * 1e6


def _timed(text, repeat):
    best, error = float("inf"), None
    for _ in range(repeat):
        lib = ndffi.load(None)
        t0 = time.perf_counter()
        try:
            lib.cdef(text)
        except ndffi.CDefError as e:
            error = e
        best = min(best, time.perf_counter() - t0)
    return best, error


def wide(f, repeat):
    text = "struct wide {" + "".join(f" int m{i};" for i in range(f)) + " };"
    seconds, error = _timed(text, repeat)
    return {
        "members": f,
        "seconds": seconds,
        "us_per_member": seconds / f * 1e6,
        "refused": str(error).splitlines()[0] if error else None,
    }


def deep(d, repeat, kind):
    if kind == "pointer":
        text = "typedef int p0;\n" + "".join(f"typedef p{i - 1} *p{i};\n" for i in range(1, d))
    else:
        text = "struct s0 { int a; };\n" + "".join(f"struct s{i} {{ struct s{i - 1} x; }};\n" for i in range(1, d))
    seconds, error = _timed(text, repeat)
    declared = error.line if error else d  # one declaration a line, up to the one refused
    return {
        "kind": kind,
        "depth": d,
        "seconds": seconds,
        "us_per_declaration": seconds / declared * 1e6,
        "refused": str(error).splitlines()[0] if error else None,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    ap.add_argument("--sizes", type=ints, default=[10, 100, 1000, 10000, 100000])
    ap.add_argument("--wide", type=ints, default=[1000, 10000, 100000])
    ap.add_argument("--deep", type=ints, default=[100, 1000, 20000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    out = {"notebook": [], "batch": [], "wide": [], "deep": []}

    print(f"{'declared':>9} {'us/cdef call':>13} {'cdef calls/s':>13} {'us/decl (batch)':>16}")
    for n in args.sizes:
        us = notebook(n, args.repeat)
        per = batch(n, args.repeat)
        out["notebook"].append({"declared": n, "us_per_cdef": us})
        out["batch"].append({"declared": n, "us_per_declaration": per})
        print(f"{n:>9} {us:>13.1f} {1e6 / us:>13.0f} {per:>16.2f}", flush=True)
    print()
    print(f"{'members':>9} {'s':>9} {'us/member':>10}")
    for f in args.wide:
        w = wide(f, args.repeat)
        out["wide"].append(w)
        print(
            f"{f:>9} {w['seconds']:>9.3f} {w['us_per_member']:>10.2f}"
            + (f"  refused: {w['refused']}" if w["refused"] else ""),
            flush=True,
        )
    print()
    print(f"{'chain':>8} {'depth':>7} {'s':>9} {'us/decl':>9}")
    for kind in ("pointer", "struct"):
        for d in args.deep:
            r = deep(d, args.repeat, kind)
            out["deep"].append(r)
            print(
                f"{kind:>8} {d:>7} {r['seconds']:>9.3f} {r['us_per_declaration']:>9.2f}"
                + (f"  refused: {r['refused']}" if r["refused"] else ""),
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
