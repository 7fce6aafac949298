"""Real headers of widely used libraries, as a new user imports them.

For each: the header imports, its functions are there, every constant equals what the
C compiler computes (a compiled C program prints them), every struct layout equals the
C compiler's (sizeof, alignof, offsetof), and real calls give the right results (checked
against Python's own modules and NumPy).  Each test skips, naming the Debian package,
where its header is not installed (``make system-deps`` installs them as root).
"""

import bz2 as pybz2
import hashlib
import lzma as pylzma
import math
import os
import re
import subprocess
import sys
import textwrap
import zlib as pyzlib

import numpy as np
import pytest

import ndffi
from ndffi import headers as _headers

# key: (library, header, load options, Debian package)
LIBS = {
    "zlib": ("z", "zlib.h", {}, "zlib1g-dev"),
    "bzip2": ("bz2", "bzlib.h", {}, "libbz2-dev"),
    "lzma": ("lzma", "lzma.h", {}, "liblzma-dev"),
    "zstd": ("zstd", "zstd.h", {}, "libzstd-dev"),
    "lz4": ("lz4", "lz4.h", {}, "liblz4-dev"),
    "sqlite3": ("sqlite3", "sqlite3.h", {}, "libsqlite3-dev"),
    "expat": ("expat", "expat.h", {}, "libexpat1-dev"),
    "libxml2": ("xml2", "libxml/parser.h", {"include_dirs": ["/usr/include/libxml2"]}, "libxml2-dev"),
    "libpng": ("png16", "png.h", {}, "libpng-dev"),
    "libjpeg": ("jpeg", "jpeglib.h", {"clang_args": ["-include", "stdio.h"]}, "libjpeg-dev"),
    "libarchive": ("archive", "archive.h", {}, "libarchive-dev"),
    "libcurl": ("curl", "curl/curl.h", {}, "libcurl4-openssl-dev"),
    "openssl": ("crypto", "openssl/evp.h", {}, "libssl-dev"),
    "gmp": ("gmp", "gmp.h", {}, "libgmp-dev"),
    "uuid": ("uuid", "uuid/uuid.h", {}, "uuid-dev"),
    "pcre2": ("pcre2-8", "pcre2.h", {"defines": {"PCRE2_CODE_UNIT_WIDTH": 8}}, "libpcre2-dev"),
    "yaml": ("yaml", "yaml.h", {}, "libyaml-dev"),
    "libsodium": ("sodium", "sodium.h", {}, "libsodium-dev"),
    "ncurses": ("ncursesw", "ncurses.h", {}, "libncurses-dev"),
    "readline": ("readline", "readline/readline.h", {"clang_args": ["-include", "stdio.h"]}, "libreadline-dev"),
}
SCIENCE = {
    "fftw3": ("fftw3", "fftw3.h", {}, "libfftw3-dev"),
    "gsl": ("gsl", "gsl/gsl_integration.h", {}, "libgsl-dev"),
    "gsl_blas": ("gsl", "gsl/gsl_blas.h", {}, "libgsl-dev"),
    "cblas": ("blas", "cblas.h", {}, "libopenblas-dev"),
    "lapacke": ("lapacke", "lapacke.h", {}, "liblapacke-dev"),
    "hdf5": ("hdf5_serial", "hdf5.h", {"include_dirs": ["/usr/include/hdf5/serial"]}, "libhdf5-dev"),
    "netcdf": ("netcdf", "netcdf.h", {}, "libnetcdf-dev"),
    "sndfile": ("sndfile", "sndfile.h", {}, "libsndfile1-dev"),
    "cfitsio": ("cfitsio", "fitsio.h", {}, "libcfitsio-dev"),
    "umfpack": ("umfpack", "suitesparse/umfpack.h", {}, "libsuitesparse-dev"),
    "cholmod": ("cholmod", "suitesparse/cholmod.h", {}, "libsuitesparse-dev"),
    "mpfr": ("mpfr", "mpfr.h", {}, "libmpfr-dev"),
    "nlopt": ("nlopt", "nlopt.h", {}, "libnlopt-dev"),
}
ALL = {**LIBS, **SCIENCE}
# Constants the C compiler does not define at all: the header defines them for the
# compiler libclang says it is (GCC 4.2), not for the system's.
COMPILER_CHOSEN = {"gsl": {"GSL_COMPLEX_LEGACY"}, "gsl_blas": {"GSL_COMPLEX_LEGACY"}}


def _found(header, options):
    dirs = list(options.get("include_dirs", ())) + _headers.compiler_include_dirs()
    return any(os.path.isfile(os.path.join(d, header)) for d in dirs)


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("ndffi-real-headers-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NDFFI_CACHE_DIR", str(d))
        yield d


_loaded = {}


def load(key):
    """The library ``key`` through its header (skips when the header is absent)."""
    lib, header, options, package = ALL[key]
    if not _found(header, options):
        pytest.skip(f"{header} is not installed (Debian: {package}; make system-deps)")
    if key not in _loaded:
        _loaded[key] = ndffi.load(lib, header=header, **options)
    return _loaded[key]


def _compile_and_run(key, body, tmp_path, extra=""):
    """Compile a C program that includes the header of ``key`` and run it: its output."""
    lib, header, options, _ = ALL[key]
    src = tmp_path / f"{key}_check.c"
    src.write_text(
        f"#include <stdio.h>\n#include <string.h>\n#include <stddef.h>\n#include <{header}>\n"
        f"{extra}\nint main(void) {{\n{body}\n  return 0;\n}}\n"
    )
    exe = tmp_path / f"{key}_check"
    args = ["cc", "-w"] + list(options.get("clang_args", ()))
    args += ["-I" + d for d in options.get("include_dirs", ())]
    args += [f"-D{k}={v}" for k, v in (options.get("defines") or {}).items()]
    proc = subprocess.run(args + ["-o", str(exe), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:4000]
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout


# ---- what arrives: functions, constants, layouts --------------------------------------


@pytest.mark.parametrize("key", sorted(ALL))
def test_the_header_functions_arrive(key):
    lib = load(key)
    model = lib.header
    functions = model["functions"]
    assert functions
    exported = [f for f in functions if lib._handle.symbol(model["aliases"].get(f, f)) is not None]
    # Every function the library exports is callable; most of what the header declares
    # is exported (headers also declare other builds' functions: sqlite3's win32 ones).
    forwarded = {n for n, m in model["function_macros"].items() if m.get("forward")}
    for name in exported:
        if name not in forwarded:  # a macro of that name stands for it (ncurses' box)
            assert isinstance(getattr(lib, name), ndffi.Function), name
    declared = len(functions) + sum(
        1 for n, why in model["skipped"].items() if "not accepted" in why and n not in model["types"]
    )
    assert len(functions) >= 0.995 * declared


@pytest.mark.parametrize("key", sorted(ALL))
def test_constants_equal_the_c_compilers(key, tmp_path):
    lib = load(key)
    values = {n: getattr(lib, n) for n in lib.header["constants"]}
    enumerators = {n for n in values if n not in lib.header["defines"]}
    lines = []
    for n, v in values.items():
        if isinstance(v, int):
            line = (
                f'if (({n}) < 0) printf("{n} i %lld\\n", (long long)({n})); '
                f'else printf("{n} i %llu\\n", (unsigned long long)({n}));'
            )
        elif isinstance(v, float):
            line = f'printf("{n} f %a\\n", (double)({n}));'
        else:
            line = (
                f'put("{n}", (const char *)({n}), __builtin_types_compatible_p(__typeof__({n}), '
                f"__typeof__(&*({n}))) ? strlen((const char *)({n})) : sizeof({n}) - 1);"
            )
        otherwise = line if n in enumerators else 'puts("' + n + ' absent");'
        lines.append(f"#ifdef {n}\n  {line}\n#else\n  {otherwise}\n#endif")
    out = _compile_and_run(
        key,
        "\n".join(lines),
        tmp_path,
        extra=textwrap.dedent("""
        static void put(const char *n, const char *s, size_t len) {
          printf("%s s ", n);
          for (size_t i = 0; i < len; i++) printf("%02x", (unsigned char)s[i]);
          printf("\\n");
        }"""),
    )
    c_values, absent = {}, set()
    for line in out.splitlines():
        name, kind, *rest = line.split(" ")
        text = rest[0] if rest else ""
        if kind == "absent":
            absent.add(name)
        elif kind == "i":
            c_values[name] = int(text)
        elif kind == "f":
            c_values[name] = float.fromhex(text)
        else:
            c_values[name] = bytes.fromhex(text).decode("utf-8", "surrogateescape")
    assert absent <= COMPILER_CHOSEN.get(key, set())
    differ = {
        n: (v, c_values.get(n))
        for n, v in values.items()
        if n not in absent
        and not (v == c_values.get(n) or (isinstance(v, float) and math.isnan(v) and math.isnan(c_values[n])))
    }
    assert not differ, f"{len(differ)} of {len(values)} constants differ from the C compiler's: {differ}"


def _records(lib):
    """(C spelling, CType) of the header's structs, unions and complex types (by typedef
    name)."""
    out = []
    for name in lib.header["types"]:
        try:
            t = lib.typeof(name)
        except Exception:  # noqa: BLE001
            continue
        if t.kind in ("struct", "union", "complex") and t.size:
            out.append((name, t))
    return out


@pytest.mark.parametrize("key", sorted(ALL))
def test_layouts_equal_the_c_compilers(key, tmp_path):
    lib = load(key)
    records = _records(lib)
    if not records:
        pytest.skip("the header declares no complete struct or complex type by a typedef name")
    lines, expected = [], []
    for name, t in records:
        lines.append(f'printf("%zu %zu\\n", sizeof({name}), _Alignof({name}));')
        expected.append(f"{t.size} {t.alignment}")
        if t.kind == "complex":
            continue  # its parts, real and imag, have no name in C
        for fname, _ftype, offset, bits in t.fields or []:
            if fname and not bits:  # (a member a macro hides cannot be named in C either)
                lines.append(
                    f'#ifdef {fname}\n  puts("hidden");\n#else\n  printf("%zu\\n", offsetof({name}, {fname}));\n#endif'
                )
                expected.append(str(offset))
    out = _compile_and_run(key, "\n".join(lines), tmp_path).split("\n")[:-1]
    assert len(out) == len(expected)
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(expected, out, strict=True)) if a != b and b != "hidden"]
    assert not bad, f"layouts differ from the C compiler's: {bad[:10]}"


def test_the_library_search_is_cached_with_the_header(cache_dir):
    _, header, options, package = LIBS["yaml"]
    if not _found(header, options):
        pytest.skip(f"{header} is not installed ({package})")
    code = textwrap.dedent("""
        import ctypes.util, ndffi
        searched = []
        find = ctypes.util.find_library
        ctypes.util.find_library = lambda name: searched.append(name) or find(name)
        lib = ndffi.load("yaml", header="yaml.h")
        print(lib.path, lib.yaml_get_version_string().string().decode(), searched)
    """)
    env = dict(os.environ, NDFFI_CACHE_DIR=str(cache_dir / "search"))
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout.split()
    again = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert first[2] == "['yaml']" and again[2] == "[]"  # searched once, then from the cache
    assert first[:2] == again[:2] and "libyaml" in first[0]


# ---- the 20 libraries, end to end -------------------------------------------------------

DATA = b"ndffi calls C from Python. " * 200


def test_zlib():
    z = load("zlib")
    n = z.new("unsigned long *", z.compressBound(len(DATA)))
    out = np.empty(n[0], np.uint8)
    assert z.compress(out, n, DATA, len(DATA)) == z.Z_OK
    assert pyzlib.decompress(out[: n[0]].tobytes()) == DATA
    assert z.crc32(0, DATA, len(DATA)) == pyzlib.crc32(DATA)


def test_bzip2():
    b = load("bzip2")
    dest = np.zeros(len(DATA) + 600, np.uint8)
    n = b.new("unsigned int *", dest.size)
    compress = b.BZ2_bzBuffToBuffCompress.assume_const("source")
    assert compress(dest, n, DATA, len(DATA), 9, 0, 30) == b.BZ_OK
    assert pybz2.decompress(dest[: n[0]].tobytes()) == DATA
    back = np.zeros(len(DATA), np.uint8)
    m = b.new("unsigned int *", back.size)
    assert b.BZ2_bzBuffToBuffDecompress(back, m, dest, n[0], 0, 0) == b.BZ_OK
    assert back.tobytes() == DATA


def test_lzma():
    x = load("lzma")
    assert x.LZMA_VERSION_STRING == x.lzma_version_string().string().decode()
    out = np.zeros(len(DATA) + 1000, np.uint8)
    pos = x.new("size_t *", 0)
    assert x.lzma_easy_buffer_encode(6, x.LZMA_CHECK_CRC64, None, DATA, len(DATA), out, pos, out.size) == x.LZMA_OK
    assert pylzma.decompress(out[: pos[0]].tobytes()) == DATA


def test_zstd():
    z = load("zstd")
    assert z.ZSTD_VERSION_STRING == z.ZSTD_versionString().string().decode()
    dst = np.zeros(z.ZSTD_compressBound(len(DATA)), np.uint8)
    n = z.ZSTD_compress(dst, dst.size, DATA, len(DATA), 3)
    assert not z.ZSTD_isError(n)
    back = np.zeros(len(DATA), np.uint8)
    assert z.ZSTD_decompress(back, back.size, dst, n) == len(DATA) and back.tobytes() == DATA


def test_lz4():
    z = load("lz4")
    assert z.LZ4_VERSION_STRING == z.LZ4_versionString().string().decode()
    dst = np.zeros(z.LZ4_compressBound(len(DATA)), np.uint8)
    n = z.LZ4_compress_default(DATA, dst, len(DATA), dst.size)
    back = np.zeros(len(DATA), np.uint8)
    assert 0 < n < len(DATA) and z.LZ4_decompress_safe(dst, back, n, back.size) == len(DATA)
    assert back.tobytes() == DATA


def test_sqlite3():
    sq = load("sqlite3")
    pp = sq.new("sqlite3 **")
    assert sq.sqlite3_open(b":memory:", pp) == sq.SQLITE_OK
    st = sq.new("sqlite3_stmt **")
    assert sq.sqlite3_prepare_v2(pp[0], b"select 6 * 7, 'x' || ?", -1, st, None) == sq.SQLITE_OK
    sq.sqlite3_bind_text(st[0], 1, b"yz", -1, sq.SQLITE_TRANSIENT)
    assert sq.sqlite3_step(st[0]) == sq.SQLITE_ROW
    assert sq.sqlite3_column_int(st[0], 0) == 42
    assert sq.sqlite3_column_text(st[0], 1).string() == b"xyz"
    sq.sqlite3_finalize(st[0])
    sq.sqlite3_close(pp[0])


def test_expat():
    x = load("expat")
    names = []
    start = x.callback("XML_StartElementHandler", lambda data, name, atts: names.append(name.string()))
    end = x.callback("XML_EndElementHandler", lambda data, name: None)
    p = x.XML_ParserCreate(None)
    x.XML_SetElementHandler(p, start, end)
    doc = b"<a><b/><c><d/></c></a>"
    assert x.XML_Parse(p, doc, len(doc), 1) == x.XML_STATUS_OK
    x.XML_ParserFree(p)
    assert names == [b"a", b"b", b"c", b"d"]


def test_libxml2():
    x = load("libxml2")
    x.xmlCheckVersion(x.LIBXML_VERSION)
    doc_text = b"<r><i>ab</i><i>cd</i></r>"
    doc = x.xmlReadMemory(doc_text, len(doc_text), b"mem.xml", None, 0)
    root = x.xmlDocGetRootElement(doc)
    assert root[0].name.string() == b"r"
    assert x.xmlChildElementCount(root) == 2
    assert x.XML_XML_NAMESPACE == "http://www.w3.org/XML/1998/namespace"
    assert ndffi.typeof(x.xmlFree).cname == "void (*)(void *)"  # a function pointer, as C has it
    x.xmlFreeDoc(doc)


def test_libpng():
    p = load("libpng")
    assert p.png_access_version_number() == p.PNG_LIBPNG_VER
    assert p.png_get_libpng_ver(None).string().decode() == p.PNG_LIBPNG_VER_STRING


def test_libjpeg():
    j = load("libjpeg")
    cinfo = j.new("struct jpeg_compress_struct *")
    err = j.new("struct jpeg_error_mgr *")
    cinfo[0].err = j.jpeg_std_error(err)
    j.jpeg_create_compress(cinfo)  # a macro: jpeg_CreateCompress(cinfo, version, size)
    assert cinfo[0].global_state != 0
    j.jpeg_destroy_compress(cinfo)


def test_libarchive(tmp_path):
    load("libarchive")
    both = tmp_path / "archive_both.h"  # what a C program includes
    both.write_text("#include <archive.h>\n#include <archive_entry.h>\n")
    a = e_lib = ndffi.load("archive", header=str(both))
    assert a.archive_version_number() == a.ARCHIVE_VERSION_NUMBER
    buf = np.zeros(1 << 16, np.uint8)
    used = a.new("size_t *")
    w = a.archive_write_new()
    assert a.archive_write_set_format_pax_restricted(w) == a.ARCHIVE_OK
    assert a.archive_write_open_memory(w, buf, buf.size, used) == a.ARCHIVE_OK
    e = e_lib.archive_entry_new()
    e_lib.archive_entry_set_pathname(e, b"hello.txt")
    e_lib.archive_entry_set_size(e, len(DATA))
    e_lib.archive_entry_set_filetype(e, e_lib.AE_IFREG)
    e_lib.archive_entry_set_perm(e, 0o644)
    a.archive_write_header(w, e)
    assert a.archive_write_data(w, DATA, len(DATA)) == len(DATA)
    e_lib.archive_entry_free(e)
    a.archive_write_close(w)
    a.archive_write_free(w)
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(buf[: used[0]].tobytes())) as t:
        assert t.extractfile("hello.txt").read() == DATA


def test_libcurl_easy_options():
    c = load("libcurl")
    assert c.curl_version().string().startswith(b"libcurl/")
    h = c.curl_easy_init()
    assert c.curl_easy_setopt(h, c.CURLOPT_VERBOSE, 0) == c.CURLE_OK  # not a RecursionError
    info = c.new("long *")
    assert c.curl_easy_getinfo(h, c.CURLINFO_RESPONSE_CODE, info) == c.CURLE_OK and info[0] == 0
    c.curl_easy_cleanup(h)


def test_libcurl_file_transfer_with_a_python_write_callback(tmp_path):
    c = load("libcurl")
    f = tmp_path / "data.bin"
    f.write_bytes(DATA)
    got = []

    def write(ptr, size, nmemb, userdata):
        got.append(ptr.as_array(size * nmemb).tobytes() if hasattr(ptr, "as_array") else bytes(ptr))
        return size * nmemb

    cb = c.callback("curl_write_callback", write)
    h = c.curl_easy_init()
    try:
        assert c.curl_easy_setopt(h, c.CURLOPT_URL, f.as_uri().encode()) == c.CURLE_OK
        assert c.curl_easy_setopt(h, c.CURLOPT_WRITEFUNCTION, cb) == c.CURLE_OK
        assert c.curl_easy_perform(h) == c.CURLE_OK
    finally:
        c.curl_easy_cleanup(h)
    assert b"".join(got) == DATA


def test_openssl_digest():
    o = load("openssl")
    ctx = o.EVP_MD_CTX_new()
    out = np.zeros(o.EVP_MAX_MD_SIZE, np.uint8)
    n = o.new("unsigned int *")
    assert o.EVP_DigestInit_ex(ctx, o.EVP_sha256(), None) == 1
    assert o.EVP_DigestUpdate(ctx, DATA, len(DATA)) == 1
    assert o.EVP_DigestFinal_ex(ctx, out, n) == 1
    o.EVP_MD_CTX_free(ctx)
    assert out[: n[0]].tobytes() == hashlib.sha256(DATA).digest()
    with pytest.raises(AttributeError, match="comma expression"):
        o.OBJ_hmac_sha1  # 1L,3L,6L,...: a list, not a constant  # noqa: B018


def test_gmp():
    g = load("gmp")
    assert (
        g.gmp_version.string().decode().split(".")[0] == str(g.__GNU_MP_VERSION)
        if "__GNU_MP_VERSION" in g.header["constants"]
        else g.gmp_version.string()
    )
    assert g.mp_bits_per_limb == 64 == g.GMP_LIMB_BITS
    z = g.new("mpz_t")
    g.mpz_init(z)
    g.mpz_set_str(z, b"123456789012345678901234567890", 10)
    g.mpz_mul(z, z, z)
    buf = bytearray(g.mpz_sizeinbase(z, 10) + 2)
    g.mpz_get_str(buf, 10, z)
    assert int(bytes(buf).rstrip(b"\0")) == 123456789012345678901234567890**2
    g.mpz_clear(z)
    # mpn_add_n (#define mpn_add_n __MPN(add_n)) on NumPy limbs
    a = np.array([2**64 - 1, 5], np.uint64)
    b = np.array([1, 7], np.uint64)
    r = np.zeros(2, np.uint64)
    assert g.mpn_add_n(r, a, b, 2) == 0 and list(r) == [0, 13]


def test_uuid():
    u = load("uuid")
    text = b"1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    uu = np.zeros(16, np.uint8)
    assert u.uuid_parse(text, uu) == 0
    import uuid as pyuuid

    assert uu.tobytes() == pyuuid.UUID(text.decode()).bytes
    out = bytearray(37)
    u.uuid_unparse(uu, out)
    assert bytes(out[:36]) == text


def test_pcre2():
    p = load("pcre2")
    err, off = p.new("int *"), p.new("size_t *")
    pattern = rb"(\d+)-(\w+)"
    code = p.pcre2_compile(pattern, len(pattern), 0, err, off, None)
    md = p.pcre2_match_data_create_from_pattern(code, None)
    subject = b"item 42-answer here"
    assert p.pcre2_match(code, subject, len(subject), 0, 0, md, None) == 3
    ov = p.pcre2_get_ovector_pointer(md)
    m = re.search(pattern, subject)
    assert [ov[i] for i in range(6)] == [m.start(0), m.end(0), m.start(1), m.end(1), m.start(2), m.end(2)]
    assert p.types.pcre2_callout_block == p.types.pcre2_callout_block_8
    p.pcre2_match_data_free(md)
    p.pcre2_code_free(code)


def test_yaml():
    y = load("yaml")
    v = [y.new("int *") for _ in range(3)]
    y.yaml_get_version(*v)
    assert ".".join(str(i[0]) for i in v) == y.yaml_get_version_string().string().decode()


def test_libsodium():
    s = load("libsodium")
    assert s.sodium_init() >= 0
    out = np.zeros(32, np.uint8)
    assert s.crypto_generichash(out, 32, DATA, len(DATA), None, 0) == 0
    assert out.tobytes() == hashlib.blake2b(DATA, digest_size=32).digest()
    assert s.crypto_hash_sha256(out, DATA, len(DATA)) == 0
    assert out.tobytes() == hashlib.sha256(DATA).digest()


def test_ncurses():
    n = load("ncurses")
    assert n.curses_version().string().startswith(b"ncurses")
    assert n.keyname(ord("A")).string() == b"A" and n.unctrl(1).string() == b"^A"


def test_readline():
    r = load("readline")
    assert r.rl_readline_version == r.RL_READLINE_VERSION
    major, minor = divmod(r.RL_READLINE_VERSION, 256)
    assert r.rl_library_version.string() == f"{major}.{minor}".encode()
    # #define rl_symbolic_link_hook rl_directory_completion_hook: the same variable
    assert r.header["aliases"]["rl_symbolic_link_hook"] == "rl_directory_completion_hook"
    assert ndffi.typeof(r.rl_symbolic_link_hook) == ndffi.typeof(r.rl_directory_completion_hook)


# ---- scientific libraries: real calls against NumPy ------------------------------------


def test_fftw_dft_matches_numpy():
    f = load("fftw3")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(64) + 1j * rng.standard_normal(64)
    out = np.zeros(64, np.complex128)  # fftw_complex is double[2]
    plan = f.fftw_plan_dft_1d(64, x, out, f.FFTW_FORWARD, f.FFTW_ESTIMATE)
    f.fftw_execute(plan)
    f.fftw_destroy_plan(plan)
    np.testing.assert_allclose(out, np.fft.fft(x), rtol=1e-12, atol=1e-12)
    r = rng.standard_normal(32)
    half = np.zeros((17, 2))  # pairs of doubles do too
    plan = f.fftw_plan_dft_r2c_1d(32, r.copy(), half, f.FFTW_ESTIMATE)
    f.fftw_execute(plan)
    f.fftw_destroy_plan(plan)
    np.testing.assert_allclose(half.view(np.complex128).ravel(), np.fft.rfft(r), atol=1e-12)


def test_gsl_integrates_a_python_callback():
    g = load("gsl")
    calls = []

    def f(x, params):
        calls.append(x)
        return math.log(x) / math.sqrt(x)

    F = g.types.gsl_function()
    F.function = g.callback("double(double, void *)", f)
    w = g.gsl_integration_workspace_alloc(1000)
    result, abserr = g.new("double *"), g.new("double *")
    assert g.gsl_integration_qags(F, 0.0, 1.0, 0.0, 1e-9, 1000, w, result, abserr) == 0
    g.gsl_integration_workspace_free(w)
    assert abs(result[0] - (-4.0)) < 1e-9 and calls  # the exact value is -4


def test_gsl_complex_vectors_over_numpy():
    g = load("gsl_blas")
    ALL["gsl_complex"] = ("gsl", "gsl/gsl_complex_math.h", {}, "libgsl-dev")
    gc = load("gsl_complex")
    z = gc.gsl_complex_rect(3.0, 4.0)  # struct { double dat[2]; }
    assert gc.gsl_complex_abs(z) == 5.0
    x = np.array([1 + 2j, 3 - 1j, -2 + 0.5j])
    v = g.gsl_vector_complex_view_array(x.view(np.float64), 3)
    dot = g.new("gsl_complex *")
    assert g.gsl_blas_zdotu(v.vector, v.vector, dot) == 0
    assert complex(*dot[0].dat) == np.dot(x, x)
    assert g.gsl_vector_complex_scale(v.vector, {"dat": [2.0, 0.0]}) == 0
    np.testing.assert_array_equal(x, np.array([2 + 4j, 6 - 2j, -4 + 1j]))
    ALL["gsl_poly"] = ("gsl", "gsl/gsl_poly.h", {}, "libgsl-dev")
    poly = load("gsl_poly")
    w = poly.gsl_poly_complex_workspace_alloc(3)
    roots = np.zeros(2, np.complex128)  # z^2 + 1 = 0, packed as pairs
    assert poly.gsl_poly_complex_solve(np.array([1.0, 0.0, 1.0]), 3, w, roots.view(np.float64)) == 0
    poly.gsl_poly_complex_workspace_free(w)
    np.testing.assert_allclose(sorted(roots, key=lambda r: r.imag), [-1j, 1j], atol=1e-12)


def test_gsl_matrix_views_over_numpy():
    g = load("gsl_blas")
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    c = np.zeros((3, 2))
    va = g.gsl_matrix_view_array(a, 3, 4)
    vb = g.gsl_matrix_view_array(b, 4, 2)
    vc = g.gsl_matrix_view_array(c, 3, 2)
    assert g.gsl_blas_dgemm(g.CblasNoTrans, g.CblasNoTrans, 1.0, va.matrix, vb.matrix, 0.0, vc.matrix) == 0
    np.testing.assert_allclose(c, a @ b, rtol=1e-13)
    assert g.gsl_matrix_get(va.matrix, 2, 3) == a[2, 3]


def test_cblas_dgemm_matches_numpy():
    c = load("cblas")
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4))
    out = np.zeros((5, 4))
    c.cblas_dgemm(c.CblasRowMajor, c.CblasNoTrans, c.CblasNoTrans, 5, 4, 3, 1.0, a, 3, b, 4, 0.0, out, 4)
    np.testing.assert_allclose(out, a @ b, rtol=1e-13)


def test_cblas_complex_results_match_numpy():
    c = load("cblas")
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((2, 7)) + 1j * rng.standard_normal((2, 7))
    r = c.cblas_zdotu(7, x, 1, y, 1)  # double _Complex, returned by value
    assert type(r) is complex and abs(r - np.dot(x, y)) < 1e-12
    r = c.cblas_zdotc(7, x, 1, y, 1)
    assert type(r) is complex and abs(r - np.vdot(x, y)) < 1e-12


def test_lapacke_zgesv_matches_numpy():
    la = load("lapacke")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4)) + 4 * np.eye(4)
    b = rng.standard_normal((4, 1)) + 1j * rng.standard_normal((4, 1))
    lu, x = a.copy(), b.copy()
    ipiv = np.zeros(4, np.dtype(f"i{la.sizeof('lapack_int')}"))
    # lapack_complex_double * takes complex128 arrays (the memory of pairs of doubles)
    assert la.LAPACKE_zgesv(la.LAPACK_ROW_MAJOR, 4, 1, lu, 4, ipiv, x, 1) == 0
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-12)
    with pytest.raises(TypeError, match="complex64"):
        la.LAPACKE_zgesv(la.LAPACK_ROW_MAJOR, 4, 1, lu.astype(np.complex64), 4, ipiv, x, 1)


def test_lapacke_dgesv_matches_numpy():
    la = load("lapacke")
    rng = np.random.default_rng(4)
    a = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    b = rng.standard_normal((4, 2))
    lu, x = a.copy(), b.copy()
    ipiv = np.zeros(4, np.dtype(f"i{la.sizeof('lapack_int')}"))
    assert la.LAPACKE_dgesv(la.LAPACK_ROW_MAJOR, 4, 2, lu, 4, ipiv, x, 2) == 0
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-12)


def test_hdf5_writes_and_reads_an_array(tmp_path):
    h = load("hdf5")
    assert h.H5T_NATIVE_DOUBLE == h.H5T_NATIVE_DOUBLE_g  # (H5open(), H5T_NATIVE_DOUBLE_g)
    data = np.arange(12.0).reshape(3, 4) ** 2
    path = str(tmp_path / "x.h5").encode()
    fid = h.H5Fcreate(path, h.H5F_ACC_TRUNC, h.H5P_DEFAULT, h.H5P_DEFAULT)
    assert fid > 0
    dims = np.array(data.shape, np.uint64)
    space = h.H5Screate_simple(2, dims, None)
    dset = h.H5Dcreate2(fid, b"/x", h.H5T_NATIVE_DOUBLE, space, h.H5P_DEFAULT, h.H5P_DEFAULT, h.H5P_DEFAULT)
    assert h.H5Dwrite(dset, h.H5T_NATIVE_DOUBLE, h.H5S_ALL, h.H5S_ALL, h.H5P_DEFAULT, data) >= 0
    h.H5Dclose(dset), h.H5Sclose(space), h.H5Fclose(fid)
    fid = h.H5Fopen(path, h.H5F_ACC_RDONLY, h.H5P_DEFAULT)
    dset = h.H5Dopen2(fid, b"/x", h.H5P_DEFAULT)
    back = np.zeros_like(data)
    assert h.H5Dread(dset, h.H5T_NATIVE_DOUBLE, h.H5S_ALL, h.H5S_ALL, h.H5P_DEFAULT, back) >= 0
    h.H5Dclose(dset), h.H5Fclose(fid)
    np.testing.assert_array_equal(back, data)


def test_netcdf_writes_and_reads_an_array(tmp_path):
    n = load("netcdf")
    data = np.linspace(0, 1, 10)
    path = str(tmp_path / "x.nc").encode()
    ncid, dim, var = n.new("int *"), n.new("int *"), n.new("int *")
    assert n.nc_create(path, n.NC_CLOBBER, ncid) == n.NC_NOERR
    n.nc_def_dim(ncid[0], b"x", 10, dim)
    n.nc_def_var(ncid[0], b"v", n.NC_DOUBLE, 1, np.array([dim[0]], np.intc), var)
    n.nc_enddef(ncid[0])
    assert n.nc_put_var_double(ncid[0], var[0], data) == n.NC_NOERR
    n.nc_close(ncid[0])
    assert n.nc_open(path, n.NC_NOWRITE, ncid) == n.NC_NOERR
    back = np.zeros(10)
    assert n.nc_get_var_double(ncid[0], var[0], back) == n.NC_NOERR
    n.nc_close(ncid[0])
    np.testing.assert_array_equal(back, data)


def test_sndfile_writes_and_reads_samples(tmp_path):
    s = load("sndfile")
    samples = np.sin(np.linspace(0, 20, 800)) * 0.5
    info = s.types.SF_INFO()
    info.samplerate, info.channels, info.format = 8000, 1, s.SF_FORMAT_WAV | s.SF_FORMAT_DOUBLE
    path = str(tmp_path / "x.wav").encode()
    f = s.sf_open(path, s.SFM_WRITE, info)
    assert f is not None and s.sf_write_double(f, samples, samples.size) == samples.size
    s.sf_close(f)
    info2 = s.types.SF_INFO()
    f = s.sf_open(path, s.SFM_READ, info2)
    back = np.zeros(samples.size)
    assert info2.frames == samples.size and s.sf_read_double(f, back, back.size) == samples.size
    s.sf_close(f)
    np.testing.assert_array_equal(back, samples)


def test_cfitsio_long_names_write_and_read_an_image(tmp_path):
    c = load("cfitsio")
    img = np.arange(20, dtype=np.float64).reshape(4, 5)
    fptr, status = c.new("fitsfile **"), c.new("int *")
    path = str(tmp_path / "x.fits").encode()
    c.fits_create_file(fptr, path, status)  # #define fits_create_file ffinit
    c.fits_create_img(fptr[0], c.DOUBLE_IMG, 2, np.array([5, 4], np.int_), status)
    c.fits_write_img(fptr[0], c.TDOUBLE, 1, img.size, img, status)
    c.fits_close_file(fptr[0], status)
    assert status[0] == 0
    c.fits_open_file(fptr, path, c.READONLY, status)  # a macro calling ffopentest
    back, anynul = np.zeros_like(img), c.new("int *")
    c.fits_read_img(fptr[0], c.TDOUBLE, 1, img.size, None, back, anynul, status)
    c.fits_close_file(fptr[0], status)
    assert status[0] == 0
    np.testing.assert_array_equal(back, img)


def test_umfpack_solves_a_sparse_system():
    u = load("umfpack")
    # CSC of [[2, 3, 0], [3, 0, 4], [0, -1, 1]]
    ap = np.array([0, 2, 4, 6], np.intc)
    ai = np.array([0, 1, 0, 2, 1, 2], np.intc)
    ax = np.array([2.0, 3.0, 3.0, -1.0, 4.0, 1.0])
    dense = np.array([[2, 3, 0], [3, 0, 4], [0, -1, 1]], float)
    b = np.array([8.0, 45.0, -3.0])
    sym, num = u.new("void **"), u.new("void **")
    assert u.umfpack_di_symbolic(3, 3, ap, ai, ax, sym, None, None) == u.UMFPACK_OK
    assert u.umfpack_di_numeric(ap, ai, ax, sym[0], num, None, None) == u.UMFPACK_OK
    x = np.zeros(3)
    assert u.umfpack_di_solve(u.UMFPACK_A, ap, ai, ax, x, b, num[0], None, None) == u.UMFPACK_OK
    u.umfpack_di_free_symbolic(sym), u.umfpack_di_free_numeric(num)
    np.testing.assert_allclose(x, np.linalg.solve(dense, b), rtol=1e-12)


def test_mpfr_pi():
    m = load("mpfr")
    x = m.new("mpfr_t")
    m.mpfr_init2(x, 200)
    m.mpfr_const_pi(x, m.MPFR_RNDN)
    assert m.mpfr_get_d(x, m.MPFR_RNDN) == math.pi
    buf = bytearray(64)
    m.mpfr_snprintf(buf, len(buf), b"%.40Rf", x)
    assert bytes(buf).rstrip(b"\0") == b"3.1415926535897932384626433832795028841972"
    m.mpfr_clear(x)


def test_nlopt_minimizes_a_python_objective():
    n = load("nlopt")

    def objective(count, x, grad, data):
        xs = x.as_array(count)
        if grad is not None:
            g = grad.as_array(count)
            g[:] = 2 * (xs - np.array([1.0, -2.0]))
        return float(np.sum((xs - np.array([1.0, -2.0])) ** 2))

    opt = n.nlopt_create(n.NLOPT_LD_LBFGS, 2)
    f = n.callback("nlopt_func", objective)
    assert n.nlopt_set_min_objective(opt, f, None) == n.NLOPT_SUCCESS
    n.nlopt_set_xtol_rel(opt, 1e-10)
    x = np.array([5.0, 5.0])
    value = n.new("double *")
    assert n.nlopt_optimize(opt, x, value) > 0
    n.nlopt_destroy(opt)
    np.testing.assert_allclose(x, [1.0, -2.0], atol=1e-6)
    assert value[0] < 1e-10
