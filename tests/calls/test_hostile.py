"""Hostile and careless use of Pointers, struct values, C arrays, the build cache and
output files: every mistake is a Python exception naming where, what was expected and
what was given — never a wrong value, never stale code, never a user's file changed."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ndffi

CC = os.environ.get("CC", "cc")


@pytest.fixture(scope="module")
def types():
    lib = ndffi.load(None)
    lib.cdef("""
        typedef struct { char name[4]; int k; unsigned char u[2]; short m[2][2]; } named;
        typedef struct { double x, y; } vec2;
        typedef struct { vec2 pts[2]; } seg;
    """)
    return lib.types


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("NDFFI_CACHE_DIR", str(path))
    return path


# ---- C arrays (fields, elements of arrays of arrays) ------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "12"),  # NumPy would parse the str as the number 12
        ("u", "12"),
        ("u", ["1", "2"]),  # ... and each of these as a number
        ("u", [1.5, 2]),  # ... and truncate this to 1
        ("m", [[1.5, 1], [1, 1]]),
        ("m", [["1", "1"], [1, 1]]),
    ],
)
def test_array_fields_take_what_their_elements_take(types, field, value):
    v = types.named()
    with pytest.raises(TypeError, match=f"field '{field}'"):
        setattr(v, field, value)
    assert bytes(v) == bytes(types.named())  # nothing written


def test_array_field_messages_name_the_field_expected_and_given(types):
    v = types.named()
    with pytest.raises(TypeError, match=r"field 'u'.*'unsigned char\[2\]'.*int64 array"):
        v.u = np.array([1, 2])  # int64 -> uint8 is not safe
    with pytest.raises(ValueError, match=r"field 'u'.*expected 2 values.*got 3"):
        v.u = [1, 2, 3]
    with pytest.raises(TypeError, match=r"field 'name'.*got str.*encode"):
        v.name = "ab"
    with pytest.raises(OverflowError, match=r"field 'u' of 'named' element 1"):
        v.u = [1, 300]
    v.u = [7, 255]
    v.m = [np.array([1, 2], np.int16), [3, 4]]  # rows of any accepted kind
    v.name = b"abcd"  # no NUL: all four bytes
    assert v.u.tolist() == [7, 255] and v.m.tolist() == [[1, 2], [3, 4]] and v.name == b"abcd"


def test_arrays_of_arrays_in_new_memory_and_through_pointers(types):
    p = ndffi.new("short[2][2]", [[1, 2], [3, 4]])
    assert [p[i][j] for i in range(2) for j in range(2)] == [1, 2, 3, 4]
    p[1] = [5, 6]
    assert (p[1][0], p[1][1]) == (5, 6)
    assert ndffi.new("char[2][4]", [b"ab", b"cd"])[1].string() == b"cd"
    with pytest.raises(TypeError, match=r"element 0"):
        ndffi.new("short[2][2]", [[1.5, 2], [3, 4]])
    s = types.seg(pts=[(1, 2), {"x": 3, "y": 4}])
    assert (s.pts[1]["x"], s.pts[0]["y"]) == (3.0, 2.0)


def test_new_memory_refuses_bytes_for_arrays_of_wider_elements():
    with pytest.raises(TypeError, match=r"new\(\) initializer: expected a list of values for 'double\[2\]', got bytes"):
        ndffi.new("double[2]", b"12")  # was [49.0, 50.0]
    assert list(ndffi.new("unsigned char[2]", b"\x01\xff")) == [1, 255]


def test_a_failing_index_conversion_is_named():
    q = ndffi.new("int[2]")
    with pytest.raises(
        TypeError,
        match=r"^pointer element: expected int for 'int', got int64 array of shape \(1,\) \(an array is not a number: pass a\[0\]\)$",
    ):
        q[0] = np.array([7])
    with pytest.raises(TypeError, match=r"^new\(\) initializer element|^new\(\) initializer: "):
        ndffi.new("int *", np.array([7, 8]))

    class BadIndex:
        def __index__(self):
            raise UnicodeDecodeError("utf-8", b"x", 0, 1, "bad")  # takes no message alone

    with pytest.raises(ValueError, match=r"^pointer element: 'utf-8' codec") as info:
        q[1] = BadIndex()
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_a_float_from_a_one_element_array_is_refused_by_name():
    m = ndffi.load("m")
    m.cdef("double cos(double x); float cosf(float x); int abs(int x);")
    with pytest.raises(TypeError, match=r"cos\(\) argument 1 'x'.*an array is not a number: pass a\[0\]"):
        m.cos(np.array([2.5]))
    with pytest.raises(TypeError, match=r"cosf\(\) argument 1 'x'.*an array is not a number"):
        m.cosf(np.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"abs\(\) argument 1 'x'"):
        m.abs(np.array([3]))
    assert m.cos(np.array(0.0)) == 1.0  # a 0-d array is a number

    class BadFloat:
        def __float__(self):
            raise ValueError("no float today")

    with pytest.raises(ValueError, match=r"^cos\(\) argument 1 'x': no float today"):
        m.cos(BadFloat())


# ---- cast(), protocols and string() ------------------------------------------------------


def test_cast_of_a_strided_view_is_cs_pointer_into_the_memory_it_spans():
    # C follows the strides it is told (the cookbook's strided_sum); the Pointer is
    # bounded by the memory the view spans, nothing beyond it.
    a = np.arange(6.0)
    p = ndffi.cast("double *", a[::2])
    assert p.address == a.ctypes.data and len(p) == 5 and p[4] == 4.0
    with pytest.raises(IndexError):
        p[5]
    r = ndffi.cast("double *", a[::-1])  # at the last element, spanning back
    assert (r[0], r[-5], len(r)) == (5.0, 0.0, 1)
    with pytest.raises(IndexError):
        r[1]
    b = ndffi.cast("double *", np.broadcast_to(np.zeros(1), (4,)))
    assert len(b) == 1  # one double, however many views of it


def test_cast_of_a_strided_buffer_is_bounded_and_holds_it():
    data = bytearray(b"abcdefgh")
    p = ndffi.cast("char *", memoryview(data)[::2])  # no simple buffer: through NumPy
    assert (p[0], p[6], len(p)) == (ord("a"), ord("g"), 7)
    with pytest.raises(IndexError):
        p[7]
    with pytest.raises(BufferError):
        data.extend(b"x" * 4096)
    del p
    data.extend(b"x")


class Interface:
    def __init__(self, **iface):
        self.__array_interface__ = dict(version=3, **iface)


class LyingDLPack:
    def __dlpack__(self, **kw):
        return 5

    def __dlpack_device__(self):
        return (1, 0)


@pytest.fixture(scope="module")
def libc():
    lib = ndffi.load(None)
    lib.cdef("void *memset(void *s, int c, size_t n);typedef struct { double *x; int n; } dvec;")
    return lib


def test_a_protocol_that_fails_is_named(libc):
    with pytest.raises(ValueError, match=r"memset\(\) argument 1 's': LyingDLPack is not an array by its protocol"):
        libc.memset(LyingDLPack(), 0, 1)
    with pytest.raises(TypeError, match=r"dvec\(\) field 'x': Interface is not an array by its protocol"):
        libc.types.dvec(x=Interface(shape=(1,), typestr="<f8", data=5))
    with pytest.raises(ValueError, match=r"cast\('double \*', \.\.\.\): LyingDLPack"):
        ndffi.cast("double *", LyingDLPack())


def test_an_interface_claiming_more_than_its_buffer_is_refused(libc):
    buf = bytearray(16)
    huge = dict(shape=(1 << 20,), typestr="<f8", data=buf)  # NumPy itself does not check
    with pytest.raises(
        ValueError,
        match=r"memset\(\) argument 1 's': Interface .*its __array_interface__ claims 8388608 bytes.*bytearray of 16 bytes",
    ):  # noqa: E501
        libc.memset(Interface(**huge), 0, 8)
    with pytest.raises(ValueError, match=r"field 'x'.*claims"):
        libc.types.dvec(x=Interface(**huge))
    with pytest.raises(ValueError, match=r"claims 8 bytes at offset 16"):
        ndffi.cast("double *", Interface(shape=(1,), typestr="<f8", data=buf, offset=16))


def test_an_interface_over_a_buffer_holds_its_export(libc):
    buf = bytearray(16)
    v = libc.types.dvec(x=Interface(shape=(2,), typestr="<f8", data=buf), n=2)
    with pytest.raises(BufferError):
        buf.extend(b"x" * 4096)  # C's pointer would dangle
    p = ndffi.cast("double *", Interface(shape=(2,), typestr="<f8", data=bytes(16)))
    assert len(p) == 2 and p[1] == 0.0
    with pytest.raises(TypeError, match="read-only"):
        p[0] = 1.0  # bytes stay immutable
    del v
    buf.extend(b"x")  # free again
    view = memoryview(bytearray(16))  # NumPy keeps it, holding no export of it
    q = ndffi.cast("double *", Interface(shape=(2,), typestr="<f8", data=view))
    with pytest.raises(BufferError):
        view.release()
    del q


def test_string_refuses_a_negative_length():
    p = ndffi.cast("char *", b"abc")
    with pytest.raises(ValueError, match=r"string\(\): length must be >= 0.*got -1"):
        p.string(-1)
    assert p.string() == b"abc" and p.string(None) == b"abc" and p.string(2) == b"ab"


def test_a_result_into_the_second_of_two_adjacent_arguments_takes_its_bound(cache):
    lib = ndffi.inline("unsigned char *second(unsigned char *a, unsigned char *b) { return b; }")
    big = np.arange(8, dtype=np.uint8)
    p = lib.second(big[:4], big[4:])  # one past the end of a, inside b
    assert (p[0], p[3], len(p)) == (4, 7, 4)
    with pytest.raises(IndexError):
        p[4]


# ---- build outputs and the build cache ----------------------------------------------------


def write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_a_generated_header_the_user_edited_is_the_users(tmp_path, cache):
    src = write(tmp_path / "sci.c", "int sci(int x) { return x + 1; }\n")
    out = tmp_path / "out"
    assert ndffi.build([src], output_dir=out).sci(1) == 2
    header = out / "sci.h"
    edited = header.read_text() + "\n/* my notes */\nint extra(int);\n"  # marker line kept
    header.write_text(edited)
    write(src, "int sci(int x) { return x + 2; }\n")
    with pytest.raises(ndffi.building.output.OutputExists, match=r"sci\.h was written by ndffi but edited since"):
        ndffi.build([src], output_dir=out)
    assert header.read_text() == edited
    assert ndffi.build([src], output_dir=out, force=True).sci(1) == 3
    write(src, "int sci(int x) { return x + 3; }\n")  # ndffi's own again: replaced
    assert ndffi.build([src], output_dir=out).sci(1) == 4
    first, rest = header.read_text().split("\n", 1)
    edited = "/* ndffi-generated: (mine now, keep) */\n" + rest  # the marker line itself edited
    header.write_text(edited)
    write(src, "int sci(int x) { return x + 4; }\n")
    with pytest.raises(ndffi.building.output.OutputExists, match=r"sci\.h was written by ndffi but edited since"):
        ndffi.build([src], output_dir=out)
    assert header.read_text() == edited


def test_a_header_created_earlier_in_the_search_order_is_compiled(tmp_path, cache):
    inc1, inc2 = tmp_path / "inc1", tmp_path / "inc2"
    write(inc2 / "x.h", "#define X 1\n")
    inc1.mkdir()
    src = write(tmp_path / "r.c", "#include <x.h>\nint x(void) { return X; }\n")
    dirs = [inc1, inc2]
    assert ndffi.build([src], include_dirs=dirs).x() == 1
    write(inc1 / "x.h", "#define X 2\n")  # now found first
    assert ndffi.build([src], include_dirs=dirs).x() == 2
    (inc1 / "x.h").unlink()
    assert ndffi.build([src], include_dirs=dirs).x() == 1


def test_a_header_created_next_to_the_source_is_compiled(tmp_path, cache):
    inc = tmp_path / "inc"
    write(inc / "y.h", "#define Y 1\n")
    src = write(tmp_path / "s.c", '#include "y.h"\nint y(void) { return Y; }\n')
    assert ndffi.build([src], include_dirs=[inc]).y() == 1
    write(tmp_path / "y.h", "#define Y 3\n")  # "..." looks beside the source first
    assert ndffi.build([src], include_dirs=[inc]).y() == 3


def test_a_header_has_include_finds_later_is_compiled(tmp_path, cache, monkeypatch):
    src = write(
        tmp_path / "q.c",
        """\
        #if __has_include("opt.h")
        #include "opt.h"
        #else
        #define W 1
        #endif
        int w(void) { return W; }
        """,
    )
    assert ndffi.build([src]).w() == 1
    write(tmp_path / "opt.h", "#define W 7\n")
    assert ndffi.build([src]).w() == 7


def test_unchanged_builds_still_hit_the_cache(tmp_path, cache):
    src = write(tmp_path / "h.c", '#include <stdio.h>\n#include "loc.h"\nint h(void) { return L; }\n')
    write(tmp_path / "loc.h", "#define L 5\n")
    first = ndffi.building.compile_library([src])
    again = ndffi.building.compile_library([src])
    assert first.compiled and not again.compiled and again.library == first.library


def test_a_header_import_sees_a_header_created_earlier_in_the_search_order(tmp_path, cache):
    from ndffi import headers as _headers

    if _headers.libclang_version() is None:
        pytest.skip("needs libclang")
    inc1, inc2 = tmp_path / "inc1", tmp_path / "inc2"
    inc1.mkdir()
    write(inc2 / "t.h", "typedef int T;\n")
    api = write(tmp_path / "api.h", "#include <t.h>\nT get(void);\n")
    first = _headers.import_header(str(api), include_dirs=[inc1, inc2])
    assert str(inc2 / "t.h") in first["files"]
    write(inc1 / "t.h", "typedef double T;\n")
    again = _headers.import_header(str(api), include_dirs=[inc1, inc2])
    assert str(inc1 / "t.h") in again["files"]


def _immutable(path, on):
    return (
        subprocess.run(
            ["chattr", "-R", "+i" if on else "-i", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ).returncode
        == 0
    )


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="root ignores modes: the cache is made read-only with chattr +i",
)
def test_an_immutable_cache_is_used_for_hits_and_bypassed_for_misses(tmp_path, cache):
    assert ndffi.inline("int a(void) { return 1; }").a() == 1
    if not _immutable(cache, True):
        pytest.skip("chattr +i is not supported here")
    try:
        assert ndffi.inline("int a(void) { return 1; }").a() == 1  # a hit, read only
        assert ndffi.inline("int b(void) { return 2; }").b() == 2  # built elsewhere
    finally:
        _immutable(cache, False)


def test_a_static_library_rebuilt_is_linked_again(tmp_path, cache):
    def libfoo(value):
        src = write(tmp_path / "foo.c", f"int foo(void) {{ return {value}; }}\n")
        subprocess.run([CC, "-c", "-fPIC", str(src), "-o", str(tmp_path / "foo.o")], check=True)
        (tmp_path / "libfoo.a").unlink(missing_ok=True)
        subprocess.run(["ar", "rcs", str(tmp_path / "libfoo.a"), str(tmp_path / "foo.o")], check=True)

    libfoo(1)
    bar = write(tmp_path / "bar.c", "int foo(void);\nint bar(void) { return foo(); }\n")
    opts = dict(libraries=["foo"], library_dirs=[tmp_path])
    assert ndffi.build([bar], **opts).bar() == 1
    libfoo(2)  # its code is copied into the library
    assert ndffi.build([bar], **opts).bar() == 2
    assert not ndffi.building.compile_library([bar], **opts).compiled


@pytest.mark.parametrize("name", ["a\nb", "tab\there"])
def test_a_source_whose_name_has_a_newline_or_tab_is_declared(tmp_path, cache, name):
    d = tmp_path / ("dir" + name)
    write(d / "h.h", "#define V 1\n")
    src = write(d / (name + ".c"), '#include "h.h"\nint v(void) { return V; }\n')
    assert ndffi.build([src], name="nl").v() == 1
    write(d / "h.h", "#define V 2\n")
    assert ndffi.build([src], name="nl").v() == 2


# What the compiler reads that its dependency output does not list: the environment,
# files the flags name, a wrapper script, the directory relative flags are relative to.


def test_a_change_of_cpath_is_compiled(tmp_path, cache, monkeypatch):
    write(tmp_path / "A" / "conf.h", "#define VAL 1\n")
    write(tmp_path / "B" / "conf.h", "#define VAL 2\n")
    src = write(tmp_path / "cpath.c", "#include <conf.h>\nint val(void) { return VAL; }\n")
    for d, want in (("A", 1), ("B", 2), ("A", 1)):
        monkeypatch.setenv("CPATH", str(tmp_path / d))
        assert ndffi.build([src]).val() == want


def test_relative_include_flags_from_another_directory_are_compiled(tmp_path, cache, monkeypatch):
    src = write(tmp_path / "r.c", "#include <x.h>\nint x(void) { return X; }\n")
    write(tmp_path / "w1" / "inc2" / "x.h", "#define X 1\n")
    write(tmp_path / "w2" / "inc1" / "x.h", "#define X 2\n")  # found first from w2
    write(tmp_path / "w2" / "inc2" / "x.h", "#define X 1\n")
    (tmp_path / "w1" / "inc1").mkdir()
    for d, want in (("w1", 1), ("w2", 2)):
        monkeypatch.chdir(tmp_path / d)
        assert ndffi.build([src], cflags=["-Iinc1", "-Iinc2"]).x() == want


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a GNU ld version script")
def test_files_the_flags_name_are_part_of_the_build(tmp_path, cache):
    src = write(
        tmp_path / "f.c",
        "int impl1(void) { return 1; }\nint impl2(void) { return 2; }\nint val(void) { return VAL; }\n",
    )
    rsp, script = tmp_path / "opts.rsp", tmp_path / "exports.map"
    for value, exported, hidden in ((1, "impl1", "impl2"), (2, "impl2", "impl1")):
        rsp.write_text(f"-DVAL={value}\n")
        script.write_text(f"{{ global: val; {exported}; local: *; }};\n")
        cflags = [f"@{rsp}", f"-Wl,--version-script={script}"]
        lib = ndffi.build([src], cflags=cflags, cdef="int val(void); int impl1(void); int impl2(void);")
        assert lib.val() == value  # the response file, edited
        assert getattr(lib, exported)() == value  # the version script, edited
        with pytest.raises(AttributeError, match=f"does not export '{hidden}'"):
            getattr(lib, hidden)


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script")
def test_an_edited_compiler_wrapper_is_compiled_with(tmp_path, cache, monkeypatch):
    src = write(tmp_path / "w.c", "int val(void) { return VAL; }\n")
    wrapper = tmp_path / "mycc"
    monkeypatch.setenv("CC", str(wrapper))
    for value in (5, 66):
        wrapper.write_text(f'#!/bin/sh\nexec {CC} -DVAL={value} "$@"\n')
        wrapper.chmod(0o755)
        assert ndffi.build([src]).val() == value
