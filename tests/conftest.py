"""Shared pytest configuration.

The C test libraries (tests/clib/*.c, and the package's example sources the tests call)
are compiled at test-run time, before any test runs, into tests/clib/build.  This file
must not import ndffi at import time: it works whether or not the package is built.
"""

import importlib.util
import os
import pathlib
import platform
import sys

import pytest

TESTS_DIR = pathlib.Path(__file__).resolve().parent
CLIB_SRC = TESTS_DIR / "clib"
# A run for another machine (make test-aarch64) builds its own copies elsewhere.
CLIB_DIR = pathlib.Path(os.environ.get("NDFFI_TEST_CLIB_DIR") or CLIB_SRC / "build")


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
    SANITIZED, reason="AddressSanitizer's quarantine holds freed memory: RSS is not a measure"
)


def pytest_configure(config):
    # Build before collection so every test (and module-level code) finds the libraries.
    # A failure is reported by the tests that need the libraries, not as a crash here.
    _build_clibs()


# Tests of x86-64 System V specifics carry a marker (see pyproject.toml): `x86_64` for the
# ABI's rules (layouts, classification), `direct` for the direct call stubs and closure
# entries, which NDFFI_FORCE_LIBFFI=1 also turns off.
X86_64_SYSV = platform.machine().lower() in ("x86_64", "amd64") and sys.platform != "win32"
AARCH64_LINUX = platform.machine().lower() in ("aarch64", "arm64") and sys.platform.startswith("linux")
# Unions and bit-fields by value need the ABI file's own classification (libffi has no
# unions): x86-64 System V and AArch64 Linux have one.
classified = pytest.mark.skipif(
    not (X86_64_SYSV or AARCH64_LINUX), reason="unions and bit-fields by value: no classification for this ABI"
)
# Plain char is signed on x86 and on Apple's and Microsoft's AArch64, unsigned on
# AArch64 Linux (AAPCS64) and most other ABIs.
CHAR_SIGNED = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86") or sys.platform in (
    "darwin",
    "win32",
)


def _force_libffi():
    try:
        from ndffi import _ndffi
    except ImportError:  # not built: the tests themselves will say so
        return False
    return getattr(_ndffi, "FORCE_LIBFFI", False)


# ndffi's own engine (nd_abi_x64_sysv.cpp) calls structs by value and stack arguments.
ENGINE = X86_64_SYSV and not _force_libffi()


def pytest_collection_modifyitems(config, items):
    forced = _force_libffi()
    not_x86 = pytest.mark.skip(reason="pins x86-64 System V behaviour")
    no_direct = pytest.mark.skip(reason="asserts the direct path, which NDFFI_FORCE_LIBFFI=1 turns off")
    for item in items:
        direct = item.get_closest_marker("direct") is not None
        if not X86_64_SYSV and (direct or item.get_closest_marker("x86_64")):
            item.add_marker(not_x86)
        elif forced and direct:
            item.add_marker(no_direct)


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


def compile_shared(directory, name, source):
    """lib<name>.so compiled from the C `source` (a list of parts) in `directory`, as the
    random-signature tests build theirs (-O1, no contraction of a*b+c); its path.  Skips
    the test where there is no C compiler."""
    import shutil
    import subprocess

    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    c_file, so_file = directory / f"{name}.c", directory / f"lib{name}.so"
    c_file.write_text("\n\n".join(source) + "\n")
    proc = subprocess.run(
        [cc, "-shared", "-fPIC", "-O1", "-ffp-contract=off", "-o", str(so_file), str(c_file)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return so_file


def clib_fixture(name, *decls, release_gil=True, **load_options):
    """A module-scoped fixture: the test library lib<name> loaded with ``load_options``
    (``ndffi.load``'s) and each of ``decls`` declared in turn.  A test module binds it to
    the fixture's name: ``lib = clib_fixture("numpy_funcs", DECLS)``."""

    @pytest.fixture(scope="module")
    def fixture(clib_dir):
        import ndffi

        lib = ndffi.load(f"lib{name}", clib_dir, **load_options)
        for text in decls:
            lib.cdef(text, release_gil=release_gil)
        return lib

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
    ("schar", "signed char"),
    ("uchar", "unsigned char"),
    ("char", "char"),
    ("short", "short"),
    ("ushort", "unsigned short"),
    ("int", "int"),
    ("uint", "unsigned int"),
    ("long", "long"),
    ("ulong", "unsigned long"),
    ("longlong", "long long"),
    ("ulonglong", "unsigned long long"),
    ("int8", "int8_t"),
    ("uint8", "uint8_t"),
    ("int16", "int16_t"),
    ("uint16", "uint16_t"),
    ("int32", "int32_t"),
    ("uint32", "uint32_t"),
    ("int64", "int64_t"),
    ("uint64", "uint64_t"),
    ("size_t", "size_t"),
    ("ssize_t", "ssize_t"),
    ("ptrdiff_t", "ptrdiff_t"),
    ("intptr_t", "intptr_t"),
    ("uintptr_t", "uintptr_t"),
]
FLOAT_ECHOES = [("float", "float"), ("double", "double"), ("longdouble", "long double")]
ALL_ECHOES = INT_ECHOES + [("bool", "_Bool")] + FLOAT_ECHOES

FOO_CDEF = (
    "\n".join(f"{c} echo_{n}({c} x);" for n, c in ALL_ECHOES)
    + """
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
)


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


# ---- tests/clib/structs.c, as the struct tests declare it ---------------------------

# The declarations of the Weather example, verbatim.
WEATHER_DECLS = """
    typedef struct Weather_t { int timestamp; char desc[12]; } Weather;
    void print_weather(Weather *w, int nelems);
    typedef struct { double x, y; } vec2;
    vec2 vadd(vec2 a, vec2 b);                       /* by value, both ways */
    typedef union { int i; float f; unsigned char b[4]; } word;
    struct flags { unsigned ready : 1; unsigned mode : 3; int level; };
    #pragma pack(push, 1)
    struct packed { char c; double d; };
    #pragma pack(pop)
    enum color { RED, GREEN = 5, BLUE };
    #define BUFSIZE 4096
    #define SCALE 0.5
    #define NAME "ndffi"
    extern int counter;
"""

MORE_DECLS = """
    int sum_timestamps(const Weather *w, int n);
    void stamp_weather(Weather *w, int n, int base);
    Weather *weather_days(int *n);
    extern Weather history[2];
    int history_sum(void);
    extern vec2 origin;
    double origin_norm2(void);
    double vdot(const vec2 *a, const vec2 *b);
    word word_from_float(float f);
    int word_int(word w);
    struct flags make_flags(unsigned ready, unsigned mode, int level);
    int flags_sum(struct flags f);
    int flags_level(const struct flags *f);
    double packed_d(const struct packed *p);
    int color_value(enum color c);
    enum color next_color(enum color c);
    int bump(void);
    extern double table[4];

    typedef struct { char a; } s1;
    typedef struct { char a; char b; } s2;
    typedef struct { char a, b, c; } s3;
    typedef struct { float f; } s4;
    typedef struct { int i; float f; } s8;
    typedef struct { double d; int i; float f; } s16;
    typedef struct { double d; long l; char c; } s17;
    typedef struct { char c[17]; } s17p;
    typedef struct { float a; double b; int c; } s24;
    typedef struct { double a, b; long c; float d; } s32;
    typedef struct { vec2 p; int tag; } nested;
    typedef union { double d; long l; } u8;
    typedef union { float f[3]; int i; } u12;
    s1 round_s1(s1 v); s2 round_s2(s2 v); s3 round_s3(s3 v); s4 round_s4(s4 v);
    s8 round_s8(s8 v); s16 round_s16(s16 v); s17 round_s17(s17 v); s17p round_s17p(s17p v);
    s24 round_s24(s24 v); s32 round_s32(s32 v); nested round_nested(nested v);
    u8 round_u8(u8 v); u12 round_u12(u12 v);
    double s16_sum(s16 v); double s24_sum(s24 v); double s32_sum(s32 v); int s3_sum(s3 v);
    double nested_sum(nested v); s8 s8_make(int i, float f);
    double s32_fields(s32 v, int k); double u12_f2(u12 v); long u8_bits(u8 v);

    typedef struct { int n; double v[3]; char name[8]; short m[2][2]; } arrays_t;
    double arrays_sum(arrays_t a);
    arrays_t arrays_make(int n);

    typedef union { float f; double d; } uf;
    typedef union { float f[4]; double d[2]; } uf16;
    typedef union { struct { float a, b; } s; double d; long l; } umix;
    typedef union { struct { double d; float f; } s; float g[3]; } usse;
    typedef union { char c[20]; int i; } ubig;
    typedef union { long double ld; long l; } uld;
    typedef struct { int a : 3; float f; } bfs;
    typedef struct { unsigned a : 4, b : 28; double d; } bfd;
    typedef struct { long long a : 40; long long b : 24; float f; } bf12;
    typedef struct { u8 u; float f; } su;
    typedef struct { long double x; } sld;
    uf round_uf(uf v); uf16 round_uf16(uf16 v); umix round_umix(umix v); usse round_usse(usse v);
    ubig round_ubig(ubig v); uld round_uld(uld v); bfs round_bfs(bfs v); bfd round_bfd(bfd v);
    bf12 round_bf12(bf12 v); su round_su(su v); sld round_sld(sld v);
    double uf16_sum(uf16 v); double umix_sum(umix v); double usse_sum(usse v); int ubig_sum(ubig v);
    double bfs_sum(bfs v); double bfd_sum(bfd v); double bf12_sum(bf12 v); double su_sum(su v);
    long double sld_twice(sld v);
    typedef struct { sld inner[1]; } sld_nested;
    sld_nested make_sld_nested(long double x);
    long double sld_from_callback(sld (*f)(long double), long double x);
    double mixed_args(uf a, int i, uf16 b, double d, bfd c, umix e, usse f, bfs g, double h, s32 k);
    double packed_byval(struct packed p);
"""


# ---- the build and header cache ------------------------------------------------------
# No test module changes the environment for others: NDFFI_CACHE_DIR is set by these
# fixtures only, each restoring it when its scope ends.


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """The suite never builds into the user's cache: a test that takes no cache fixture
    builds into one of the test run's own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NDFFI_CACHE_DIR", str(tmp_path_factory.mktemp("ndffi-session-cache")))
        yield


@pytest.fixture(scope="module", autouse=True)
def _environment_restored(request):
    """A test module leaves the process environment as it found it (checked when the
    module's fixtures have been torn down)."""
    before = dict(os.environ)
    yield
    after = dict(os.environ)
    changed = sorted(
        k for k in before.keys() | after.keys() if before.get(k) != after.get(k) and k != "PYTEST_CURRENT_TEST"
    )
    if changed:
        pytest.fail(
            f"{request.module.__name__} changed the environment for the tests after it: "
            f"{', '.join(changed)} (set variables through monkeypatch or a cache fixture)",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """A cache of the test module's own, for module-scoped fixtures that build."""
    path = tmp_path_factory.mktemp("ndffi-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NDFFI_CACHE_DIR", str(path))
        yield path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A build and header cache of the test's own (``NDFFI_CACHE_DIR``)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("NDFFI_CACHE_DIR", str(path))
    return path


@pytest.fixture
def compiler_runs(monkeypatch):
    """The compiler commands a test runs (every compiler process goes through compiler.run)."""
    from ndffi._support import compiler

    runs = []
    real = compiler.run

    def counting(cmd, **kw):
        runs.append(list(cmd))
        return real(cmd, **kw)

    monkeypatch.setattr(compiler, "run", counting)
    return runs
