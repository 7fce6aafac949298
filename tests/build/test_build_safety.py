"""What ndffi's build, load and cache layer must never do: change a file ndffi did not
write, run old code after an edit, trust a damaged or foreign cache entry, lose a path
in an unusual encoding.  Every test builds with the real compiler into its own cache."""

import ctypes
import json
import os
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import ndffi
from ndffi import building as _build
from ndffi._support import compiler
from ndffi.building import cache as _build_cache
from ndffi._support import cache as _cache
from ndffi import headers as _headers
from ndffi.building.output import OutputExists
from ndffi.errors import BuildWarning, CacheWarning

POSIX = hasattr(os, "getuid")
posix_only = pytest.mark.skipif(not POSIX, reason="POSIX ownership and permissions")
CC = os.environ.get("CC", "cc")


@pytest.fixture(autouse=True)
def _own_cache(cache):
    """Every test builds into its own cache directory (conftest's ``cache``)."""


def write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def gcc_shared(src, out):
    subprocess.run([CC, "-shared", "-fPIC", "-o", str(out), str(src)], check=True)


def ndffi_cmd(*args, cwd, cache):
    env = dict(os.environ, NDFFI_CACHE_DIR=str(cache))
    return subprocess.run([sys.executable, "-m", "ndffi", *map(str, args)], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=300)


def results(cache):
    root = cache / "build"
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.exists() else []


SCI_H = "#include <stddef.h>\ndouble sci_sum(const double *x, size_t n);\n"
SCI_C = ('#include "sci.h"\n'
         "double sci_sum(const double *x, size_t n) {\n"
         "    double s = 0; for (size_t i = 0; i < n; i++) s += x[i]; return s;\n}\n")


# ---- never change a file ndffi did not write ----------------------------------------------


def test_build_refuses_to_overwrite_the_users_header(tmp_path, cache):
    write(tmp_path / "sci.h", SCI_H)
    write(tmp_path / "sci.c", SCI_C)
    proc = ndffi_cmd("build", "sci.c", cwd=tmp_path, cache=cache)
    assert proc.returncode == 1
    assert "sci.h" in proc.stderr and "--force" in proc.stderr
    assert (tmp_path / "sci.h").read_text() == SCI_H        # the user's file, unchanged
    assert not (tmp_path / "libsci.so").exists()            # nothing written at all
    # The user's project still compiles.
    subprocess.run([CC, "-fsyntax-only", "sci.c"], cwd=tmp_path, check=True)
    # Elsewhere it builds.
    ok = ndffi_cmd("build", "sci.c", "-o", "build", cwd=tmp_path, cache=cache)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == ["build/libsci.so", "build/sci.h"]


def test_build_refuses_to_overwrite_the_users_library(tmp_path, cache):
    write(tmp_path / "own.c", "int own(void) { return 1; }\n")
    gcc_shared(tmp_path / "own.c", tmp_path / "libsci.so")   # the user's own libsci.so
    before = (tmp_path / "libsci.so").read_bytes()
    write(tmp_path / "src" / "sci.c", SCI_C.replace('#include "sci.h"', "#include <stddef.h>"))
    proc = ndffi_cmd("build", "src/sci.c", cwd=tmp_path, cache=cache)
    assert proc.returncode == 1 and "libsci.so" in proc.stderr
    assert (tmp_path / "libsci.so").read_bytes() == before
    assert not (tmp_path / "sci.h").exists()
    with pytest.raises(OutputExists, match="libsci.so"):
        ndffi.build([tmp_path / "src" / "sci.c"], output_dir=tmp_path)
    assert isinstance(OutputExists("x"), FileExistsError)
    assert (tmp_path / "libsci.so").read_bytes() == before


def test_force_replaces_and_then_the_files_are_ndffis(tmp_path, cache):
    write(tmp_path / "sci.h", SCI_H)
    write(tmp_path / "sci.c", SCI_C)
    forced = ndffi_cmd("build", "sci.c", "--force", cwd=tmp_path, cache=cache)
    assert forced.returncode == 0, forced.stderr
    header = (tmp_path / "sci.h").read_text()
    assert header.startswith("/* ndffi-generated: declarations of libsci.so (sha256 ")
    # ndffi's own files are replaced without --force when the code changes.
    (tmp_path / "sci.c").write_text(SCI_C.replace("double s = 0;", "double s = 1;"))
    again = ndffi_cmd("build", "sci.c", cwd=tmp_path, cache=cache)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "sci.h").read_text() != header


def test_a_library_rebuilt_by_the_user_is_not_replaced(tmp_path, cache):
    src = write(tmp_path / "k.c", "int k(void) { return 1; }\n")
    out = tmp_path / "out"
    ndffi.build([src], output_dir=out)
    gcc_shared(src, out / "libk.so")                     # make rebuilt it
    theirs = (out / "libk.so").read_bytes()
    write(src, "int k(void) { return 2; }\n")
    with pytest.raises(OutputExists, match="libk.so"):
        ndffi.build([src], output_dir=out)
    assert (out / "libk.so").read_bytes() == theirs
    assert ndffi.build([src], output_dir=out, force=True).k() == 2


@posix_only
def test_a_symlink_in_the_way_is_refused(tmp_path):
    src = write(tmp_path / "k.c", "int k(void) { return 1; }\n")
    target = write(tmp_path / "mine.h", "/* mine */\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "k.h").symlink_to(target)
    with pytest.raises(OutputExists, match="k.h"):
        ndffi.build([src], output_dir=out)
    assert target.read_text() == "/* mine */\n" and (out / "k.h").is_symlink()


def test_the_generated_header_compiles_alone_and_cdef_reads_it(tmp_path, cache):
    write(tmp_path / "types.h", """\
        #include <stddef.h>
        #include <stdint.h>
        #include <stdbool.h>
        #include <sys/types.h>
        typedef struct { int32_t id; double w; } item;
        """)
    src = write(tmp_path / "kinds.c", """\
        #include "types.h"
        size_t count(const item *items, size_t n) { return n; }
        uint8_t low(uint64_t x) { return (uint8_t) x; }
        bool odd(ssize_t x) { return x & 1; }
        int64_t total = 7;
        """)
    out = tmp_path / "out"
    built = _build.compile_library([src], output_dir=out)
    header = out / "kinds.h"
    assert built.output_header == header
    subprocess.run([CC, "-fsyntax-only", "-Wall", "-Werror", str(header)], check=True)
    text = header.read_text()
    for h in ("stddef.h", "stdint.h", "sys/types.h"):
        assert f"#include <{h}>" in text
    assert "extern int64_t total;" in text
    lib = ndffi.load("libkinds", out).cdef(text)
    assert lib.low(0x1FF) == 0xFF and lib.odd(3) is True and lib.total == 7


# ---- after an edit, the new code runs ---------------------------------------------------


def test_rebuild_into_the_same_output_dir_runs_the_new_code(tmp_path):
    src = tmp_path / "v.c"
    out = tmp_path / "out"
    libs = []
    for v in (1, 2, 1, 3):
        write(src, f"int v(void) {{ return {v}; }}\n")
        lib = ndffi.build([src], output_dir=out)
        assert lib.v() == v
        libs.append(lib)
    assert [lib.v() for lib in libs] == [1, 2, 1, 3]   # each keeps its own code
    assert ndffi.load("libv", out).cdef("int v(void);").v() == 3


def test_inline_of_a_name_again_runs_the_new_code(tmp_path):
    for v in (1, 2):
        lib = ndffi.inline(f"int w(void) {{ return {v}; }}", name="w", output_dir=tmp_path)
        assert lib.w() == v


def test_another_process_rebuilding_the_output(tmp_path, cache):
    src = write(tmp_path / "v.c", "int v(void) { return 1; }\n")
    out = tmp_path / "out"
    assert ndffi.build([src], output_dir=out).v() == 1
    write(src, "int v(void) { return 2; }\n")
    proc = ndffi_cmd("build", src, "-o", out, cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert ndffi.load(out / "libv.so").cdef("int v(void);").v() == 2
    write(src, "int v(void) { return 3; }\n")
    assert ndffi.build([src], output_dir=out).v() == 3


INCBIN_C = (
    '__asm__(".section .rodata\\n.global blob\\nblob: .incbin \\"{blob}\\"\\n.text\\n");\n'
    "extern const unsigned char blob[];\n"
    "int first(void) {{ return blob[0]; }}\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="GNU assembler syntax")
def test_a_file_the_assembler_reads_is_read_again_after_an_edit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blob = tmp_path / "blob.bin"
    src = write(tmp_path / "e.c", INCBIN_C.format(blob="blob.bin"))
    for v in (1, 2, 1):
        blob.write_bytes(bytes([v]))
        assert ndffi.build([src], output_dir=tmp_path / "out").first() == v
        assert ndffi.inline(INCBIN_C.format(blob=blob), name="incb", output_dir=tmp_path / "il").first() == v


def test_load_of_a_library_rebuilt_by_gcc_loads_the_new_one(tmp_path):
    src = write(tmp_path / "r.c", "int r(void) { return 1; }\n")
    path = tmp_path / "libr.so"
    gcc_shared(src, path)
    first = ndffi.load(path).cdef("int r(void);")
    assert first.r() == 1 and first.path == str(path)
    write(src, "int r(void) { return 2; }\n")
    gcc_shared(src, path)
    second = ndffi.load(str(path)).cdef("int r(void);")
    assert second.r() == 2
    assert first.r() == 1   # the first Library keeps its own code
    write(src, "int r(void) { return 3; }\n")
    gcc_shared(src, path)
    assert ndffi.load("libr", tmp_path).cdef("int r(void);").r() == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps")
def test_load_of_a_library_ctypes_loaded_before_it_changed(tmp_path):
    src = write(tmp_path / "c.c", "int c(void) { return 1; }\n")
    path = tmp_path / "libc_first.so"
    gcc_shared(src, path)
    assert ctypes.CDLL(str(path)).c() == 1
    write(src, "int c(void) { return 2; }\n")
    gcc_shared(src, path)
    assert ndffi.load(str(path)).cdef("int c(void);").c() == 2


def test_load_by_name_through_the_system_search_is_unchanged():
    lib = ndffi.load("m").cdef("double cos(double);")
    assert lib.cos(0.0) == 1.0 and "ndffi-loaded" not in lib.path


# ---- the cache key is the files the compiler read ---------------------------------------


def test_header_through_cflags_include_dir(tmp_path, compiler_runs):
    write(tmp_path / "inc" / "k.h", "#define K 1\n")
    src = write(tmp_path / "k.c", '#include "k.h"\nint k(void) { return K; }\n')
    flags = [f"-I{tmp_path / 'inc'}"]
    assert ndffi.build([src], cflags=flags).k() == 1
    del compiler_runs[:]
    assert ndffi.build([src], cflags=flags).k() == 1
    assert compiler_runs == []                       # unchanged: no compiler
    write(tmp_path / "inc" / "k.h", "#define K 2\n")
    assert ndffi.build([src], cflags=flags).k() == 2


def test_computed_include_and_forced_include(tmp_path):
    inc = tmp_path / "inc"
    write(inc / "one.h", "#define H 10\n")
    write(inc / "pre.h", "#define P 1\n")
    src = write(tmp_path / "h.c", "#include HDR\nint h(void) { return H + P; }\n")
    opts = dict(cflags=["-I", str(inc), "-include", str(inc / "pre.h")],
                defines={"HDR": '"one.h"'})
    assert ndffi.build([src], **opts).h() == 11
    write(inc / "one.h", "#define H 20\n")
    assert ndffi.build([src], **opts).h() == 21
    write(inc / "pre.h", "#define P 5\n")
    assert ndffi.build([src], **opts).h() == 25


def test_same_sources_elsewhere_read_their_own_headers(tmp_path, monkeypatch):
    for d, v in (("a", 1), ("b", 2)):
        write(tmp_path / d / "k.h", f"#define K {v}\n")
        write(tmp_path / d / "k.c", '#include "k.h"\nint k(void) { return K; }\n')
        write(tmp_path / d / "inc" / "j.h", f"#define J {v * 10}\n")
        write(tmp_path / d / "j.c", '#include "j.h"\nint j(void) { return J; }\n')
    assert ndffi.build([tmp_path / "a" / "k.c"]).k() == 1
    assert ndffi.build([tmp_path / "b" / "k.c"]).k() == 2
    # A relative -I is relative to the working directory.
    for d, v in (("a", 10), ("b", 20)):
        monkeypatch.chdir(tmp_path / d)
        assert ndffi.build(["j.c"], cflags=["-Iinc"]).j() == v


def test_parse_depfile_unquotes_as_make_does():
    data = (b"ndffi: /a/x.c /dir\\ with\\ space/h.h \\\n /q/\\#hash.h /d/$$dollar.h \\\n"
            b" /b/back\\\\\\ slash.h /c/\\x.h\n")
    assert _build_cache.parse_depfile(data) == [
        b"/a/x.c", b"/dir with space/h.h", b"/q/#hash.h", b"/d/$dollar.h",
        b"/b/back\\ slash.h", b"/c/\\x.h"]
    assert _build_cache.parse_depfile(b"garbage") is None


# ---- paths in any encoding ----------------------------------------------------------------


def _dirs_the_fs_allows(tmp_path):
    names = ["José", 'sp ace "q"', "h#sh $dollar", "-dash"]
    if sys.platform.startswith("linux"):
        names.append(os.fsdecode(b"bad\xff"))   # not UTF-8: Linux file systems allow it
    made = []
    for name in names:
        try:
            (tmp_path / name).mkdir()
            made.append(name)
        except (OSError, UnicodeEncodeError):
            pass
    return made


def test_sources_under_unusual_paths_build_declare_and_rebuild(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i, name in enumerate(_dirs_the_fs_allows(tmp_path)):
        d = tmp_path / name
        write(d / "x.h", f"#define X {i}\n")
        src = write(d / "café.c", f'#include "x.h"\nint fx{i}(void) {{ return X; }}\n')
        with warnings.catch_warnings():
            warnings.simplefilter("error", BuildWarning)
            lib = ndffi.build([src])
        assert getattr(lib, f"fx{i}")() == i, name
        write(d / "x.h", f"#define X {i + 100}\n")
        assert getattr(ndffi.build([src]), f"fx{i}")() == i + 100, name
        rel = ndffi.build([os.path.join(name, "café.c")])        # a relative path too
        assert getattr(rel, f"fx{i}")() == i + 100, name


def test_a_build_that_finds_no_function_warns(tmp_path):
    src = write(tmp_path / "none.c", "static int hidden(void) { return 1; }\n"
                                      "int use(void);\n")
    with pytest.warns(BuildWarning, match="no function"):
        ndffi.build([src])
    cxx = write(tmp_path / "plain.cpp", "int f(int x) { return x; }\n")
    with pytest.warns(BuildWarning, match='extern "C"'):
        ndffi.build([cxx])


def test_load_of_a_path_that_is_not_utf8(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("a file name that is not UTF-8")
    d = tmp_path / os.fsdecode(b"lib\xfe")
    d.mkdir()
    src = write(d / "u.c", "int u(void) { return 9; }\n")
    gcc_shared(src, d / "libu.so")
    assert ndffi.load(os.fsencode(d / "libu.so")).cdef("int u(void);").u() == 9
    assert ndffi.load(str(d / "libu.so")).cdef("int u(void);").u() == 9


# ---- a damaged cache entry is rebuilt ------------------------------------------------------


def _damage(path, how, other):
    if path.is_dir() and not path.is_symlink():
        import shutil
        shutil.rmtree(path)
    else:
        path.unlink()
    if how == "truncated":
        whole = other if other.is_file() else next(f for f in other.iterdir() if f.is_file())
        path.write_bytes(whole.read_bytes()[:100])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "random":
        path.write_bytes(os.urandom(5000))
    elif how == "directory":
        path.mkdir()
    elif how == "symlink":
        path.symlink_to(other)


DAMAGE = ["truncated", "empty", "random", "directory", "symlink"]


@pytest.mark.parametrize("how", DAMAGE + ["wrong version"])
@pytest.mark.parametrize("part", ["library", "record", "entry"])
def test_a_damaged_build_entry_is_rebuilt(tmp_path, cache, how, part):
    other = ndffi.build([write(tmp_path / "o" / "f.c", "int f(void) { return 666; }\n")])
    src = write(tmp_path / "f.c", "int f(void) { return 1; }\n")
    assert ndffi.build([src]).f() == 1
    entry = next(p for p in results(cache) if p != Path(other.path).parent)
    target = {"library": entry / "libf.so", "record": entry / "entry.ndffi", "entry": entry}[part]
    source = {"library": Path(other.path), "record": Path(other.path).parent / "entry.ndffi",
              "entry": Path(other.path).parent}[part]
    if how == "wrong version":
        record = json.loads(_cache.read_record(entry / "entry.ndffi"))
        record["format"] -= 1
        _cache.write_record(entry / "entry.ndffi", json.dumps(record).encode())
    else:
        _damage(target, how, source)
    built = _build.compile_library([src])
    assert built.compiled                            # a miss: rebuilt ...
    assert ndffi.load(built.library).cdef("int f(void);").f() == 1
    assert _build_cache.read_entry(built.entry, _build._FORMAT) is not None   # ... and replaced
    assert not built.entry.is_symlink() and not built.library.is_symlink()


def test_a_damaged_compiler_version_entry_is_asked_again(tmp_path, cache):
    src = write(tmp_path / "f.c", "int f(void) { return 1; }\n")
    compiler._versions.clear()
    compiler._compilers.clear()
    ndffi.build([src])
    for f in (cache / "compilers").iterdir():
        f.write_bytes(b"\x00garbage")
    compiler._versions.clear()
    compiler._compilers.clear()
    assert ndffi.build([src]).f() == 1


needs_libclang = pytest.mark.skipif(_headers.libclang_version() is None,
                                    reason="needs libclang (pip install libclang)")


@needs_libclang
@pytest.mark.parametrize("how", DAMAGE + ["wrong version"])
def test_a_damaged_header_cache_entry_is_imported_again(tmp_path, cache, how):
    header = write(tmp_path / "answer.h", "#define ANSWER 42\nint abs(int);\n")
    other = write(tmp_path / "other.h", "#define OTHER 1\n")
    assert ndffi.load(None, header=str(other)).OTHER == 1
    others = set(cache.glob("*.model"))
    assert ndffi.load(None, header=str(header)).ANSWER == 42
    (model,) = set(cache.glob("*.model")) - others
    if how == "wrong version":
        import marshal
        _cache.write_record(model, marshal.dumps({"format": -1, "hashes": [], "model": {}}))
    else:
        _damage(model, how, next(iter(others)))
    for _ in range(2):   # every later run works, and the entry was replaced
        lib = ndffi.load(None, header=str(header))
        assert lib.ANSWER == 42 and lib.abs(-3) == 3
        assert _cache.read_record(model) is not None and not model.is_symlink()


# ---- a cache another user can write is not trusted ----------------------------------------


@posix_only
def test_cache_directories_are_private(tmp_path, cache):
    compiler._versions.clear()
    compiler._compilers.clear()
    ndffi.build([write(tmp_path / "f.c", "int f(void) { return 1; }\n")])
    for d in (cache, cache / "build", cache / "compilers"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    for f in cache.rglob("*"):
        if f.is_file():
            assert not f.stat().st_mode & 0o022, f


@posix_only
@pytest.mark.parametrize("hostile", ["world-writable", "group-writable", "other owner",
                                     "writable parent"])
def test_an_untrusted_cache_directory_is_bypassed(tmp_path, monkeypatch, hostile):
    if hostile == "other owner" and os.getuid() != 0:
        pytest.skip("needs root to give a directory to another user")
    base = tmp_path / "shared"
    cache = base / "cache"
    monkeypatch.setenv("NDFFI_CACHE_DIR", str(cache))
    src = write(tmp_path / "f.c", "int f(void) { return 1; }\n")
    assert ndffi.build([src]).f() == 1
    entry = _tamper_in(cache, src)
    if hostile == "world-writable":
        cache.chmod(0o777)
    elif hostile == "group-writable":
        cache.chmod(0o770)
    elif hostile == "other owner":
        os.chown(cache, 65534, 65534)
    else:
        base.chmod(0o777)
    with pytest.warns(CacheWarning, match=str(base)):
        lib = ndffi.build([src])
    assert lib.f() == 1                                   # not the planted library
    assert not lib.path.startswith(str(cache))
    assert results(cache) == [entry]                      # nothing written there
    assert [p.name for p in (cache / "build").iterdir()] == [entry.name]


def _tamper_in(cache, src):
    (entry,) = results(cache)
    lib = entry / "libf.so"
    evil_src = write(src.parent / "evil" / "f.c", "int f(void) { return 666; }\n")
    lib.unlink()
    gcc_shared(evil_src, lib)
    record = json.loads(_cache.read_record(entry / "entry.ndffi"))
    record["library_sha256"] = _cache.file_digest(lib)
    _cache.write_record(entry / "entry.ndffi", json.dumps(record).encode())
    assert ndffi.build([src]).f() == 666   # the tampering works on a trusted cache ...
    return entry


@posix_only
def test_an_entry_others_can_write_is_not_used(tmp_path, cache):
    src = write(tmp_path / "f.c", "int f(void) { return 1; }\n")
    ndffi.build([src])
    entry = _tamper_in(cache, src)
    (entry / "libf.so").chmod(0o666)
    lib = ndffi.build([src])
    assert lib.f() == 1 and not (Path(lib.path).stat().st_mode & 0o022)


@posix_only
@needs_libclang
def test_an_untrusted_header_cache_is_not_read_or_written(tmp_path, cache):
    cache.mkdir(mode=0o700)
    cache.chmod(0o777)
    header = write(tmp_path / "answer.h", "#define ANSWER 42\n")
    with pytest.warns(CacheWarning):
        assert ndffi.load(None, header=str(header)).ANSWER == 42
    assert list(cache.glob("*.model")) == []


@posix_only
def test_a_symlinked_cache_owned_by_another_user_is_not_trusted(tmp_path, monkeypatch):
    if os.getuid() != 0:
        pytest.skip("needs root to make a link another user owns")
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    link = sticky / "cache"
    link.symlink_to(real)
    os.lchown(link, 65534, 65534)   # another user can point it elsewhere at any time
    monkeypatch.setenv("NDFFI_CACHE_DIR", str(link))
    src = write(tmp_path / "f.c", "int f(void) { return 1; }\n")
    with pytest.warns(CacheWarning, match="symbolic link"):
        assert ndffi.build([src]).f() == 1
    assert list(real.iterdir()) == []


@posix_only
def test_a_read_only_cache_builds_without_it(tmp_path, cache):
    if os.getuid() == 0:
        pytest.skip("root writes into read-only directories")
    src = write(tmp_path / "f.c", "int f(void) { return 1; }\n")
    ndffi.build([src])
    (cache / "build").chmod(0o500)
    try:
        write(src, "int f(void) { return 2; }\n")
        assert ndffi.build([src]).f() == 2
    finally:
        (cache / "build").chmod(0o700)


def test_cdef_reads_the_standard_includes_of_a_generated_header():
    ns = ndffi.Namespace()
    ns.cdef("#include <stddef.h>\n#include <stdint.h>\n#include <stdbool.h>\n"
            "#include <sys/types.h>\nsize_t f(int32_t a, bool b, ssize_t c);\n")
    assert ns.decl("f")[1] == "size_t f(int32_t a, bool b, ssize_t c)"
    for other in ('#include "mine.h"\n', "#include <stdio.h>\n", "#include <stddef.h> x\n"):
        with pytest.raises(ndffi.CDefError, match="include"):
            ndffi.Namespace().cdef(other)
