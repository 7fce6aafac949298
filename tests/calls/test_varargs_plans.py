"""Variadic calls through plans kept per list of argument types: each list of C types
the arguments past the fixed ones travel as gets its own plan, made once and kept on the
function (a bounded number of them), with exact values whichever plan a call takes, the
same checks and messages as ever, and from threads that use different lists at once."""

import threading

import numpy as np
import pytest

import ndffi

SNPRINTF = "int snprintf(char *str, size_t size, const char *format, ...);"


def fresh_snprintf(**kw):
    """A new Function each time: its cache of plans starts empty."""
    return ndffi.load("c").cdef(SNPRINTF, **kw).snprintf


def printed(f, fmt, *args):
    buf = bytearray(128)
    n = f(buf, len(buf), fmt, *args)
    assert buf[n] == 0
    return bytes(buf[:n])


def test_each_list_of_types_gets_its_own_plan():
    f = fresh_snprintf()
    assert f._variadic_plans == ()
    assert printed(f, b"%d", 42) == b"42"
    assert printed(f, b"%ld", 2**40) == b"1099511627776"  # a big int is a long
    assert printed(f, b"%lu", 2**63 + 1) == str(2**63 + 1).encode()
    assert printed(f, b"%.2f", 3.5) == b"3.50"
    assert printed(f, b"%s", b"bytes") == b"bytes"
    assert printed(f, b"%d %s %.1f", -7, "str", np.float32(0.5)) == b"-7 str 0.5"
    assert f._variadic_plans == (
        ("int",),
        ("long",),
        ("unsigned long",),
        ("double",),
        ("const char *",),
        ("int", "const char *", "double"),
    )
    # The same types again take the plans kept: none is added, values stay exact.
    assert printed(f, b"%d", -(2**31)) == str(-(2**31)).encode()
    assert printed(f, b"%ld", -(2**31) - 1) == str(-(2**31) - 1).encode()
    assert printed(f, b"%s", "other") == b"other"
    assert printed(f, b"%d %s %.1f", 8, b"b", 2.25) == b"8 b 2.2"
    assert len(f._variadic_plans) == 6


def test_explicit_types_and_promotions_are_their_own_plans():
    f = fresh_snprintf()
    assert printed(f, b"%d", ndffi.cast("short", -3)) == b"-3"  # promoted to int
    assert printed(f, b"%d", True) == b"1"
    assert printed(f, b"%f", ndffi.cast("float", 1.25)) == b"1.250000"  # promoted to double
    assert printed(f, b"%lld", ndffi.cast("long long", -5)) == b"-5"
    assert printed(f, b"%u", ndffi.cast("unsigned int", 2**32 - 1)) == str(2**32 - 1).encode()
    assert printed(f, b"%ld", np.int64(-9)) == b"-9"
    assert printed(f, b"%lu", np.uint64(2**64 - 1)) == str(2**64 - 1).encode()
    # looked up by the type given (short, then int), planned as the promoted one
    assert f._variadic_plans == (
        ("int",),
        ("int",),
        ("double",),
        ("long long",),
        ("unsigned int",),
        ("long",),
        ("unsigned long",),
    )


def test_pointers_take_plans_of_their_types():
    f = fresh_snprintf()
    p = ndffi.new("int[2]", [5, 6])
    x = np.arange(3.0)
    assert printed(f, b"%p", p) == f"{int(ndffi.cast('uintptr_t', p)):#x}".encode()
    assert printed(f, b"%p", x) == f"{x.ctypes.data:#x}".encode()
    assert printed(f, b"%p", None) == b"(nil)"
    assert f._variadic_plans == (("int *",), ("void *",))


VA_C = r"""
#include <stdarg.h>
struct pt { long a; double b; };
double va_mix(int n, ...) {
  va_list ap; va_start(ap, n); double s = 0;
  for (int i = 0; i < n; i++) {
    int kind = va_arg(ap, int);
    if (kind == 0) s = s * 10 + va_arg(ap, int);
    else if (kind == 1) s = s * 10 + va_arg(ap, double);
    else if (kind == 2) { struct pt p = va_arg(ap, struct pt); s = s * 10 + p.a + p.b; }
    else { int *q = va_arg(ap, int *); s = s * 10 + *q; }
  }
  va_end(ap); return s;
}
"""


@pytest.fixture(scope="module")
def vlib():
    return ndffi.inline(VA_C, cdef="struct pt { long a; double b; }; double va_mix(int n, ...);")


def test_structs_and_pointers_through_varargs_with_other_types(vlib):
    pt = vlib.types["struct pt"]
    q = vlib.new("int *", 4)
    f = vlib.va_mix
    assert f(1, 2, pt(3, 0.5)) == 3.5
    assert f(2, 0, 1, 2, pt(2, 0.25)) == 12.25
    assert f(2, 1, 0.5, 3, q) == 9.0
    assert f(3, 3, q, 2, pt(1, 0.0), 0, 7) == 4 * 100 + 10 + 7
    assert f(1, 2, pt(-3, 0.5)) == -2.5  # the first plan, again
    assert f._variadic_plans == (
        ("int", "struct pt"),
        ("int", "int", "int", "struct pt"),
        ("int", "double", "int", "int *"),
        ("int", "int *", "int", "struct pt", "int", "int"),
    )


def test_plans_kept_are_bounded():
    f = fresh_snprintf()
    values = {"d": (7, "7"), "ld": (2**40, str(2**40)), "g": (0.5, "0.5"), "s": (b"s", "s")}
    lists = [(a, b, c) for a in values for b in values for c in values]  # 64 lists of types
    for _ in range(2):
        for codes in lists:
            fmt = " ".join("%" + c for c in codes).encode()
            expected = " ".join(values[c][1] for c in codes).encode()
            assert printed(f, fmt, *(values[c][0] for c in codes)) == expected
            assert len(f._variadic_plans) <= 8
    assert len(f._variadic_plans) == 8
    assert f._variadic_plans[-1] == ("const char *", "const char *", "const char *")  # the newest last


def test_errors_name_the_function_argument_expected_and_given():
    f = fresh_snprintf()
    buf = bytearray(32)
    assert f(buf, 32, b"%d", 1) == 1  # the plan for (int,) is kept
    with pytest.raises(TypeError, match=r"^snprintf\(\) argument 4: cannot pass list as a variadic argument"):
        f(buf, 32, b"%d", [1])
    with pytest.raises(OverflowError, match=r"^snprintf\(\) argument 5: int too large for any C integer type"):
        f(buf, 32, b"%d %lu", 1, 2**64)
    with pytest.raises(
        ValueError, match=r"^snprintf\(\) argument 4: expected a string without NUL characters, got str"
    ):
        f(buf, 32, b"%s", "a\0b")
    assert f(buf, 32, b"%s", "ab") == 2  # the plan made before the error serves
    with pytest.raises(
        TypeError, match=r"^snprintf\(\) argument 4: expected 'void \*' \(an array, .*got a 0-d float64 array"
    ):
        f(buf, 32, b"%p", np.array(1.0))
    with pytest.raises(TypeError, match=r"^snprintf\(\) argument 1 'str': expected .*got read-only bytes"):
        f(b"immutable", 9, b"%d", 1)
    with pytest.raises(TypeError, match=r"^snprintf\(\) argument 2 'size': expected int for 'size_t', got float"):
        f(buf, 1.5, b"%d", 1)
    assert f(buf, 32, b"%d", 12) == 2 and bytes(buf[:3]) == b"12\0"


def test_errors_in_record_fields_name_the_field(vlib):
    pt = vlib.types["struct pt"]
    with pytest.raises(TypeError, match=r"field 'b'"):
        pt(1, "x")
    lib = ndffi.inline(
        "struct pt { long a; double b; }; double pt_sum(struct pt p) { return p.a + p.b; }",
        cdef="struct pt { long a; double b; }; double pt_sum(struct pt p);",
    )
    assert lib.pt_sum((2, 0.5)) == 2.5
    with pytest.raises(TypeError, match=r"^pt_sum\(\) argument 1 'p' field 'b': expected a real number"):
        lib.pt_sum((2, 1j))
    with pytest.raises(OverflowError, match=r"^pt_sum\(\) argument 1 'p' field 'a'"):
        lib.pt_sum({"a": 2**70, "b": 0.0})


@pytest.mark.parametrize("release_gil", [True, False])
def test_threads_with_different_types_get_exact_results(release_gil):
    f = fresh_snprintf(release_gil=release_gil)
    errors = []

    def run(k):
        buf = bytearray(256)
        try:
            for i in range(400):
                if k == 0:
                    args, want = (b"%d", i), str(i)
                elif k == 1:
                    args, want = (b"%ld|%s", 2**40 + i, b"x"), f"{2**40 + i}|x"
                elif k == 2:
                    args, want = (b"%.1f %d", i + 0.5, -i), f"{i + 0.5:.1f} {-i}"
                else:  # more lists than are kept: plans are replaced while others run
                    codes = [("%d", i), ("%s", b"y"), ("%lu", 2**63)][: 1 + i % 3] * (1 + i % 4)
                    args = (" ".join(c for c, _ in codes).encode(), *(v for _, v in codes))
                    want = " ".join(v.decode() if isinstance(v, bytes) else str(v) for _, v in codes)
                n = f(buf, len(buf), *args)
                if bytes(buf[:n]) != want.encode():
                    errors.append((k, i, bytes(buf[:n]), want))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append((k, e))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(f._variadic_plans) <= 8


def test_read_only_memory_is_refused_through_varargs():
    # C may write through a pointer given to `...` (sscanf): read-only memory goes only as
    # a const pointer the caller chose; code (a callback's address) has no bytes to write.
    sscanf = ndffi.load("c").cdef("int sscanf(const char *s, const char *format, ...);").sscanf
    ro = np.zeros(1, np.int32)
    ro.flags.writeable = False
    k = b"abcd"
    for target in (ro, memoryview(bytes(4)), ndffi.cast("void *", k)):
        with pytest.raises(TypeError, match=r"sscanf\(\) argument 3: expected .*not const, so C may write"):
            sscanf(b"1234567", b"%d", target)
    assert ro[0] == 0 and k == b"abcd"
    out = np.zeros(1, np.int32)
    assert sscanf(b"1234567", b"%d", out) == 1 and out[0] == 1234567


@pytest.mark.parametrize(
    "value, travels",
    [(True, b"1"), (np.int16(-3), b"-3"), (np.uint8(200), b"200"), (np.float32(0.5), b"0.5"), (np.str_("x"), b"x")],
)
def test_numpy_scalars_through_varargs(value, travels):
    fmt = b"%g" if isinstance(value, np.floating) else b"%s" if isinstance(value, str) else b"%d"
    assert printed(fresh_snprintf(), fmt, value) == travels


NUMPY_INTS = [np.byte, np.ubyte, np.short, np.ushort, np.intc, np.uintc, np.int_, np.uint, np.longlong, np.ulonglong]


@pytest.mark.parametrize("nt", NUMPY_INTS, ids=lambda t: t.__name__)
def test_numpy_integers_travel_as_long_or_unsigned_long_with_their_values(nt):
    f = fresh_snprintf()
    info = np.iinfo(nt)
    fmt = b"%lu" if info.min == 0 else b"%ld"
    for v in (info.min, info.max, 1):
        assert printed(f, fmt, nt(v)) == str(v).encode()
    assert f._variadic_plans == (("unsigned long" if info.min == 0 else "long",),)


def test_numpy_floats_and_their_subclasses_travel_as_double():
    class Mine(np.float64):
        pass

    f = fresh_snprintf()
    third = np.float64(1) / 3
    assert printed(f, b"%.17g %.17g %.17g", third, np.float32(1 / 3), Mine(0.25)) == b"%.17g %.17g %.17g" % (
        float(third),
        float(np.float32(1 / 3)),
        0.25,
    )
    assert f._variadic_plans == (("double", "double", "double"),)


@pytest.mark.parametrize(
    "value", [np.True_, np.timedelta64(3, "s"), np.datetime64("2020-01-01"), np.complex128(1), np.void(b"ab")]
)
def test_numpy_scalars_without_a_c_type_through_varargs(value):
    with pytest.raises(TypeError, match=r"snprintf\(\) argument 4: cannot pass numpy\.\w+ as a variadic argument"):
        fresh_snprintf()(bytearray(8), 8, b"%d", value)
