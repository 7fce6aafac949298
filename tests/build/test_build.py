"""ndffi.build and ndffi.inline with the real system compiler, into a private cache."""

import json
import multiprocessing
import os
import sys
import textwrap
import time

import numpy as np
import pytest

import ndffi
from ndffi import building as _build

EXAMPLES = os.path.join(os.path.dirname(ndffi.__file__), "examples")


@pytest.fixture(autouse=True)
def _own_cache(cache):
    """Every test builds into its own cache directory (conftest's ``cache``)."""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def entries(cache):
    root = cache / "build"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# ---- building and declaring ------------------------------------------------------------


def test_build_declares_the_functions_of_the_source(tmp_path):
    lib = ndffi.build([os.path.join(EXAMPLES, "fibonacci.c")])
    assert lib.fib(8) == 13 and lib.fib(23) == 17711 and lib.fib(0) == -1
    a = np.array([5, 13, 2, 6], np.intc)
    out = np.empty_like(a)
    lib.fibseries(a, len(a), out)
    assert out.tolist() == [3, 144, 1, 5]
    m = np.array([[3, 4], [5, 6]], np.intc)
    res = np.empty_like(m)
    lib.fibmatrix(m, 2, 2, res)
    assert res.tolist() == [[1, 2], [3, 5]]
    assert repr(lib.fibseries) == "<ndffi.Function void fibseries(int *a, int elements, int *series)>"
    assert os.path.basename(lib.path) == "libfibonacci.so"


def test_a_single_path_and_pathlike_are_accepted(tmp_path):
    src = write(tmp_path / "one.c", "int one(void) { return 1; }\n")
    assert ndffi.build(src).one() == 1
    assert ndffi.build(str(src)).one() == 1


def test_second_build_runs_no_compiler(tmp_path, cache, compiler_runs):
    src = write(tmp_path / "twice.c", "int twice(int x) { return 2 * x; }\n")
    first = ndffi.build([src])
    assert compiler_runs, "the first build must compile"
    del compiler_runs[:]
    start = time.perf_counter()
    second = ndffi.build([src])
    elapsed = time.perf_counter() - start
    assert compiler_runs == []
    assert second.path == first.path and second.twice(21) == 42
    assert elapsed < 1.0  # the bar is < 50 ms; this only catches a compile sneaking in
    assert len(entries(cache)) == 1


def test_same_content_elsewhere_is_the_same_entry(tmp_path, cache, compiler_runs):
    a = write(tmp_path / "a" / "k.c", "int k(void) { return 7; }\n")
    b = write(tmp_path / "b" / "k.c", "int k(void) { return 7; }\n")
    ndffi.build([a])
    del compiler_runs[:]
    assert ndffi.build([b]).k() == 7
    assert compiler_runs == []


def test_source_and_local_header_changes_rebuild(tmp_path, cache):
    inc = tmp_path / "inc"
    write(inc / "factor.h", '#include "base.h"\n#define FACTOR (BASE * 3)\n')
    write(inc / "base.h", "#define BASE 1\n")
    src = write(tmp_path / "scale.c", '#include "factor.h"\nint scale(int x) { return FACTOR * x; }\n')
    assert ndffi.build([src], include_dirs=[inc]).scale(2) == 6
    write(inc / "base.h", "#define BASE 10\n")  # two levels down
    assert ndffi.build([src], include_dirs=[inc]).scale(2) == 60
    write(src, '#include "factor.h"\nint scale(int x) { return FACTOR * x + 1; }\n')
    assert ndffi.build([src], include_dirs=[inc]).scale(2) == 61
    assert len(entries(cache)) == 3


def test_defines_and_cflags(tmp_path):
    src = write(tmp_path / "conf.c", """\
        int n(void) { return N; }
        int extra(void) { return EXTRA; }
        #ifdef FLAG
        int flag(void) { return 1; }
        #endif
        """)
    lib = ndffi.build([src], defines={"N": 4, "FLAG": None}, cflags=["-O3", "-DEXTRA=3"])
    assert (lib.n(), lib.extra(), lib.flag()) == (4, 3, 1)
    other = ndffi.build([src], defines={"N": 5}, cflags="-DEXTRA=9")
    assert (other.n(), other.extra()) == (5, 9)
    assert not hasattr(other, "flag")  # not compiled, so not declared
    assert other.path != lib.path


def test_libraries_m(tmp_path, cache):
    src = write(tmp_path / "hyp.c", """\
        #include <math.h>
        double hyp(double a, double b) { return sqrt(a * a + b * b) + cos(0.0) - 1.0; }
        """)
    lib = ndffi.build([src], libraries=["m"])
    assert lib.hyp(3.0, 4.0) == 5.0
    (entry,) = (cache / "build").iterdir()
    commands = json.loads((entry / "build.json").read_text())["commands"]
    assert "-lm" in commands[-1]


def test_libraries_and_library_dirs_set_the_run_path(tmp_path):
    depdir = tmp_path / "deps"
    dep = write(tmp_path / "dep.c", "int dep_value(void) { return 41; }\n")
    # Build without loading: the user library must find libdep.so through its run path.
    _build.compile_library([dep], output_dir=depdir)
    assert (depdir / "libdep.so").is_file()
    user = write(tmp_path / "user.c", "int dep_value(void);\nint user(void) { return dep_value() + 1; }\n")
    lib = ndffi.build([user], libraries=["dep"], library_dirs=[depdir])
    assert lib.user() == 42


def test_multiple_sources_with_a_shared_header(tmp_path):
    write(tmp_path / "shared.h", "typedef int myint;\nmyint get_a(void);\nmyint get_b(void);\n")
    a = write(tmp_path / "a.c", '#include "shared.h"\nmyint get_a(void) { return 1; }\n')
    b = write(tmp_path / "b.c", '#include "shared.h"\nmyint get_b(void) { return get_a() + 1; }\n')
    lib = ndffi.build([a, b], name="pair")
    assert (lib.get_a(), lib.get_b()) == (1, 2)
    assert os.path.basename(lib.path) == "libpair.so"


def test_only_exported_non_static_functions_are_declared(tmp_path):
    src = write(tmp_path / "vis.c", """\
        static int internal(int x) { return x + 1; }
        __attribute__((visibility("hidden"))) int hidden(int x) { return x; }
        int visible(int x) { return internal(x); }
        int old_style(a, b) int a; int b; { return a - b; }
        """)
    lib = ndffi.build([src])
    assert lib.visible(1) == 2
    assert lib.old_style(5, 3) == 2
    for name in ("internal", "hidden"):
        with pytest.raises(AttributeError, match="no declaration"):
            getattr(lib, name)


def _parser_reads_struct_definitions():
    try:
        ndffi.Namespace().cdef("struct probe { int a; };")
        return True
    except ndffi.CDefError:
        return False


def test_unreadable_declarations_are_left_out_with_a_warning(tmp_path):
    src = write(tmp_path / "weather.c", """\
        typedef struct Weather_t { int timestamp; char desc[12]; } Weather;
        int first(Weather *w) { return w->timestamp; }
        int plain(int x) { return x * 2; }
        """)
    if _parser_reads_struct_definitions():
        lib = ndffi.build([src])
        assert "first" in dir(lib)
    else:
        with pytest.warns(_build.BuildWarning, match=r"first at weather\.c:2"):
            lib = ndffi.build([src])
        with pytest.warns(_build.BuildWarning):  # said again when found in the cache
            ndffi.build([src])
        assert "first" not in dir(lib)
    assert lib.plain(4) == 8


def test_cxx_extern_c_functions(tmp_path):
    src = write(tmp_path / "shapes.cpp", """\
        #include <cmath>
        #include <vector>
        namespace geo {
        class Circle {
          public:
            explicit Circle(double r) : r_(r) {}
            double area() const { return M_PI * r_ * r_; }
          private:
            double r_;
        };
        }
        double cxx_only(double r) { return r; }
        double cxx_only(int r) { return r; }
        extern "C" {
        double circle_area(double r) { return geo::Circle(r).area(); }
        static int not_exported(void) { return 0; }
        bool positive(double x) noexcept { return x > 0; }
        }
        extern "C" int count_to(int n) {
            std::vector<int> v;
            for (int i = 0; i < n; i++) v.push_back(i);
            return (int) v.size();
        }
        """)
    lib = ndffi.build([src])
    assert abs(lib.circle_area(1.0) - np.pi) < 1e-12
    assert lib.count_to(5) == 5
    assert lib.positive(1.0) is True
    for name in ("cxx_only", "not_exported", "area"):
        assert not hasattr(lib, name)


def test_lang_cxx_for_a_c_file(tmp_path):
    src = write(tmp_path / "plain.c", """\
        #include <algorithm>
        extern "C" int biggest(int a, int b) { return std::max(a, b); }
        """)
    with pytest.raises(_build.BuildError):
        ndffi.build([src])  # C does not have <algorithm>
    assert ndffi.build([src], lang="c++").biggest(3, 9) == 9


def test_header_option(tmp_path):
    write(tmp_path / "api.h", """\
        #ifndef API_H
        #define API_H
        #include <stddef.h>
        #ifdef __cplusplus
        extern "C" {
        #endif
        #define API_EXPORT __attribute__((visibility("default")))
        #define LIMIT 10
        typedef long counter_t;
        API_EXPORT counter_t count(const double *x, size_t n, double above);
        API_EXPORT int declared_only_here(void);
        static inline int header_inline_fn(void) { return 1; }
        #ifdef __cplusplus
        }
        #endif
        #endif
        """)
    src = write(tmp_path / "api.c", """\
        #include "api.h"
        counter_t count(const double *x, size_t n, double above) {
            counter_t c = 0;
            for (size_t i = 0; i < n; i++) c += x[i] > above;
            return c;
        }
        int undeclared(void) { return header_inline_fn(); }
        """)
    lib = ndffi.build([src], header=tmp_path / "api.h")
    more = ndffi.build([src], header=tmp_path / "api.h", cdef="counter_t undeclared(void);")
    assert more.undeclared() == 1  # cdef= text can use the header's types
    assert lib.count(np.array([1.0, 5.0, 7.0]), 3, 4.0) == 2
    names = set(dir(lib))
    assert "count" in names and "undeclared" not in names and "header_inline_fn" not in names
    assert "declared_only_here" not in names  # not in the library


def test_cdef_option_and_bad_cdef_fails_before_compiling(tmp_path, compiler_runs):
    src = write(tmp_path / "two.c", "int one(void) { return 1; }\nint two(void) { return 2; }\n")
    lib = ndffi.build([src], cdef="int two(void);")
    assert lib.two() == 2 and not hasattr(lib, "one")
    del compiler_runs[:]
    both = ndffi.build([src], cdef="int one(void); int two(void);")
    assert both.one() == 1 and both.two() == 2
    assert compiler_runs == []  # other declarations, same library: nothing to compile
    with pytest.raises(ndffi.CDefError):
        ndffi.build([src], cdef="int two(void")
    assert compiler_runs == []


def test_output_dir(tmp_path, compiler_runs):
    out = tmp_path / "out"
    lib = ndffi.build([os.path.join(EXAMPLES, "fibonacci.c")], output_dir=out)
    assert lib.path == str(out / "libfibonacci.so")
    header = (out / "fibonacci.h").read_text()
    assert "int fib(int a);" in header
    stamp = (out / "libfibonacci.so").stat().st_mtime_ns
    del compiler_runs[:]
    ndffi.build([os.path.join(EXAMPLES, "fibonacci.c")], output_dir=out)
    assert compiler_runs == []
    assert (out / "libfibonacci.so").stat().st_mtime_ns == stamp  # not rewritten
    again = ndffi.load("libfibonacci", out).cdef(header)
    assert again.fib(10) == 34


def test_inline():
    lib = ndffi.inline("int twice(int x) { return 2 * x; }")
    assert lib.twice(21) == 42
    cxx = ndffi.inline('#include <string>\nextern "C" int len3(void) { return (int) std::string("abc").size(); }',
                       lang="c++")
    assert cxx.len3() == 3
    named = ndffi.inline("double half(double x) { return x / 2; }", name="halves")
    assert named.half(3.0) == 1.5 and os.path.basename(named.path) == "libhalves.so"


def test_globals_the_sources_define_are_declared(tmp_path, cache):
    lib = ndffi.inline("""
        #include <stddef.h>
        struct pt { int x, y; };
        int counter = 3;
        static int hidden = 1;
        __attribute__((visibility("hidden"))) int internal = 2;
        const double table[3] = {1.5, 2.5, 3.5};
        struct pt origin = {7, -8};
        int (*hook)(int) = NULL;
        int a = 1, b = sizeof(struct pt) / 4;   /* initializers are dropped */
        extern int elsewhere;
        int get(void) { return counter + hidden + internal; }
    """)
    assert lib.counter == 3 and lib.get() == 6
    lib.counter = 10
    assert lib.get() == 13
    assert list(lib.table) == [1.5, 2.5, 3.5]
    assert (lib.origin.x, lib.origin.y) == (7, -8)
    assert not lib.hook and (lib.a, lib.b) == (1, 2)
    names = set(dir(lib))
    assert {"counter", "table", "origin", "hook", "a", "b", "get"} <= names
    # static, hidden and undefined ones are not the library's to offer
    assert not {"hidden", "internal", "elsewhere"} & names
    cxx = ndffi.inline('extern "C" { int cx = 5; }\nint mangled_ok = 6;\n'
                       'extern "C" int cget(void) { return cx; }', lang="c++")
    assert cxx.cx == 5 and cxx.cget() == 5 and "mangled_ok" not in dir(cxx)


# ---- errors -----------------------------------------------------------------------------


def test_syntax_error_is_a_build_error_with_file_line_column(tmp_path, cache):
    src = write(tmp_path / "bad.c", "int ok(void) { return 1; }\n\nint f(int x) { return x }\n")
    with pytest.raises(ndffi.BuildError) as info:
        ndffi.build([src])
    err = info.value
    assert isinstance(err, RuntimeError)
    msg = str(err)
    assert "bad.c:3:" in msg and "error" in msg
    assert "command:" in msg and "-fPIC" in msg and "bad.c" in msg
    first = [d for d in err.diagnostics if d.severity == "error"][0]
    assert (os.path.basename(first.file), first.line) == ("bad.c", 3)
    assert first.column is not None
    assert err.command and err.returncode != 0
    assert not any((cache / "build").iterdir())  # nothing half-built left behind


def test_inline_error_names_the_inline_file():
    with pytest.raises(ndffi.BuildError) as info:
        ndffi.inline("int broken(void) { return 1 }", name="brk")
    assert "brk.c:1:" in str(info.value)


def test_link_error(tmp_path):
    src = write(tmp_path / "lnk.c", "int lnk(void) { return 0; }\n")
    with pytest.raises(ndffi.BuildError, match="linking liblnk.so failed") as info:
        ndffi.build([src], libraries=["ndffi_no_such_library"])
    assert "-lndffi_no_such_library" in str(info.value)


def test_undefined_symbol_is_reported_at_load(tmp_path):
    src = write(tmp_path / "undef.c", "int ndffi_nowhere(void);\nint undef(void) { return ndffi_nowhere(); }\n")
    with pytest.raises(ndffi.BuildError, match="ndffi_nowhere.*libraries="):
        ndffi.build([src])


def test_missing_compiler_says_what_to_install(tmp_path, monkeypatch):
    src = write(tmp_path / "x.c", "int x(void) { return 0; }\n")
    monkeypatch.setenv("CC", "/nonexistent/ndffi-cc")
    with pytest.raises(ndffi.BuildError, match=r"\$CC='/nonexistent/ndffi-cc' was not found.*install"):
        ndffi.build([src])
    monkeypatch.delenv("CC")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ndffi.BuildError, match=r"no C compiler found.*apt-get install gcc"):
        ndffi.build([src])
    with pytest.raises(ndffi.BuildError, match=r"no C\+\+ compiler found.*g\+\+"):
        ndffi.build([src], lang="c++")


def test_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.c"):
        ndffi.build([tmp_path / "nothere.c"])
    src = write(tmp_path / "y.c", "int y(void) { return 0; }\n")
    with pytest.raises(ValueError, match="lang"):
        ndffi.build([src], lang="fortran")
    with pytest.raises(ValueError, match="macro name"):
        ndffi.build([src], defines={"not a name": 1})
    with pytest.raises(ValueError, match="library name"):
        ndffi.build([src], name="../escape")
    with pytest.raises(TypeError):
        ndffi.inline(b"int z(void) { return 0; }")


def test_cache_dir_location(monkeypatch, tmp_path):
    assert _build.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("NDFFI_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert _build.cache_dir() == tmp_path / "xdg" / "ndffi"


# ---- concurrency ------------------------------------------------------------------------


def _build_in_process(src, cache, barrier, results):
    os.environ["NDFFI_CACHE_DIR"] = cache
    import ndffi as nd

    from ndffi import building as b
    from ndffi._support import compiler

    runs = []
    real = compiler.run
    compiler.run = lambda cmd, **kw: runs.append(cmd) or real(cmd, **kw)
    compiler.find("c")  # the compiler's --version before the race
    barrier.wait(timeout=60)
    try:
        built = b.compile_library([src])
        lib = nd.build([src])
        results.put(("ok", lib.path, lib.fib(12), built.compiled, len(runs)))
    except BaseException as exc:  # report, the parent asserts
        results.put(("error", repr(exc), None, None, None))


def test_concurrent_builds_of_the_same_key_from_four_processes(tmp_path, cache):
    src = str(write(tmp_path / "fibonacci.c", open(os.path.join(EXAMPLES, "fibonacci.c")).read()))
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_build_in_process, args=(src, str(cache), barrier, results))
             for _ in range(4)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(g[0] == "ok" for g in got), got
    assert len({g[1] for g in got}) == 1
    assert {g[2] for g in got} == {89}
    assert sum(g[3] for g in got) == 1  # exactly one build was renamed into place
    # They started together, so several compiled the same key at once (the race is real).
    assert sum(g[4] > 0 for g in got) >= 2
    names = entries(cache)
    assert len(names) == 1 and not names[0].startswith(".tmp-"), names
    libs = list((cache / "build").rglob("*.so"))
    assert len(libs) == 1


def test_header_error_reports_the_diagnostics_only(tmp_path):
    write(tmp_path / "h.h", "#error not this header\nint f(void);\n")
    src = write(tmp_path / "f.c", "int f(void) { return 1; }\n")
    with pytest.raises(ndffi.BuildError, match="preprocessing h.h failed") as info:
        ndffi.build([src], header=tmp_path / "h.h")
    msg = str(info.value)
    assert "h.h:1:2: error: #error not this header" in msg
    assert "<built-in>" not in msg  # not the preprocessed text


LAYOUT_ATTRS_SRC = """
#include <stddef.h>
struct __attribute__((packed)) pk { char c; int i; };
struct al { char c; int i __attribute__((aligned(16))); };
#pragma pack(push, 1)
struct pp { char c; int i; };
#pragma pack(pop)
#pragma pack(2)
typedef struct { char c; double d; } p2;
#pragma pack()
typedef struct { char c; _Alignas(8) int i; } ta;
typedef long long ll4 __attribute__((aligned(4)));
struct lt { char c; ll4 x; } __attribute__((aligned(32)));
struct np { char c; int i; };
size_t sizes(int k) {
  size_t s[] = {sizeof(struct pk), sizeof(struct al), sizeof(struct pp), sizeof(p2), sizeof(ta),
                sizeof(struct lt), offsetof(struct lt, x), sizeof(struct np)};
  return s[k];
}
"""


def test_declared_types_keep_what_changes_their_layout(module_cache):
    """Types read from the sources keep packed, aligned(n), _Alignas and the #pragma pack
    in effect where they are defined: without them every size and offset was the natural
    one, and C and Python disagreed about the memory."""
    lib = ndffi.inline(LAYOUT_ATTRS_SRC)
    names = ["struct pk", "struct al", "struct pp", "p2", "ta", "struct lt"]
    got = [lib.sizeof(n) for n in names] + [lib.types["struct lt"].dtype.fields["x"][1], lib.sizeof("struct np")]
    assert got == [lib.sizes(k) for k in range(8)] == [5, 32, 5, 10, 16, 32, 4, 8]
