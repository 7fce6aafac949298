"""``python -m ndffi demo``: the ctypes cookbook's examples, ported to ndffi and checked.

Each example is an :class:`Example`: the code a user would type (shown, then run), the
cookbook section it ports, a check of what it printed and computed, and the feature it
needs.  They run in the cookbook's order.  An example whose feature this build of ndffi
does not have yet (``requires`` returns what is missing) is listed as "not available
yet" and does not count as a failure; every other example must run and print what the
check expects, or the demo exits 1.

The C sources are the cookbook's, shipped in ``ndffi/examples`` and compiled with
:func:`ndffi.build` into the build cache (``$NDFFI_CACHE_DIR``).
"""

from __future__ import annotations

import inspect
import io
import os
import re
import sys
import tempfile
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import ndffi

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


@dataclass
class Example:
    key: str  # a short name, for --only
    title: str
    section: str  # the cookbook section it ports
    about: str  # what it shows, and what the cookbook did instead
    code: str  # run in a fresh namespace holding np, ndffi and EXAMPLES
    check: Callable  # check(namespace, printed_output) raises AssertionError on a mismatch
    requires: Callable = lambda: None  # None when available, else what is missing


# ---------------------------------------------------------------------------------------
# What a feature that is still being built looks like when it is there.


def _has_callbacks():
    return None if hasattr(ndffi, "callback") else "ndffi.callback (Python callbacks from C)"


def _has_allocator():
    return None if hasattr(ndffi, "Allocator") else "ndffi.Allocator"


def _has_pointer_arrays():
    try:
        row = np.zeros(2, "f4")
        p = ndffi.new("float *[1]", [ndffi.cast("float *", row)])
        ok = p[0].address == row.ctypes.data
    except (TypeError, ValueError, ndffi.CDefError):
        ok = False
    return None if ok else "arrays of pointers (ndffi.new('float *[n]', rows))"


def _has_structs():
    ns = ndffi.Namespace()
    try:
        ns.cdef("typedef struct { int timestamp; char desc[12]; } Weather;")
        dtype = getattr(ns.typedef("Weather"), "dtype", None)
    except ndffi.CDefError:
        dtype = None
    return None if dtype is not None else "structs with NumPy dtypes (lib.types.Weather.dtype)"


def _has_wrap():
    ok = hasattr(ndffi.Function, "wrap") and all(hasattr(ndffi, n) for n in ("In", "Out", "len_of"))
    return None if ok else "Function.wrap with ndffi.In / ndffi.Out / ndffi.len_of"


def _has_ufunc():
    return None if hasattr(ndffi.Function, "ufunc") else "Function.ufunc"


def _has_header_importer():
    try:
        params = inspect.signature(ndffi.load).parameters
    except (TypeError, ValueError):
        params = {}
    if "header" not in params:
        return "the header importer (ndffi.load(..., header=...))"
    from ..headers import libclang_version

    return None if libclang_version() else "libclang (pip install 'ndffi[headers]')"


# ---------------------------------------------------------------------------------------
# Checks


def _expect(cond, message):
    if not cond:
        raise AssertionError(message)


def _expect_lines(output, lines):
    """``lines`` appear in ``output`` in this order (other lines may come between)."""
    got = output.splitlines()
    pos = 0
    for want in lines:
        for k in range(pos, len(got)):
            if got[k].strip() == want.strip():
                pos = k + 1
                break
        else:
            raise AssertionError(f"expected the line {want!r} (in order) in the output")


def _check_foo(ns, out):
    x = ns["x"]
    _expect(ns["n"] == len(x) + 1, f"bar returned {ns['n']}, expected {len(x) + 1}")
    m = re.search(r"data = (0x[0-9a-fA-F]+|\(nil\))", out)
    _expect(
        m is not None and int(m.group(1), 16) == x.ctypes.data,
        "bar printed a data address that is not the array's own (was it copied?)",
    )
    _expect_lines(
        out, [f"data[{i}] = {v:f}" for i, v in enumerate(x)] + [f"len = {len(x)}", f"bar returned {len(x) + 1}"]
    )


def _check_ctypes_property(ns, out):
    x, y = ns["x"], ns["y"]
    _expect(ns["p"].address == x.ctypes.data, "the pointer is not the array's data")
    _expect_lines(out, ["True", f"{x.shape} {x.strides}", "True"])
    _expect(abs(ns["total"] - x.sum()) < 1e-9, f"strided_sum {ns['total']} != {x.sum()}")
    _expect(abs(ns["view_total"] - y.sum()) < 1e-9, f"strided_sum of the view {ns['view_total']} != {y.sum()}")


def _check_ndpointer(ns, out):
    _expect(ns["out"].tolist() == [3, 144, 1, 5], f"fibseries gave {ns['out'].tolist()}")
    errors = [line for line in out.splitlines() if line.startswith("TypeError:")]
    _expect(len(errors) == 5, f"expected 5 TypeErrors, got {len(errors)}")
    for line, words in zip(
        errors,
        (
            ["int32", "int64"],
            ["not contiguous", "np.ascontiguousarray"],
            ["byte-swapped"],
            ["read-only", "not const"],
            ["list"],
        ),
        strict=False,
    ):
        for w in words:
            _expect(w in line, f"the TypeError should mention {w!r}: {line}")
        _expect("fibseries()" in line, f"the TypeError should name the function: {line}")


def _check_callback(ns, out):
    arrays = ns["allocated_arrays"]
    _expect(len(arrays) == 1, f"allocate was called {len(arrays)} times, expected once")
    _expect(arrays[0].tolist() == [[1, 2, 3], [2, 4, 6]], f"foo filled {arrays[0].tolist()}")
    _expect_lines(
        out,
        [
            "calling foo",
            "foo calling allocator",
            "allocate called",
            "allocate returning",
            "allocator returned in foo",
            "foo returned",
        ],
    )


def _check_allocator(ns, out):
    arrays = ns["alloc"].arrays
    _expect(len(arrays) == 1, f"{len(arrays)} arrays allocated, expected 1")
    a = arrays[0]
    _expect(a.shape == (2, 3, 4) and a.dtype == np.float64, f"got {a.shape} {a.dtype}")
    _expect(np.array_equal(a.ravel(), 0.5 * np.arange(24)), "func's values are wrong")


def _check_rows(ns, out):
    _expect(ns["sums"].tolist() == [60, 150, 270], f"row sums {ns['sums'].tolist()}")
    _expect(ns["x"].tolist() == [[5, 10, 15], [20, 25, 30], [40, 45, 50]], "the rows were not scaled in place")


_WEATHER = [(1126877361, "sunny"), (1126877371, "rain"), (1126877385, "damn nasty"), (1126877387, "sunny")]


def _check_weather(ns, out):
    lines = []
    for ts, desc in _WEATHER:
        lines += [f"timestamp: {ts}", f"description: {desc}"]
    _expect_lines(out, lines)
    _expect(ns["Weather"].dtype.itemsize == 16, "Weather should be 16 bytes")
    _expect("TypeError:" in out, "a record array of another layout must be refused")


def _check_fibonacci(ns, out):
    _expect_lines(
        out,
        [
            "13 17711 -1",
            "[  3 144   1   5]",
            "[ 0  1  1  2  3  5  8 13 21 34 55]",
            "[[1 2]",
            " [3 5]]",
            "[[ 0  1  1]",
            " [ 2  3  5]",
            " [ 8 13 21]]",
        ],
    )


def _check_wrap(ns, out):
    r = ns["fibseries"]([5, 13, 2, 6])
    _expect(np.asarray(r).tolist() == [3, 144, 1, 5], f"fibseries gave {r}")
    _expect_lines(out, ["[  3 144   1   5]"])


def _check_ufunc(ns, out):
    _expect(isinstance(ns["fib"], np.ufunc), "Function.ufunc() should make a numpy.ufunc")
    _expect_lines(out, ["[[ 0  1  1]", " [ 2  3  5]", " [ 8 13 21]]"])


def _has_dask():
    if _has_ufunc() is not None:
        return _has_ufunc()
    try:
        import dask.array  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        return "dask[array] and distributed (pip install 'ndffi[dask]')"
    return None


def _check_dask(ns, out):
    _expect(np.array_equal(ns["result"], ns["expected"]), "the cluster's result differs from NumPy's")
    _expect_lines(out, ["equal to NumPy: True"])


def _check_header(ns, out):
    _expect_lines(out, ["13 [  3 144   1   5]"])


# ---------------------------------------------------------------------------------------
# The examples, in the cookbook's order.  An example for a feature still being built
# names it in ``requires``; when the feature lands, the example runs.

EXAMPLES = [
    Example(
        "foo",
        "Getting started: build foo.cpp, call bar()",
        "Getting Started with ctypes (Nmake Makefile, SConstruct, foo.cpp, foo.py)",
        "The cookbook builds foo.cpp with nmake or SCons, then spells out bar's restype "
        "and argtypes and converts the array with x.ctypes.data_as().  ndffi.build "
        "compiles it with the system's C++ compiler (once; later runs find it in the "
        'cache) and reads bar\'s prototype from its extern "C" block; the array goes to '
        "'double *data' as it is, checked and not copied.",
        """\
lib = ndffi.build([EXAMPLES / "foo.cpp"])   # C++, -fPIC -shared; declarations from the source
print(lib.bar)
x = np.random.default_rng(0).standard_normal(10)   # the cookbook: N.random.randn(10)
n = lib.bar(x, len(x))
print("bar returned", n)
""",
        _check_foo,
    ),
    Example(
        "ctypes-property",
        "The array's ctypes attributes, the ndffi way",
        "NumPy arrays' ctypes property",
        "x.ctypes.data and x.ctypes.data_as(POINTER(c_double)) become a typed "
        "ndffi.Pointer; shape and strides are the array's own.  A C function that takes "
        "the data, ndim, shape and strides (arrays.c) gets them as arrays of ptrdiff_t, "
        "which is also how a strided view reaches C without a copy.",
        """\
x = np.random.default_rng(1).standard_normal((2, 3, 4))
p = ndffi.cast("double *", x)        # x.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
print(p)
print(p.address == x.ctypes.data)    # x.ctypes.data
print(x.shape, x.strides)            # x.ctypes.shape[:3], x.ctypes.strides[:3]
print(p.as_array(x.shape)[1, 2, 3] == x[1, 2, 3])   # and back: a view of the C memory

lib = ndffi.build([EXAMPLES / "arrays.c"])
def strided_sum(a):
    return lib.strided_sum(ndffi.cast("const double *", a), a.ndim,
                           np.array(a.shape, np.intp), np.array(a.strides, np.intp))
total = strided_sum(x)
y = x[:, ::2, 1:]                    # not contiguous: C follows the strides
view_total = strided_sum(y)
print(total, view_total)
""",
        _check_ctypes_property,
    ),
    Example(
        "ndpointer",
        "Checked arrays: what ndpointer did, from the C types",
        "NumPy's ndpointer with ctypes argtypes",
        "ndpointer(dtype=..., flags='CONTIGUOUS,ALIGNED') checked what the declaration "
        "already says.  ndffi checks every array argument against its C type: element "
        "type, C-contiguity, alignment, byte order, and writability unless the pointee "
        "is const.  A wrong array is a TypeError naming the function and the parameter, "
        "never a silent copy C would write into.",
        """\
lib = ndffi.build([EXAMPLES / "fibonacci.c"])
a = np.array([5, 13, 2, 6], dtype=np.intc)
out = np.empty_like(a)
lib.fibseries(a, len(a), out)
print(out)
for bad in (a.astype(np.int64),                       # ndpointer(dtype=np.intc)
            np.arange(8, dtype=np.intc)[::2],         # ndpointer(flags="CONTIGUOUS")
            a.astype(a.dtype.newbyteorder())):        # ndpointer(dtype="<i4")
    try:
        lib.fibseries(bad, 4, out)
    except TypeError as e:
        print("TypeError:", e)
read_only = np.zeros(4, np.intc)
read_only.flags.writeable = False
for args in ((a, 4, read_only), ([5, 13, 2, 6], 4, out)):   # C writes 'series'; a list is no array
    try:
        lib.fibseries(*args)
    except TypeError as e:
        print("TypeError:", e)
""",
        _check_ndpointer,
    ),
    Example(
        "callback",
        "C asks Python for memory: the allocator callback",
        "Dynamic allocation through callbacks",
        "foo() calls back into Python for a 2x3 float32 array and fills it.  The "
        "cookbook had to return the address as a c_long because returning pointers from "
        "ctypes callbacks hung or crashed; ndffi.callback takes any C signature, pointer "
        "returns included.",
        """\
lib = ndffi.build([EXAMPLES / "callback.c"])
allocated_arrays = []
def allocate(dim, shape):
    print("allocate called")
    x = np.zeros([shape[i] for i in range(dim)], "f4")
    allocated_arrays.append(x)
    print(hex(x.ctypes.data))
    print("allocate returning")
    return ndffi.cast("void *", x)
print("calling foo")
lib.foo(ndffi.callback("void *(int, int *)", allocate))
print("foo returned")
print(allocated_arrays[0])
""",
        _check_callback,
        _has_callbacks,
    ),
    Example(
        "allocator",
        "The Allocator class, thread safe",
        "Dynamic allocation through callbacks (the Allocator class)",
        "The cookbook's Allocator takes the NumPy type character of the array C wants "
        "and is not thread safe; ndffi.Allocator is, and keeps what it allocated.",
        """\
lib = ndffi.build([EXAMPLES / "callback.c"])
alloc = ndffi.Allocator()
lib.func(alloc)                      # func asks for a 2x3x4 'd' (float64) array
print(alloc.arrays[0])
""",
        _check_allocator,
        _has_allocator,
    ),
    Example(
        "float-pointers",
        "float** from a 2-D array",
        "More useful code frags",
        "The cookbook builds a ctypes array of row pointers with "
        "(f4ptr*len(x))(*[row.ctypes.data_as(f4ptr) for row in x]).  ndffi.new makes the "
        "C array 'float *[3]', owned by Python, from typed pointers to the rows; C then "
        "reads and writes the rows in place.",
        """\
lib = ndffi.build([EXAMPLES / "rows.c"])
x = np.array([[10, 20, 30], [40, 50, 60], [80, 90, 100]], "f4")
data = ndffi.new("float *[3]", [ndffi.cast("float *", row) for row in x])
sums = np.empty(len(x), "f4")
lib.foo(data, len(x), x.shape[1], 0.5, sums)   # row sums, then every element halved
print(sums)
print(x)
""",
        _check_rows,
        _has_pointer_arrays,
    ),
    Example(
        "weather",
        "A record array as an array of C structs",
        "Heterogeneous Types Example (sample.c)",
        "The cookbook warns that record arrays and C structs 'may not be congruent'.  "
        "ndffi declares Weather from sample.c and gives it the dtype of the C layout, "
        "so the record array is right by construction; a record array of another layout "
        "is refused with the field and offsets that differ.",
        """\
lib = ndffi.build([EXAMPLES / "sample.c"])   # Weather and print_weather from the source
Weather = lib.types.Weather
print(Weather.dtype)
dat = [[1126877361, "sunny"], [1126877371, "rain"], [1126877385, "damn nasty"],
       [1126877387, "sunny"]]
arr = np.rec.fromrecords(dat, dtype=Weather.dtype)
lib.print_weather(arr, arr.size)
wrong = np.rec.fromrecords(dat, dtype=[("timestamp", "i4"), ("desc", "S10")])
try:
    lib.print_weather(wrong, wrong.size)
except TypeError as e:
    print("TypeError:", e)
""",
        _check_weather,
        _has_structs,
    ),
    Example(
        "fibonacci",
        "The Fibonacci example",
        "Fibonacci example (using NumPy arrays, C and Scons)",
        "The cookbook's SConstruct file and its argtypes/restype lines become one "
        "ndffi.build call that declares fib, fibseries and fibmatrix from fibonacci.c; "
        "the Python wrappers stay as the cookbook wrote them.",
        """\
lib = ndffi.build([EXAMPLES / "fibonacci.c"])
print(lib.fib(8), lib.fib(23), lib.fib(0))
def fibseries(b):
    b = np.asarray(b, dtype=np.intc)
    result = np.empty(len(b), dtype=np.intc)
    lib.fibseries(b, len(b), result)
    return result
def fibmatrix(c):
    c = np.ascontiguousarray(c, dtype=np.intc)
    result = np.empty_like(c)
    lib.fibmatrix(c, c.shape[0], c.shape[1], result)
    return result
print(fibseries([5, 13, 2, 6]))
print(fibseries(range(1, 12)))
print(fibmatrix([[3, 4], [5, 6]]))
print(fibmatrix(np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])))
""",
        _check_fibonacci,
    ),
    Example(
        "fibonacci-wrap",
        "The Fibonacci wrappers, declared instead of written",
        "Fibonacci example (using NumPy arrays, C and Scons)",
        "fibseries() above converts its input, allocates its output and passes the "
        "length by hand; Function.wrap says which parameter is which.",
        """\
lib = ndffi.build([EXAMPLES / "fibonacci.c"])
fibseries = lib.fibseries.wrap(a=ndffi.In, elements=ndffi.len_of("a"),
                               series=ndffi.Out(like="a"))
print(fibseries([5, 13, 2, 6]))
""",
        _check_wrap,
        _has_wrap,
    ),
    Example(
        "fibonacci-ufunc",
        "fib as a NumPy ufunc",
        "Fibonacci example (using NumPy arrays, C and Scons)",
        "fibmatrix exists only to loop over an array; a ufunc made from fib broadcasts over any shape.",
        """\
lib = ndffi.build([EXAMPLES / "fibonacci.c"])
fib = lib.fib.ufunc()
print(fib(np.arange(1, 10).reshape(3, 3)))
""",
        _check_ufunc,
        _has_ufunc,
    ),
    Example(
        "fibonacci-dask",
        "The same ufunc on a Dask cluster",
        "Fibonacci example (using NumPy arrays, C and Scons)",
        "ndffi functions and ufuncs pickle by library and declarations, so worker "
        "processes rebuild them; a ufunc applies to a dask array block by block.",
        """\
import dask.array as da
from distributed import Client, LocalCluster
lib = ndffi.build([EXAMPLES / "fibonacci.c"])
fib = lib.fib.ufunc()
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                  dashboard_address=None) as cluster, Client(cluster):
    x = da.arange(1, 31, chunks=10).reshape(3, 10)
    result = fib(x).compute()
expected = fib(np.arange(1, 31).reshape(3, 10))
print("equal to NumPy:", np.array_equal(result, expected))
""",
        _check_dask,
        _has_dask,
    ),
    Example(
        "header",
        "Declarations from the real header",
        "Introduction (ctypes' code generator from C header files)",
        "ctypes' code generator turned headers into wrappers; ndffi reads the library's real header with libclang.",
        """\
path = ndffi.build([EXAMPLES / "fibonacci.c"], cdef="").path   # the library alone
lib = ndffi.load(path, header=EXAMPLES / "fibonacci.h")
out = np.empty(4, np.intc)
lib.fibseries(np.array([5, 13, 2, 6], np.intc), 4, out)
print(lib.fib(8), out)
""",
        _check_header,
        _has_header_importer,
    ),
]


# ---------------------------------------------------------------------------------------
# Capturing what the example prints, from Python and from C, in order.


class _CStdio:
    """fflush/setvbuf of the C library's stdout, through ndffi itself."""

    def __init__(self):
        self.libc = None
        self.stdout = None
        try:
            libc = ndffi.load(None)
            libc.cdef("int fflush(void *stream); int setvbuf(void *stream, char *buf, int mode, size_t size);")
            self.libc = libc
            for name in ("stdout", "__stdoutp"):  # glibc/musl, macOS/BSD
                try:
                    libc.cdef(f"extern void *{name};")
                    self.stdout = getattr(libc, name)
                    break
                except (AttributeError, ndffi.CDefError):
                    continue
        except (OSError, AttributeError, ndffi.CDefError):
            pass

    def flush(self):
        if self.libc is not None:
            self.libc.fflush(None)

    def unbuffered(self, on):
        # _IONBF is 2 and _IOLBF 1 in glibc, musl and the BSDs.
        if self.libc is not None and self.stdout is not None and sys.platform != "win32":
            self.libc.setvbuf(self.stdout, None, 2 if on else 1, 0)


class _Capture:
    """Everything written to file descriptor 1 (Python's print and C's printf) while
    active, in the order written."""

    def __init__(self, cstdio):
        self.cstdio = cstdio
        self.text = ""

    def __enter__(self):
        sys.stdout.flush()
        self.cstdio.flush()
        self.file = tempfile.TemporaryFile()
        self.saved_fd = os.dup(1)
        os.dup2(self.file.fileno(), 1)
        self.cstdio.unbuffered(True)
        self.saved_stdout = sys.stdout
        sys.stdout = io.TextIOWrapper(
            io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace", write_through=True
        )
        return self

    def __exit__(self, *exc):
        try:
            sys.stdout.flush()
        finally:
            sys.stdout = self.saved_stdout
            self.cstdio.flush()
            self.cstdio.unbuffered(False)
            os.dup2(self.saved_fd, 1)
            os.close(self.saved_fd)
            self.file.seek(0)
            self.text = self.file.read().decode("utf-8", "replace")
            self.file.close()
        return False


# ---------------------------------------------------------------------------------------


def _indent(text, prefix="    "):
    return textwrap.indent(text.rstrip("\n"), prefix, lambda line: True)


def _wrap(text):
    return textwrap.fill(text, width=88)


def run(only=(), list_only=False, out=None):
    """Run the examples (those named in ``only``, or all); return the exit code: 0 when
    every available example matched what it should print, else 1."""
    out = out or sys.stdout
    examples = EXAMPLES
    if only:
        unknown = [k for k in only if k not in {e.key for e in EXAMPLES}]
        if unknown:
            print(
                f"ndffi demo: no example named {', '.join(unknown)}; "
                f"the examples are: {', '.join(e.key for e in EXAMPLES)}",
                file=sys.stderr,
            )
            return 2
        examples = [e for e in EXAMPLES if e.key in only]
    if list_only:
        for e in examples:
            missing = e.requires()
            state = f"  (not available yet: needs {missing})" if missing else ""
            print(f"{e.key:18} {e.title}{state}", file=out)
        return 0

    def say(text=""):
        print(text, file=out, flush=True)

    say("ndffi demo: the examples of the ctypes cookbook, ported to ndffi")
    say(f"The C sources are the cookbook's, in {EXAMPLES_DIR}")
    say("Each example runs with:  import numpy as np, ndffi;  EXAMPLES = pathlib.Path(<that directory>)")
    cstdio = _CStdio()
    passed, failed, unavailable = [], [], []
    for number, ex in enumerate(examples, 1):
        say()
        say("=" * 88)
        say(f"{number}/{len(examples)}  {ex.title}")
        say(f"cookbook: {ex.section}")
        say("=" * 88)
        say(_wrap(ex.about))
        say()
        say(_indent(ex.code))
        missing = ex.requires()
        if missing:
            unavailable.append((ex, missing))
            say()
            say(f"[not available yet] needs {missing}")
            continue
        ns = {"np": np, "ndffi": ndffi, "EXAMPLES": EXAMPLES_DIR, "__name__": "__demo__"}
        error = None
        capture = _Capture(cstdio)
        try:
            with capture:
                exec(compile(ex.code, f"<demo example {ex.key}>", "exec"), ns)
        except Exception:  # the example's own failure is reported, not raised
            error = traceback.format_exc()
        say()
        say("output:")
        say(_indent(capture.text) if capture.text.strip() else "    (nothing printed)")
        if error is None:
            try:
                ex.check(ns, capture.text)
            except AssertionError as exc:
                error = f"the output does not match: {exc}"
        if error is None:
            passed.append(ex)
            say("[ok] output as expected")
        else:
            failed.append((ex, error))
            say("[FAILED]")
            say(_indent(error))
    say()
    say("=" * 88)
    summary = f"{len(passed)} example(s) ran and matched, {len(failed)} failed, {len(unavailable)} not available yet"
    say(summary)
    for ex, missing in unavailable:
        say(f"  not available yet: {ex.key} (needs {missing})")
    for ex, _error in failed:
        say(f"  FAILED: {ex.key}")
    return 1 if failed else 0
