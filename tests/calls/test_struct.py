"""Structs and unions as data, against tests/clib/structs.c: the seed's weather
example, record arrays proven congruent with the C layout (and refused, with the field
named, when they are not), struct values, pointers to records as structured arrays,
unions and bit-fields in dtypes.

Records passed and returned by value are in test_byvalue.py; enums, #define constants
and globals in test_constants.py.
"""

import numpy as np
import pytest

import ndffi
from conftest import CHAR_SIGNED, MORE_DECLS, WEATHER_DECLS, clib_fixture

lib = clib_fixture("structs", WEATHER_DECLS, MORE_DECLS)


@pytest.fixture(scope="module")
def flush():
    """fflush(NULL): C's stdout is a buffered file while pytest captures it."""
    libc = ndffi.load(None)
    libc.cdef("int fflush(void *stream);")
    return lambda: libc.fflush(None)


def weather_text(records):
    return "".join(f"timestamp: {t}\ndescription: {d}\n\n" for t, d in records)


# ---- the Weather example ----------------------------------------------------------------


def test_weather_example(lib, flush, capfd):
    W = lib.types.Weather
    assert W.dtype == np.dtype([("timestamp", "<i4"), ("desc", "S12")])
    assert W.dtype.itemsize == 16 and W.size == 16 and W.alignment == 4
    recs = np.zeros(3, W.dtype)
    recs["timestamp"] = [1, 2, 3]
    capfd.readouterr()
    lib.print_weather(recs, 3)
    flush()
    assert capfd.readouterr().out == weather_text([(1, ""), (2, ""), (3, "")])
    bad = np.zeros(3, [("timestamp", "<i8"), ("desc", "S12")])
    with pytest.raises(TypeError) as e:
        lib.print_weather(bad, 3)
    msg = str(e.value)
    assert "field 'timestamp'" in msg and "C has int32" in msg and "at offset 0" in msg
    assert "the array has int64 at offset 0" in msg
    v = lib.vadd(lib.types.vec2(1, 2), (3, 4))
    assert (v.x, v.y) == (4.0, 6.0)
    assert (lib.RED, lib.types.color.BLUE, lib.BUFSIZE, lib.SCALE, lib.NAME) == (0, 6, 4096, 0.5, "ndffi")
    lib.counter = 7
    assert lib.counter == 7
    assert lib.bump() == 8 and lib.counter == 8


def test_print_weather_is_zero_copy(lib):
    recs = np.zeros(3, lib.types.Weather.dtype)
    lib.stamp_weather(recs, 3, 40)  # C writes into the array itself
    assert recs["timestamp"].tolist() == [40, 41, 42]
    assert recs["desc"].tolist() == [b"day 0", b"day 1", b"day 2"]
    assert lib.sum_timestamps(recs, 3) == 123


# ---- the seed's "Heterogeneous Types Example" ------------------------------------------


SEED_DAT = [[1126877361, "sunny"], [1126877371, "rain"], [1126877385, "damn nasty"], [1126877387, "sunny"]]


# The seed's records are lists, which numpy >= 2.1 warns about.
@pytest.mark.filterwarnings("ignore:fromrecords expected a list of tuples:FutureWarning")
def test_seed_weather_example(lib, flush, capfd):
    N = np
    dat = SEED_DAT
    dat_dtype = N.dtype([("timestamp", "i4"), ("desc", "|S12")])
    arr = N.rec.fromrecords(dat, dtype=dat_dtype)

    def print_weather(x):
        lib.print_weather(x, x.size)

    capfd.readouterr()
    print_weather(arr)
    flush()
    assert capfd.readouterr().out == weather_text(dat)
    # The seed's dtype is the C layout here; ndffi's own dtype is the same one.
    assert dat_dtype == lib.types.Weather.dtype
    arr2 = N.rec.fromrecords(dat, dtype=lib.types.Weather.dtype)
    print_weather(arr2)
    flush()
    assert capfd.readouterr().out == weather_text(dat)


@pytest.mark.filterwarnings("ignore:fromrecords expected a list of tuples:FutureWarning")
def test_seed_weather_not_congruent_is_refused(lib, flush, capfd):
    # What the seed warns about: a record array that is not the C struct.  ndffi refuses
    # it before C reads a byte.
    arr = np.rec.fromrecords(SEED_DAT, dtype=[("timestamp", "i4"), ("desc", "|S10")])
    capfd.readouterr()
    with pytest.raises(TypeError, match=r"field 'desc'.*offset 4.*S10"):
        lib.print_weather(arr, arr.size)
    flush()
    assert capfd.readouterr().out == ""
    # numpy's default for these records (int64, unicode) is refused as well.
    with pytest.raises(TypeError, match="field 'timestamp'.*int64"):
        lib.print_weather(np.rec.fromrecords(SEED_DAT), 4)


# ---- record arrays: congruence with the C layout -----------------------------------------


def weather_dtype(formats, offsets=(0, 4), itemsize=16, names=("timestamp", "desc")):
    return np.dtype({"names": list(names), "formats": list(formats), "offsets": list(offsets), "itemsize": itemsize})


@pytest.mark.parametrize(
    "dtype, needles",
    [
        # wrong type
        (
            weather_dtype(["<i8", "S12"], itemsize=20),
            ["field 'timestamp'", "C has int32 ('int') at offset 0", "the array has int64 at offset 0"],
        ),
        (weather_dtype(["<u4", "S12"]), ["field 'timestamp'", "int32", "uint32 at offset 0"]),
        (weather_dtype(["<f4", "S12"]), ["field 'timestamp'", "int32", "float32 at offset 0"]),
        (weather_dtype(["<i4", "S8"]), ["field 'desc'", "C has 'char[12]' at offset 4", "S8 at offset 4"]),
        (weather_dtype(["<i4", ("<i4", (3,))]), ["field 'desc'", "'char[12]' at offset 4"]),
        # missing field
        (
            np.dtype({"names": ["timestamp"], "formats": ["<i4"], "itemsize": 16}),
            ["field 'desc'", "C has 'char[12]' at offset 4", "no field at that offset"],
        ),
        # wrong itemsize
        (weather_dtype(["<i4", "S12"], itemsize=20), ["records of 20 bytes", "'struct Weather_t' is 16 bytes"]),
        (np.dtype([("timestamp", "<i4"), ("desc", "S12"), ("extra", "u1")]), ["records of 17 bytes", "16 bytes"]),
        # wrong offset
        (
            weather_dtype(["<i4", "S12"], offsets=(4, 8), itemsize=20),
            ["field 'timestamp'", "at offset 0", "no field at that offset", "'timestamp' is int32 at offset 4"],
        ),
        (weather_dtype(["<i4", "S12"], offsets=(0, 3)), ["field 'desc'", "at offset 4", "'desc' is |S12 at offset 3"]),
        # names swapped: matched by name, never by position
        (
            weather_dtype(["<i4", "S12"], names=("desc", "timestamp")),
            ["field 'timestamp': C has it at offset 0, the array at offset 4 (and 'desc' at 0)"],
        ),
        # byte-swapped
        (weather_dtype([">i4", "S12"]), ["field 'timestamp'", "C has int32", ">i4 at offset 0"]),
        # not a structured array
        (np.dtype(np.int32), ["a plain int32 array, not a structured array"]),
    ],
)
def test_mismatching_record_array_refused(lib, dtype, needles):
    arr = np.zeros(3, dtype)
    with pytest.raises(TypeError) as e:
        lib.sum_timestamps(arr, 3)
    msg = str(e.value)
    assert "sum_timestamps() argument 1 'w'" in msg and "'struct Weather_t'" in msg
    for needle in needles:
        assert needle in msg, msg


@pytest.mark.parametrize(
    "dtype",
    [
        np.dtype([("timestamp", "<i4"), ("desc", "S12")]),
        np.dtype([("timestamp", "=i4"), ("desc", "|S12")]),
        np.dtype([("when", "<i4"), ("what", "S12")]),  # names do not matter, the layout does
        np.dtype([("timestamp", "<i4"), ("desc", "u1", (12,))]),  # char[12] as 12 bytes
        np.dtype([("timestamp", "<i4"), ("desc", "i1", (12,))]),
        weather_dtype(["<i4", "S12"], offsets=(0, 4), itemsize=16),
    ],
)
def test_congruent_record_arrays_accepted(lib, dtype):
    arr = np.zeros(3, dtype)
    arr[dtype.names[0]] = [1, 2, 3]
    assert lib.sum_timestamps(arr, 3) == 6


def test_non_contiguous_and_read_only_record_arrays(lib):
    W = lib.types.Weather
    strided = np.zeros(6, W.dtype)[::2]
    with pytest.raises(TypeError, match="not contiguous"):
        lib.sum_timestamps(strided, 3)
    ro = np.zeros(3, W.dtype)
    ro["timestamp"] = [1, 2, 3]
    ro.flags.writeable = False
    assert lib.sum_timestamps(ro, 3) == 6  # const Weather *: read-only is fine
    with pytest.raises(TypeError, match="read-only"):
        lib.stamp_weather(ro, 3, 0)  # Weather *: C may write
    assert ro["timestamp"].tolist() == [1, 2, 3]
    # A 2-d C-contiguous array of records is records all the same.
    two = np.zeros((2, 2), W.dtype)
    two["timestamp"] = [[1, 2], [3, 4]]
    assert lib.sum_timestamps(two, 4) == 10
    with pytest.raises(TypeError, match="not contiguous"):
        lib.sum_timestamps(np.asfortranarray(np.zeros((2, 2), W.dtype)).T[:, :1], 2)


def test_record_array_of_other_struct_refused(lib):
    vecs = np.zeros(3, lib.types.vec2.dtype)
    with pytest.raises(TypeError, match="'struct Weather_t'"):
        lib.sum_timestamps(vecs, 3)


# ---- struct values -----------------------------------------------------------------------


def test_struct_value_init(lib):
    W = lib.types.Weather
    assert type(W(1, b"x")).__name__ == "StructValue"
    w = W(5, b"hi")
    assert (w.timestamp, w.desc) == (5, b"hi")
    assert W(timestamp=5, desc=b"hi") == w
    assert W(5, desc=b"hi") == w
    z = W()
    assert (z.timestamp, z.desc) == (0, b"") and bytes(z) == bytes(16)
    assert W(7).desc == b""
    with pytest.raises(TypeError, match="has 2 fields, got 3 values"):
        W(1, b"x", 3)
    with pytest.raises(TypeError, match="has no field 'nope'"):
        W(nope=1)
    with pytest.raises(TypeError, match=r"has no field 'timestamp\\x00'"):  # not 'timestamp'
        W(**{"timestamp\0": 1})
    with pytest.raises(TypeError, match="a field of 'struct Weather_t' is named by a str, got 1"):
        lib.new("Weather *", {1: 2})
    with pytest.raises(OverflowError, match="timestamp"):
        W(2**31)
    with pytest.raises(ValueError, match="13 bytes do not fit in 'char\\[12\\]'"):
        W(1, b"x" * 13)


def test_struct_value_attributes(lib):
    w = lib.types.Weather(1, b"abc")
    w.timestamp = -(2**31)
    assert w.timestamp == -(2**31)
    w.timestamp = 2**31 - 1
    with pytest.raises(OverflowError, match=r"field 'timestamp'.*\[-2147483648, 2147483647\]"):
        w.timestamp = 2**31
    with pytest.raises(TypeError, match="expected int"):
        w.timestamp = "x"
    with pytest.raises(TypeError, match="expected int"):
        w.timestamp = 1.5
    assert w.timestamp == 2**31 - 1  # unchanged by the refused assignments
    w.desc = b"twelve chars"
    assert w.desc == b"twelve chars"  # all 12 bytes, no NUL
    w.desc = b"ab"
    assert w.desc == b"ab" and bytes(w)[4:16] == b"ab" + bytes(10)  # the rest zeroed
    with pytest.raises(AttributeError, match="no field 'nope'"):
        w.nope = 1
    with pytest.raises(AttributeError):
        w.nope  # noqa: B018
    with pytest.raises(TypeError):
        del w.timestamp
    assert sorted(dir(w)) == ["desc", "timestamp"]
    assert "timestamp=2147483647" in repr(w)


def test_struct_value_bytes_and_equality(lib):
    W = lib.types.Weather
    w = W(0x01020304, b"ab")
    assert bytes(w) == bytes([4, 3, 2, 1]) + b"ab" + bytes(10)
    assert len(bytes(w)) == W.size
    assert w == W(0x01020304, b"ab") and not (w != W(0x01020304, b"ab"))
    assert w != W(0x01020304, b"ac")
    assert w != lib.types.vec2()  # another type
    assert (w == 5) is False
    with pytest.raises(TypeError):
        hash(w)  # mutable: not hashable


def test_nested_struct_views(lib):
    N = lib.types.nested
    v = N((1.0, 2.0), 3)
    assert (v.p.x, v.p.y, v.tag) == (1.0, 2.0, 3)
    p = v.p
    p.x = 10.0  # a view: writes go to the parent
    assert v.p.x == 10.0
    assert lib.nested_sum(v) == 15.0
    v.p = {"x": 5, "y": 6}
    assert (p.x, p.y) == (5.0, 6.0)
    v.p = lib.types.vec2(7, 8)
    assert (v.p.x, v.p.y) == (7.0, 8.0)
    with pytest.raises(TypeError, match="expected 'vec2'"):
        v.p = lib.types.s8(1, 2.0)
    del v
    assert (p.x, p.y) == (7.0, 8.0)  # the view keeps its parent's memory alive
    assert N(p=lib.types.vec2(5, 6), tag=3) == N({"x": 5, "y": 6}, 3) == N((5, 6), 3)


def test_arrays_inside_structs(lib):
    A = lib.types.arrays_t
    a = lib.arrays_make(7)
    assert a.n == 7 and a.name == b"made"
    assert isinstance(a.v, np.ndarray) and a.v.dtype == np.float64 and a.v.tolist() == [0.5, 1.5, 2.5]
    assert a.m.dtype == np.int16 and a.m.shape == (2, 2) and a.m.tolist() == [[1, 2], [3, 4]]
    assert lib.arrays_sum(a) == 7 + 4.5 + 10 + 4
    v = a.v
    v[1] = 10.0  # a NumPy view of the struct's memory
    assert a.v[1] == 10.0
    assert lib.arrays_sum(a) == 7 + 13 + 10 + 4
    a.m = [[1, 1], [1, 1]]
    a.name = b"ab"
    assert lib.arrays_sum(a) == 7 + 13 + 4 + 2
    b = A(1, [1, 2, 3], b"xyz", np.ones((2, 2), np.int16))
    assert b.v.tolist() == [1, 2, 3] and b.m.tolist() == [[1, 1], [1, 1]]
    with pytest.raises(ValueError):
        A(1, [1, 2])  # wrong number of elements
    with pytest.raises(TypeError):
        A(m=np.full((2, 2), 1.5))  # no silent float -> short truncation
    assert A.dtype == np.dtype(
        {
            "names": ["n", "v", "name", "m"],
            "formats": ["<i4", ("<f8", (3,)), "S8", ("<i2", (2, 2))],
            "offsets": [0, 8, 32, 40],
            "itemsize": 48,
        }
    )


# ---- pointers to records -----------------------------------------------------------------


def test_record_pointer_as_array(lib):
    n = lib.new("int *")
    p = lib.weather_days(n)
    assert isinstance(p, ndffi.Pointer) and p.type == lib.types["Weather *"]
    days = p.as_array(n[0])
    assert days.dtype == lib.types.Weather.dtype and days.shape == (3,)
    assert days["timestamp"].tolist() == [100, 101, 102]
    assert days["desc"].tolist() == [b"sunny", b"rain", b"fog"]
    days["timestamp"][1] = 555  # a view of C's memory
    assert p[1].timestamp == 555
    p[1] = (101, b"rain")
    assert days[1]["timestamp"] == 101
    assert p[0] == lib.types.Weather(100, b"sunny")
    assert lib.sum_timestamps(days, 3) == 303


# ---- unions and bit-fields in dtypes ----------------------------------------------------------


def test_union_dtype(lib):
    d = lib.types.word.dtype
    assert d.itemsize == 4
    assert {n: d.fields[n][1] for n in d.names} == {"i": 0, "f": 0, "b": 0}
    arr = np.zeros(2, d)
    arr["f"] = [1.0, -2.0]
    assert arr["i"].tolist() == [0x3F800000, -0x40000000]  # the fields overlap, as in C
    assert arr["b"][0].tolist() == [0, 0, 0x80, 0x3F]


def test_bitfields_left_out_of_dtype(lib):
    # Bit-fields have no NumPy type: the dtype leaves them out and keeps their bytes
    # (as padding) so that itemsize and the other offsets stay C's.
    F = lib.types["struct flags"]
    assert F.fields[0][3] == (0, 1) and F.fields[1][3] == (1, 3)
    d = F.dtype
    assert d.names == ("level",) and d.fields["level"][1] == 4 and d.itemsize == 8
    arr = np.zeros(2, d)
    arr["level"] = [3, 4]
    # The bit-field bits are reached through the raw bytes, and C reads them.
    raw = arr.view(np.uint8).reshape(2, 8)
    raw[1, 0] = 0b1011  # ready = 1, mode = 5
    assert lib.flags_level(arr) == 30  # record 0: level 3, mode 0
    p = ndffi.cast("void *", arr)
    assert p.address == arr.ctypes.data
    as_flags = lib.cast("struct flags *", arr.ctypes.data)
    assert (as_flags[1].ready, as_flags[1].mode, as_flags[1].level) == (1, 5, 4)


def test_packed_struct(lib):
    P = lib.types["struct packed"]
    assert P.size == 9 and P.alignment == 1
    assert [(f[0], f[2]) for f in P.fields] == [("c", 0), ("d", 1)]
    assert P.dtype == np.dtype(
        {
            "names": ["c", "d"],
            "formats": ["i1" if CHAR_SIGNED else "u1", "<f8"],
            "offsets": [0, 1],  # noqa: E501
            "itemsize": 9,
        }
    )
    recs = np.zeros(2, P.dtype)
    recs["d"] = [1.25, 2.5]
    p = lib.cast("struct packed *", recs.ctypes.data)
    assert lib.packed_d(p) == 1.25 and lib.packed_d(recs) == 1.25


def test_record_types(lib):
    W = lib.types.Weather
    assert lib.types.Weather_t is W or lib.types.Weather_t == W
    assert lib.types["struct Weather_t"] == W
    assert W.kind == "struct" and lib.types.word.kind == "union"
    assert [(f[0], str(f[1]), f[2], f[3]) for f in W.fields] == [
        ("timestamp", "int", 0, None),
        ("desc", "char[12]", 4, None),
    ]
    assert lib.sizeof("Weather") == 16 and lib.sizeof("struct flags") == 8
    n = lib.types.nested
    assert n.dtype.fields["p"][0] == lib.types.vec2.dtype and n.dtype.itemsize == 24


ALIGNED_TYPEDEF_SRC = """
#include <stddef.h>
typedef int al8 __attribute__((aligned(8)));
typedef long long ll4 __attribute__((aligned(4)));
typedef double d2 __attribute__((aligned(2)));
struct at { char c; al8 x; ll4 y; char d; d2 z; };
size_t at_size(void) { return sizeof(struct at); }
size_t at_offset(int i) {
  size_t o[] = {offsetof(struct at, x), offsetof(struct at, y), offsetof(struct at, z)};
  return o[i];
}
long long at_sum(const struct at *a) { return a->c + a->x + a->y + a->d + (long long)a->z; }
struct at at_make(int x) { struct at a = {1, x, 3LL << 40, 4, 5.0}; return a; }
"""


def test_aligned_typedef_members_as_the_compiler_lays_them_out():
    """A typedef's aligned(n) raises or lowers its type's alignment: structs of them have
    the compiler's offsets in values, dtypes and calls by value."""
    lib = ndffi.inline(ALIGNED_TYPEDEF_SRC)
    at = lib.types["struct at"]
    assert lib.sizeof("struct at") == lib.at_size() == at.dtype.itemsize
    assert [at.dtype.fields[n][1] for n in ("x", "y", "z")] == [lib.at_offset(i) for i in range(3)]
    assert [lib.at_offset(i) for i in range(3)] == [8, 12, 22]  # x raised to 8, y and z lowered
    v = at(1, 2, 3 << 40, 4, 5.0)
    assert lib.at_sum(v) == 1 + 2 + (3 << 40) + 4 + 5
    r = lib.at_make(-7)
    assert (r.c, r.x, r.y, r.d, r.z) == (1, -7, 3 << 40, 4, 5.0)
    recs = np.zeros(2, at.dtype)
    recs["y"] = [10, 20]
    assert lib.at_sum(recs) == 10


# ---- struct values from tuples and dicts of numbers --------------------------------------

ALL_NUMBERS = """
struct all { signed char a; unsigned char b; short c; unsigned short d; int e; unsigned f;
             long long g; unsigned long long h; double x; float y; union { int ui; double ud; }; };
"""
# (field, smallest, largest) in the order of the fields
NUMBER_FIELDS = [
    ("a", -(2**7), 2**7 - 1),
    ("b", 0, 2**8 - 1),
    ("c", -(2**15), 2**15 - 1),
    ("d", 0, 2**16 - 1),
    ("e", -(2**31), 2**31 - 1),
    ("f", 0, 2**32 - 1),
    ("g", -(2**63), 2**63 - 1),
    ("h", 0, 2**64 - 1),
]


@pytest.fixture(scope="module")
def lib_all():
    lib = ndffi.load(None)
    lib.cdef(ALL_NUMBERS)
    return lib


def _packed(ints, x, y, ud):
    import struct

    return struct.pack("@bBhHiIqQdf4xd", *ints, x, y, ud)


@pytest.mark.parametrize("end", [1, 2])  # smallest, largest
def test_integer_fields_from_a_tuple_take_every_value_of_their_range(lib_all, end):
    all_numbers = lib_all.types["struct all"]
    ints = [f[end] for f in NUMBER_FIELDS]
    v = all_numbers(*ints, 2.5, 0.5)
    assert [getattr(v, f[0]) for f in NUMBER_FIELDS] == ints
    assert bytes(v) == _packed(ints, 2.5, 0.5, 0.0)
    by_name = all_numbers(**{f[0]: f[end] for f in NUMBER_FIELDS}, x=2.5, y=0.5)
    assert bytes(by_name) == bytes(v)
    assert bytes(lib_all.new("struct all *", tuple(ints) + (2.5, 0.5))[0]) == bytes(v)


@pytest.mark.parametrize("name, lo, hi", NUMBER_FIELDS)
def test_integer_fields_refuse_one_past_their_range_naming_the_field(lib_all, name, lo, hi):
    all_numbers = lib_all.types["struct all"]
    for bad in (lo - 1, hi + 1):
        with pytest.raises(OverflowError, match=rf"field '{name}'.*\[{lo}, {hi}\]"):
            all_numbers(**{name: bad})
        with pytest.raises(OverflowError, match=rf"field '{name}'"):
            lib_all.new("struct all *", {name: bad})
        with pytest.raises(OverflowError, match=rf"field '{name}'"):
            all_numbers(*[0] * [f[0] for f in NUMBER_FIELDS].index(name), bad)
    v = all_numbers()
    with pytest.raises(OverflowError, match=rf"field '{name}'"):
        setattr(v, name, hi + 1)
    assert bytes(v) == bytes(all_numbers.size)  # nothing stored by the refused values


def test_number_fields_convert_other_numbers_as_attributes_do(lib_all):
    all_numbers = lib_all.types["struct all"]
    v = all_numbers(True, np.uint8(200), np.int16(-5), False, 7, 8, -9, 2**63, 2**53 + 1, 2**24 + 1)
    assert (v.a, v.b, v.c, v.d, v.e, v.f, v.g, v.h) == (1, 200, -5, 0, 7, 8, -9, 2**63)
    assert v.x == float(2**53 + 1) and v.y == float(2**24)  # rounded once, to nearest even
    big = all_numbers(x=2**70, ud=-(2**63))  # past a long long: the general path
    assert big.x == float(2**70) and big.ud == -float(2**63)
    with pytest.raises(OverflowError, match="field 'x'"):
        all_numbers(x=2**1024)
    with pytest.raises(TypeError, match="field 'e'.*expected int"):
        all_numbers(e=1.5)
    with pytest.raises(TypeError, match="field 'x'"):
        all_numbers(x="1")


def test_anonymous_members_fields_by_name_and_position(lib_all):
    all_numbers = lib_all.types["struct all"]
    v = all_numbers(*[0] * 10, 7)
    assert v.ui == 7 and bytes(v) == _packed([0] * 8, 0.0, 0.0, 0.0)[:48] + (7).to_bytes(4, "little") + bytes(4)
    w = all_numbers(ud=0.25)
    assert w.ud == 0.25 and bytes(w)[48:] == _packed([0] * 8, 0.0, 0.0, 0.25)[48:]
    with pytest.raises(AttributeError):
        getattr(w, "ud\0")  # a name with a NUL is not a field's
    with pytest.raises(AttributeError, match=r"no field 'ud\\x00'"):
        setattr(w, "ud\0", 1.0)


def test_a_dict_changed_by_a_values_conversion_is_read_as_it_was(lib_all):
    fields = {"e": 1, "f": 2}

    class Sneaky:
        def __index__(self):
            fields.clear()
            fields["nope"] = 3
            return 5

    fields["g"] = Sneaky()
    v = lib_all.new("struct all *", fields)[0]
    assert (v.e, v.f, v.g) == (1, 2, 5)
