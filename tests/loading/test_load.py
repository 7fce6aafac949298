"""Library resolution (ndffi._loader) and ELF symbol reading (ndffi._elf).

These tests need only the two pure-Python modules, not the compiled ndffi core: the
opener is ctypes.CDLL, and when ``import ndffi`` is not possible (the package is not
built), the modules are imported straight from python/ndffi.
"""

import ctypes
import importlib
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import time
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _import_pure_modules():
    try:
        from ndffi.loading import elf as _elf  # noqa: PLC0415
        from ndffi.loading import search as _loader  # noqa: PLC0415

        return _loader, _elf
    except ImportError:
        pass
    # Import python/ndffi/*.py under a private package name, without running
    # ndffi/__init__.py (which needs the compiled extension).
    pkg_name = "_ndffi_pure_src"
    if pkg_name not in sys.modules:
        pkg = types.ModuleType(pkg_name)
        pkg.__path__ = [str(ROOT / "python" / "ndffi")]
        sys.modules[pkg_name] = pkg
    return (importlib.import_module(pkg_name + ".loading.search"), importlib.import_module(pkg_name + ".loading.elf"))


_loader, _elf = _import_pure_modules()
open_library = _loader.open_library
LibraryNotFound = _loader.LibraryNotFound

LINUX = sys.platform.startswith("linux")
linux_only = pytest.mark.skipif(not LINUX, reason="ELF / Linux library naming")


class Opener:
    """ctypes.CDLL as the opener, recording every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, target):
        self.calls.append(target)
        return ctypes.CDLL(target)


@pytest.fixture
def opener():
    return Opener()


@pytest.fixture
def libfoo(clib_dir):
    return os.path.join(clib_dir, "libfoo.so")


def _works_as_foo(handle):
    assert handle.add(2, 3) == 5
    handle.version.restype = ctypes.c_char_p
    assert handle.version() == b"foo 1.0"


# ---------------------------------------------------------------------------------
# names in directories


@pytest.mark.parametrize("name", ["foo", "libfoo", "libfoo.so"])
def test_name_variants_find_libfoo(name, clib_dir, libfoo, opener):
    handle, resolved = open_library(name, [clib_dir], opener)
    assert resolved == libfoo
    _works_as_foo(handle)
    # Only existing files are handed to the opener.
    assert opener.calls == [libfoo]


def test_bytes_and_pathlike_names_and_dirs(clib_dir, libfoo, opener):
    handle, resolved = open_library(b"foo", [pathlib.Path(clib_dir)], opener)
    assert resolved == libfoo
    handle, resolved = open_library(pathlib.Path("libfoo"), (clib_dir,), opener)
    assert resolved == libfoo


def test_single_directory_instead_of_a_sequence(clib_dir, libfoo, opener):
    _, resolved = open_library("foo", clib_dir, opener)
    assert resolved == libfoo


def test_relative_directory_is_relative_to_cwd(clib_dir, libfoo, opener, monkeypatch):
    monkeypatch.chdir(os.path.dirname(clib_dir))
    handle, resolved = open_library("libfoo", [os.path.basename(clib_dir)], opener)
    assert resolved == libfoo
    _works_as_foo(handle)


def test_file_in_dirs_means_its_directory(clib_dir, opener):
    # numpy.ctypeslib.load_library("libfibonacci", __file__) idiom.
    handle, resolved = open_library("libfibonacci", [os.path.join(clib_dir, "libfoo.so")], opener)
    assert resolved == os.path.join(clib_dir, "libfibonacci.so")
    assert handle.fib(8) == 13


def test_dirs_searched_in_order(clib_dir, libfoo, tmp_path, opener):
    shutil.copy(os.path.join(clib_dir, "libfibonacci.so"), tmp_path / "libfoo.so")
    _, resolved = open_library("foo", [tmp_path, clib_dir], opener)
    assert resolved == str(tmp_path / "libfoo.so")
    _, resolved = open_library("foo", [clib_dir, tmp_path], opener)
    assert resolved == libfoo


@linux_only
def test_versioned_file(libfoo, tmp_path, opener):
    shutil.copy(libfoo, tmp_path / "libfoo.so.1")
    for name in ("foo", "libfoo", "libfoo.so"):
        handle, resolved = open_library(name, [tmp_path], opener)
        assert resolved == str(tmp_path / "libfoo.so.1")
        _works_as_foo(handle)


@linux_only
def test_highest_version_first(clib_dir, libfoo, tmp_path, opener):
    fib = os.path.join(clib_dir, "libfibonacci.so")
    shutil.copy(fib, tmp_path / "libver.so.2")
    shutil.copy(fib, tmp_path / "libver.so.9.1")
    shutil.copy(libfoo, tmp_path / "libver.so.10")  # numerically highest, not lexically
    handle, resolved = open_library("ver", [tmp_path], opener)
    assert resolved == str(tmp_path / "libver.so.10")
    _works_as_foo(handle)
    assert opener.calls == [str(tmp_path / "libver.so.10")]


@linux_only
def test_explicit_version_is_not_replaced_by_another(clib_dir, libfoo, tmp_path, opener):
    shutil.copy(os.path.join(clib_dir, "libfibonacci.so"), tmp_path / "libver.so.2")
    shutil.copy(libfoo, tmp_path / "libver.so.3")
    handle, resolved = open_library("libver.so.2", [tmp_path], opener)
    assert resolved == str(tmp_path / "libver.so.2")
    assert handle.fib(10) == 34
    with pytest.raises(LibraryNotFound) as info:
        open_library("libver.so.1", [tmp_path], opener)
    assert str(tmp_path / "libver.so.3") not in opener.calls
    assert (str(tmp_path / "libver.so.1"), "no such file") in info.value.tried


@linux_only
def test_broken_candidate_is_skipped_for_a_working_one(libfoo, tmp_path, opener):
    (tmp_path / "libfoo.so").write_bytes(b"/* GNU ld script */ INPUT(libfoo.so.1)\n")
    shutil.copy(libfoo, tmp_path / "libfoo.so.1")
    handle, resolved = open_library("foo", [tmp_path], opener)
    assert resolved == str(tmp_path / "libfoo.so.1")
    _works_as_foo(handle)
    assert opener.calls == [str(tmp_path / "libfoo.so"), str(tmp_path / "libfoo.so.1")]


# ---------------------------------------------------------------------------------
# paths


def test_absolute_path(libfoo, opener):
    handle, resolved = open_library(libfoo, [], opener)
    assert resolved == libfoo
    _works_as_foo(handle)
    _, resolved = open_library(pathlib.Path(libfoo), None, opener)
    assert resolved == libfoo


def test_relative_path_with_separator(clib_dir, libfoo, opener, monkeypatch):
    monkeypatch.chdir(os.path.dirname(clib_dir))
    handle, resolved = open_library(os.path.join(os.path.basename(clib_dir), "libfoo.so"), [], opener)
    assert resolved == libfoo
    _works_as_foo(handle)


def test_existing_file_without_separator_is_a_path(clib_dir, libfoo, opener, monkeypatch):
    # dlopen("libfoo.so") would search the system path, not the current directory.
    monkeypatch.chdir(clib_dir)
    _, resolved = open_library("libfoo.so", [], opener)
    assert resolved == libfoo
    assert opener.calls == [libfoo]


def test_path_without_suffix_is_searched_in_its_directory(clib_dir, libfoo, opener):
    handle, resolved = open_library(os.path.join(clib_dir, "libfoo"), [], opener)
    assert resolved == libfoo
    _works_as_foo(handle)
    _, resolved = open_library(os.path.join(clib_dir, "fibonacci"), [], opener)
    assert resolved == os.path.join(clib_dir, "libfibonacci.so")


def test_missing_path(tmp_path, opener):
    missing = tmp_path / "sub" / "libnothere.so"
    with pytest.raises(LibraryNotFound) as info:
        open_library(missing, ["/ignored"], opener)
    tried = dict(info.value.tried)
    assert tried[str(missing)] == "no such file" or "No such file" in tried[str(missing)]
    assert str(missing) in str(info.value)
    # An explicit path never falls back to the system search or the dirs.
    assert not any("find_library" in p for p in tried)
    assert not any(p.startswith("/ignored") for p in tried)


# ---------------------------------------------------------------------------------
# the system loader and the process


@linux_only
@pytest.mark.parametrize(
    "name, soname, symbol",
    [
        ("m", "libm.so.6", "cos"),
        ("c", "libc.so.6", "strlen"),
        ("libm", "libm.so.6", "sqrt"),
    ],
)
def test_system_loader(name, soname, symbol, opener):
    handle, resolved = open_library(name, [], opener)
    assert resolved == soname
    assert hasattr(handle, symbol)
    assert opener.calls == [soname]


@linux_only
def test_system_loader_zlib(opener):
    import ctypes.util

    if ctypes.util.find_library("z") is None:
        pytest.skip("zlib not installed")
    handle, resolved = open_library("z", [], opener)
    assert resolved.startswith("libz.so")
    handle.zlibVersion.restype = ctypes.c_char_p
    assert handle.zlibVersion().startswith(b"1.")


@linux_only
def test_system_loader_after_dirs(clib_dir, opener):
    handle, resolved = open_library("m", [clib_dir], opener)
    assert resolved == "libm.so.6"
    handle.sqrt.restype = ctypes.c_double
    handle.sqrt.argtypes = [ctypes.c_double]
    assert handle.sqrt(2.0) == pytest.approx(1.4142135623730951, rel=0, abs=0)
    # The system search came after the directory search.
    assert opener.calls == ["libm.so.6"]


def test_none_is_the_process(opener):
    handle, resolved = open_library(None, ["/ignored"], opener)
    assert resolved is None
    assert opener.calls == [None]
    handle.strlen.restype = ctypes.c_size_t
    assert handle.strlen(b"hello") == 5


def test_empty_name_is_an_error(opener):
    with pytest.raises(ValueError):
        open_library("", [], opener)


def test_opener_failure_for_process_is_reported():
    def failing(target):
        raise OSError("nope")

    with pytest.raises(LibraryNotFound) as info:
        open_library(None, [], failing)
    assert info.value.tried == [("<process>", "nope")]


# ---------------------------------------------------------------------------------
# errors list every path tried


@linux_only
def test_missing_library_lists_every_path(clib_dir, tmp_path, opener):
    name = "nosuchlib_ndffi"
    with pytest.raises(LibraryNotFound) as info:
        open_library(name, [clib_dir, tmp_path], opener)
    exc = info.value
    assert isinstance(exc, OSError)
    assert exc.name == name
    message = str(exc)
    tried = dict(exc.tried)
    for d in (clib_dir, str(tmp_path)):
        for leaf in (name, name + ".so", "lib" + name, "lib" + name + ".so", "lib" + name + ".so.*", name + ".so.*"):
            path = os.path.join(d, leaf)
            assert tried[path] == "no such file"
            assert f"  {path}: no such file" in message
    # Then the system loader, with its own reasons.
    assert tried[f"ctypes.util.find_library({name!r})"] == "not found"
    assert "cannot open shared object file" in tried["lib" + name + ".so"]
    assert "cannot open shared object file" in tried[name]
    assert f"lib{name}.so: " in message
    # Nothing that does not exist was handed to the opener during the directory search.
    assert opener.calls == ["lib" + name + ".so", name]
    # One line per attempt.
    assert message.count("\n") == len(exc.tried)


@linux_only
def test_defective_library_reports_loader_error(tmp_path, opener):
    (tmp_path / "libbroken.so").write_bytes(b"this is not a shared object" * 10)
    with pytest.raises(LibraryNotFound) as info:
        open_library("broken", [tmp_path], opener)
    tried = dict(info.value.tried)
    reason = tried[str(tmp_path / "libbroken.so")]
    assert reason != "no such file"
    assert "invalid ELF header" in reason or "too short" in reason
    # A library that exists but fails is not silently replaced by a system one.
    assert "<system loader>" in tried
    assert not any("find_library" in p for p in tried)
    assert opener.calls == [str(tmp_path / "libbroken.so")]


# ---------------------------------------------------------------------------------
# ELF symbols


FOO_FUNCTIONS = {
    "bar",
    "dsum",
    "add",
    "noop",
    "version",
    "h_open",
    "h_close",
    "h_name",
    "o_open",
    "o_close",
    "my_printf",
    "last_printed",
    "mix",
    "wsum_i8",
    "wsum_d10",
    "wsum_mixed",
    "fill_ints",
    "sum_longs",
    "sum_floats",
    "my_strlen",
    "upcase",
    "count_bytes",
    "identity_ptr",
    "null_doubles",
    "static_ints",
    "set_errno",
    "fret",
    "is_positive",
} | {
    "echo_" + t
    for t in (
        "schar uchar short ushort int uint long ulong longlong ulonglong bool char float "
        "double longdouble int8 uint8 int16 uint16 int32 uint32 int64 uint64 size_t ssize_t "
        "ptrdiff_t intptr_t uintptr_t"
    ).split()
}


@linux_only
def test_exported_symbols_of_libfoo(libfoo):
    syms = _elf.exported_symbols(libfoo)
    assert syms["bar"] == "function"
    assert syms["dsum"] == "function"
    assert syms["foo_counter"] == "object"
    assert syms["foo_pi"] == "object"
    assert {k for k, v in syms.items() if v == "function"} == FOO_FUNCTIONS
    for absent in ("printf", "malloc", "internal_helper", "hidden_function", "the_static_ints"):
        assert absent not in syms  # undefined, static or hidden


def _readelf_exports(path):
    """The same set computed by binutils' readelf, for cross-checking."""
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf not available")
    out = subprocess.run([readelf, "--dyn-syms", "-W", path], capture_output=True, text=True, check=True).stdout
    kinds = {"FUNC": "function", "IFUNC": "function", "OBJECT": "object", "TLS": "object", "COMMON": "object"}
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 8 or not parts[0].rstrip(":").isdigit():
            continue
        _num, value, size, typ, bind, vis, ndx, name = parts[:8]
        if ndx == "UND" or typ not in kinds or bind not in ("GLOBAL", "WEAK", "UNIQUE"):
            continue
        if vis not in ("DEFAULT", "PROTECTED"):
            continue
        if ndx == "ABS" and int(value, 16) == 0 and int(size, 0) == 0:
            continue
        name = name.split("@")[0]
        if kinds[typ] == "function" or name not in result:
            result[name] = kinds[typ]
    return result


def _loaded_libc_path():
    if not LINUX:
        pytest.skip("Linux only")
    ctypes.CDLL(None)
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split(None, 5)[-1].strip()
            base = os.path.basename(path)
            if base.startswith("libc.so") or (base.startswith("libc-") and base.endswith(".so")):
                return path
    pytest.skip("libc not found in /proc/self/maps")


@linux_only
def test_exported_symbols_match_readelf(libfoo):
    assert _elf.exported_symbols(libfoo) == _readelf_exports(libfoo)
    libc = _loaded_libc_path()
    assert _elf.exported_symbols(libc) == _readelf_exports(libc)


@linux_only
def test_libc_symbols_fast_and_right():
    libc = _loaded_libc_path()
    best = float("inf")
    for _ in range(3):
        _elf._cache.clear()
        t0 = time.perf_counter()
        syms = _elf.exported_symbols(libc)
        best = min(best, time.perf_counter() - t0)
    assert best < 0.050, f"exported_symbols(libc) took {best * 1e3:.1f} ms"
    assert len(syms) > 1000
    assert syms["printf"] == "function"
    assert syms["memcpy"] == "function"  # an IFUNC, versioned twice
    assert syms["environ"] == "object"
    assert not any("@" in k for k in syms)
    assert not any(k.startswith("GLIBC_") for k in syms)  # version definitions


@linux_only
def test_symbols_without_section_headers(libfoo, tmp_path):
    """Stripped section headers: the dynamic segment and DT_GNU_HASH / DT_HASH are used."""
    expected = _elf.exported_symbols(libfoo)
    images = {"gnu": libfoo}
    cc = shutil.which(os.environ.get("CC", "cc") or "cc")
    if cc:
        sysv = tmp_path / "libfoo_sysv.so"
        proc = subprocess.run(
            [cc, "-shared", "-fPIC", "-Wl,--hash-style=sysv", "-o", str(sysv), str(ROOT / "tests" / "clib" / "foo.c")],
            capture_output=True,
        )
        if proc.returncode == 0:
            images["sysv"] = str(sysv)
    for style, src in images.items():
        data = bytearray(pathlib.Path(src).read_bytes())
        assert data[4] == 2 and data[5] == 1, "test assumes ELF64 little endian"
        struct.pack_into("<Q", data, 0x28, 0)  # e_shoff
        struct.pack_into("<HHH", data, 0x3A, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
        stripped = tmp_path / f"stripped_{style}.so"
        stripped.write_bytes(bytes(data))
        assert _elf.exported_symbols(stripped) == expected, style


def _make_elf(path, bits, endian, symbols):
    """Write a minimal ELF shared object with a .dynsym / .dynstr pair.

    ``symbols``: (name, bind, type, visibility, shndx, value, size) tuples.
    """
    e = endian
    strtab = b"\0"
    if bits == 64:
        sym = struct.Struct(e + "IBBHQQ")
        pack_sym = lambda n, info, other, ndx, val, size: sym.pack(n, info, other, ndx, val, size)  # noqa: E731
        ehdr, shdr = struct.Struct(e + "HHIQQQIHHHHHH"), struct.Struct(e + "IIQQQQIIQQ")
    else:
        sym = struct.Struct(e + "IIIBBH")
        pack_sym = lambda n, info, other, ndx, val, size: sym.pack(n, val, size, info, other, ndx)  # noqa: E731
        ehdr, shdr = struct.Struct(e + "HHIIIIIHHHHHH"), struct.Struct(e + "IIIIIIIIII")
    table = pack_sym(0, 0, 0, 0, 0, 0)
    for name, bind, typ, vis, ndx, value, size in symbols:
        table += pack_sym(len(strtab), (bind << 4) | typ, vis, ndx, value, size)
        strtab += name.encode() + b"\0"
    ehsize = 16 + ehdr.size
    symoff = ehsize
    stroff = symoff + len(table)
    shoff = (stroff + len(strtab) + 7) & ~7
    sections = [
        shdr.pack(*([0] * 10)),
        shdr.pack(0, 11, 2, 0, symoff, len(table), 2, 1, 8, sym.size),  # .dynsym, link .dynstr
        shdr.pack(0, 3, 2, 0, stroff, len(strtab), 0, 0, 1, 0),  # .dynstr
    ]
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1 if e == "<" else 2, 1, 0]) + bytes(8)
    header = ident + ehdr.pack(3, 62, 1, 0, 0, shoff, 0, ehsize, 0, 0, shdr.size, 3, 0)
    body = header + table + strtab
    body += bytes(shoff - len(body))
    pathlib.Path(path).write_bytes(body + b"".join(sections))


GLOBAL, LOCAL, WEAK, UNIQUE = 1, 0, 2, 10
NOTYPE, OBJECT, FUNC, TLS, IFUNC = 0, 1, 2, 6, 10
DEFAULT, HIDDEN, PROTECTED = 0, 2, 3

SYNTHETIC = [
    ("alpha", GLOBAL, FUNC, DEFAULT, 1, 0x1000, 16),
    ("beta@@V_1", WEAK, OBJECT, DEFAULT, 1, 0x2000, 8),
    ("gamma", LOCAL, FUNC, DEFAULT, 1, 0x1010, 4),  # local
    ("delta", GLOBAL, FUNC, DEFAULT, 0, 0, 0),  # undefined
    ("eps", GLOBAL, FUNC, HIDDEN, 1, 0x1020, 4),  # hidden
    ("tls_var", GLOBAL, TLS, DEFAULT, 1, 0, 4),
    ("V_1", GLOBAL, OBJECT, DEFAULT, 0xFFF1, 0, 0),  # version definition
    ("ifn", GLOBAL, IFUNC, PROTECTED, 1, 0x1030, 8),
    ("untyped", GLOBAL, NOTYPE, DEFAULT, 1, 0x3000, 0),
    ("uniq", UNIQUE, OBJECT, DEFAULT, 1, 0x2010, 8),
    ("dgemm_", GLOBAL, FUNC, DEFAULT, 1, 0x1040, 8),
]


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("endian", ["<", ">"])
def test_synthetic_elf_classes_and_byte_orders(tmp_path, bits, endian):
    path = tmp_path / f"lib{bits}{'le' if endian == '<' else 'be'}.so"
    _make_elf(path, bits, endian, SYNTHETIC)
    assert _elf.exported_symbols(path) == {
        "alpha": "function",
        "beta": "object",
        "tls_var": "object",
        "ifn": "function",
        "uniq": "object",
        "dgemm_": "function",
    }
    assert _elf.close_matches("dgemm", path)[0] == "dgemm_"  # Fortran spelling first
    assert _elf.close_matches("alpah", path) == ["alpha"]


def test_not_elf(tmp_path, libfoo):
    text = tmp_path / "libc.so"
    text.write_text("/* GNU ld script */\nGROUP ( /lib/libc.so.6 )\n")
    empty = tmp_path / "empty.so"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.so"
    truncated.write_bytes(pathlib.Path(libfoo).read_bytes()[:200])
    for path in (text, empty, truncated):
        assert _elf.exported_symbols(path) == {}
        assert _elf.close_matches("dsum", path) == []
    with pytest.raises(FileNotFoundError):
        _elf.exported_symbols(tmp_path / "missing.so")
    assert _elf.close_matches("dsum", tmp_path / "missing.so") == []


@linux_only
def test_close_matches(libfoo):
    assert "dsum" in _elf.close_matches("dsun", libfoo)
    assert _elf.close_matches("dsun", libfoo, n=1) == ["dsum"]
    assert "h_open" in _elf.close_matches("h_opn", libfoo)
    assert "echo_uint64" in _elf.close_matches("echo_uint46", libfoo)
    assert len(_elf.close_matches("echo_int", libfoo, n=3)) == 3
    assert "dsum" not in _elf.close_matches("dsum", libfoo)  # the name itself is no suggestion
    assert _elf.close_matches("zzzzzzzz_qqq", libfoo) == []


@linux_only
def test_cache_sees_rebuilt_file(libfoo, clib_dir, tmp_path):
    target = tmp_path / "libswap.so"
    shutil.copy(libfoo, target)
    assert "dsum" in _elf.exported_symbols(target)
    os.unlink(target)
    shutil.copy(os.path.join(clib_dir, "libfibonacci.so"), target)
    syms = _elf.exported_symbols(target)
    assert "dsum" not in syms and syms["fib"] == "function"
    # The returned dict is the caller's own.
    syms.clear()
    assert _elf.exported_symbols(target)["fibseries"] == "function"
