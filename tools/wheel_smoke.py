"""Smoke test of an installed ndffi: run with the interpreter of a fresh environment,
from a directory that holds no checkout, after `pip install ndffi-*.whl` (or the sdist).

    python tools/wheel_smoke.py                  # libclang absent: the error must say so
    python tools/wheel_smoke.py --expect-headers # libclang installed: zlib.h is imported
    python tools/wheel_smoke.py --vendored-libffi  # the wheel's own libffi is loaded
    python tools/wheel_smoke.py --vendored-libffi --system-libffi-hidden

Loads libm, builds a small library with ndffi.inline, sorts with qsort through a Python
callback, and imports zlib.h through libclang when it is installed.  Prints one line per
check; exits 1 on the first failure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

HEADERS_MESSAGE = "reading C headers needs libclang: pip install 'ndffi[headers]'"


def check(name, cond, detail=""):
    if not cond:
        print(f"FAILED {name}: {detail}")
        sys.exit(1)
    print(f"ok     {name}" + (f": {detail}" if detail else ""))


def mapped_libffi():
    """The libffi files this process has mapped (Linux: /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}
    except OSError:
        return None
    return sorted(p for p in paths if os.path.basename(p).startswith("libffi"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--expect-headers", action="store_true", help="libclang is installed: import zlib.h (else: check the error)"
    )
    ap.add_argument(
        "--vendored-libffi", action="store_true", help="check that the libffi in use is the copy inside the wheel"
    )
    ap.add_argument(
        "--system-libffi-hidden",
        action="store_true",
        help="the system's libffi is hidden (so ctypes cannot load): check that it is, and load libm by its file name",
    )
    args = ap.parse_args(argv)

    import numpy as np

    import ndffi

    here = os.path.dirname(os.path.abspath(ndffi.__file__))
    check("import ndffi", True, f"{ndffi.__version__} from {here}")
    check("installed, not a checkout", not os.path.exists(os.path.join(here, "..", "..", "pyproject.toml")), here)
    check("py.typed shipped", os.path.isfile(os.path.join(here, "py.typed")))

    with tempfile.TemporaryDirectory() as cache:
        os.environ["NDFFI_CACHE_DIR"] = cache

        if args.system_libffi_hidden:
            try:
                import ctypes  # noqa: F401   (_ctypes links the system's libffi)
            except ImportError as exc:
                check("the system's libffi is hidden: ctypes cannot load", True, str(exc))
            else:
                check("the system's libffi is hidden: ctypes cannot load", False, "ctypes imported")
            # ndffi.load("m") asks ctypes.util where libm is (libm.so is a linker script)
            m = ndffi.load("libm.so.6")
        else:
            m = ndffi.load("m")
        m.cdef("double cos(double); double ldexp(double x, int e);")
        check("libm: cos(0.0)", m.cos(0.0) == 1.0, repr(m.cos(0.0)))
        try:
            m.ldexp(1.5, 2**40)
        except OverflowError as exc:
            check("libm: out-of-range int refused", "ldexp" in str(exc), str(exc).splitlines()[0])
        else:
            check("libm: out-of-range int refused", False, "no OverflowError")

        lib = ndffi.inline(
            "int twice(int x) { return 2 * x; }\n"
            "double dsum(const double *x, long n) {\n"
            "    double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }\n"
        )
        check("ndffi.inline: twice(21)", lib.twice(21) == 42, repr(lib.twice(21)))
        x = np.arange(10.0)
        check("ndffi.inline: dsum(array)", lib.dsum(x, len(x)) == 45.0, repr(lib.dsum(x, len(x))))

        libc = ndffi.load(None).cdef(
            "void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));"
            "int snprintf(char *s, size_t n, const char *format, ...);"
        )
        text = bytearray(32)  # a variadic call: through libffi, whatever the ABI
        n = libc.snprintf(text, len(text), b"%d %.2f", 42, 0.5)
        check("libffi: variadic snprintf", bytes(text[:n]) == b"42 0.50", repr(bytes(text[:n])))

        @ndffi.callback("int(const void *, const void *)")
        def cmp(a, b):
            u, v = ndffi.cast("const int *", a)[0], ndffi.cast("const int *", b)[0]
            return (u > v) - (u < v)

        arr = np.array([5, 3, 9, 1, 7], np.int32)
        libc.qsort(arr, len(arr), arr.itemsize, cmp)
        check("callback: qsort", arr.tolist() == [1, 3, 5, 7, 9], repr(arr.tolist()))

        if args.expect_headers:
            z = ndffi.load("z", header="zlib.h")
            buf = np.frombuffer(b"hello " * 1000, np.uint8)
            n = z.new("unsigned long *", z.compressBound(buf.size))
            out = np.empty(n[0], np.uint8)
            status = z.compress(out, n, buf, buf.size)
            check(
                "zlib.h through libclang",
                status == z.Z_OK and 0 < n[0] < buf.size,
                f"{buf.size} bytes -> {n[0]}, zlib {z.ZLIB_VERSION}",
            )
        else:
            try:
                ndffi.load("z", header="zlib.h")
            except ImportError as exc:
                check("zlib.h without libclang: the error says what to install", HEADERS_MESSAGE in str(exc), str(exc))
            else:
                check(
                    "zlib.h without libclang: the error says what to install",
                    False,
                    "imported without libclang (is it installed? pass --expect-headers)",
                )

    if args.vendored_libffi:
        # (ctypes, which NumPy imports, maps the system's libffi as well, when there is one.)
        maps = mapped_libffi() or []
        ours = [p for p in maps if os.sep + "ndffi.libs" + os.sep in p]
        check("libffi: the wheel's copy is loaded", bool(ours), ", ".join(maps) or "(none mapped)")
    print("wheel smoke test: all checks passed")


if __name__ == "__main__":
    main()
