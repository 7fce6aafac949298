"""Real C headers through libclang: ndffi.load(..., header=...), the cache, generated
modules with stubs, and inspect.

Acceptance: zlib (compress/uncompress, crc32 and the deflate stream on NumPy arrays),
sqlite3 (prepared statements binding text with SQLITE_TRANSIENT, sqlite3_exec with a
Python callback), libm through math.h.  tests/clib/include/hdrtest.h holds what real
headers have (bit-fields, packing, anonymous unions, macros of every kind), and its
library reports the C compiler's layouts to compare with.
"""

import math
import os
import pathlib
import pickle
import shutil
import subprocess
import sys
import textwrap
import zlib as pyzlib

import numpy as np
import pytest

import ndffi
from ndffi import headers as _headers

HERE = pathlib.Path(__file__).resolve().parents[1]
INCLUDE = HERE / "clib" / "include"
HDRTEST_H = INCLUDE / "hdrtest.h"


def _has_header(name):
    return any(os.path.isfile(os.path.join(d, name)) for d in _headers.compiler_include_dirs())


needs_zlib = pytest.mark.skipif(not _has_header("zlib.h"), reason="zlib.h not installed (zlib1g-dev)")
needs_sqlite = pytest.mark.skipif(not _has_header("sqlite3.h"), reason="sqlite3.h not installed (libsqlite3-dev)")


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """Every test of this module caches in a directory of its own."""
    d = tmp_path_factory.mktemp("ndffi-headers-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NDFFI_CACHE_DIR", str(d))
        yield d


@pytest.fixture(scope="module")
def z(cache_dir):
    return ndffi.load("z", header="zlib.h")


@pytest.fixture(scope="module")
def sq(cache_dir):
    return ndffi.load("sqlite3", header="sqlite3.h")


@pytest.fixture(scope="module")
def hdr(cache_dir, clib_dir):
    return ndffi.load("hdrtest", clib_dir, header=str(HDRTEST_H), include_dirs=[INCLUDE], defines={"HDRTEST_DLL": 1})


def _env(cache_dir):
    env = dict(os.environ, NDFFI_CACHE_DIR=str(cache_dir), OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONSAFEPATH", None)
    return env


def _run(code, cache_dir, cwd=None, check=True):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=_env(cache_dir), capture_output=True, text=True, cwd=cwd
    )
    if check and out.returncode != 0:
        raise AssertionError(f"subprocess failed:\n{out.stdout}\n{out.stderr}")
    return out


# ---- zlib -----------------------------------------------------------------------------


@needs_zlib
def test_zlib_constants_and_macros(z):
    assert (z.Z_OK, z.Z_STREAM_END, z.Z_BEST_COMPRESSION, z.Z_DEFAULT_COMPRESSION) == (0, 1, 9, -1)
    assert z.Z_NULL == 0
    assert z.ZLIB_VERSION == z.zlibVersion().string().decode()
    assert z.types.z_stream.size == 112 and z.types.z_stream.kind == "struct"
    assert "deflateInit" in z.header["function_macros"]
    assert z.header["function_macros"]["OF"]["forward"] is None  # listed, not callable
    with pytest.raises(AttributeError, match="function-like macro"):
        z.OF  # noqa: B018
    assert "gzgetc" in z.header["function_macros"] and "gzgetc" in z.header["functions"]
    assert isinstance(z.gzgetc, ndffi.Function)  # a macro, and a function of the library too


@needs_zlib
def test_zlib_compress_uncompress_on_arrays(z):
    buf = np.frombuffer(b"hello numpy " * 1000, np.uint8)
    n = z.new("unsigned long *", z.compressBound(buf.size))
    out = np.empty(n[0], np.uint8)
    assert z.compress2(out, n, buf, buf.size, z.Z_BEST_COMPRESSION) == z.Z_OK
    assert 0 < n[0] < buf.size // 10
    assert pyzlib.decompress(out[: n[0]].tobytes()) == buf.tobytes()

    back = np.zeros(buf.size, np.uint8)
    m = z.new("unsigned long *", back.size)
    assert z.uncompress(back, m, out, n[0]) == z.Z_OK
    assert m[0] == buf.size and np.array_equal(back, buf)

    small = np.zeros(10, np.uint8)
    m[0] = small.size
    assert z.uncompress(small, m, out, n[0]) == z.Z_BUF_ERROR


@needs_zlib
def test_zlib_checksums_on_arrays(z):
    data = np.arange(10000, dtype=np.uint32).view(np.uint8)
    assert z.crc32(0, data, data.size) == pyzlib.crc32(data.tobytes())
    assert z.adler32(1, data, data.size) == pyzlib.adler32(data.tobytes())
    assert z.crc32(0, None, 0) == 0


@needs_zlib
def test_zlib_stream_through_the_deflateInit_macro(z):
    data = np.frombuffer(b"stream me " * 3000, np.uint8)
    out = np.zeros(2000, np.uint8)
    strm = z.types.z_stream()
    with pytest.raises(TypeError, match="read-only"):  # next_in is 'Bytef *', not const
        strm.next_in = data
    data = data.copy()
    assert z.deflateInit(strm, z.Z_BEST_COMPRESSION) == z.Z_OK  # deflateInit_(strm, 9, ZLIB_VERSION, 112)
    strm.next_in, strm.avail_in = z.cast("Bytef *", data), data.size
    strm.next_out, strm.avail_out = z.cast("Bytef *", out), out.size
    assert z.deflate(strm, z.Z_FINISH) == z.Z_STREAM_END
    assert z.deflateEnd(strm) == z.Z_OK
    assert pyzlib.decompress(out[: strm.total_out].tobytes()) == data.tobytes()
    with pytest.raises(TypeError, match="takes 2 arguments"):
        z.deflateInit(strm)


# ---- sqlite3 --------------------------------------------------------------------------


def _sqlite_table(sq):
    pp = sq.new("sqlite3 **")
    assert sq.sqlite3_open(b":memory:", pp) == sq.SQLITE_OK
    db = pp[0]
    err = sq.new("char **")
    assert sq.sqlite3_exec(db, b"create table people (id integer, name text)", None, None, err) == sq.SQLITE_OK
    st = sq.new("sqlite3_stmt **")
    assert sq.sqlite3_prepare_v2(db, b"insert into people values (?, ?)", -1, st, None) == sq.SQLITE_OK
    stmt = st[0]
    for i, name in enumerate(["ada", "grace", "édouard"]):
        text = bytearray(name.encode())  # overwritten below: SQLITE_TRANSIENT made sqlite copy it
        assert sq.sqlite3_bind_int(stmt, 1, i) == sq.SQLITE_OK
        assert sq.sqlite3_bind_text(stmt, 2, text, len(text), sq.SQLITE_TRANSIENT) == sq.SQLITE_OK
        text[:] = b"X" * len(text)
        assert sq.sqlite3_step(stmt) == sq.SQLITE_DONE
        assert sq.sqlite3_reset(stmt) == sq.SQLITE_OK
    assert sq.sqlite3_finalize(stmt) == sq.SQLITE_OK
    return db


@needs_sqlite
def test_sqlite3_prepared_statements(sq):
    assert sq.SQLITE_TRANSIENT.address == 2**64 - 1 and not sq.SQLITE_STATIC
    assert (
        sq.SQLITE_TRANSIENT.ctype == sq.typeof("sqlite3_destructor_type")
        if hasattr(sq.SQLITE_TRANSIENT, "ctype")
        else True
    )
    db = _sqlite_table(sq)
    st = sq.new("sqlite3_stmt **")
    assert sq.sqlite3_prepare_v2(db, b"select id, name from people order by id", -1, st, None) == sq.SQLITE_OK
    rows = []
    while sq.sqlite3_step(st[0]) == sq.SQLITE_ROW:
        rows.append((sq.sqlite3_column_int(st[0], 0), sq.sqlite3_column_text(st[0], 1).string().decode()))
    assert rows == [(0, "ada"), (1, "grace"), (2, "édouard")]
    assert sq.sqlite3_finalize(st[0]) == sq.SQLITE_OK
    assert sq.sqlite3_close(db) == sq.SQLITE_OK
    assert sq.SQLITE_VERSION == sq.sqlite3_libversion().string().decode()


@needs_sqlite
@pytest.mark.skipif(not hasattr(ndffi, "callback"), reason="needs ndffi.callback")
def test_sqlite3_exec_with_a_python_callback(sq):
    db = _sqlite_table(sq)
    rows = []

    def collect(context, ncols, values, names):
        rows.append({names[i].string().decode(): values[i].string().decode() for i in range(ncols)})
        return 0

    callback = ndffi.callback("int(void *, int, char **, char **)", collect)
    err = sq.new("char **")
    assert (
        sq.sqlite3_exec(db, b"select id, name from people where id > 0 order by id", callback, None, err)
        == sq.SQLITE_OK
    )
    assert rows == [{"id": "1", "name": "grace"}, {"id": "2", "name": "édouard"}]
    assert sq.sqlite3_close(db) == sq.SQLITE_OK


@needs_sqlite
def test_sqlite3_declarations(sq):
    proto = sq.sqlite3_exec.__doc__ or repr(sq.sqlite3_exec)
    assert "sqlite3_exec" in proto
    assert sq.header["declarations"]["sqlite3_exec"] == (
        "int sqlite3_exec(sqlite3 *, const char *sql, int (*callback)(void *, int, char **, char **), "
        "void *, char **errmsg);"
    )
    assert "sqlite3_vmprintf" in sq.header["functions"]  # va_list parameter
    assert sq.header["declarations"]["sqlite3_mprintf"].endswith("...);")
    assert sq.types.sqlite3_vfs.size == sq.types["struct sqlite3_vfs"].size
    assert isinstance(sq.sqlite3_version, ndffi.Pointer)  # extern const char sqlite3_version[]


# ---- libm -----------------------------------------------------------------------------


def test_libm_through_math_h(cache_dir):
    m = ndffi.load("m", header="math.h")
    assert m.cos(0.0) == 1.0 and m.sqrt(2.0) == math.sqrt(2.0)
    assert m.M_PI == math.pi and m.M_E == math.e
    assert m.HUGE_VAL == math.inf and math.isnan(m.NAN)
    e = m.new("int *")
    assert m.frexp(12.0, e) == 0.75 and e[0] == 4
    assert m.ldexp(0.75, 4) == 12.0
    assert m.fabsf(-2.5) == 2.5
    assert m.FP_NAN == 0 and m.types["double_t"].size == 8
    assert "cos" in m.header["functions"] and not any(n.startswith("__") for n in m.header["functions"])
    assert "printf" not in m.header["functions"]  # only what math.h itself declares


def test_libc_through_stdio_h(cache_dir):
    libc = ndffi.load(None, header="stdio.h")
    buf = bytearray(32)
    assert libc.snprintf(buf, len(buf), b"%d-%s", 42, b"x") == 4 and buf[:5] == b"42-x\0"
    n = libc.new("int *")
    assert libc.sscanf(b"17", b"%d", n) == 1 and n[0] == 17  # sscanf binds __isoc99_sscanf
    assert libc.header["aliases"]["sscanf"] == "__isoc99_sscanf"
    assert libc.EOF == -1 and libc.BUFSIZ > 0
    assert libc.types.FILE.kind == "struct"


# ---- a header with everything ---------------------------------------------------------

STRUCTS = {
    "struct packed2": ["c", "d", "i"],
    "struct packed1": ["c", "i", "s"],
    "struct aligned": ["c", "i"],
    "struct polygon": ["n", "corners", "flags", "tiny", "weights"],
    "struct flags": ["i", "color"],
    "struct wide": ["tag", "big", "ld"],
    "struct tagged": ["kind", "value"],
    "hdr_word": ["i", "b"],
}


def _offset(ctype, member):
    for name, ftype, offset, _bits in ctype.fields:
        if name == member:
            return offset
        if name == "" and ftype.fields:
            for inner, _t, inner_offset, _b in ftype.fields:
                if inner == member:
                    return offset + inner_offset
    raise KeyError(member)


def test_layouts_agree_with_the_c_compiler(hdr):
    for spelling, members in STRUCTS.items():
        t = hdr.types[spelling]
        assert t.size == hdr.hdr_layout(spelling.encode(), 0), spelling
        assert t.alignment == hdr.hdr_layout(spelling.encode(), 1), spelling
        for k, member in enumerate(members):
            assert _offset(t, member) == hdr.hdr_layout(spelling.encode(), 2 + k), (spelling, member)
    flags = dict((f[0], f) for f in hdr.types["struct flags"].fields)
    assert flags["ready"][3] == (0, 1) and flags["mode"][3] == (1, 3)
    assert flags["level"][2] == 4 and flags["level"][3] == (0, 5)  # after the zero-width bit-field
    assert hdr.types.hdr_size.HDR_LARGE == 1 << 20


def test_constants_and_defines(hdr, clib_dir):
    assert hdr.HDR_BUILD == 2  # defines={"HDRTEST_DLL": 1}
    assert hdr.HDR_VERSION == "2.5" and hdr.HDR_VERSION_NUM == (2 << 8 | 5)
    assert hdr.HDR_SCALE == 0.25 and hdr.HDR_TINY == 1.5
    assert hdr.HDR_BIG == 0xFFFFFFFFFF and hdr.HDR_NEG == -7 and hdr.HDR_CHAR == ord("A")
    assert hdr.HDR_POINT_SIZE == 16  # (int)sizeof(point), by clang
    assert hdr.types.hdr_color.HDR_RED == -1 and hdr.HDR_BLUE == 6
    assert hdr.HDR_TINY_B == 200 and hdr.typeof("struct polygon").fields[3][1].size == 1
    plain = ndffi.load("hdrtest", clib_dir, header=str(HDRTEST_H), include_dirs=[INCLUDE])
    assert plain.HDR_BUILD == 1


def test_calls(hdr):
    r = hdr.hdr_add(hdr.types.point(1.0, 2.0), (3.0, 4.5))
    assert (r.x, r.y) == (4.0, 6.5)
    assert hdr.hdr_sum(4, 1, 2, 3, 4) == 10
    assert hdr.hdr_version().string() == b"2.5"
    assert hdr.hdr_make(7) == 70  # hdr_make_(7, HDR_VERSION, HDR_POINT_SIZE)
    assert hdr.hdr_double(21) == 42  # #define hdr_double __hdr_double
    assert hdr.header["aliases"]["hdr_double"] == "__hdr_double"
    assert hdr.hdr_sentinel(hdr.HDR_SENTINEL) == 1 and hdr.hdr_sentinel(None) == 0
    assert hdr.hdr_pass(hdr.HDR_SENTINEL).address == 2**64 - 1
    a, b = hdr.new("struct node *"), hdr.new("struct node *")
    a[0].next = b
    assert hdr.hdr_count_nodes(a) == 2
    assert hdr.hdr_vec_sum(np.array([1, 2, 3], np.intc)) == 6  # typedef int vec3[3]
    assert hdr.hdr_word_of(0x01020304).b[0] == 4  # a union by value
    assert hdr.HDR_KIND_REAL == 1  # an anonymous enum's constant
    assert hdr.hdr_tagged_value({"kind": hdr.HDR_KIND_REAL, "value": {"r": 2.5}}) == 2.5
    assert hdr.hdr_counter == 3
    hdr.hdr_counter = 9
    assert hdr.hdr_counter == 9


def test_what_is_not_declared_says_why(hdr):
    skipped = hdr.header["skipped"]
    assert "_Complex" in skipped["hdr_complexl"] and "static" in skipped["hdr_inline"]
    with pytest.raises(AttributeError, match="_Complex"):
        hdr.hdr_complexl  # long double _Complex has no struct ABI to stand in  # noqa: B018
    with pytest.raises(AttributeError, match="function-like macro"):
        hdr.hdr_twice  # noqa: B018
    # #define HDR_TYPE unsigned long: a type, not a constant
    assert hdr.types.HDR_TYPE == hdr.typeof("unsigned long")
    with pytest.raises(AttributeError, match=r"'HDR_TYPE' is a type.*lib\.types\.HDR_TYPE"):
        hdr.HDR_TYPE  # noqa: B018
    assert "HDR_NOTHING" not in hdr.header["constants"]


def test_declarations_read_like_the_header(hdr):
    decls = hdr.header["declarations"]
    assert decls["hdr_vsum"] == "int hdr_vsum(int n, va_list ap);"
    assert decls["hdr_pass"] == "int (*hdr_pass(int (*fn)(void *, int)))(void *, int);"
    assert decls["hdr_print"] == "int hdr_print(FILE *out, const char *text);"
    assert decls["hdr_argc"] == "int hdr_argc(const char *const *argv);"
    assert decls["hdr_vec_sum"] == "int hdr_vec_sum(const vec3 v);"
    text = hdr.header["text"]
    assert "#pragma pack(push, 2)\nstruct packed2" in text
    assert "struct __attribute__((packed)) packed1" in text
    assert "int i __attribute__((aligned(16)))" in text
    assert "union { int32_t i; float f; };" in text  # the anonymous union
    assert "unsigned char big[16] __attribute__((aligned(16)))" in text  # __int128, as its bytes
    assert "struct _IO_FILE {" in text  # FILE, pulled in by hdr_print
    assert "printf" not in decls  # stdio.h is not hdrtest.h's own
    assert hdr.header["owned_files"] == sorted([str(HDRTEST_H), str(INCLUDE / "hdrtest_types.h")])


def test_functions_are_declared_when_first_used(hdr, clib_dir):
    assert "hdr_sum" in dir(hdr)
    lazy = hdr._declarations._lazy
    assert hdr.hdr_sum(1, 5) == 5 and "hdr_sum" not in lazy

    # Threads racing to declare the same functions all see them.
    import threading

    lib = ndffi.load("hdrtest", clib_dir, header=str(HDRTEST_H), include_dirs=[INCLUDE])
    names = ["hdr_sum", "hdr_version", "hdr_make_", "hdr_layout", "hdr_counter"]
    errors, start = [], threading.Barrier(8)

    def use():
        start.wait()
        try:
            for n in names:
                getattr(lib, n)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ---- the cache ------------------------------------------------------------------------


def test_cache_hit_needs_no_libclang(tmp_path):
    code = f"""
        import sys
        {"" if True else ""}
        block = len(sys.argv) > 1
        if block:
            sys.modules['clang'] = None           # libclang cannot be imported
        import ndffi
        z = ndffi.load('z', header='zlib.h')
        assert z.compressBound(1000) == 1013 and z.Z_OK == 0 and z.deflateInit.__name__ == 'deflateInit'
        loaded = sorted(m for m in sys.modules if m == 'clang' and sys.modules[m] is not None
                        or m.startswith(('clang.', 'ndffi.headers.libclang', 'ndffi.headers.translate')))
        print(loaded)
    """
    first = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=_env(tmp_path), capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert "ndffi.headers.translate" in first.stdout
    assert len(list(tmp_path.glob("*.model"))) == 1
    hit = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), "block"], env=_env(tmp_path), capture_output=True, text=True
    )
    assert hit.returncode == 0, hit.stderr
    assert hit.stdout.strip() == "[]"


def test_a_changed_include_imports_again(tmp_path, clib_dir, monkeypatch):
    monkeypatch.setenv("NDFFI_CACHE_DIR", str(tmp_path / "cache"))
    inc = tmp_path / "include"
    shutil.copytree(INCLUDE, inc)
    lib = ndffi.load("hdrtest", clib_dir, header=str(inc / "hdrtest.h"), include_dirs=[inc])
    assert not hasattr(lib, "HDR_EXTRA")
    again = ndffi.load("hdrtest", clib_dir, header=str(inc / "hdrtest.h"), include_dirs=[inc])
    assert again.header["text"] == lib.header["text"]
    # Change the file hdrtest.h includes, not hdrtest.h itself.
    types_h = inc / "hdrtest_types.h"
    types_h.write_text(types_h.read_text().replace("#endif", "#define HDR_EXTRA (40 + 2)\n#endif"))
    changed = ndffi.load("hdrtest", clib_dir, header=str(inc / "hdrtest.h"), include_dirs=[inc])
    assert changed.HDR_EXTRA == 42


def test_cache_keys_on_defines_and_include_dirs(tmp_path, clib_dir, monkeypatch):
    monkeypatch.setenv("NDFFI_CACHE_DIR", str(tmp_path))
    ndffi.load("hdrtest", clib_dir, header=str(HDRTEST_H), include_dirs=[INCLUDE])
    ndffi.load("hdrtest", clib_dir, header=str(HDRTEST_H), include_dirs=[INCLUDE], defines=["HDRTEST_DLL"])
    ndffi.load("hdrtest", clib_dir, header=str(HDRTEST_H), include_dirs=[INCLUDE])
    assert len(list(tmp_path.glob("*.model"))) == 2


# ---- errors ---------------------------------------------------------------------------


def test_missing_header_lists_where_it_looked(tmp_path):
    with pytest.raises(ndffi.HeaderError, match="no_such_header.h") as info:
        ndffi.load("z", header="no_such_header.h", include_dirs=[tmp_path])
    assert str(tmp_path) in str(info.value) and "/usr/include" in str(info.value)


def test_missing_include_and_syntax_errors(tmp_path):
    (tmp_path / "a.h").write_text('#include "not_there.h"\nint f(void);\n')
    with pytest.raises(ndffi.HeaderError, match="not_there.h' file not found"):
        ndffi.load(None, header=str(tmp_path / "a.h"))
    (tmp_path / "b.h").write_text("int f(void)\nint g(void);\n")
    with pytest.raises(ndffi.HeaderError, match=r"b.h:1:12: expected ';'"):
        ndffi.load(None, header=str(tmp_path / "b.h"))


def test_a_header_error_is_no_import_error(tmp_path):
    # the pattern of an optional import: a header that does not parse is not hidden by it
    (tmp_path / "c.h").write_text("int f(void)\nint g(void);\n")
    with pytest.raises(ndffi.HeaderError) as info:
        try:
            ndffi.load(None, header=str(tmp_path / "c.h"))
        except ImportError:
            pytest.fail("a HeaderError was caught as an ImportError")
    assert isinstance(info.value, ndffi.Error) and not isinstance(info.value, ImportError)
    assert type(info.value).__module__ == "ndffi"
    with pytest.raises(ndffi.HeaderNotFound) as missing:
        ndffi.load("z", header="no_such_header_either.h", include_dirs=[tmp_path])
    assert isinstance(missing.value, ndffi.HeaderError) and not isinstance(missing.value, ImportError)


def test_a_header_that_needs_another_first(tmp_path, cache_dir):
    h = tmp_path / "blob.h"
    h.write_text(
        "typedef struct { uint8_t tag; size_t len; } blob;\nsize_t confstr(int name, char *buf, size_t len);\n"
    )
    with pytest.raises(_headers.HeaderError) as info:
        ndffi.load(None, header=str(h))
    msg = str(info.value)
    assert "unknown type name 'uint8_t'" in msg and "unknown type name 'size_t'" in msg
    assert 'clang_args=["-include", "stddef.h", "-include", "stdint.h"]' in msg
    lib = ndffi.load(None, header=str(h), clang_args=["-include", "stddef.h", "-include", "stdint.h"])
    n = lib.confstr(0, None, 0)  # _CS_PATH: the length of the default PATH, with its NUL
    assert n > 1 and lib.sizeof("blob") == 16
    assert repr(lib.confstr) == "<ndffi.Function size_t confstr(int name, char *buf, size_t len)>"
    again = pickle.loads(pickle.dumps(lib.confstr))  # the arguments travel with it
    assert again(0, None, 0) == n
    # the command line takes them as --include
    cmd = [sys.executable, "-m", "ndffi.cli.headers", "generate", str(h), "-l", "c"]
    out = subprocess.run(cmd, env=_env(cache_dir), capture_output=True, text=True)
    assert out.returncode == 1 and "--include stddef.h --include stdint.h" in out.stderr
    out = subprocess.run(
        cmd + ["--include", "stddef.h", "--include", "stdint.h"], env=_env(cache_dir), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "'confstr'" in out.stdout and "typedef struct { uint8_t tag; size_t len; } blob;" in out.stdout


def test_a_layout_difference_is_an_internal_error_naming_the_type(monkeypatch):
    from ndffi.headers import types as _translate_types

    # Lose the #pragma pack the translation should carry: ndffi's layout of the struct
    # then differs from clang's, and the check must say which struct.
    monkeypatch.setattr(_translate_types.Translator, "_need_pack", lambda self, pack: None)
    with pytest.raises(
        _headers.LayoutMismatch,
        match=r"internal error: the layout ndffi computes for 'struct packed2' differs from clang's",
    ):  # noqa: E501
        _headers.import_header(str(HDRTEST_H), [INCLUDE], cache=False)


def test_pragma_pack_is_found_again_when_clang_hides_it(monkeypatch):
    from ndffi.headers import types as _translate_types

    # If the alignment test misses a #pragma pack, the check's retries find it.
    original = _translate_types.Translator._definition

    def forget(self, defn, head, key, tdname=""):
        self.layout_fixes.setdefault(key, (False, 0))
        return original(self, defn, head, key, tdname)

    monkeypatch.setattr(_translate_types.Translator, "_definition", forget)
    model = _headers.import_header(str(HDRTEST_H), [INCLUDE], cache=False)
    assert "#pragma pack(push, 2)\nstruct packed2" in model["text"]


def test_a_declaration_the_parser_refuses_is_skipped_not_fatal(monkeypatch):
    from ndffi.headers import types as _translate_types

    original = _translate_types.Translator.function

    def garble(self, c, name, fid, symbol=None):
        original(self, c, name, fid, symbol)
        if name == "hdr_sum":
            self.decls[name] = "int hdr_sum(int n, ...) oops;"

    monkeypatch.setattr(_translate_types.Translator, "function", garble)
    model = _headers.import_header(str(HDRTEST_H), [INCLUDE], cache=False)
    assert "not accepted by ndffi's parser" in model["skipped"]["hdr_sum"]
    assert "hdr_sum" not in model["functions"] and "hdr_add" in model["functions"]


# ---- inspect --------------------------------------------------------------------------


def test_inspect_declared_and_exported(clib_dir):
    report = _headers.inspect_library("hdrtest", str(HDRTEST_H), dirs=[clib_dir], include_dirs=[INCLUDE])
    assert report["declared_but_missing"] == ["hdr_missing"]
    assert "hdr_hidden" in report["exported_but_undeclared"]
    assert report["functions"]["hdr_add"] == "point hdr_add(point a, point b)"  # as the header spells it
    assert report["variables"]["hdr_counter"] == "int hdr_counter"
    assert report["function_macros"]["hdr_make"] == "calls hdr_make_()"
    text = _headers.format_inspection(report)
    assert "declared but missing from the library (1):\n  int hdr_missing(void);" in text
    assert "hdr_hidden" in text


@needs_zlib
def test_inspect_command_line(cache_dir, clib_dir):
    out = _run("import sys; from ndffi.cli.headers import main; sys.exit(main(sys.argv[1:]))", cache_dir, check=False)
    assert out.returncode == 2
    cmd = [sys.executable, "-m", "ndffi.cli.headers", "inspect", "z", "--header", "zlib.h"]
    out = subprocess.run(cmd, env=_env(cache_dir), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "declared but missing from the library (0)" in out.stdout
    assert "int compress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen)" in out.stdout
    cmd = [
        sys.executable,
        "-m",
        "ndffi.cli.headers",
        "inspect",
        "hdrtest",
        "-L",
        clib_dir,
        "--header",
        "hdrtest.h",
        "-I",
        str(INCLUDE),
        "--json",
    ]
    out = subprocess.run(cmd, env=_env(cache_dir), capture_output=True, text=True)
    assert out.returncode == 1  # hdr_missing
    assert '"hdr_missing"' in out.stdout


# ---- generate -------------------------------------------------------------------------


@needs_zlib
def test_generated_zlib_module_works_without_libclang(tmp_path, cache_dir):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ndffi.cli.headers",
            "generate",
            "zlib.h",
            "-l",
            "z",
            "-o",
            str(tmp_path / "zlib_ffi.py"),
        ],
        env=_env(cache_dir),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "zlib_ffi.pyi").exists()
    code = """
        import sys
        sys.modules['clang'] = None                      # libclang cannot be imported
        sys.path.insert(0, sys.argv[1])
        import numpy as np, zlib, zlib_ffi
        buf = np.frombuffer(b'generated ' * 500, np.uint8)
        n = zlib_ffi.new('unsigned long *', zlib_ffi.compressBound(buf.size))
        out = np.empty(n[0], np.uint8)
        assert zlib_ffi.compress(out, n, buf, buf.size) == zlib_ffi.Z_OK
        back = np.empty(buf.size, np.uint8)
        m = zlib_ffi.new('unsigned long *', buf.size)
        assert zlib_ffi.uncompress(back, m, out, n[0]) == zlib_ffi.Z_OK
        assert np.array_equal(back, buf) and zlib.decompress(out[:n[0]].tobytes()) == buf.tobytes()
        assert zlib_ffi.crc32(0, buf, buf.size) == zlib.crc32(buf.tobytes())
        strm = zlib_ffi.z_stream()
        assert zlib_ffi.deflateInit(strm, 6) == zlib_ffi.Z_OK and zlib_ffi.deflateEnd(strm) == 0
        assert zlib_ffi.ZLIB_VERSION == zlib_ffi.zlibVersion().string().decode()
        doc = zlib_ffi.compress.__doc__
        assert 'Compresses the source buffer' in doc, doc
        assert 'C: int compress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen)' in doc
        assert 'Initializes the internal stream state for compression' in zlib_ffi.deflateInit.__doc__
        assert not any(k == 'clang' and v is not None or k.startswith(('clang.', 'ndffi.headers.libclang', 'ndffi.headers.translate'))
                       for k, v in sys.modules.items())
        print('ok')
    """
    env = _env(tmp_path / "empty-cache")  # nothing cached: the module needs no header import
    res = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == "ok"


@needs_zlib
def test_generated_stub_satisfies_mypy(tmp_path, cache_dir):
    pytest.importorskip("mypy")
    ndffi.generate("zlib.h", library="z", output=tmp_path / "zlib_ffi.py")
    (tmp_path / "use_ok.py").write_text(
        textwrap.dedent("""
        import zlib_ffi
        n: int = zlib_ffi.compressBound(1000) + zlib_ffi.Z_OK
        v: str = zlib_ffi.ZLIB_VERSION
        crc: int = zlib_ffi.crc32(0, b"abc", 3)
    """)
    )
    (tmp_path / "use_bad.py").write_text(
        textwrap.dedent("""
        import zlib_ffi
        zlib_ffi.compressBound("a thousand")
    """)
    )
    env = _env(cache_dir)
    mypy = [sys.executable, "-m", "mypy", "--no-incremental", "--strict", "--cache-dir", str(tmp_path / ".mypy")]
    ok = subprocess.run(mypy + ["zlib_ffi.pyi", "use_ok.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(mypy + ["use_bad.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and 'incompatible type "str"; expected "int"' in bad.stdout


def test_generated_module_of_the_test_header(tmp_path, clib_dir):
    paths = ndffi.generate(
        str(HDRTEST_H),
        library="hdrtest",
        output=tmp_path / "hdr_ffi.py",
        include_dirs=[INCLUDE],
        defines={"HDRTEST_DLL": 1},
        lib_dirs=[clib_dir],
    )
    assert [pathlib.Path(p).name for p in paths] == ["hdr_ffi.py", "hdr_ffi.pyi"]
    sys.path.insert(0, str(tmp_path))
    try:
        import hdr_ffi
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("hdr_ffi", None)
    assert hdr_ffi.hdr_add(hdr_ffi.point(1, 2), (1, 1)).y == 3.0
    assert hdr_ffi.hdr_make(3) == 30 and hdr_ffi.hdr_sum(2, 20, 22) == 42
    assert hdr_ffi.hdr_double(4) == 8
    assert hdr_ffi.hdr_sentinel(hdr_ffi.HDR_SENTINEL) == 1
    assert hdr_ffi.HDR_BUILD == 2 and hdr_ffi.HDR_SCALE == 0.25 and hdr_ffi.HDR_VERSION == "2.5"
    assert hdr_ffi.hdr_add.__doc__.startswith("Adds two points, by value.")
    assert "C: point hdr_add(point a, point b)" in hdr_ffi.hdr_add.__doc__
    assert hdr_ffi.hdr_call.__doc__.startswith("Calls fn(context, value)")
    assert "sums n ints" in hdr_ffi.hdr_sum.__doc__  # a comment after it
    with pytest.raises(AttributeError, match="does not export 'hdr_missing'"):
        hdr_ffi.hdr_missing()
    stub = (tmp_path / "hdr_ffi.pyi").read_text()
    assert "def hdr_sum(n: int, /, *args: Any) -> int: ..." in stub
    assert "def hdr_version() -> _Ptr[int]: ..." in stub  # const char *: typed by what it points to
    assert "def hdr_call(fn: _Function, context: _Pointer, value: int, /) -> int: ..." in stub


# ---- the benchmark ----------------------------------------------------------------------


@needs_sqlite
def test_header_benchmark_runs():
    root = HERE.parent
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "bench_headers.py"), "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "first time" in proc.stdout and "from the cache" in proc.stdout


# ---- macros as C sees them: the names, strings and expressions they expand to --------

MACROS_H = r"""
double cos(double x);
double sin(double x);
double lgamma(double x);
extern int signgam;
#define cos(x) cos(x)                      /* the function itself */
#define GLUE_(a, b) a ## b
#define GLUE(a, b) GLUE_(a, b)
#define my_sin GLUE(si, n)                 /* a function, through pasting */
#define my_signgam GLUE(sign, gam)         /* a variable */
typedef struct { int a, b; } pt_t;
#define my_pt GLUE(pt, _t)                 /* a type */
#define STR_(x) #x
#define STR(x) STR_(x)
#define VERSION_STRING STR(3) "." STR(14)  /* a string made with # */
#define CAST_STRING (const unsigned char *)"a\tb"
#define LIST 1L, 3L, 6L                    /* a list: not one constant */
#define NESTED_LIST (LIST)
#define SIGN_AFTER (lgamma(-0.5), signgam) /* evaluated where it is used */
#define twice_cos(x) (cos(x) * 2)
"""


@pytest.fixture(scope="module")
def macros(cache_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("macros")
    (d / "macros.h").write_text(MACROS_H)
    return ndffi.load("m", header=str(d / "macros.h"))


def test_a_macro_calling_its_own_name_is_the_function(macros):
    assert macros.cos(0.0) == 1.0 and isinstance(macros.cos, ndffi.Function)
    assert "cos" not in macros.header["function_macros"]


def test_macros_naming_functions_variables_and_types(macros):
    assert macros.my_sin(0.5) == math.sin(0.5) and macros.header["aliases"]["my_sin"] == "sin"
    macros.lgamma(0.5)
    assert macros.my_signgam == 1 == macros.signgam
    macros.my_signgam = -1
    assert macros.signgam == -1
    t = macros.types.my_pt
    assert t == macros.types.pt_t and [f[0] for f in t.fields] == ["a", "b"]


def test_string_macros_made_with_the_preprocessor(macros):
    assert macros.VERSION_STRING == "3.14"
    assert macros.CAST_STRING == "a\tb"


def test_a_list_is_not_a_constant(macros):
    for name in ("LIST", "NESTED_LIST"):
        assert name not in macros.header["constants"]
        with pytest.raises(AttributeError, match="comma expression"):
            getattr(macros, name)


def test_an_expression_over_the_library_is_evaluated_when_used(macros):
    macros.lgamma(0.5)
    assert macros.signgam == 1
    assert macros.SIGN_AFTER == -1  # lgamma(-0.5) ran first: Gamma(-0.5) < 0
    macros.lgamma(0.5)
    assert macros.SIGN_AFTER == -1


# ---- assume_const: the promise a header that is not const-correct does not make -------


def test_assume_const_on_a_cdef_library():
    libc = ndffi.load(None)
    libc.cdef("size_t strlen(char *s); char *strcpy(char *dest, char *src);")
    with pytest.raises(TypeError, match="not const"):
        libc.strlen(b"abc")  # C may write through char *
    strlen = libc.strlen.assume_const("s")
    assert strlen(b"abcd") == 4 and strlen(np.frombuffer(b"xy\0", np.uint8)) == 2
    assert "const char *s /* assumed const */" in repr(strlen) == f"<ndffi.Function {strlen.prototype}>"
    assert libc.strlen.prototype == "size_t strlen(char *s)"  # the declaration is unchanged
    assert libc.assume_const("strlen", "s") is strlen
    assert strlen.assume_const("s") is strlen and strlen.assume_const() is strlen  # nothing new assumed
    copy = libc.strcpy.assume_const("src")
    out = bytearray(8)
    copy(out, b"hi")
    assert out[:3] == b"hi\0"
    with pytest.raises(TypeError, match="not const"):
        copy(b"readonly", b"hi")  # dest is still writable only
    back = pickle.loads(pickle.dumps(copy))
    assert back.prototype == copy.prototype and "assumed const" in back.prototype
    back(out, b"yo")
    assert out[:3] == b"yo\0"


def test_assume_const_says_what_is_wrong():
    libc = ndffi.load(None)
    libc.cdef("size_t strlen(char *s); int abs(int j); char *strchr(const char *s, int c);")
    with pytest.raises(ValueError, match=r"strlen\(\): assume_const\(\): no parameter named 'x'; its parameters: s"):
        libc.strlen.assume_const("x")
    with pytest.raises(TypeError, match="parameter 'j' is 'int', not a pointer"):
        libc.abs.assume_const("j")
    with pytest.raises(ValueError, match="already 'const char \\*'"):
        libc.strchr.assume_const("s")
    with pytest.raises(TypeError, match="parameter names"):
        libc.strlen.assume_const(0)


@pytest.mark.skipif(not _has_header("bzlib.h"), reason="bzlib.h not installed (libbz2-dev)")
def test_assume_const_through_a_header(cache_dir):
    import bz2 as pybz2

    b = ndffi.load("bz2", header="bzlib.h")
    data = b"ndffi " * 500
    dest = np.zeros(4096, np.uint8)
    n = b.new("unsigned int *", dest.size)
    with pytest.raises(TypeError, match="'source'.*not const"):
        b.BZ2_bzBuffToBuffCompress(dest, n, data, len(data), 9, 0, 30)
    compress = b.BZ2_bzBuffToBuffCompress.assume_const("source")
    assert compress(dest, n, data, len(data), 9, 0, 30) == b.BZ_OK
    assert pybz2.decompress(dest[: n[0]].tobytes()) == data


def test_generated_stub_types_structs_enums_and_pointers(tmp_path, cache_dir):
    pytest.importorskip("mypy")
    ndffi.generate("zlib.h", library="z", output=tmp_path / "zlib_ffi.py")
    stub = (tmp_path / "zlib_ffi.pyi").read_text()
    assert "class z_stream:" in stub and "    avail_in: int" in stub and "    next_in: _Ptr[int]" in stub
    assert "def zlibVersion() -> _Ptr[int]: ..." in stub
    (tmp_path / "use_ok.py").write_text(
        textwrap.dedent("""
        import zlib_ffi
        s = zlib_ffi.z_stream()
        s.avail_in = 5
        n: int = s.avail_in + s.next_in[0]
        v: bytes = zlib_ffi.zlibVersion().string()
    """)
    )
    (tmp_path / "use_typo.py").write_text(
        textwrap.dedent("""
        import zlib_ffi
        s = zlib_ffi.z_stream()
        s.avail_inn = 5
        v: str = zlib_ffi.zlibVersion()
    """)
    )
    env = _env(cache_dir)
    mypy = [sys.executable, "-m", "mypy", "--no-incremental", "--strict", "--cache-dir", str(tmp_path / ".mypy")]
    ok = subprocess.run(mypy + ["zlib_ffi.pyi", "use_ok.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(mypy + ["use_typo.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    assert '"z_stream" has no attribute "avail_inn"' in bad.stdout
    assert 'expression has type "_Ptr[int]", variable has type "str"' in bad.stdout


@needs_zlib
def test_a_header_library_pickles(cache_dir):
    z = ndffi.load("z", header="zlib.h")
    z.Z_OK  # a constant declared on first use travels too  # noqa: B018
    blob = pickle.dumps((z, z.compressBound))
    out = _run(
        f"""
        import pickle
        z, bound = pickle.loads({blob!r})
        print(bound(100) == z.compressBound(100), z.Z_OK, z.ZLIB_VERSION == z.zlibVersion().string().decode())
    """,
        cache_dir,
    )
    assert out.stdout.split() == ["True", "0", "True"]


COMPLEX_H = r"""
double cabs(double _Complex z);
double _Complex csqrt(double _Complex z);
float _Complex cexpf(float _Complex z);
"""


@pytest.mark.skipif(
    __import__("platform").machine().lower() not in ("x86_64", "amd64", "aarch64", "arm64") or sys.platform == "win32",
    reason="float and double _Complex are passed as a struct of two only on x86-64 System V and AArch64",
)
def test_complex_numbers_are_python_complex(cache_dir, tmp_path, clib_dir):
    (tmp_path / "cplx.h").write_text(COMPLEX_H)
    m = ndffi.load("m", header=str(tmp_path / "cplx.h"))
    assert m.header["declarations"]["csqrt"] == "double _Complex csqrt(double _Complex z);"
    assert m.cabs(3 + 4j) == 5.0 and m.cabs(-2.0) == 2.0
    r = m.csqrt(-4 + 0j)
    assert type(r) is complex and r == 2j
    e = m.cexpf(complex(0.0, math.pi))
    assert type(e) is complex and abs(e + 1) < 1e-6
    assert [m.cabs(v) for v in np.array([3 + 4j, 6 - 8j])] == [5.0, 10.0]
    with pytest.raises(TypeError, match=r"csqrt.*'z'"):
        m.csqrt("1+2j")
    assert not [n for n in m.types if "ndffi_complex" in n]
    hdr = ndffi.load("hdrtest", clib_dir, header=str(HDRTEST_H), include_dirs=[INCLUDE], defines={"HDRTEST_DLL": 1})
    assert hdr.hdr_complex(2.5) == 2.5 + 0j and type(hdr.hdr_complex(1)) is complex
    ndffi.generate(str(tmp_path / "cplx.h"), library="m", output=tmp_path / "cplx_ffi.py")
    stub = (tmp_path / "cplx_ffi.pyi").read_text()
    assert "def csqrt(z: complex, /) -> complex: ..." in stub and "def cabs(z: complex, /) -> float: ..." in stub
    sys.path.insert(0, str(tmp_path))
    try:
        import cplx_ffi
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("cplx_ffi", None)
    assert cplx_ffi.csqrt(-9) == 3j


def test_function_pointers_c_gives_back_have_their_type(hdr):
    assert hdr.header["declarations"]["hdr_op_global"] == "hdr_op_t hdr_op_global;"
    glob = hdr.hdr_op_global
    assert ndffi.typeof(glob).cname == "int (*)(int)" and glob  # not void *
    behind = hdr.hdr_op  # (*(hdr_current_op())), when used
    assert ndffi.typeof(behind) == ndffi.typeof(glob) and int(behind) == int(glob)
    assert hdr.header["expressions"]["hdr_op"] == ["deref", ["call", "hdr_current_op", []]]


@pytest.mark.skipif(not _has_header("bzlib.h"), reason="bzlib.h not installed (libbz2-dev)")
def test_assume_const_when_loading(cache_dir):
    import bz2 as pybz2

    b = ndffi.load(
        "bz2",
        header="bzlib.h",
        assume_const={"BZ2_bzBuffToBuffCompress": ["source"], "BZ2_bzBuffToBuffDecompress": "source"},
    )
    assert "const char *source /* assumed const */" in b.BZ2_bzBuffToBuffCompress.prototype
    data = b"promise " * 300
    dest = np.zeros(4096, np.uint8)
    n = b.new("unsigned int *", dest.size)
    assert b.BZ2_bzBuffToBuffCompress(dest, n, data, len(data), 9, 0, 30) == b.BZ_OK
    packed = dest[: n[0]].tobytes()
    assert pybz2.decompress(packed) == data
    out, m = np.zeros(len(data), np.uint8), b.new("unsigned int *", len(data))
    assert b.BZ2_bzBuffToBuffDecompress(out, m, packed, len(packed), 0, 0) == b.BZ_OK
    again = pickle.loads(pickle.dumps(b.BZ2_bzBuffToBuffCompress))
    assert again.prototype == b.BZ2_bzBuffToBuffCompress.prototype
    with pytest.raises(ValueError, match="'BZ2_nothing' is not a function of 'bzlib.h'"):
        ndffi.load("bz2", header="bzlib.h", assume_const={"BZ2_nothing": ["x"]})
    libc = ndffi.load(None, assume_const={"strlen": ["s"]})
    libc.cdef("size_t strlen(char *s);")
    assert libc.strlen(b"abc") == 3


def test_a_header_is_read_as_the_c_compiler_reads_it(tmp_path, cache_dir):
    # clang says it is GCC 4.2 unless told otherwise: a header choosing its types by
    # __GNUC__ gets the layout the library was compiled with, never another one.
    (tmp_path / "cfg.h").write_text(
        "#if __GNUC__ >= 7\ntypedef long count_t;\n#else\ntypedef int count_t;\n#endif\n"
        "struct stats { count_t n; int flag; };\nunsigned long stats_size(void);\n"
    )
    src = tmp_path / "cfg.c"
    src.write_text('#include "cfg.h"\nunsigned long stats_size(void) { return sizeof(struct stats); }\n')
    built = ndffi.build([src], cdef="unsigned long stats_size(void);")
    lib = ndffi.load(built.path, header=tmp_path / "cfg.h")
    assert lib.sizeof("struct stats") == built.stats_size()


@needs_zlib
def test_generate_never_replaces_a_file_it_did_not_write(tmp_path, cache_dir):
    out = tmp_path / "zmod.py"
    ndffi.generate("zlib.h", library="z", output=out)
    ndffi.generate("zlib.h", library="z", output=out)  # its own files: replaced
    for mine in (out, tmp_path / "zmod.pyi"):
        mine.write_text("print('mine')\n")
        with pytest.raises(FileExistsError, match=rf"not overwriting .*{mine.name}.*--force"):
            ndffi.generate("zlib.h", library="z", output=out)
        assert mine.read_text() == "print('mine')\n"
        ndffi.generate("zlib.h", library="z", output=out, force=True)
        assert "Generated by" in out.read_text()
    out.write_text("# mine\n")
    r = subprocess.run(
        [sys.executable, "-m", "ndffi", "generate", "zlib.h", "-l", "z", "-o", str(out)],
        env=_env(cache_dir),
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "not overwriting" in r.stderr and out.read_text() == "# mine\n"


def test_macros_in_force_and_casts_in_expansions(tmp_path, cache_dir):
    # the value in force where the header ends, in the order the preprocessor reads the
    # files (a redefinition after an #include wins, an #undef removes); a cast in a macro
    # that reads memory when used is never dropped (it is not declared instead)
    (tmp_path / "config.h").write_text("#define BUFSIZE 1024\n#define GONE 7\n")
    (tmp_path / "main.h").write_text(
        '#include "config.h"\n#undef BUFSIZE\n#define BUFSIZE 4096\n#undef GONE\n'
        "double get_d(void);\ndouble twice(double x);\n"
        "#define AS_INT ((int)get_d())\n#define TWICE_TRUNC twice((int)2.7)\n#define AS_PTR ((void *)0)\n"
    )
    src = tmp_path / "m.c"
    src.write_text('#include "main.h"\ndouble get_d(void) { return 3.75; }\ndouble twice(double x) { return 2 * x; }\n')
    built = ndffi.build([src], cdef="double get_d(void);")
    lib = ndffi.load(built.path, header=tmp_path / "main.h")
    assert lib.BUFSIZE == 4096 and lib.TWICE_TRUNC == 4.0
    for name in ("GONE", "AS_INT"):
        with pytest.raises(AttributeError):
            getattr(lib, name)


def test_alignas_on_a_member(tmp_path, cache_dir):
    (tmp_path / "al.h").write_text("struct s { char c; _Alignas(8) char d; };\n#define ANSWER 42\n")
    lib = ndffi.load(None, header=tmp_path / "al.h")
    assert lib.sizeof("struct s") == 16 and lib.typeof("struct s").fields[1][2] == 8 and lib.ANSWER == 42
