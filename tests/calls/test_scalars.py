"""Scalar calls: every integer and floating type through the echo_* functions of
tests/clib/foo.c, round trips at the limits and each rejection (out of range, wrong
type), mixed and long argument lists, and the direct SysV stubs against libffi on
random values.
"""

import fractions
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ndffi
from conftest import ALL_ECHOES, ENGINE, FLOAT_ECHOES, FOO_CDEF, INT_ECHOES, clib_fixture


def int_range(ctype):
    bits = 8 * ndffi.sizeof(ctype)
    signed = ndffi.cast(ctype, -1).value < 0
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


lib = clib_fixture("foo", FOO_CDEF)
lib_gil = clib_fixture("foo", FOO_CDEF, release_gil=False)  # functions keep the GIL in calls


def via_libffi(lib, name):
    """The function `name` of `lib`, forced through libffi (no direct stub)."""
    f = lib._ns.function(name, lib._handle.symbol(name), lib._handle, allow_direct=False)
    assert f.direct is False
    return f


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
    cname = ctype  # the parameter's type as declared: typedef names are kept
    for v in (lo - 1, hi + 1, hi + 2**70, lo - 2**70):
        with pytest.raises(OverflowError) as e:
            f(v)
        assert str(e.value) == (f"echo_{name}() argument 1 'x': expected int in [{lo}, {hi}] for '{cname}', got {v}")


def test_integer_overflow_names_the_parameter(lib):
    with pytest.raises(
        OverflowError,
        match=r"^add\(\) argument 1 'a': expected int in "
        r"\[-2147483648, 2147483647\] for 'int', got 1099511627776$",
    ):
        lib.add(2**40, 1)
    with pytest.raises(OverflowError, match=r"^add\(\) argument 2 'b': .* got -2147483649$"):
        lib.add(1, -(2**31) - 1)
    with pytest.raises(OverflowError, match=r"wsum_mixed\(\) argument 15 'i8'"):
        lib.wsum_mixed(*[1, 1.0] * 7, 2**31, 1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    "bad",
    [1.0, 0.5, float("nan"), np.float64(2.0), np.float32(1.0), "1", b"1", None, [1], 1 + 0j, fractions.Fraction(1, 1)],
)
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
    assert lib.echo_int64(np.int64(-(2**63))) == -(2**63)
    assert lib.echo_short(np.int8(-128)) == -128
    with pytest.raises(OverflowError, match=r"echo_int\(\) argument 1 'x'.* got 2147483648$"):
        lib.echo_int(np.int64(2**31))
    with pytest.raises(OverflowError, match=r"got -1$"):
        lib.echo_uint8(np.int8(-1))
    # an explicit ndffi.cast value is an int too
    assert lib.echo_int(ndffi.cast("long", 7)) == 7


NUMPY_INTS = [np.byte, np.ubyte, np.short, np.ushort, np.intc, np.uintc, np.int_, np.uint, np.longlong, np.ulonglong]


@pytest.mark.parametrize("name,ctype", INT_ECHOES, ids=[n for n, _ in INT_ECHOES])
def test_numpy_integers_of_every_type_convert_as_their_ints_do(lib, name, ctype):
    """Every NumPy integer type into every C integer type: accepted exactly when its int
    is in the C type's range, refused with the message its int would get otherwise."""
    f = getattr(lib, f"echo_{name}")
    lo, hi = int_range(ctype)
    for nt in NUMPY_INTS:
        info = np.iinfo(nt)
        for v in {info.min, info.max, 0, 1, max(info.min, lo - 1), min(info.max, hi + 1), max(info.min, lo)}:
            if lo <= v <= hi:
                r = f(nt(v))
                assert r == v and type(r) is int, (nt, v, r)
            else:
                with pytest.raises(OverflowError) as e:
                    f(nt(v))
                assert str(e.value).endswith(f"for '{ctype}', got {v}"), (nt, v, str(e.value))


def test_numpy_integer_subclasses_and_wrapped_values(lib):
    class Mine(np.int32):
        def __index__(self):
            return 41

    assert lib.echo_int(Mine(5)) == 41  # not NumPy's own type: its __index__ says
    assert lib.echo_int(ndffi.cast("short", np.int16(-3))) == -3
    assert lib.echo_uint64(np.uint64(2**64 - 1)) == 2**64 - 1
    with pytest.raises(TypeError, match="expected int"):
        lib.echo_int(np.timedelta64(3))
    with pytest.raises(TypeError, match="expected int"):
        lib.echo_int(np.float64(3.0))


def test_bool_to_int_and_bool_params(lib):
    assert lib.echo_int(True) == 1 and lib.echo_int(False) == 0
    for v, want in [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (np.bool_(True), True),
        (np.bool_(False), False),
        (np.int64(1), True),
        (np.uint8(0), False),
    ]:
        r = lib.echo_bool(v)
        assert r is want, (v, r)
    for v in (2, -1, np.int64(2)):
        with pytest.raises(OverflowError, match=r"^echo_bool\(\) argument 1 'x': expected bool or 0 or 1"):
            lib.echo_bool(v)
    # (a timedelta64 is a NumPy integer without __index__: its truth value is no bool)
    for v in (1.0, None, "True", np.timedelta64(3, "s"), np.timedelta64(1, "ms"), np.timedelta64("NaT", "s")):
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
    assert lib.echo_float(2**24 + 1) == 2.0**24  # an int rounds to float like C
    assert lib.echo_float(1.5) == 1.5
    fmax = float(np.finfo(np.float32).max)
    assert lib.echo_float(fmax) == fmax and lib.echo_float(-fmax) == -fmax
    assert lib.echo_float(1e-46) == 0.0  # underflow is rounding, not an error
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
    assert lib.echo_double(-(2**53)) == -(2.0**53)
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
    assert lib.echo_longdouble.direct is ENGINE  # the engine's: in memory, back in st(0)
    assert lib.echo_longdouble(1.5) == 1.5
    assert lib.echo_longdouble(-1e300) == -1e300
    assert lib.echo_longdouble(3) == 3.0
    with pytest.raises(TypeError):
        lib.echo_longdouble("x")
    # NumPy integers and 0-d arrays reach C exactly, as ints and np.longdouble do (not
    # rounded to a double on the way) where long double is wider than double
    fine = np.longdouble(1) + np.longdouble(2.0**-60)
    for v, exact in [
        (np.int64(2**62 + 1), np.longdouble(2**62 + 1)),
        (np.uint64(2**64 - 1), np.longdouble(2**64 - 1)),
        (np.array(fine), fine),
        (np.array(np.int64(2**62 + 1)), np.longdouble(2**62 + 1)),
    ]:
        assert lib.echo_longdouble(v) == exact, v
    with pytest.raises(TypeError):
        lib.echo_longdouble(np.array(1 + 2j))


# ---- mixed and long argument lists --------------------------------------------------


def test_mix(lib):
    assert lib.mix(1, 2.0, 3.0, 4, 5, 6.0, 7.0) == 140.0
    # every argument has its own weight: a value in the wrong register changes the sum
    assert (
        lib.mix(-3, 0.25, 1.5, -(2**40), 255, -0.5, 1e10)
        == -3 + 2 * 0.25 + 3 * 1.5 + 4 * -(2**40) + 5 * 255 + 6 * -0.5 + 7 * 1e10
    )
    # the float parameters round to float
    assert lib.mix(0, 0.0, 0.1, 0, 0, 0.0, 0.0) == 3.0 * float(np.float32(0.1))
    with pytest.raises(OverflowError, match=r"mix\(\) argument 5 'e'"):
        lib.mix(1, 2.0, 3.0, 4, 256, 6.0, 7.0)


def test_many_arguments(lib):
    ints = [3, -1, 2**31 - 1, -(2**31), 7, 0, 11, -13]
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


@pytest.mark.direct
def test_which_calls_are_direct(lib):
    for name in (
        "add",
        "mix",
        "dsum",
        "noop",
        "echo_int",
        "echo_double",
        "echo_float",
        "fill_ints",
        "version",
        "h_open",
        "wsum_i8",  # stack arguments: the engine
        "wsum_d10",
        "wsum_mixed",
        "echo_longdouble",  # in memory, back in st(0): the engine
    ):
        assert getattr(lib, name).direct is True, name
    # a variadic function is planned per call (by the engine, with its varargs' types)
    assert lib.my_printf.direct is False


def test_gil_modes(lib, lib_gil):
    assert lib.add.release_gil is True and lib_gil.add.release_gil is False
    assert lib_gil.add(2, 3) == 5 and lib_gil.dsum(np.arange(4.0), 4) == 6.0


class _Index:
    """An int only through __index__."""

    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


# (function, arguments made from the library, what the call must give: a value, or the
# exception type).  Each small signature keeping the GIL has its own call path; it must
# accept and refuse exactly what the GIL-releasing one does, with the same message.
_SAME_IN_BOTH_MODES = [
    ("add", lambda lib: (2, 3), 5),
    ("add", lambda lib: (_Index(4), np.int16(3)), 7),
    ("add", lambda lib: (2**31, 1), OverflowError),
    ("add", lambda lib: (1.5, 2), TypeError),
    ("add", lambda lib: ("1", 2), TypeError),
    ("add", lambda lib: (None, 2), TypeError),
    ("add", lambda lib: (1,), TypeError),
    ("add", lambda lib: (1, 2, 3), TypeError),
    ("echo_double", lambda lib: (2.5,), 2.5),
    ("echo_double", lambda lib: ("2.5",), TypeError),
    ("echo_double", lambda lib: (10**400,), OverflowError),
    ("echo_longlong", lambda lib: (-(2**63),), -(2**63)),
    ("echo_longlong", lambda lib: (2**63,), OverflowError),
    ("echo_uchar", lambda lib: (-1,), OverflowError),
    ("fret", lambda lib: (1e300,), OverflowError),
    ("my_strlen", lambda lib: (b"abcd",), 4),
    ("my_strlen", lambda lib: (np.frombuffer(b"ab\0", np.uint8),), 2),
    ("my_strlen", lambda lib: (3,), TypeError),
    ("upcase", lambda lib: (b"abc",), TypeError),
    ("dsum", lambda lib: (np.arange(4.0), 4), 6.0),
    ("dsum", lambda lib: (np.arange(8.0)[::2], 4), TypeError),
    ("dsum", lambda lib: (np.arange(4, dtype=np.float32), 4), TypeError),
    ("sum_longs", lambda lib: (np.zeros(3, np.int32), 3), TypeError),
    ("identity_ptr", lambda lib: (3.5,), TypeError),
    ("h_close", lambda lib: (lib.o_open(),), TypeError),
]


def _outcome(lib, name, make_args):
    try:
        return getattr(lib, name)(*make_args(lib))
    except Exception as exc:  # noqa: BLE001 -- compared below
        return type(exc), str(exc).replace("release_gil=False", "")


@pytest.mark.parametrize(("name", "make_args", "expected"), _SAME_IN_BOTH_MODES)
def test_held_gil_calls_check_as_released_ones_do(lib, lib_gil, name, make_args, expected):
    released, held = _outcome(lib, name, make_args), _outcome(lib_gil, name, make_args)
    if isinstance(expected, type):
        assert isinstance(released, tuple) and released[0] is expected, released
        assert name in released[1]
    else:
        assert released == expected
    assert held == released


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


@pytest.mark.direct
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
    assert via_libffi(lib, "add")(2**31 - 1, -(2**31)) == -1
    assert via_libffi(lib, "mix")(1, 2.0, 3.0, 4, 5, 6.0, 7.0) == 140.0
    assert via_libffi(lib, "dsum")(np.arange(5.0), 5) == 10.0
    assert via_libffi(lib, "wsum_i8")(*range(1, 9)) == 204
    with pytest.raises(OverflowError, match=r"^add\(\) argument 1 'a'"):
        via_libffi(lib, "add")(2**31, 0)
