"""Call-overhead benchmark: ndffi against ctypes, cffi, pybind11, nanobind and a
hand-written METH_FASTCALL extension (the floor), all in one process.

    python benchmarks/run.py                 # timing table (ns/call, best of N)
    python benchmarks/run.py --quick         # short smoke run
    python benchmarks/run.py --callgrind     # instructions/call under callgrind
    python benchmarks/run.py --only ndffi,cffi --calls add --json out.json

Every contender is timed with the same timeit loop over a local name, e.g.
`f(1, 2)`, so only the call itself differs. Ratios compare each contender with
the floor built in the same GIL mode (and, for reference, with the floor that
holds the GIL). `--child CONTENDER CALL N` runs one loop N times (used under
valgrind; also handy by hand).
"""

from __future__ import annotations

# Only light imports at module level: `--child` runs under valgrind, where every
# imported module costs seconds. The rest are imported where they are used.
import os
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "_build")  # == BUILD
LIBBENCH = os.path.join(BUILD, "libbench.so")  # == LIBBENCH

CDEF = (
    "typedef struct { double x, y; } vec2;"
    "int add(int, int); void noop(void); double dsum(const double *x, long n);"
    "vec2 vflip(vec2 v); long slen(const char *s); double *get(void);"
)
LIBC_CDEF = "int snprintf(char *buf, size_t n, const char *fmt, ...);"
CALLS = ("add", "add_np", "noop", "dsum", "vflip", "vflip_tuple", "slen", "get", "snprintf", "declare")
STMTS = {
    "add": "f(1, 2)",
    "add_np": "f(i, j)",
    "noop": "f()",
    "dsum": "f(x, 10)",
    "vflip": "f(v)",
    "vflip_tuple": "f(t)",
    "slen": "f(s)",
    "get": "f()",
    "snprintf": "f(buf, 64, fmt, 42, 3.5)",
    "declare": "f(1, 2)",
}
# What each call's result must be, after the contender's `check` (see Bench) has
# turned its own kind of result (struct, pointer) into plain Python values.
EXPECTED = {
    "add": 3,
    "add_np": 3,
    "noop": None,
    "dsum": 55.0,
    "vflip": (2.0, 1.0),
    "vflip_tuple": (2.0, 1.0),
    "slen": 11,
    "get": (1.5, 4.5),
    "snprintf": (11, b"42 3.500000"),
    "declare": 3,
}
HELLO = b"hello world"
FMT = b"%d %f"
# The declare row's loop is this many times shorter than the others' (each
# iteration declares a new function of libbenchdecl.so, which has DECL_FUNCS).
SLOW = {"declare": 20}
DECLARERS = ("ndffi", "ndffi_gil", "cffi_abi", "ctypes")

# name -> GIL mode over the C call ("hold" or "release"); the floors first.
CONTENDERS = {
    "floor_hold": "hold",
    "floor_release": "release",
    "floor_buf": "hold",  # dsum only: the floor checking x via the buffer protocol
    "ctypes": "release",
    "cffi_abi": "release",
    "cffi_api": "release",
    "pybind11": "hold",
    "nanobind": "hold",
    "ndffi": "release",
    "ndffi_gil": "hold",
}
FLOORS = {"hold": "floor_hold", "release": "floor_release"}


class Unavailable(Exception):
    """A contender cannot run here (not built, not installed); it is skipped."""


class Bench:
    """One contender's loop for one call: `stmt` timed over the local names `f` and
    `extra`; `check` turns the result into the plain values of EXPECTED."""

    def __init__(self, f, stmt, extra=None, check=None):
        self.f, self.stmt, self.extra, self.check = f, stmt, extra or {}, check or (lambda r: r)


# --- contenders: each returns {call: Bench} -------------------------------------


def _array():
    import numpy as np

    return np.arange(1.0, 11.0)  # float64, C-contiguous, sums to 55.0


def _import_built(modname):
    if BUILD not in sys.path:
        sys.path.insert(0, BUILD)
    try:
        return __import__(modname)
    except ImportError as e:
        raise Unavailable("%s not built (%s)" % (modname, e)) from e


def _xy(r):
    return (r.x, r.y)


def _first_last(p):
    return (p[0], p[3])


def _plain(lib):
    import numpy as np

    fns = {c: Bench(getattr(lib, c), STMTS[c]) for c in ("add", "noop", "dsum")}
    fns["add_np"] = Bench(lib.add, STMTS["add_np"], {"i": np.int32(1), "j": np.int32(2)})  # NumPy's ints
    fns["slen"] = Bench(lib.slen, STMTS["slen"], {"s": HELLO})
    return fns


def _at_address(addr):
    import ctypes

    return _first_last((ctypes.c_double * 4).from_address(addr))


def _compiled(mod):
    """The floors, nanobind and pybind11: a struct class of their own, the address
    of `get`'s array as an int, and snprintf through a bound fmt(buf, n, i, d)."""
    import numpy as np

    fns = _plain(mod)
    fns["vflip"] = Bench(mod.vflip, "f(v)", {"v": mod.vec2(1.0, 2.0)}, _xy)
    fns["get"] = Bench(mod.get, "f()", check=_at_address)
    buf = np.zeros(64, np.uint8)
    fns["snprintf"] = Bench(mod.fmt, "f(buf, 64, 42, 3.5)", {"buf": buf}, lambda r: (r, buf[:r].tobytes()))
    return fns


def setup_floor_hold():
    return _compiled(_import_built("_bench_floor_hold"))


def setup_floor_release():
    return _compiled(_import_built("_bench_floor_release"))


def setup_floor_buf():
    return {"dsum": Bench(_import_built("_bench_floor_buf").dsum, STMTS["dsum"])}


def setup_pybind11():
    return _compiled(_import_built("_bench_pybind11"))


def setup_nanobind():
    return _compiled(_import_built("_bench_nanobind"))


_DECL = []  # [names, declarations, iterator of fresh indices], made once per process


def _decl_names():
    """The declare row's functions: every iteration of every contender in this
    process takes an index of libbenchdecl.so's add0 ... addN never taken before."""
    if not _DECL:
        import build

        names = ["add%d" % k for k in range(build.DECL_FUNCS)]
        _DECL.extend([names, ["int %s(int a, int b);" % n for n in names], iter(range(len(names)))])
    return _DECL


def _declare_ctypes():
    import ctypes

    dll = ctypes.CDLL(os.path.join(BUILD, "libbenchdecl.so"))
    names, _, fresh = _decl_names()
    argtypes = [ctypes.c_int, ctypes.c_int]

    def f(a, b):
        k = next(fresh)
        g = getattr(dll, names[k])
        g.argtypes, g.restype = argtypes, ctypes.c_int
        return g(a, b) - k

    return Bench(f, STMTS["declare"])


def setup_ctypes():
    import ctypes

    import numpy as np

    lib = ctypes.CDLL(LIBBENCH)
    add, noop, dsum = lib.add, lib.noop, lib.dsum
    add.argtypes, add.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    noop.argtypes, noop.restype = [], None
    dsum.argtypes = [np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS")]
    dsum.argtypes.append(ctypes.c_long)
    dsum.restype = ctypes.c_double

    class vec2(ctypes.Structure):
        _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]

    lib.vflip.argtypes, lib.vflip.restype = [vec2], vec2
    lib.slen.argtypes, lib.slen.restype = [ctypes.c_char_p], ctypes.c_long
    lib.get.argtypes, lib.get.restype = [], ctypes.POINTER(ctypes.c_double)
    libc = ctypes.CDLL(None)
    snprintf = libc.snprintf  # the fixed part typed; the varargs take ctypes' defaults
    snprintf.argtypes, snprintf.restype = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p], ctypes.c_int
    buf = ctypes.create_string_buffer(64)
    fns = _plain(lib)
    fns["vflip"] = Bench(lib.vflip, "f(v)", {"v": vec2(1.0, 2.0)}, _xy)
    fns["get"] = Bench(lib.get, "f()", check=_first_last)
    # A float cannot go to a variadic parameter of ctypes as it is: c_double(3.5).
    extra = {"buf": buf, "fmt": FMT, "d": ctypes.c_double}
    fns["snprintf"] = Bench(snprintf, "f(buf, 64, fmt, 42, d(3.5))", extra, lambda r: (r, buf.value))
    fns["declare"] = _declare_ctypes()
    return fns


def _cffi(ffi, lib):
    # A NumPy array must go through ffi.from_buffer to become a double*; that is
    # part of the cost of calling dsum with an array from cffi, so it is timed.
    # The type is resolved once (the fastest documented way).  Likewise cffi takes
    # only cdata in a variadic call: ffi.cast(int_t, 42), ffi.cast(double_t, 3.5).
    fns = _plain(lib)
    fns["dsum"] = Bench(lib.dsum, "f(fb(t, x), 10)", {"fb": ffi.from_buffer, "t": ffi.typeof("double[]")})
    pv = ffi.new("vec2 *", (1.0, 2.0))  # owns the struct v is
    fns["vflip"] = Bench(lib.vflip, "f(v)", {"v": pv[0], "pv": pv}, _xy)
    fns["vflip_tuple"] = Bench(lib.vflip, STMTS["vflip_tuple"], {"t": (1.0, 2.0)}, _xy)
    fns["get"] = Bench(lib.get, "f()", check=_first_last)
    buf = ffi.new("char[64]")
    extra = {"buf": buf, "fmt": FMT, "c": ffi.cast, "ti": ffi.typeof("int"), "td": ffi.typeof("double")}
    check = lambda r: (r, ffi.string(buf))  # noqa: E731
    fns["snprintf"] = Bench(lib.snprintf, "f(buf, 64, fmt, c(ti, 42), c(td, 3.5))", extra, check)
    return fns


def _declare_cffi_abi(cffi):
    ffi = cffi.FFI()
    lib = ffi.dlopen(os.path.join(BUILD, "libbenchdecl.so"))
    names, decls, fresh = _decl_names()
    cdef = ffi.cdef

    def f(a, b):
        k = next(fresh)
        cdef(decls[k])
        return getattr(lib, names[k])(a, b) - k

    return Bench(f, STMTS["declare"])


def setup_cffi_abi():
    try:
        import cffi
    except ImportError:
        raise Unavailable("cffi not installed") from None
    import build

    ffi = cffi.FFI()
    ffi.cdef(build.CFFI_CDEF)
    lib = ffi.dlopen(LIBBENCH)
    libc = ffi.dlopen(None)
    fns = _cffi(ffi, lib)
    fns["snprintf"].f = libc.snprintf
    fns["declare"] = _declare_cffi_abi(cffi)
    return fns


def setup_cffi_api():
    mod = _import_built("_bench_cffi_api")
    return _cffi(mod.ffi, mod.lib)


def _declare_ndffi(ndffi, kw):
    lib = ndffi.load("libbenchdecl", BUILD)
    names, decls, fresh = _decl_names()
    cdef = lib.cdef

    def f(a, b):
        k = next(fresh)
        cdef(decls[k], **kw)
        return getattr(lib, names[k])(a, b) - k

    return Bench(f, STMTS["declare"])


def _ndffi(**kw):
    try:
        import ndffi
    except Exception as e:  # not installed / not built yet
        raise Unavailable("ndffi not importable (%s: %s)" % (type(e).__name__, e)) from e
    import numpy as np

    try:
        lib = ndffi.load("libbench", BUILD)
        lib.cdef(CDEF, **kw)
        libc = ndffi.load(None)
        libc.cdef(LIBC_CDEF, **kw)
        fns = _plain(lib)
        fns["vflip"] = Bench(lib.vflip, "f(v)", {"v": lib.types.vec2(1.0, 2.0)}, _xy)
        fns["vflip_tuple"] = Bench(lib.vflip, STMTS["vflip_tuple"], {"t": (1.0, 2.0)}, _xy)
        fns["get"] = Bench(lib.get, "f()", check=_first_last)
        buf = np.zeros(64, np.uint8)
        check = lambda r: (r, buf[:r].tobytes())  # noqa: E731
        fns["snprintf"] = Bench(libc.snprintf, STMTS["snprintf"], {"buf": buf, "fmt": FMT}, check)
        fns["declare"] = _declare_ndffi(ndffi, kw)
        return fns
    except Exception as e:
        raise Unavailable("ndffi setup failed (%s: %s)" % (type(e).__name__, e)) from e


def setup_ndffi():
    return _ndffi()


def setup_ndffi_gil():
    return _ndffi(release_gil=False)


def setup(name):
    return globals()["setup_" + name]()


def make_timer(bench):
    names = {"f": bench.f, "x": _array(), **bench.extra}
    stmt = bench.stmt
    setup_src = "; ".join("%s = _g_%s" % (k, k) for k in names)  # locals of the loop
    timer = timeit.Timer(stmt, setup=setup_src, globals={"_g_" + k: v for k, v in names.items()})
    return timer, names


# --- measuring -----------------------------------------------------------------


def loop_length(call, n):
    """The loop length of `call` for a nominal n: shorter for the slow rows."""
    return max(1, n // SLOW.get(call, 1))


def time_all(benches, repeat, number):
    """Best-of-`repeat` ns/call; repeats interleave the contenders to share drift.
    The declare row is never autoranged: each iteration uses up a function."""
    numbers = {}
    for key, timer in benches.items():
        if key[1] in SLOW:
            numbers[key] = loop_length(key[1], number or 2000)
        else:
            numbers[key] = number or max(1000, timer.autorange()[0] // 2)
    best = {key: float("inf") for key in benches}
    for _ in range(repeat):
        for key, timer in benches.items():
            t = timer.timeit(numbers[key]) / numbers[key]
            best[key] = min(best[key], t * 1e9)
    return best


def _totals(path):
    totals = summary = None
    with open(path) as fh:
        for line in fh:
            if line.startswith("totals:"):
                totals = int(line.split()[1])
            elif line.startswith("summary:"):
                summary = int(line.split()[1])
    if totals is None and summary is None:
        raise RuntimeError("no totals/summary line in " + path)
    return totals if totals is not None else summary


def _valgrind(out, args, env, dump_before=None):
    import subprocess

    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
    if dump_before:
        cmd.append("--dump-before=" + dump_before)
    cmd += [sys.executable, os.path.abspath(__file__), *args]
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError("callgrind run failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))


def _callgrind_fresh(contender, call, n, outdir, env):
    """Ir of a fresh process running one loop of n iterations."""
    out = os.path.join(outdir, "cg.%s.%s.%d" % (contender, call, n))
    _valgrind(out, ["--child", contender, call, str(n)], env)
    return _totals(out)


# One process per contender: for each call a warm-up loop, then the two loops
# between marks.  A mark is os.getppid(), which nothing else calls: callgrind
# dumps its counters on entering getppid, so dump 3i+2 holds call i's short loop
# and dump 3i+3 its long one.
MARK = "getppid"


def _callgrind_marked(contender, calls, lengths, outdir, env):
    out = os.path.join(outdir, "cg." + contender)
    spec = ",".join("%s:%d:%d" % (c, *lengths[c]) for c in calls)
    _valgrind(out, ["--child-marked", contender, spec], env, dump_before=MARK)
    per = {}
    for i, c in enumerate(calls):
        a, b = lengths[c]
        per[(contender, c)] = (_totals("%s.%d" % (out, 3 * i + 3)) - _totals("%s.%d" % (out, 3 * i + 2))) / (b - a)
    return per


def callgrind_all(keys, n1, n2, fresh=False):
    """Instructions per call: (Ir(n2) - Ir(n1)) / (n2 - n1).  By default one process
    per contender runs every call, each warmed up and then counted between marks;
    fresh=True runs each loop length of each call in a fresh process instead (2 per
    row, ~8 times longer, the first call's one-time costs cancelling out)."""
    import concurrent.futures
    import shutil
    import tempfile

    if not shutil.which("valgrind"):
        raise SystemExit("--callgrind needs valgrind on PATH")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    lengths = {call: (loop_length(call, n1), loop_length(call, n2)) for (_, call) in keys}
    with (
        tempfile.TemporaryDirectory(prefix="ndffi-cg-") as outdir,
        concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool,
    ):
        if fresh:
            jobs = [(c, call, n) for (c, call) in keys for n in lengths[call]]
            futs = {job: pool.submit(_callgrind_fresh, *job, outdir, env) for job in jobs}
            ir = {job: fut.result() for job, fut in futs.items()}
            return {
                (c, call): (ir[(c, call, lengths[call][1])] - ir[(c, call, lengths[call][0])])
                / (lengths[call][1] - lengths[call][0])
                for (c, call) in keys
            }
        by = {}
        for c, call in keys:
            by.setdefault(c, []).append(call)
        futs = [pool.submit(_callgrind_marked, c, calls, lengths, outdir, env) for c, calls in by.items()]
        out = {}
        for fut in futs:
            out.update(fut.result())
        return out


def child(contender, call, n):
    if contender == "loop":  # the bare timeit loop, for reference
        timer = timeit.Timer("pass")
    else:
        timer, _ = make_timer(setup(contender)[call])
    timer.timeit(n)


def child_marked(contender, spec):
    """run.py --child-marked CONTENDER call:n1:n2,...: see _callgrind_marked."""
    fns = None if contender == "loop" else setup(contender)
    for item in spec.split(","):
        call, a, b = item.split(":")
        timer = timeit.Timer("pass") if fns is None else make_timer(fns[call])[0]
        timer.timeit(int(a))  # warm-up: first-call costs stay out of the count
        os.getppid()
        timer.timeit(int(a))
        os.getppid()
        timer.timeit(int(b))
        os.getppid()


# --- reporting -----------------------------------------------------------------


def report(values, unit, key, fmt):
    rows = []
    for (name, call), v in values.items():
        if name == "loop":
            continue
        mode = CONTENDERS[name]
        same = values.get((FLOORS[mode], call))
        hold = values.get(("floor_hold", call))
        ct = values.get(("ctypes", call))
        rows.append(
            {
                "call": call,
                "contender": name,
                "gil": mode,
                key: v,
                "x_floor_same_gil": v / same if same else None,
                "x_floor_hold": v / hold if hold else None,
                "speedup_vs_ctypes": ct / v if ct else None,
            }
        )
    rows.sort(key=lambda r: (CALLS.index(r["call"]), list(CONTENDERS).index(r["contender"])))
    head = ("call", "contender", "GIL", unit, "x floor(same GIL)", "x floor(hold)", "vs ctypes")
    print("%-11s %-14s %-8s %10s %18s %14s %10s" % head)
    last = None
    for r in rows:
        if last and r["call"] != last:
            print()
        last = r["call"]
        ratio = lambda k, suf: "-" if r[k] is None else ("%.2f" % r[k]) + suf  # noqa: B023, E731
        print(
            "%-11s %-14s %-8s %10s %18s %14s %10s"
            % (
                r["call"],
                r["contender"],
                r["gil"],
                fmt % r[key],
                ratio("x_floor_same_gil", "x"),
                ratio("x_floor_hold", "x"),
                ratio("speedup_vs_ctypes", "x"),
            )
        )
    dsum = [r for r in rows if r["call"] == "dsum" and r["speedup_vs_ctypes"] and r["contender"] != "ctypes"]
    if dsum:
        print(
            "\ndsum speedup vs ctypes + ndpointer: "
            + ", ".join("%s %.1fx" % (r["contender"], r["speedup_vs_ctypes"]) for r in dsum)
        )
    return rows


def parse_args():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--callgrind", action="store_true", help="instructions/call via valgrind")
    ap.add_argument(
        "--only", help="comma-separated contender names or prefixes (the floors are always added for the ratios)"
    )
    ap.add_argument("--calls", default=",".join(CALLS), help="comma-separated subset of: " + ", ".join(CALLS))
    ap.add_argument("--repeat", type=int, help="timing repeats (default 7, --quick 3)")
    ap.add_argument("--n1", type=int, help="callgrind short loop (default 2000, --quick 200; declare: /20)")
    ap.add_argument("--n2", type=int, help="callgrind long loop (default 12000, --quick 1200; declare: /20)")
    ap.add_argument(
        "--fresh", action="store_true", help="--callgrind: a fresh process per loop (slower; the older method)"
    )
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--plot", metavar="PNG", help="also draw the results as a bar chart (needs matplotlib)")
    args = ap.parse_args()
    unknown = [c for c in args.calls.split(",") if c not in CALLS]
    if unknown:
        ap.error("unknown call(s) %s; the calls are %s" % (", ".join(unknown), ", ".join(CALLS)))
    return args


def prepare(names, calls, built):
    """Set up every contender and check each call's result once. Returns
    ({(contender, call): (timer, stmt)}, {contender: why skipped}, status)."""
    skipped, benches, status = {}, {}, 0
    for name in names:
        st = built.get(name, "")
        if st.startswith(("skipped", "error")):  # never time a stale module
            skipped[name] = "not built (%s)" % st.split("\n")[0]
            continue
        try:
            fns = setup(name)
        except Unavailable as e:
            skipped[name] = str(e)
            continue
        for call in calls:
            if call not in fns:
                continue
            bench = fns[call]
            timer, ns = make_timer(bench)
            try:
                got = bench.check(eval(bench.stmt, {}, ns))
            except Exception as e:
                got = e
            if got != EXPECTED[call]:
                print(
                    "error: %s %s: %s gave %r, expected %r" % (name, call, bench.stmt, got, EXPECTED[call]),
                    file=sys.stderr,
                )
                status = 1
                continue
            benches[(name, call)] = (timer, bench.stmt)
    return benches, skipped, status


def measure(args, benches, meta):
    if args.callgrind:
        n1 = args.n1 or (200 if args.quick else 2000)
        n2 = args.n2 or (1200 if args.quick else 12000)
        keys = list(benches) + [("loop", "loop")]
        values = callgrind_all(keys, n1, n2, args.fresh)
        how = "fresh processes" if args.fresh else "warmed up, one process per contender"
        meta.update(n1=n1, n2=n2, fresh=args.fresh, loop_ir_per_iter=values[("loop", "loop")])
        print(
            "instructions per call = (Ir(N=%d) - Ir(N=%d)) / %d, %s (declare: N/%d); "
            "includes the timeit loop (empty loop: %.0f Ir/iter)\n"
            % (n2, n1, n2 - n1, how, SLOW["declare"], values[("loop", "loop")])
        )
        return report(values, "Ir/call", "ir_per_call", "%.0f")
    repeat = args.repeat or (3 if args.quick else 7)
    number = 3000 if args.quick else 0
    benches[("loop", "loop")] = (timeit.Timer("pass"), "pass")
    values = time_all({k: v[0] for k, v in benches.items()}, repeat, number)
    meta.update(repeat=repeat, loop_ns_per_iter=values[("loop", "loop")])
    print(
        "ns per call, best of %d; includes the timeit loop (empty loop: %.1f ns/iter)\n"
        % (repeat, values[("loop", "loop")])
    )
    return report(values, "ns/call", "ns_per_call", "%.1f")


def main():
    import json
    import platform

    sys.path.insert(0, HERE)
    import build  # benchmarks/build.py

    args = parse_args()
    try:
        import numpy
    except ImportError:
        print("error: the benchmarks need numpy", file=sys.stderr)
        return 1
    status = 0
    try:
        built = build.build()
    except build.BuildError as e:
        print("error: building libbench failed: %s" % e, file=sys.stderr)
        return 1
    for target, st in built.items():
        if st.startswith("error"):
            print("build %s: %s" % (target, st), file=sys.stderr)
            status = 1
        elif st == "built":
            print("build %s: built" % target)

    names = list(CONTENDERS)
    if args.only:
        want = [w.strip() for w in args.only.split(",") if w.strip()]
        names = [n for n in names if n in FLOORS.values() or any(n == w or n.startswith(w) for w in want)]
    calls = [c for c in CALLS if c in args.calls.split(",")]
    if "declare" in calls and built.get("libbenchdecl", "").startswith("error"):
        calls.remove("declare")
    benches, skipped, bad = prepare(names, calls, built)
    status = status or bad

    meta = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "numpy": numpy.__version__,
        "cpus": os.cpu_count(),
        "mode": "callgrind" if args.callgrind else "timing",
        "quick": args.quick,
    }
    print(
        "Python %s, NumPy %s, %s; %s"
        % (meta["python"], meta["numpy"], meta["machine"], "callgrind" if args.callgrind else "timeit")
    )
    rows = measure(args, benches, meta)
    for r in rows:
        r["stmt"] = benches[(r["contender"], r["call"])][1]
    for name, why in skipped.items():
        print("skipped %s: %s" % (name, why))
    data = {"meta": meta, "results": rows, "skipped": skipped, "build": built}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(data, fh, indent=2)
    if args.plot:
        import plot  # benchmarks/plot.py

        plot.plot(*plot.values_of(data), args.plot)
        print("wrote %s" % args.plot)
    return status


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # run.py --child CONTENDER CALL N
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        sys.exit(0)
    if sys.argv[1:2] == ["--child-marked"]:  # run.py --child-marked CONTENDER call:n1:n2,...
        child_marked(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
