"""Calls (issue 3, items 5 and 6): every conversion and every rejection, with real values.

Scalars through the echo_* functions of tests/clib/foo.c, the direct SysV stubs against
libffi on random values, arrays and buffers zero copy with each rejection, strings,
pointers and opaque handles, varargs (foo's my_printf and libc's snprintf/printf),
errno, argument errors, threads and the GIL, and leaks.
"""

import array
import fractions
import gc
import math
import os
import pydoc
import re
import struct
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ndffi
from conftest import clib_fixture, skip_if_sanitized

# ---- declarations -------------------------------------------------------------------

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


def int_range(ctype):
    bits = 8 * ndffi.sizeof(ctype)
    signed = ndffi.cast(ctype, -1).value < 0
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


lib = clib_fixture("foo", FOO_CDEF)
lib_gil = clib_fixture("foo", FOO_CDEF, release_gil=False)   # functions keep the GIL in calls
elib = clib_fixture("foo", "int set_errno(int v); int add(int a, int b);", use_errno=True)


@pytest.fixture(scope="module")
def libc():
    libc = ndffi.load("c")
    libc.cdef("""
        int snprintf(char *str, size_t size, const char *format, ...);
        int printf(const char *format, ...);
        int fflush(void *stream);
    """)
    return libc


def via_libffi(lib, name):
    """The function `name` of `lib`, forced through libffi (no direct stub)."""
    f = lib._ns.function(name, lib._handle.symbol(name), lib._handle, allow_direct=False)
    assert f.direct is False
    return f


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


# ---- integer scalars ----------------------------------------------------------------

@pytest.mark.parametrize("name,ctype", INT_ECHOES, ids=[n for n, _ in INT_ECHOES])
def test_integer_round_trip_min_max(lib, name, ctype):
    f = getattr(lib, f"echo_{name}")
    lo, hi = int_range(ctype)
    values = {lo, lo + 1, hi - 1, hi, 0, 1, hi // 3}
    if lo < 0:
        values |= {-1, lo // 3}
    for v in sorted(values):
        r = f(v)
        assert r == v and type(r) is int, (ctype, v, r)


@pytest.mark.parametrize("name,ctype", INT_ECHOES, ids=[n for n, _ in INT_ECHOES])
def test_integer_out_of_range_is_overflow_error(lib, name, ctype):
    f = getattr(lib, f"echo_{name}")
    lo, hi = int_range(ctype)
    cname = str(ndffi.typeof(ctype))
    for v in (lo - 1, hi + 1, hi + 2**70, lo - 2**70):
        with pytest.raises(OverflowError) as e:
            f(v)
        assert str(e.value) == (f"echo_{name}() argument 1 'x': expected int in "
                                f"[{lo}, {hi}] for '{cname}', got {v}")


def test_integer_overflow_names_the_parameter(lib):
    with pytest.raises(OverflowError, match=r"^add\(\) argument 1 'a': expected int in "
                                            r"\[-2147483648, 2147483647\] for 'int', got 1099511627776$"):
        lib.add(2**40, 1)
    with pytest.raises(OverflowError, match=r"^add\(\) argument 2 'b': .* got -2147483649$"):
        lib.add(1, -2**31 - 1)
    with pytest.raises(OverflowError, match=r"wsum_mixed\(\) argument 15 'i8'"):
        lib.wsum_mixed(*[1, 1.0] * 7, 2**31, 1.0, 1.0, 1.0)


@pytest.mark.parametrize("bad", [1.0, 0.5, float("nan"), np.float64(2.0), np.float32(1.0),
                                 "1", b"1", None, [1], 1 + 0j, fractions.Fraction(1, 1)])
def test_non_integers_rejected_for_int_params(lib, bad):
    with pytest.raises(TypeError) as e:
        lib.echo_int(bad)
    msg = str(e.value)
    assert msg.startswith("echo_int() argument 1 'x': expected int for 'int', got ")
    assert ("None" if bad is None else type(bad).__name__) in msg


def test_str_and_none_rejected_for_every_number_type(lib):
    for name, _ in ALL_ECHOES:
        f = getattr(lib, f"echo_{name}")
        for bad in ("3", None, object()):
            with pytest.raises(TypeError, match=rf"^echo_{name}\(\) argument 1 'x': expected "):
                f(bad)


def test_numpy_integer_scalars(lib):
    assert lib.echo_int(np.int32(-5)) == -5
    assert lib.echo_int(np.int64(2**31 - 1)) == 2**31 - 1
    assert lib.echo_uchar(np.uint8(255)) == 255
    assert lib.echo_uint64(np.uint64(2**64 - 1)) == 2**64 - 1
    assert lib.echo_int64(np.int64(-2**63)) == -2**63
    assert lib.echo_short(np.int8(-128)) == -128
    with pytest.raises(OverflowError, match=r"echo_int\(\) argument 1 'x'.* got 2147483648$"):
        lib.echo_int(np.int64(2**31))
    with pytest.raises(OverflowError, match=r"got -1$"):
        lib.echo_uint8(np.int8(-1))
    # an explicit ndffi.cast value is an int too
    assert lib.echo_int(ndffi.cast("long", 7)) == 7


def test_bool_to_int_and_bool_params(lib):
    assert lib.echo_int(True) == 1 and lib.echo_int(False) == 0
    for v, want in [(True, True), (False, False), (1, True), (0, False),
                    (np.bool_(True), True), (np.bool_(False), False),
                    (np.int64(1), True), (np.uint8(0), False)]:
        r = lib.echo_bool(v)
        assert r is want, (v, r)
    for v in (2, -1, np.int64(2)):
        with pytest.raises(OverflowError, match=r"^echo_bool\(\) argument 1 'x': expected bool or 0 or 1"):
            lib.echo_bool(v)
    for v in (1.0, None, "True"):
        with pytest.raises(TypeError, match=r"^echo_bool\(\) argument 1 'x': expected bool"):
            lib.echo_bool(v)
    assert lib.is_positive(2.5) is True and lib.is_positive(-1) is False


def test_char_and_unsigned_char(lib):
    lo, hi = int_range("char")
    assert (lo, hi) in [(-128, 127), (0, 255)]
    assert lib.echo_char(65) == 65 and lib.echo_char(lo) == lo and lib.echo_char(hi) == hi
    assert lib.echo_uchar(0) == 0 and lib.echo_uchar(255) == 255
    assert lib.echo_schar(-128) == -128
    with pytest.raises(OverflowError, match=r"\[0, 255\] for 'unsigned char', got 256"):
        lib.echo_uchar(256)
    with pytest.raises(OverflowError, match=r"\[-128, 127\] for 'signed char', got 128"):
        lib.echo_schar(128)
    with pytest.raises(TypeError, match=r"expected int for 'char', got str"):
        lib.echo_char("A")


# ---- floating-point scalars ---------------------------------------------------------

def test_float32_rounding(lib):
    r = lib.echo_float(0.1)
    assert r == float(np.float32(0.1)) and r != 0.1
    assert lib.echo_float(2**24 + 1) == 2.0**24          # an int rounds to float like C
    assert lib.echo_float(1.5) == 1.5
    fmax = float(np.finfo(np.float32).max)
    assert lib.echo_float(fmax) == fmax and lib.echo_float(-fmax) == -fmax
    assert lib.echo_float(1e-46) == 0.0                   # underflow is rounding, not an error
    assert math.isinf(lib.echo_float(float("inf")))
    assert math.isnan(lib.echo_float(float("nan")))
    assert lib.echo_float(np.float32(0.25)) == 0.25
    assert lib.fret(1.25) == 2.5


@pytest.mark.parametrize("v", [1e39, -1e39, 3.5e38, 2**128, float(2**1000)])
def test_float32_overflow(lib, v):
    with pytest.raises(OverflowError) as e:
        lib.echo_float(v)
    assert str(e.value).startswith("echo_float() argument 1 'x': expected a value within float's range")


def test_double_accepts_int_and_numbers(lib):
    r = lib.echo_double(3)
    assert r == 3.0 and type(r) is float
    assert lib.echo_double(-2**53) == -2.0**53
    assert lib.echo_double(True) == 1.0
    assert lib.echo_double(np.float32(0.5)) == 0.5
    assert lib.echo_double(np.int64(-7)) == -7.0
    assert lib.echo_double(fractions.Fraction(1, 4)) == 0.25
    assert lib.echo_double(1e308) == 1e308
    assert lib.echo_double(5e-324) == 5e-324
    with pytest.raises(OverflowError, match=r"^echo_double\(\) argument 1 'x'"):
        lib.echo_double(2**1024)


@pytest.mark.parametrize("bad", ["1.0", b"1.0", None, 1 + 2j, np.complex128(1 + 2j), [1.0]])
def test_double_rejects_non_numbers(lib, bad):
    with pytest.raises(TypeError, match=r"^echo_double\(\) argument 1 'x': expected "):
        lib.echo_double(bad)


def test_long_double(lib):
    assert lib.echo_longdouble.direct is False
    assert lib.echo_longdouble(1.5) == 1.5
    assert lib.echo_longdouble(-1e300) == -1e300
    assert lib.echo_longdouble(3) == 3.0
    with pytest.raises(TypeError):
        lib.echo_longdouble("x")


# ---- mixed and long argument lists --------------------------------------------------

def test_mix(lib):
    assert lib.mix(1, 2.0, 3.0, 4, 5, 6.0, 7.0) == 140.0
    # every argument has its own weight: a value in the wrong register changes the sum
    assert lib.mix(-3, 0.25, 1.5, -2**40, 255, -0.5, 1e10) == \
        -3 + 2 * 0.25 + 3 * 1.5 + 4 * -2**40 + 5 * 255 + 6 * -0.5 + 7 * 1e10
    # the float parameters round to float
    assert lib.mix(0, 0.0, 0.1, 0, 0, 0.0, 0.0) == 3.0 * float(np.float32(0.1))
    with pytest.raises(OverflowError, match=r"mix\(\) argument 5 'e'"):
        lib.mix(1, 2.0, 3.0, 4, 256, 6.0, 7.0)


def test_many_arguments(lib):
    ints = [3, -1, 2**31 - 1, -2**31, 7, 0, 11, -13]
    assert lib.wsum_i8(*ints) == sum((i + 1) * v for i, v in enumerate(ints))
    assert lib.wsum_i8(*range(1, 9)) == 204
    ds = [0.5, -1.25, 3.0, 1e6, -2.0, 0.125, 9.0, -7.5, 4.0, 1e-3]
    assert lib.wsum_d10(*ds) == pytest.approx(sum((i + 1) * v for i, v in enumerate(ds)), rel=1e-15)
    assert lib.wsum_d10(*range(1, 11)) == 385.0
    args = []
    for k in range(8):
        args += [k + 1, 0.5 * (k + 1)]
    args += [9.0, 10.0]
    ivals, dvals = args[0:16:2], args[1:16:2] + args[16:]
    want = sum((k + 1) * v for k, v in enumerate(ivals)) + 0.5 * sum((k + 1) * v for k, v in enumerate(dvals))
    assert want == 345.5
    assert lib.wsum_mixed(*args) == want
    with pytest.raises(TypeError, match=r"^wsum_mixed\(\) argument 18 'd10': expected float"):
        lib.wsum_mixed(*args[:-1], "x")


def test_which_calls_are_direct(lib, lib_gil):
    for name in ("add", "mix", "dsum", "noop", "echo_int", "echo_double", "echo_float", "fill_ints",
                 "version", "h_open"):
        assert getattr(lib, name).direct is True, name
    # stack arguments, long double and varargs go through libffi
    for name in ("wsum_i8", "wsum_d10", "wsum_mixed", "echo_longdouble", "my_printf"):
        assert getattr(lib, name).direct is False, name
    assert lib.add.release_gil is True and lib_gil.add.release_gil is False
    assert lib_gil.add(2, 3) == 5 and lib_gil.dsum(np.arange(4.0), 4) == 6.0


_CONVERSION_NAMES = [f"echo_{n}" for n, _ in INT_ECHOES + [("bool", "_Bool")] + FLOAT_ECHOES[:2]] + ["mix"]


def _strategy(ctype):
    if ctype == "_Bool":
        return st.booleans()
    if ctype == "float":
        return st.floats(width=32, allow_nan=False)
    if ctype == "double":
        return st.floats(allow_nan=False)
    lo, hi = int_range(ctype)
    return st.integers(lo, hi)


_MIX_TYPES = ["int", "double", "float", "long", "unsigned char", "float", "double"]
_ECHO_TYPES = dict((f"echo_{n}", c) for n, c in ALL_ECHOES)


def _same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("name", _CONVERSION_NAMES)
def test_direct_stub_matches_libffi(lib, name):
    direct = getattr(lib, name)
    assert direct.direct is True
    ffi = via_libffi(lib, name)
    types = _MIX_TYPES if name == "mix" else [_ECHO_TYPES[name]]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.tuples(*[_strategy(t) for t in types]))
    def check(args):
        a, b = direct(*args), ffi(*args)
        assert _same(a, b), (args, a, b)
        if name != "mix":
            want = args[0]
            if types[0] == "float":
                want = float(np.float32(want))
            assert _same(a, want) or (types[0] == "_Bool" and a is want), (args, a)

    check()


def test_libffi_path_agrees_on_many_arguments(lib):
    """The wsum functions already use libffi; the stub-eligible add/mix through libffi too."""
    assert via_libffi(lib, "add")(2**31 - 1, -2**31) == -1
    assert via_libffi(lib, "mix")(1, 2.0, 3.0, 4, 5, 6.0, 7.0) == 140.0
    assert via_libffi(lib, "dsum")(np.arange(5.0), 5) == 10.0
    assert via_libffi(lib, "wsum_i8")(*range(1, 9)) == 204
    with pytest.raises(OverflowError, match=r"^add\(\) argument 1 'a'"):
        via_libffi(lib, "add")(2**31, 0)


# ---- arrays and pointers ------------------------------------------------------------

def test_arrays_are_zero_copy(lib):
    a = np.zeros(7, dtype=np.intc)
    lib.fill_ints(a, 7, 42)
    assert a.tolist() == [42] * 7
    lib.fill_ints(a[2:5], 3, -1)           # a contiguous view: C writes into a's memory
    assert a.tolist() == [42, 42, -1, -1, -1, 42, 42]
    x = np.arange(10.0)
    assert lib.dsum(x, 10) == 45.0 and lib.dsum(x[5:], 5) == 35.0
    assert lib.identity_ptr(x).address == x.ctypes.data
    assert lib.identity_ptr(a[1:]).address == a.ctypes.data + a.itemsize
    assert lib.sum_longs(np.arange(5, dtype=np.int_), 5) == 10
    assert lib.sum_longs(np.arange(5, dtype=np.longlong), 5) == 10   # same width as long
    assert lib.sum_floats(np.full(4, 0.5, dtype=np.float32), 4) == 2.0
    m = np.arange(12.0).reshape(3, 4)      # 2-D C-contiguous
    assert lib.dsum(m, 12) == 66.0


def test_bar_seed_example(lib, capfd):
    x = np.random.default_rng(1).standard_normal(10)
    capfd.readouterr()
    n = lib.bar(x, len(x))
    assert n == 11
    out = capfd.readouterr().out.splitlines()
    assert out[0] == f"data = {x.ctypes.data:#x}"             # the array itself, not a copy
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
        with pytest.raises(TypeError, match=r"fibseries\(\) argument 1 'a': expected C-contiguous "
                                            r"int32 array for 'const int \*', got int64 array"):
            fiblib.fibseries(np.array([5, 13]), 2, out)
    with pytest.raises(TypeError, match=r"fibmatrix\(\) argument 1 'a'.*non-contiguous"):
        fiblib.fibmatrix(c.T, 3, 3, m)
    ro = np.zeros_like(c)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match=r"fibmatrix\(\) argument 4 'matrix'.*not const"):
        fiblib.fibmatrix(c, 3, 3, ro)


def test_reject_non_contiguous(lib):
    x = np.arange(10.0)
    with pytest.raises(TypeError) as e:
        lib.dsum(x[::2], 5)
    assert str(e.value) == ("dsum() argument 1 'x': expected C-contiguous float64 array for "
                            "'const double *', got non-contiguous float64 array")
    with pytest.raises(TypeError, match="non-contiguous"):
        lib.dsum(np.ones((4, 4))[:, :2], 8)
    with pytest.raises(TypeError, match="non-contiguous"):
        lib.dsum(np.ones((3, 4)).T, 12)       # Fortran order


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
    with pytest.raises(TypeError, match=r"^dsum\(\) argument 1 'x': expected C-contiguous float64 "
                                        r"array for 'const double \*', got byte-swapped"):
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
    assert lib.my_strlen(b"ab\0cd") == 2               # the bytes themselves, zero copy
    assert lib.my_strlen("héllo") == 6                 # UTF-8
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
    assert lib.count_bytes(b"abcabca", 7, ord("a")) == 3   # const unsigned char * takes bytes


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
    assert ai.tolist() == [9] * 5                          # zero copy into the array.array
    mv = memoryview(bytearray(16)).cast("i")
    lib.fill_ints(mv, 4, -3)
    assert mv.tolist() == [-3] * 4
    assert lib.sum_longs(array.array("l", [1, 2, 3]), 3) == 6
    assert lib.sum_floats(array.array("f", [0.5, 0.25]), 2) == 0.75
    with pytest.raises(TypeError, match=r"^dsum\(\) argument 1 'x': expected C-contiguous float64 "
                                        r"buffer for 'const double \*', got array.array of format 'i'$"):
        lib.dsum(array.array("i", [1, 2, 3]), 3)
    with pytest.raises(TypeError, match=r"format 'B'"):
        lib.dsum(memoryview(x.tobytes()), 10)
    with pytest.raises(TypeError, match=r"non-contiguous memoryview"):
        lib.dsum(memoryview(x)[::2], 5)
    with pytest.raises(TypeError, match=r"not const.*read-only memoryview"):
        lib.fill_ints(memoryview(np.zeros(2, np.intc)).toreadonly(), 2, 1)
    with pytest.raises(TypeError, match=r"format 'I'"):       # unsigned is not int
        lib.fill_ints(array.array("I", [0, 0]), 2, 1)


def test_array_interface_only_is_zero_copy(lib):
    a = np.zeros(6, dtype=np.intc)
    obj = ArrayInterfaceOnly(a)
    with pytest.raises(TypeError):
        memoryview(obj)                    # no buffer protocol: only the interface
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
    with pytest.raises(TypeError, match="non-contiguous"):
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
    with pytest.raises(TypeError, match=r"^identity_ptr\(\) argument 1 'p': expected C-contiguous array "
                                        r"for 'void \*', got non-contiguous float64 array$"):
        lib.identity_ptr(np.zeros(4)[::2])
    with pytest.raises(TypeError, match=r"^identity_ptr\(\) argument 1 'p': expected C-contiguous buffer "
                                        r"for 'void \*' \(the parameter is not const"):
        lib.identity_ptr(b"bytes")
    assert not lib.h_open(None)


def test_pointer_results(lib):
    p = lib.static_ints()
    assert p and isinstance(p, ndffi.Pointer)
    assert str(p.type) == "int *"
    v = p.as_array(5)
    assert v.dtype == np.intc and v.tolist() == [1, 2, 3, 4, 5]
    assert v.ctypes.data == p.address                      # a view, not a copy
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
        assert str(e.value) == ("o_close() argument 1 'o': expected 'struct other *', "
                                "got pointer 'struct handle *'")
        with pytest.raises(TypeError, match=r"^h_close\(\) argument 1: expected 'struct handle \*', "
                                            r"got pointer 'struct other \*'$"):
            lib.h_close(o)
        with pytest.raises(TypeError, match="a plain int is not a pointer"):
            lib.h_close(h.address)
        with pytest.raises(TypeError):
            lib.h_close(np.zeros(80, np.uint8))     # an array is not a struct handle
    finally:
        lib.o_close(o)
    h2 = lib.h_open("second")                        # str works for const char *
    assert lib.h_name(h2).string() == b"second"
    assert lib.h_close(h2) == 0
    assert lib.h_close(h) == 0
    assert lib.h_close(None) == -1


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
    assert lib.dsum(d, 16) == 3.5                   # ndffi memory passed to C
    ints = ndffi.new("int[4]")
    lib.fill_ints(ints, 4, 11)                       # ... and written by C
    assert [ints[i] for i in range(4)] == [11] * 4
    assert ints.as_array(4).tolist() == [11] * 4
    with pytest.raises(TypeError, match=r"^dsum\(\) argument 1 'x': expected 'const double \*'"):
        lib.dsum(ints, 4)                            # an int * is not a double *
    c = ndffi.cast("const double *", d)
    with pytest.raises(TypeError, match="not const"):
        lib.bar(c, 0)                                # const memory to a non-const parameter


# ---- varargs ------------------------------------------------------------------------

def _printed(lib, *args):
    n = lib.my_printf(*args)
    s = lib.last_printed().string()
    assert n == len(s)
    return s


def test_varargs_basic(lib):
    assert _printed(lib, b"plain") == b"plain"
    assert _printed(lib, "%d %d %u", 1, -2, 3) == b"1 -2 3"
    assert _printed(lib, "%.3f|%g", 2.5, np.float32(0.5)) == b"2.500|0.5"   # float -> double
    assert _printed(lib, "%s and %s", "héllo", b"bytes") == "héllo and bytes".encode()
    assert _printed(lib, "%ld", ndffi.cast("long", 2**40)) == b"1099511627776"
    assert _printed(lib, "%d", ndffi.cast("short", -1)) == b"-1"             # promoted to int
    assert _printed(lib, "%d", ndffi.cast("unsigned char", 300)) == b"44"    # cast wraps like C
    assert _printed(lib, "%f", ndffi.cast("float", 1.25)) == b"1.250000"
    assert _printed(lib, "%d %d", True, np.int8(-3)) == b"1 -3"


def test_varargs_large_ints(lib):
    assert _printed(lib, "%ld", 2**40) == b"1099511627776"
    assert _printed(lib, "%ld", -2**63) == str(-2**63).encode()
    assert _printed(lib, "%lu", 2**63) == str(2**63).encode()
    assert _printed(lib, "%lu", 2**64 - 1) == str(2**64 - 1).encode()
    assert _printed(lib, "%lu", np.uint64(2**64 - 1)) == str(2**64 - 1).encode()
    assert _printed(lib, "%ld", np.int64(-5)) == b"-5"
    with pytest.raises(OverflowError, match=r"^my_printf\(\) argument 2"):
        lib.my_printf("%lu", 2**64)
    with pytest.raises(OverflowError, match=r"^my_printf\(\) argument 3"):
        lib.my_printf("%d %ld", 1, -2**63 - 1)


def test_varargs_pointers(lib):
    x = np.arange(3.0)
    assert _printed(lib, "%p", x) == f"{x.ctypes.data:#x}".encode()
    b = bytearray(b"xyz")
    assert _printed(lib, "[%.3s]", b) == b"[xyz]"


def test_varargs_wrong_types(lib):
    for bad in ([1], {"a": 1}, object(), 1 + 2j):
        with pytest.raises(TypeError, match=r"^my_printf\(\) argument 2: cannot pass"):
            lib.my_printf("%d", bad)
    with pytest.raises(TypeError, match=r"^my_printf\(\) argument 1 'fmt'"):
        lib.my_printf(5)
    with pytest.raises(TypeError, match=r"my_printf\(\) takes at least 1 argument"):
        lib.my_printf()


def test_libc_snprintf_and_printf(libc, capfd):
    buf = bytearray(64)
    n = libc.snprintf(buf, len(buf), b"%s=%d %.2f %ld", b"x", 42, 3.14159, 2**40)
    assert n == 23 and bytes(buf[:n]) == b"x=42 3.14 1099511627776" and buf[n] == 0
    small = bytearray(4)
    assert libc.snprintf(small, len(small), "%d", 123456) == 6 and small == b"123\0"
    with pytest.raises(TypeError, match=r"snprintf\(\) argument 1 'str'"):
        libc.snprintf(b"immutable", 9, b"%d", 1)
    capfd.readouterr()
    assert libc.printf(b"hello %d %s %.1f\n", 5, "wörld", 0.25) == len("hello 5 wörld 0.2\n".encode())
    libc.fflush(None)
    assert capfd.readouterr().out == "hello 5 wörld 0.2\n"


# ---- errno --------------------------------------------------------------------------

def test_errno(elib, lib):
    assert elib.set_errno(17) == -1
    assert ndffi.errno() == 17
    elib.set_errno(0)
    assert ndffi.errno() == 0
    elib.set_errno(34)
    lib.set_errno(99)                 # a library without use_errno leaves ndffi.errno() alone
    assert ndffi.errno() == 34
    elib.add(1, 2)                    # a call that does not touch errno keeps it
    assert ndffi.errno() == 34


def test_errno_is_per_thread(elib):
    elib.set_errno(5)
    seen = {}

    def worker():
        seen["before"] = ndffi.errno()
        elib.set_errno(33)
        seen["after"] = ndffi.errno()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == {"before": 0, "after": 33}
    assert ndffi.errno() == 5


# ---- argument errors, keywords, repr --------------------------------------------------

def test_argument_count_errors(lib):
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 arguments \(1 given\)$"):
        lib.add(1)
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 arguments \(3 given\)$"):
        lib.add(1, 2, 3)
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 arguments \(0 given\)$"):
        lib.add()
    with pytest.raises(TypeError, match=r"^noop\(\) takes 0 arguments \(1 given\)$"):
        lib.noop(1)
    with pytest.raises(TypeError, match=r"^echo_int\(\) takes 1 argument \(2 given\)$"):
        lib.echo_int(1, 2)
    assert lib.noop() is None


def test_keyword_arguments(lib):
    assert lib.add(a=5, b=-2) == 3
    assert lib.add(b=1, a=5) == 6
    assert lib.add(1, b=2) == 3
    assert lib.dsum(x=np.arange(4.0), n=4) == 6.0
    assert lib.wsum_i8(1, 2, 3, 4, 5, 6, 7, h=8) == 204
    with pytest.raises(TypeError, match=r"^add\(\) got multiple values for argument 'a'$"):
        lib.add(1, a=2)
    with pytest.raises(TypeError, match=r"^add\(\) got an unexpected keyword argument 'c'$"):
        lib.add(1, c=2)
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 arguments"):
        lib.add(a=1)
    with pytest.raises(TypeError, match=r"^add\(\) argument 2 'b': expected int"):
        lib.add(a=1, b=1.5)


def test_repr_and_help_show_prototype(lib):
    assert lib.dsum.prototype == "double dsum(const double *x, long n)"
    assert repr(lib.dsum) == "<ndffi.Function double dsum(const double *x, long n)>"
    assert lib.dsum.__doc__.startswith("double dsum(const double *x, long n)")
    assert lib.dsum.__name__ == "dsum"
    assert "int add(int a, int b)" in pydoc.render_doc(lib.add)
    assert "int my_printf(const char *fmt, ...)" in repr(lib.my_printf)


# ---- threads and the GIL ------------------------------------------------------------

@pytest.mark.parametrize("which", ["lib", "lib_gil"])
def test_threads_call_the_same_function(request, which):
    lib = request.getfixturevalue(which)
    nthreads, rounds = 8, 300
    barrier = threading.Barrier(nthreads)
    errors = []

    def worker(k):
        try:
            x = np.arange(1000, dtype=np.float64) * (k + 1)
            want = 499500.0 * (k + 1)
            out = np.zeros(100 + k, dtype=np.intc)
            barrier.wait()
            for r in range(rounds):
                got = lib.dsum(x, len(x))
                if got != want:
                    errors.append((k, r, got, want))
                lib.fill_ints(out, len(out), k * 1000 + r)
                if not (out == k * 1000 + r).all():
                    errors.append((k, r, "fill_ints"))
                if lib.add(k, r) != k + r or lib.wsum_i8(k, r, 0, 0, 0, 0, 0, 1) != k + 2 * r + 8:
                    errors.append((k, r, "add/wsum"))
        except Exception as e:  # pragma: no cover - reported below
            errors.append((k, repr(e)))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.fixture(scope="module")
def callslib(clib_dir):
    lib = ndffi.load("libcalls", clib_dir)
    lib.cdef("int wait_flag(int *flags, int timeout_ms);")
    lib_gil = ndffi.load("libcalls", clib_dir)
    lib_gil.cdef("int wait_flag(int *flags, int timeout_ms);", release_gil=False)
    return lib, lib_gil


def _flag_setter(flags, deadline):
    """Wait (in Python) for C to announce it has started, then set the flag it waits for."""
    def run():
        while not flags[0] and time.monotonic() < deadline:
            time.sleep(0.0005)
        flags[1] = 1
    return threading.Thread(target=run)


def test_gil_is_released_during_the_call(callslib):
    lib, _ = callslib
    flags = np.zeros(2, dtype=np.intc)
    setter = _flag_setter(flags, time.monotonic() + 30)
    setter.start()
    # C waits for flags[1], which only Python code in the other thread sets
    got = lib.wait_flag(flags, 30000)
    setter.join()
    assert got == 1


def test_release_gil_false_keeps_the_gil(callslib):
    _, lib_gil = callslib
    assert lib_gil.wait_flag.release_gil is False
    flags = np.zeros(2, dtype=np.intc)
    setter = _flag_setter(flags, time.monotonic() + 30)
    setter.start()
    got = lib_gil.wait_flag(flags, 300)   # holding the GIL: the setter cannot run meanwhile
    setter.join()
    assert got == 0
    assert flags.tolist() == [1, 1]       # it ran, but only after the call returned


def test_python_runs_while_another_thread_is_inside_slow_sum(clib_dir):
    lib = ndffi.load("libthreads", clib_dir)
    lib.cdef("long slow_sum(const long *x, long n, int sleep_ms);")
    x = np.arange(100, dtype=np.int_)
    span = {}

    def worker():
        span["t0"] = time.monotonic()
        span["result"] = lib.slow_sum(x, len(x), 400)
        span["t1"] = time.monotonic()

    ticks = []
    t = threading.Thread(target=worker)
    t.start()
    while t.is_alive():
        ticks.append(time.monotonic())   # Python code in the main thread
        time.sleep(0.001)
    t.join()
    assert span["result"] == 4950
    # Ticks well inside the call (not in the few microseconds around it): the call did
    # not hold the GIL.  Holding it, no tick could fall in this window.
    inside = [s for s in ticks if span["t0"] + 0.1 < s < span["t1"] - 0.1]
    assert span["t1"] - span["t0"] >= 0.4
    assert len(inside) > 0


# ---- leaks --------------------------------------------------------------------------

def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
@skip_if_sanitized
def test_no_rss_growth_over_a_million_array_calls(lib):
    x = np.random.default_rng(0).standard_normal(10)
    dsum = lib.dsum
    want = float(np.sum(x))
    for _ in range(100_000):
        dsum(x, 10)
    gc.collect()
    before = _rss_bytes()
    for _ in range(1_000_000):
        dsum(x, 10)
    gc.collect()
    growth = _rss_bytes() - before
    assert dsum(x, 10) == pytest.approx(want)
    assert growth < 1 << 20, f"RSS grew by {growth} bytes over 1e6 calls"


def _mixed_calls(lib, x, xf, ints, mv, buf, ai):
    lib.dsum(x, 10)
    lib.dsum(mv, 10)                      # buffer protocol path
    lib.dsum(ai, 10)                      # __array_interface__ path
    lib.fill_ints(ints, 4, 1)
    lib.my_strlen("héllo")                # str path
    lib.upcase(buf)
    lib.add(b=1, a=2)                     # keyword path
    lib.my_printf("%d %s %p", 1, "x", x)  # variadic path
    try:
        lib.dsum(xf, 10)                  # error paths
    except TypeError:
        pass
    try:
        lib.add(2**40, 1)
    except OverflowError:
        pass
    try:
        lib.dsum(x[::2], 5)
    except TypeError:
        pass
    try:
        lib.add(1)
    except TypeError:
        pass


def _mixed_args():
    x = np.arange(10.0)
    return (x, x.astype(np.float32), np.zeros(4, np.intc), memoryview(x),
            bytearray(b"abc\0"), ArrayInterfaceOnly(x))


def test_no_python_memory_growth_tracemalloc(lib):
    args = _mixed_args()
    for _ in range(2000):
        _mixed_calls(lib, *args)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(2000):
            _mixed_calls(lib, *args)
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(10_000):               # 1.2e5 calls, a third of them raising
            _mixed_calls(lib, *args)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024, f"traced memory grew by {after - before} bytes"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
@skip_if_sanitized
def test_no_rss_growth_mixed_paths(lib):
    args = _mixed_args()
    for _ in range(10_000):
        _mixed_calls(lib, *args)
    gc.collect()
    before = _rss_bytes()
    for _ in range(50_000):
        _mixed_calls(lib, *args)
    gc.collect()
    growth = _rss_bytes() - before
    assert growth < 1 << 20, f"RSS grew by {growth} bytes"


def test_argument_refcounts_unchanged(lib):
    x, xf, ints, mv, buf, ai = args = _mixed_args()
    objs = [x, xf, ints, mv, buf, ai]
    d = DLPackOnly(np.arange(10.0))
    h = lib.h_open(b"h")
    objs += [d, h]
    for _ in range(100):
        _mixed_calls(lib, *args)
        lib.dsum(d, 10)
        lib.h_name(h)
    gc.collect()
    counts = [sys.getrefcount(o) for o in objs]
    for _ in range(10_000):
        _mixed_calls(lib, *args)
        lib.dsum(d, 10)
        lib.h_name(h)
        lib.dsum(x=x, n=10)
    gc.collect()
    assert [sys.getrefcount(o) for o in objs] == counts
    assert lib.h_close(h) == 0


def test_function_objects_are_not_leaked(lib, clib_dir):
    import weakref
    lib2 = ndffi.load("libfoo", clib_dir)
    lib2.cdef("int add(int a, int b);")
    f = lib2.add
    r = weakref.ref(f)
    assert f(1, 2) == 3
    del f, lib2
    gc.collect()
    assert r() is None
