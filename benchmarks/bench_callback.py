"""C calling a Python callback, by shape: ndffi against ctypes CFUNCTYPE and cffi ffi.callback.

A C loop calls the callback N times (default 3e5) through a function pointer, for each
shape:

    int(int)                         f(x) = x         C sums the results
    int(const int *)                 f(p) = p[0]      C passes the address of its counter
    double(double)                   f(x) = x
    void(void *)                     f(p) = None      C passes the address of its counter
    vec2(vec2)                       f(v) = v         struct {double x, y} by value
    float(float)                     f(x) = x
    int(int, int)                    f(x, y) = x      C passes the counter and 1
    void(int)                        f(x) = None
    void(void)                       f() = None
    int(const void *, const void *)  f(a, b) = 0      a qsort comparator's shape; C adds 1
    double(double, double)           f(x, y) = x      C passes the counter and 1.0
    long double(long double)         f(x) = x

The callback is the same Python function for every library.  Printed: instructions
(--callgrind) or nanoseconds per callback (best of --repeat runs, loop overhead included)
and the ratio of each to ctypes in the same GIL mode.  The outer C call releases the GIL
(the default of ndffi, ctypes' CDLL and cffi), so each callback retakes it; "gil-held"
cases use ndffi's release_gil=False and ctypes' PyDLL (cffi always releases).
"ndffi-libffi" (not run unless asked for) is ndffi with its register entry turned off,
every callback going through libffi's closure.  A shape a library cannot express (ctypes
cannot return a struct from a callback) is shown as "n/a" with the reason.

    python benchmarks/bench_callback.py [-n 300000] [--repeat 5] [--shapes 'int(int),vec2(vec2)']
    python benchmarks/bench_callback.py --callgrind    # instructions per callback
    python benchmarks/bench_callback.py --callgrind --cases ndffi,ctypes --json cb.json

--callgrind runs each case in one process under valgrind, every shape warmed up and then
run for two loop lengths (2 000 and 22 000 callbacks) between marks, and prints the
difference per callback, which cancels start-up and is repeatable on a noisy machine.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
BUILD = HERE / "_build"
C_SOURCE = r"""
typedef struct { double x, y; } vec2;
long loop_int(int (*f)(int), long n) {
    long s = 0, i;
    for (i = 0; i < n; i++) s += f((int)i);
    return s;
}
long loop_pint(int (*f)(const int *), long n) {
    long s = 0; int i;
    for (i = 0; i < n; i++) s += f(&i);
    return s;
}
double loop_double(double (*f)(double), long n) {
    double s = 0; long i;
    for (i = 0; i < n; i++) s += f((double)i);
    return s;
}
long loop_vptr(void (*f)(void *), long n) {
    long i;
    for (i = 0; i < n; i++) f(&i);
    return i;
}
double loop_vec2(vec2 (*f)(vec2), long n) {
    double s = 0; long i;
    for (i = 0; i < n; i++) { vec2 v = {(double)i, 1.0}; vec2 r = f(v); s += r.x * r.y; }
    return s;
}
double loop_float(float (*f)(float), long n) {
    double s = 0; long i;
    for (i = 0; i < n; i++) s += f((float)i);
    return s;
}
long loop_int2(int (*f)(int, int), long n) {
    long s = 0, i;
    for (i = 0; i < n; i++) s += f((int)i, 1);
    return s;
}
long loop_vint(void (*f)(int), long n) {
    long i;
    for (i = 0; i < n; i++) f((int)i);
    return i;
}
long loop_void(void (*f)(void), long n) {
    long i;
    for (i = 0; i < n; i++) f();
    return i;
}
long loop_cmp(int (*f)(const void *, const void *), long n) {
    long s = 0, i;
    for (i = 0; i < n; i++) s += f(&i, &n) + 1;
    return s;
}
double loop_double2(double (*f)(double, double), long n) {
    double s = 0; long i;
    for (i = 0; i < n; i++) s += f((double)i, 1.0);
    return s;
}
long double loop_ldouble(long double (*f)(long double), long n) {
    long double s = 0; long i;
    for (i = 0; i < n; i++) s += f((long double)i);
    return s;
}
"""
CDEF = """typedef struct { double x, y; } vec2;
long loop_int(int (*f)(int), long n);
long loop_pint(int (*f)(const int *), long n);
double loop_double(double (*f)(double), long n);
long loop_vptr(void (*f)(void *), long n);
double loop_vec2(vec2 (*f)(vec2), long n);
double loop_float(float (*f)(float), long n);
long loop_int2(int (*f)(int, int), long n);
long loop_vint(void (*f)(int), long n);
long loop_void(void (*f)(void), long n);
long loop_cmp(int (*f)(const void *, const void *), long n);
double loop_double2(double (*f)(double, double), long n);
long double loop_ldouble(long double (*f)(long double), long n);
"""
CASES = ["ndffi", "ctypes", "cffi", "ndffi-gil-held", "ctypes-gil-held"]
EXTRA_CASES = ["ndffi-libffi"]
LOOPS = {
    "int(int)": "loop_int",
    "int(const int *)": "loop_pint",
    "double(double)": "loop_double",
    "void(void *)": "loop_vptr",
    "vec2(vec2)": "loop_vec2",
    "float(float)": "loop_float",
    "int(int, int)": "loop_int2",
    "void(int)": "loop_vint",
    "void(void)": "loop_void",
    "int(const void *, const void *)": "loop_cmp",
    "double(double, double)": "loop_double2",
    "long double(long double)": "loop_ldouble",
}
SHAPES = list(LOOPS)  # in the order the tables print them


def ident(x):
    return x


def first(p):
    return p[0]


def nothing(p):
    return None


def first_of_two(x, y):
    return x


def nothing0():
    return None


def equal(a, b):
    return 0


# The Python function of each shape: the same for every library.
FUNCS = {
    "int(int)": ident,
    "int(const int *)": first,
    "double(double)": ident,
    "void(void *)": nothing,
    "vec2(vec2)": ident,
    "float(float)": ident,
    "int(int, int)": first_of_two,
    "void(int)": nothing,
    "void(void)": nothing0,
    "int(const void *, const void *)": equal,
    "double(double, double)": first_of_two,
    "long double(long double)": ident,
}


def expected(shape, n):
    """What the C loop returns after n callbacks."""
    if shape in ("void(void *)", "void(int)", "void(void)", "int(const void *, const void *)"):
        return n
    total = n * (n - 1) // 2
    floating = ("double(double)", "vec2(vec2)", "float(float)", "double(double, double)", "long double(long double)")
    return float(total) if shape in floating else total


class NotExpressible(Exception):
    """The library cannot make a callback of this shape."""


def build_lib():
    BUILD.mkdir(exist_ok=True)
    # one library per machine: a checkout shared with an emulated aarch64 run keeps both
    src, lib = BUILD / "cbloop.c", BUILD / f"libcbloop-{platform.machine()}.so"
    if not lib.exists() or not src.exists() or src.read_text() != C_SOURCE:
        src.write_text(C_SOURCE)
        cc = os.environ.get("CC", "cc").split()
        subprocess.run(cc + ["-O2", "-fPIC", "-shared", "-o", str(lib), str(src)], check=True)
    return str(lib)


def _ndffi(name, path, shape, f):
    import ndffi

    lib = ndffi.load(path).cdef(CDEF, release_gil=name != "ndffi-gil-held")
    if name == "ndffi-libffi":
        cb = lib._ns.callback(shape, f, 0, False)  # the register entry off: libffi's closure
    else:
        cb = lib.callback(shape, f)
    return getattr(lib, LOOPS[shape]), cb


def _ctypes(name, path, shape, f):
    import ctypes

    class vec2(ctypes.Structure):
        _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]

    c_int, c_double = ctypes.c_int, ctypes.c_double
    types = {
        "int(int)": (c_int, [c_int], ctypes.c_long),
        "int(const int *)": (c_int, [ctypes.POINTER(c_int)], ctypes.c_long),
        "double(double)": (c_double, [c_double], c_double),
        "void(void *)": (None, [ctypes.c_void_p], ctypes.c_long),
        "vec2(vec2)": (vec2, [vec2], c_double),
        "float(float)": (ctypes.c_float, [ctypes.c_float], c_double),
        "int(int, int)": (c_int, [c_int, c_int], ctypes.c_long),
        "void(int)": (None, [c_int], ctypes.c_long),
        "void(void)": (None, [], ctypes.c_long),
        "int(const void *, const void *)": (c_int, [ctypes.c_void_p, ctypes.c_void_p], ctypes.c_long),
        "double(double, double)": (c_double, [c_double, c_double], c_double),
        "long double(long double)": (ctypes.c_longdouble, [ctypes.c_longdouble], ctypes.c_longdouble),
    }
    res, args, loop_res = types[shape]
    dll = (ctypes.PyDLL if name == "ctypes-gil-held" else ctypes.CDLL)(path)
    try:
        proto = ctypes.CFUNCTYPE(res, *args)
        cb = proto(f)
    except TypeError as e:
        raise NotExpressible("ctypes: %s" % e) from None
    loop = getattr(dll, LOOPS[shape])
    loop.argtypes, loop.restype = [proto, ctypes.c_long], loop_res
    return loop, cb


def _cffi(name, path, shape, f):
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    dll = ffi.dlopen(path)
    return getattr(dll, LOOPS[shape]), ffi.callback(shape, f)


def make_case(name, path, shape):
    """A function that runs the C loop for n callbacks: run(n)."""
    maker = _ndffi if name.startswith("ndffi") else _ctypes if name.startswith("ctypes") else _cffi
    if maker is _cffi and name != "cffi":
        raise ValueError(name)
    loop, cb = maker(name, path, shape, FUNCS[shape])
    if shape.startswith("long double"):  # cffi's result is a cdata, which compares with nothing
        return lambda n: float(loop(cb, n))
    return lambda n: loop(cb, n)


def time_case(name, path, shape, n, repeat):
    run = make_case(name, path, shape)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        got = run(n)
        best = min(best, time.perf_counter() - t0)
        if got != expected(shape, n):
            raise SystemExit(f"error: {name} {shape}: the loop gave {got!r}, expected {expected(shape, n)!r}")
    return best / n * 1e9


def check_case(name, path, shape):
    """The case gives the right result (raises SystemExit if not); NotExpressible if it cannot run."""
    run = make_case(name, path, shape)
    got = run(1000)
    if got != expected(shape, 1000):
        raise SystemExit(f"error: {name} {shape}: the loop gave {got!r}, expected {expected(shape, 1000)!r}")


# One process per case runs every shape: a warm-up loop, then the two loop lengths
# between marks.  A mark is os.getppid(), which nothing else calls: callgrind dumps its
# counters on entering getppid, so dump 3i+2 holds shape i's short loop, 3i+3 its long one.
MARK = "getppid"


def run_marked(name, path, shapes, small, large):
    for shape in shapes:
        run = make_case(name, path, shape)
        run(small)
        os.getppid()
        run(small)
        os.getppid()
        run(large)
        os.getppid()


def _totals(path):
    with open(path) as fh:
        for line in fh:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise RuntimeError("no totals in %s" % path)


def callgrind_case(name, shapes, small, large, outdir):
    out = os.path.join(outdir, "cg." + name)
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-before=" + MARK]
    cmd += [sys.executable, __file__, "--_run", name, "--shapes", ";".join(shapes), "-n", f"{small},{large}"]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-3000:])
    return {
        (name, s): (_totals(f"{out}.{3 * i + 3}") - _totals(f"{out}.{3 * i + 2}")) / (large - small)
        for i, s in enumerate(shapes)
    }


def callgrind_all(jobs, small, large):
    import concurrent.futures
    import tempfile

    by = {}
    for c, s in jobs:
        by.setdefault(c, []).append(s)
    values = {}
    with (
        tempfile.TemporaryDirectory(prefix="ndffi-cb-") as outdir,
        concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool,
    ):
        for fut in [pool.submit(callgrind_case, c, shapes, small, large, outdir) for c, shapes in by.items()]:
            values.update(fut.result())
    return values


def ctypes_of(case):
    if case.startswith("ctypes"):
        return None
    return "ctypes-gil-held" if case.endswith("gil-held") else "ctypes"


def table(values, cases, shapes, unit, missing):
    """One row per shape: each case's figure, then its ratio to ctypes of the same GIL mode."""
    ratio_cases = [c for c in cases if ctypes_of(c) in cases]
    w = max(len(s) for s in shapes + ["shape"]) + 1
    head = (
        f"{'shape':<{w}}" + "".join(f"{c:>17}" for c in cases) + "".join(f"{c + ' / ctypes':>25}" for c in ratio_cases)
    )
    print(f"{unit} per callback\n")
    print(head)
    for s in shapes:
        line = f"{s:<{w}}"
        for c in cases:
            v = values.get((c, s))
            line += f"{'n/a' if v is None else '%.1f' % v:>17}"
        for c in ratio_cases:
            v, ct = values.get((c, s)), values.get((ctypes_of(c), s))
            line += f"{'-' if v is None or ct is None else '%.2f' % (v / ct):>25}"
        print(line)
    for (c, s), why in missing.items():
        print(f"n/a: {c} {s}: {why}")


def split_shapes(text):
    """'a;b' or 'a,b' into its shapes; a comma inside parentheses belongs to its shape."""
    shapes, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == ";" or (ch == "," and depth == 0):
            shapes.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return shapes + [cur.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", default="300000", help="callbacks per timed run")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--cases", default=",".join(CASES), help="of " + ", ".join(CASES + EXTRA_CASES))
    ap.add_argument("--shapes", default=";".join(SHAPES), help="';'- or ','-separated, of " + "; ".join(SHAPES))
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--_run", help=argparse.SUPPRESS)
    args = ap.parse_args()
    shapes = [s for s in SHAPES if s in split_shapes(args.shapes)]
    if not shapes:
        ap.error("no known shape in --shapes (the shapes are: %s)" % "; ".join(SHAPES))
    path = build_lib()
    if args._run:  # under valgrind: -n SMALL,LARGE
        run_marked(args._run, path, shapes, *map(int, args.n.split(",")))
        return 0
    n = int(float(args.n))
    cases = args.cases.split(",")
    unknown = [c for c in cases if c not in CASES + EXTRA_CASES]
    if unknown:
        ap.error("unknown case %s (the cases are: %s)" % (", ".join(unknown), ", ".join(CASES + EXTRA_CASES)))
    try:
        import cffi  # noqa: F401
    except ImportError:
        print("cffi is not installed: its row is left out (pip install cffi)\n")
        cases = [c for c in cases if c != "cffi"]
    jobs, missing = [], {}
    for c in cases:
        for s in shapes:
            try:
                check_case(c, path, s)
                jobs.append((c, s))
            except NotExpressible as e:
                missing[(c, s)] = str(e)
    if args.callgrind:
        small, large = 2_000, 22_000
        values = callgrind_all(jobs, small, large)
        unit, key = f"instructions (callgrind, {large} - {small} callbacks)", "ir_per_callback"
    else:
        values = {(c, s): time_case(c, path, s, n, args.repeat) for (c, s) in jobs}
        unit, key = f"ns (best of {args.repeat} runs of {n})", "ns_per_callback"
    table(values, cases, shapes, unit, missing)
    if args.json:
        rows = [
            {
                "case": c,
                "shape": s,
                key: v,
                "x_ctypes": v / values[(ctypes_of(c), s)] if (ctypes_of(c), s) in values else None,
            }
            for (c, s), v in values.items()
        ]
        n_a = [{"case": c, "shape": s, "why": w} for (c, s), w in missing.items()]
        with open(args.json, "w") as fh:
            json.dump({"mode": "callgrind" if args.callgrind else "timing", "results": rows, "n/a": n_a}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
