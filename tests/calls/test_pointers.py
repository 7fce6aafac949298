"""Array and pointer arguments and results: arrays, buffers, ``__array_interface__``
and DLPack zero copy with each rejection (non-contiguous, wrong dtype, read-only,
byte-swapped, misaligned), bytes and str to char pointers, None as NULL, pointer results,
opaque handles, and the cookbook's bar and fibonacci examples.
"""

import array
import sys

import numpy as np
import pytest

import ndffi
from conftest import FOO_CDEF, ArrayInterfaceOnly, DLPackOnly, clib_fixture

lib = clib_fixture("foo", FOO_CDEF)


# ---- arrays and pointers ------------------------------------------------------------


def test_arrays_are_zero_copy(lib):
    a = np.zeros(7, dtype=np.intc)
    lib.fill_ints(a, 7, 42)
    assert a.tolist() == [42] * 7
    lib.fill_ints(a[2:5], 3, -1)  # a contiguous view: C writes into a's memory
    assert a.tolist() == [42, 42, -1, -1, -1, 42, 42]
    x = np.arange(10.0)
    assert lib.dsum(x, 10) == 45.0 and lib.dsum(x[5:], 5) == 35.0
    assert lib.identity_ptr(x).address == x.ctypes.data
    assert lib.identity_ptr(a[1:]).address == a.ctypes.data + a.itemsize
    assert lib.sum_longs(np.arange(5, dtype=np.int_), 5) == 10
    assert lib.sum_longs(np.arange(5, dtype=np.longlong), 5) == 10  # same width as long
    assert lib.sum_floats(np.full(4, 0.5, dtype=np.float32), 4) == 2.0
    m = np.arange(12.0).reshape(3, 4)  # 2-D C-contiguous
    assert lib.dsum(m, 12) == 66.0


def test_bar_seed_example(lib, capfd):
    x = np.random.default_rng(1).standard_normal(10)
    capfd.readouterr()
    n = lib.bar(x, len(x))
    assert n == 11
    out = capfd.readouterr().out.splitlines()
    assert out[0] == f"data = {x.ctypes.data:#x}"  # the array itself, not a copy
    assert out[1:11] == [f"data[{i}] = {v:f}" for i, v in enumerate(x)]
    assert out[11] == "len = 10"


def test_fibonacci_seed_example(fiblib):
    assert fiblib.fib(8) == 13
    with pytest.raises(OverflowError, match=r"^fib\(\) argument 1 'a'"):
        fiblib.fib(2**40)
    a = np.array([5, 13, 2, 6], dtype=np.intc)
    out = np.empty_like(a)
    assert fiblib.fibseries(a, len(a), out) is None
    assert out.tolist() == [3, 144, 1, 5]
    c = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=np.intc)
    m = np.zeros_like(c)
    fiblib.fibmatrix(c, 3, 3, m)
    assert m.tolist() == [[0, 1, 1], [2, 3, 5], [8, 13, 21]]
    # the seed's own dtype (numpy int, 64-bit here) is not int: a TypeError, not garbage
    if np.dtype(np.int_).itemsize != np.dtype(np.intc).itemsize:
        with pytest.raises(
            TypeError,
            match=r"fibseries\(\) argument 1 'a': expected C-contiguous "
            r"int32 array for 'const int \*', got int64 array",
        ):
            fiblib.fibseries(np.array([5, 13]), 2, out)
    with pytest.raises(
        TypeError, match=r"fibmatrix\(\) argument 1 'a'.*Fortran-ordered \(F-contiguous\).*a copy would not be seen"
    ):
        fiblib.fibmatrix(c.T, 3, 3, m)
    ro = np.zeros_like(c)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match=r"fibmatrix\(\) argument 4 'matrix'.*not const"):
        fiblib.fibmatrix(c, 3, 3, ro)


def test_reject_non_contiguous(lib):
    x = np.arange(10.0)
    with pytest.raises(TypeError) as e:
        lib.dsum(x[::2], 5)
    assert str(e.value) == (
        "dsum() argument 1 'x': expected C-contiguous float64 array for "
        "'const double *', got a float64 array that is not contiguous (strides (16,)); "
        "pass np.ascontiguousarray(x)"
    )
    with pytest.raises(TypeError, match=r"not contiguous \(strides \(32, 8\)\); pass np.ascontiguousarray\(x\)$"):
        lib.dsum(np.ones((4, 4))[:, :2], 8)
    with pytest.raises(TypeError, match=r"Fortran-ordered \(F-contiguous\); pass np.ascontiguousarray\(x\), or x.T"):
        lib.dsum(np.ones((3, 4)).T, 12)  # Fortran order


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.complex128, np.longdouble])
def test_reject_wrong_dtype(lib, dtype):
    with pytest.raises(TypeError) as e:
        lib.dsum(np.zeros(4, dtype=dtype), 4)
    msg = str(e.value)
    assert msg.startswith("dsum() argument 1 'x': expected C-contiguous float64 array")
    assert f"got {np.dtype(dtype)} array" in msg


def test_reject_read_only_to_non_const(lib):
    a = np.zeros(4, dtype=np.intc)
    a.flags.writeable = False
    with pytest.raises(TypeError) as e:
        lib.fill_ints(a, 4, 1)
    msg = str(e.value)
    assert msg.startswith("fill_ints() argument 1 'out': ")
    assert "not const" in msg and "read-only int32 array" in msg
    assert a.tolist() == [0, 0, 0, 0]
    # a const pointee accepts read-only memory
    x = np.arange(4.0)
    x.flags.writeable = False
    assert lib.dsum(x, 4) == 6.0


def test_reject_byte_swapped(lib):
    x = np.arange(4.0).astype(">f8" if sys.byteorder == "little" else "<f8")
    with pytest.raises(
        TypeError,
        match=r"^dsum\(\) argument 1 'x': expected C-contiguous float64 "
        r"array for 'const double \*', got byte-swapped",
    ):
        lib.dsum(x, 4)


def test_reject_misaligned(lib):
    x = np.frombuffer(bytearray(8 * 10 + 1), dtype=np.float64, count=10, offset=1)
    assert not x.flags.aligned
    with pytest.raises(TypeError, match=r"^dsum\(\) argument 1 'x': .* got misaligned float64 array$"):
        lib.dsum(x, 10)


def test_reject_int_and_list_as_pointer(lib):
    x = np.arange(4.0)
    with pytest.raises(TypeError, match=r"^dsum\(\) argument 1 'x': .*a plain int is not a pointer.*got int$"):
        lib.dsum(x.ctypes.data, 4)
    with pytest.raises(TypeError, match=r"^dsum\(\) argument 1 'x': .* got list$"):
        lib.dsum([1.0, 2.0], 2)
    with pytest.raises(TypeError, match=r"got tuple$"):
        lib.dsum((1.0, 2.0), 2)
    with pytest.raises(TypeError, match=r"got float$"):
        lib.dsum(1.0, 1)
    # an explicit cast makes an address a pointer
    assert lib.dsum(ndffi.cast("const double *", x.ctypes.data), 4) == 6.0


def test_bytes_and_str_to_char_pointers(lib):
    assert lib.my_strlen(b"hello") == 5
    assert lib.my_strlen(b"ab\0cd") == 2  # the bytes themselves, zero copy
    assert lib.my_strlen("héllo") == 6  # UTF-8
    assert lib.my_strlen("") == 0
    with pytest.raises(ValueError, match="NUL"):
        lib.my_strlen("a\0b")
    with pytest.raises(TypeError) as e:
        lib.upcase(b"abc")
    assert str(e.value).startswith("upcase() argument 1 's': ")
    assert "bytes is immutable" in str(e.value)
    with pytest.raises(TypeError, match=r"^upcase\(\) argument 1 's': .*got str"):
        lib.upcase("abc")
    # bytes are not an array of any other element type
    with pytest.raises(TypeError, match=r"^dsum\(\) argument 1 'x': .*float64.*got bytes"):
        lib.dsum(np.ones(2).tobytes(), 2)
    with pytest.raises(TypeError, match=r"^sum_longs\(\) argument 1 'x'"):
        lib.sum_longs(b"\1" * 16, 2)
    assert lib.count_bytes(b"abcabca", 7, ord("a")) == 3  # const unsigned char * takes bytes


def test_bytearray_written_in_place(lib):
    b = bytearray(b"hello, World\0")
    assert lib.upcase(b) is None
    assert b == bytearray(b"HELLO, WORLD\0")
    a = np.frombuffer(bytearray(b"abc\0"), dtype=np.uint8).copy()
    lib.upcase(a)
    assert a.tobytes() == b"ABC\0"


def test_memoryview_and_array_array(lib):
    x = np.arange(10.0)
    assert lib.dsum(memoryview(x), 10) == 45.0
    assert lib.dsum(array.array("d", [1.5, 2.5, 3.0]), 3) == 7.0
    ai = array.array("i", [0] * 5)
    lib.fill_ints(ai, 5, 9)
    assert ai.tolist() == [9] * 5  # zero copy into the array.array
    mv = memoryview(bytearray(16)).cast("i")
    lib.fill_ints(mv, 4, -3)
    assert mv.tolist() == [-3] * 4
    assert lib.sum_longs(array.array("l", [1, 2, 3]), 3) == 6
    assert lib.sum_floats(array.array("f", [0.5, 0.25]), 2) == 0.75
    with pytest.raises(
        TypeError,
        match=r"^dsum\(\) argument 1 'x': expected C-contiguous float64 "
        r"buffer for 'const double \*', got array.array of format 'i'$",
    ):
        lib.dsum(array.array("i", [1, 2, 3]), 3)
    with pytest.raises(TypeError, match=r"format 'B'"):
        lib.dsum(memoryview(x.tobytes()), 10)
    with pytest.raises(
        TypeError, match=r"got a memoryview that is not contiguous \(strides \(16,\)\); pass np.ascontiguousarray\(x\)$"
    ):
        lib.dsum(memoryview(x)[::2], 5)
    with pytest.raises(TypeError, match=r"not const.*read-only memoryview"):
        lib.fill_ints(memoryview(np.zeros(2, np.intc)).toreadonly(), 2, 1)
    with pytest.raises(TypeError, match=r"format 'I'"):  # unsigned is not int
        lib.fill_ints(array.array("I", [0, 0]), 2, 1)


def test_array_interface_only_is_zero_copy(lib):
    a = np.zeros(6, dtype=np.intc)
    obj = ArrayInterfaceOnly(a)
    with pytest.raises(TypeError):
        memoryview(obj)  # no buffer protocol: only the interface
    lib.fill_ints(obj, 6, 5)
    assert a.tolist() == [5] * 6
    x = np.arange(5.0)
    assert lib.dsum(ArrayInterfaceOnly(x), 5) == 10.0
    with pytest.raises(TypeError, match=r"got float32 array"):
        lib.dsum(ArrayInterfaceOnly(x.astype(np.float32)), 5)
    ro = np.zeros(3, dtype=np.intc)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match="not const"):
        lib.fill_ints(ArrayInterfaceOnly(ro), 3, 1)
    with pytest.raises(TypeError, match="not contiguous"):
        lib.dsum(ArrayInterfaceOnly(x[::2]), 3)


def test_dlpack_is_zero_copy(lib):
    a = np.zeros(5, dtype=np.intc)
    lib.fill_ints(DLPackOnly(a), 5, 8)
    assert a.tolist() == [8] * 5
    x = np.arange(6.0)
    assert lib.dsum(DLPackOnly(x), 6) == 15.0
    with pytest.raises(TypeError, match=r"got int32 array"):
        lib.dsum(DLPackOnly(a), 5)
    ro = np.zeros(3, dtype=np.intc)
    ro.flags.writeable = False
    with pytest.raises((TypeError, BufferError)):
        lib.fill_ints(DLPackOnly(ro), 3, 1)
    assert ro.tolist() == [0, 0, 0]


def test_none_is_null(lib):
    p = lib.identity_ptr(None)
    assert isinstance(p, ndffi.Pointer)
    assert not p and p.address == 0 and "NULL" in repr(p)
    assert lib.dsum(None, 0) == 0.0
    with pytest.raises(
        TypeError,
        match=r"^identity_ptr\(\) argument 1 'p': expected C-contiguous array "
        r"for 'void \*', got a float64 array that is not contiguous \(strides \(16,\)\); C writes through this "
        r"pointer and a copy would not be seen by the caller: pass a C-contiguous array",
    ):
        lib.identity_ptr(np.zeros(4)[::2])
    with pytest.raises(
        TypeError,
        match=r"^identity_ptr\(\) argument 1 'p': expected C-contiguous buffer "
        r"for 'void \*' \(the parameter is not const",
    ):
        lib.identity_ptr(b"bytes")
    assert not lib.h_open(None)


def test_pointer_results(lib):
    p = lib.static_ints()
    assert p and isinstance(p, ndffi.Pointer)
    assert str(p.type) == "int *"
    v = p.as_array(5)
    assert v.dtype == np.intc and v.tolist() == [1, 2, 3, 4, 5]
    assert v.ctypes.data == p.address  # a view, not a copy
    assert lib.static_ints().address == p.address
    assert p[0] == 1 and p[2] == 3 and p[4] == 5
    assert p.as_array((2, 2)).tolist() == [[1, 2], [3, 4]]
    n = lib.null_doubles()
    assert not n and n.address == 0
    with pytest.raises(ValueError, match="NULL"):
        n.as_array(3)
    with pytest.raises(ValueError, match="NULL"):
        n[0]
    with pytest.raises(ValueError, match="NULL"):
        n[0] = 1.0
    assert lib.version().string() == b"foo 1.0"
    assert lib.version().type.item.is_const
    # a pointer result passed back in
    x = np.arange(3.0)
    assert lib.dsum(ndffi.cast("double *", lib.identity_ptr(x)), 3) == 3.0


def test_pointer_of_unknown_length_is_not_iterable(lib):
    p = lib.static_ints()
    with pytest.raises(TypeError, match="unknown length"):
        list(p)
    with pytest.raises(TypeError):
        len(p)
    q = ndffi.new("int[3]", [7, 8, 9])
    assert list(q) == [7, 8, 9] and 8 in q and len(q) == 3


def test_opaque_handles(lib):
    h = lib.h_open(b"first")
    assert h and str(h.type) == "struct handle *"
    assert lib.h_name(h).string() == b"first"
    o = lib.o_open()
    try:
        with pytest.raises(TypeError) as e:
            lib.o_close(h)
        assert str(e.value) == ("o_close() argument 1 'o': expected 'struct other *', got pointer 'struct handle *'")
        with pytest.raises(
            TypeError,
            match=r"^h_close\(\) argument 1: expected 'struct handle \*', "
            r"got pointer 'struct other \*'$",
        ):
            lib.h_close(o)
        with pytest.raises(TypeError, match="a plain int is not a pointer"):
            lib.h_close(h.address)
        with pytest.raises(TypeError):
            lib.h_close(np.zeros(80, np.uint8))  # an array is not a struct handle
    finally:
        lib.o_close(o)
    h2 = lib.h_open("second")  # str works for const char *
    assert lib.h_name(h2).string() == b"second"
    assert lib.h_close(h2) == 0
    assert lib.h_close(h) == 0
    assert lib.h_close(None) == -1


@pytest.mark.parametrize(
    "ctype, dtype",
    [
        ("int8_t", "i1"),
        ("uint8_t", "u1"),
        ("int16_t", "i2"),
        ("uint16_t", "u2"),
        ("int32_t", "i4"),
        ("uint32_t", "u4"),
        ("int64_t", "i8"),
        ("uint64_t", "u8"),
        ("signed char", "i1"),
        ("unsigned char", "u1"),
        ("long", "l"),
        ("size_t", "u8"),
        ("double", "f8"),
        ("float", "f4"),
        ("_Bool", "?"),
    ],
)
def test_pointer_element_reads_of_every_scalar_kind(ctype, dtype):
    # p[i] reads the element at i for every scalar type, at every index within the
    # memory, from the first byte to the last, and refuses one element past either end
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    values = [info.min, -1 if info.min else 1, 0, 1, info.max] if info else [-1.5, 0.0, 2.5, 1e300, -0.0]
    if dtype == "f4":
        values[3] = 3.0e38
    if dtype == "?":
        values = [True, False, True, True, False]
    p = ndffi.new(f"{ctype}[5]")
    p.as_array(5)[:] = np.array(values, dtype=dtype)
    expect = np.array(values, dtype=dtype).tolist()
    assert [p[i] for i in range(5)] == expect
    assert [type(p[i]) for i in range(5)] == [type(v) for v in expect]
    q = p + 2
    assert [q[i] for i in range(-2, 3)] == expect
    assert q[True] == expect[3] and q[np.int64(-2)] == expect[0]
    for bad in (-3, 3, 2**40, -(2**40), 2**70):
        with pytest.raises(IndexError, match="out of range|overflows|index-sized"):
            q[bad]
    null = ndffi.cast(f"{ctype} *", 0)
    with pytest.raises(ValueError, match="NULL"):
        null[0]


def test_pointer_indexing_with_new(lib):
    n = ndffi.new("int *", 5)
    assert n[0] == 5 and len(n) == 1
    n[0] = -7
    assert n[0] == -7
    for i in (1, -1, 2**40):
        with pytest.raises(IndexError):
            n[i]
    with pytest.raises(IndexError):
        n[1] = 3
    with pytest.raises(OverflowError):
        n[0] = 2**40
    with pytest.raises(TypeError):
        n[0] = 1.5
    assert n[0] == -7
    d = ndffi.new("double[16]")
    assert len(d) == 16 and [d[i] for i in range(16)] == [0.0] * 16
    d[15] = 2.5
    d[3] = 1
    assert d[15] == 2.5 and d[3] == 1.0
    with pytest.raises(IndexError, match="16"):
        d[16]
    with pytest.raises(IndexError):
        d[-1] = 0.0
    assert lib.dsum(d, 16) == 3.5  # ndffi memory passed to C
    ints = ndffi.new("int[4]")
    lib.fill_ints(ints, 4, 11)  # ... and written by C
    assert [ints[i] for i in range(4)] == [11] * 4
    assert ints.as_array(4).tolist() == [11] * 4
    with pytest.raises(TypeError, match=r"^dsum\(\) argument 1 'x': expected 'const double \*'"):
        lib.dsum(ints, 4)  # an int * is not a double *
    c = ndffi.cast("const double *", d)
    with pytest.raises(TypeError, match="not const"):
        lib.bar(c, 0)  # const memory to a non-const parameter
