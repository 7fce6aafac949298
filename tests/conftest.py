"""Shared pytest configuration.

The C test libraries (tests/clib/*.c, and the package's example sources the tests call)
are compiled at test-run time, before any test runs, into tests/clib/build.  This file
must not import ndffi at import time: it works whether or not the package is built.
"""

import importlib.util
import os
import pathlib

import pytest

TESTS_DIR = pathlib.Path(__file__).resolve().parent
CLIB_SRC = TESTS_DIR / "clib"
CLIB_DIR = CLIB_SRC / "build"


def _load_clib_builder():
    spec = importlib.util.spec_from_file_location("_ndffi_tests_clib_build", CLIB_SRC / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_clib_builder = _load_clib_builder()
_clib_result = None  # {name: path} once built, or the build error


def _build_clibs():
    global _clib_result
    if _clib_result is None:
        try:
            _clib_result = _clib_builder.build_clibs(CLIB_DIR)
        except _clib_builder.CLibBuildError as exc:
            _clib_result = exc
    return _clib_result


# Under `make asan` this process was started with leak detection on; the compilers and
# interpreters the tests start inherit the preloaded runtime, not the leak check.
SANITIZED = bool(os.environ.get("NDFFI_SANITIZED"))
if SANITIZED:
    os.environ["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"

# RSS says nothing under AddressSanitizer, whose quarantine keeps freed memory mapped.
skip_if_sanitized = pytest.mark.skipif(
    SANITIZED, reason="AddressSanitizer's quarantine holds freed memory: RSS is not a measure")


def pytest_configure(config):
    # Build before collection so every test (and module-level code) finds the libraries.
    # A failure is reported by the tests that need the libraries, not as a crash here.
    _build_clibs()


@pytest.fixture(scope="session")
def clib_paths():
    """{name: path} of the built test libraries, e.g. clib_paths["foo"]."""
    result = _build_clibs()
    if isinstance(result, Exception):
        pytest.fail(f"the C test libraries could not be built:\n{result}", pytrace=False)
    return dict(result)


@pytest.fixture(scope="session")
def clib_dir(clib_paths):
    """Directory holding the built test libraries (libfoo.so, libfibonacci.so, ...)."""
    return str(CLIB_DIR)


def clib_fixture(name, decls, *, release_gil=True, **load_options):
    """A module-scoped fixture: the test library lib<name> loaded with ``load_options``
    (``ndffi.load``'s) and ``decls`` declared.  A test module binds it to the fixture's
    name: ``lib = clib_fixture("numpy_funcs", DECLS)``."""

    @pytest.fixture(scope="module")
    def fixture(clib_dir):
        import ndffi

        return ndffi.load(f"lib{name}", clib_dir, **load_options).cdef(decls, release_gil=release_gil)

    return fixture


# The cookbook's fibonacci.c (python/ndffi/examples), as its wrappers declare it.
FIBONACCI_DECLS = """
    int fib(int a);
    void fibseries(const int *a, int elements, int *series);
    void fibmatrix(int *a, int rows, int columns, int *matrix);
"""
fiblib = clib_fixture("fibonacci", FIBONACCI_DECLS)


# ---- tests/clib/foo.c, as the call tests declare it ---------------------------------

# (suffix of echo_<suffix> in foo.c, the C type)
INT_ECHOES = [
    ("schar", "signed char"), ("uchar", "unsigned char"), ("char", "char"),
    ("short", "short"), ("ushort", "unsigned short"), ("int", "int"), ("uint", "unsigned int"),
    ("long", "long"), ("ulong", "unsigned long"), ("longlong", "long long"),
    ("ulonglong", "unsigned long long"),
    ("int8", "int8_t"), ("uint8", "uint8_t"), ("int16", "int16_t"), ("uint16", "uint16_t"),
    ("int32", "int32_t"), ("uint32", "uint32_t"), ("int64", "int64_t"), ("uint64", "uint64_t"),
    ("size_t", "size_t"), ("ssize_t", "ssize_t"), ("ptrdiff_t", "ptrdiff_t"),
    ("intptr_t", "intptr_t"), ("uintptr_t", "uintptr_t"),
]
FLOAT_ECHOES = [("float", "float"), ("double", "double"), ("longdouble", "long double")]
ALL_ECHOES = INT_ECHOES + [("bool", "_Bool")] + FLOAT_ECHOES

FOO_CDEF = "\n".join(f"{c} echo_{n}({c} x);" for n, c in ALL_ECHOES) + """
    int bar(double *data, int len);
    double dsum(const double *x, long n);
    int add(int a, int b);
    void noop(void);
    const char *version(void);
    struct handle;
    struct other;
    struct handle *h_open(const char *name);
    int h_close(struct handle *);
    const char *h_name(struct handle *h);
    struct other *o_open(void);
    void o_close(struct other *o);
    int my_printf(const char *fmt, ...);
    const char *last_printed(void);
    double mix(int a, double b, float c, long d, unsigned char e, float f, double g);
    long long wsum_i8(int a, int b, int c, int d, int e, int f, int g, int h);
    double wsum_d10(double a, double b, double c, double d, double e, double f,
                    double g, double h, double i, double j);
    double wsum_mixed(int i1, double d1, int i2, double d2, int i3, double d3,
                      int i4, double d4, int i5, double d5, int i6, double d6,
                      int i7, double d7, int i8, double d8, double d9, double d10);
    void fill_ints(int *out, int n, int v);
    long sum_longs(const long *x, long n);
    float sum_floats(const float *x, int n);
    size_t my_strlen(const char *s);
    void upcase(char *s);
    int count_bytes(const unsigned char *p, size_t n, unsigned char v);
    void *identity_ptr(void *p);
    double *null_doubles(void);
    int *static_ints(void);
    int set_errno(int v);
    float fret(float x);
    _Bool is_positive(double x);
"""


# Arrays exposed one way only, for the zero-copy paths other than the buffer protocol.

class ArrayInterfaceOnly:
    """Exposes an array through __array_interface__ alone (no buffer protocol)."""

    def __init__(self, arr):
        self._arr = arr
        self.__array_interface__ = arr.__array_interface__


class DLPackOnly:
    """Exposes an array through DLPack alone."""

    def __init__(self, arr):
        self._arr = arr

    def __dlpack__(self, **kwargs):
        return self._arr.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._arr.__dlpack_device__()
