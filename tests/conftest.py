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
