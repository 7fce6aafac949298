"""Structs, unions, enums, #define constants and globals, against tests/clib/structs.c.

Covers what a user does with them: the seed's weather example, record arrays proven
congruent with the C layout (and refused, with the field named, when they are not),
struct values, structs and unions by value through libffi, pointers to records as
structured arrays, enums as IntEnum, constants and global variables.
"""

import enum
import math
import os
import shutil
import subprocess

import numpy as np
import pytest

import ndffi

# The declarations of the issue's example, verbatim.
ISSUE_DECLS = """
    typedef struct Weather_t { int timestamp; char desc[12]; } Weather;
    void print_weather(Weather *w, int nelems);
    typedef struct { double x, y; } vec2;
    vec2 vadd(vec2 a, vec2 b);                       /* by value, both ways */
    typedef union { int i; float f; unsigned char b[4]; } word;
    struct flags { unsigned ready : 1; unsigned mode : 3; int level; };
    #pragma pack(push, 1)
    struct packed { char c; double d; };
    #pragma pack(pop)
    enum color { RED, GREEN = 5, BLUE };
    #define BUFSIZE 4096
    #define SCALE 0.5
    #define NAME "ndffi"
    extern int counter;
"""

MORE_DECLS = """
    int sum_timestamps(const Weather *w, int n);
    void stamp_weather(Weather *w, int n, int base);
    Weather *weather_days(int *n);
    extern Weather history[2];
    int history_sum(void);
    extern vec2 origin;
    double origin_norm2(void);
    double vdot(const vec2 *a, const vec2 *b);
    word word_from_float(float f);
    int word_int(word w);
    struct flags make_flags(unsigned ready, unsigned mode, int level);
    int flags_sum(struct flags f);
    int flags_level(const struct flags *f);
    double packed_d(const struct packed *p);
    int color_value(enum color c);
    enum color next_color(enum color c);
    int bump(void);
    extern double table[4];

    typedef struct { char a; } s1;
    typedef struct { char a; char b; } s2;
    typedef struct { char a, b, c; } s3;
    typedef struct { float f; } s4;
    typedef struct { int i; float f; } s8;
    typedef struct { double d; int i; float f; } s16;
    typedef struct { double d; long l; char c; } s17;
    typedef struct { char c[17]; } s17p;
    typedef struct { float a; double b; int c; } s24;
    typedef struct { double a, b; long c; float d; } s32;
    typedef struct { vec2 p; int tag; } nested;
    typedef union { double d; long l; } u8;
    typedef union { float f[3]; int i; } u12;
    s1 round_s1(s1 v); s2 round_s2(s2 v); s3 round_s3(s3 v); s4 round_s4(s4 v);
    s8 round_s8(s8 v); s16 round_s16(s16 v); s17 round_s17(s17 v); s17p round_s17p(s17p v);
    s24 round_s24(s24 v); s32 round_s32(s32 v); nested round_nested(nested v);
    u8 round_u8(u8 v); u12 round_u12(u12 v);
    double s16_sum(s16 v); double s24_sum(s24 v); double s32_sum(s32 v); int s3_sum(s3 v);
    double nested_sum(nested v); s8 s8_make(int i, float f);
    double s32_fields(s32 v, int k); double u12_f2(u12 v); long u8_bits(u8 v);

    typedef struct { int n; double v[3]; char name[8]; short m[2][2]; } arrays_t;
    double arrays_sum(arrays_t a);
    arrays_t arrays_make(int n);

    typedef union { float f; double d; } uf;
    typedef union { float f[4]; double d[2]; } uf16;
    typedef union { struct { float a, b; } s; double d; long l; } umix;
    typedef union { struct { double d; float f; } s; float g[3]; } usse;
    typedef union { char c[20]; int i; } ubig;
    typedef union { long double ld; long l; } uld;
    typedef struct { int a : 3; float f; } bfs;
    typedef struct { unsigned a : 4, b : 28; double d; } bfd;
    typedef struct { long long a : 40; long long b : 24; float f; } bf12;
    typedef struct { u8 u; float f; } su;
    typedef struct { long double x; } sld;
    uf round_uf(uf v); uf16 round_uf16(uf16 v); umix round_umix(umix v); usse round_usse(usse v);
    ubig round_ubig(ubig v); uld round_uld(uld v); bfs round_bfs(bfs v); bfd round_bfd(bfd v);
    bf12 round_bf12(bf12 v); su round_su(su v); sld round_sld(sld v);
    double uf16_sum(uf16 v); double umix_sum(umix v); double usse_sum(usse v); int ubig_sum(ubig v);
    double bfs_sum(bfs v); double bfd_sum(bfd v); double bf12_sum(bf12 v); double su_sum(su v);
    long double sld_twice(sld v);
    typedef struct { sld inner[1]; } sld_nested;
    sld_nested make_sld_nested(long double x);
    long double sld_from_callback(sld (*f)(long double), long double x);
    double mixed_args(uf a, int i, uf16 b, double d, bfd c, umix e, usse f, bfs g, double h, s32 k);
    double packed_byval(struct packed p);
"""


@pytest.fixture(scope="module")
def lib(clib_dir):
    lib = ndffi.load("libstructs", clib_dir)
    lib.cdef(ISSUE_DECLS)
    lib.cdef(MORE_DECLS)
    return lib


@pytest.fixture(scope="module")
def flush():
    """fflush(NULL): C's stdout is a buffered file while pytest captures it."""
    libc = ndffi.load(None)
    libc.cdef("int fflush(void *stream);")
    return lambda: libc.fflush(None)


def weather_text(records):
    return "".join(f"timestamp: {t}\ndescription: {d}\n\n" for t, d in records)


# ---- the issue's example ---------------------------------------------------------------


def test_issue_example(lib, flush, capfd):
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
    lib.stamp_weather(recs, 3, 40)   # C writes into the array itself
    assert recs["timestamp"].tolist() == [40, 41, 42]
    assert recs["desc"].tolist() == [b"day 0", b"day 1", b"day 2"]
    assert lib.sum_timestamps(recs, 3) == 123


# ---- the seed's "Heterogeneous Types Example" ------------------------------------------


SEED_DAT = [[1126877361, 'sunny'], [1126877371, 'rain'], [1126877385, 'damn nasty'], [1126877387, 'sunny']]


# The seed's records are lists, which numpy >= 2.1 warns about.
@pytest.mark.filterwarnings("ignore:fromrecords expected a list of tuples:FutureWarning")
def test_seed_weather_example(lib, flush, capfd):
    N = np
    dat = SEED_DAT
    dat_dtype = N.dtype([('timestamp', 'i4'), ('desc', '|S12')])
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
    arr = np.rec.fromrecords(SEED_DAT, dtype=[('timestamp', 'i4'), ('desc', '|S10')])
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
    return np.dtype({"names": list(names), "formats": list(formats), "offsets": list(offsets),
                     "itemsize": itemsize})


@pytest.mark.parametrize("dtype, needles", [
    # wrong type
    (weather_dtype(["<i8", "S12"], itemsize=20), ["field 'timestamp'", "C has int32 ('int') at offset 0",
                                                  "the array has int64 at offset 0"]),
    (weather_dtype(["<u4", "S12"]), ["field 'timestamp'", "int32", "uint32 at offset 0"]),
    (weather_dtype(["<f4", "S12"]), ["field 'timestamp'", "int32", "float32 at offset 0"]),
    (weather_dtype(["<i4", "S8"]), ["field 'desc'", "C has 'char[12]' at offset 4", "S8 at offset 4"]),
    (weather_dtype(["<i4", ("<i4", (3,))]), ["field 'desc'", "'char[12]' at offset 4"]),
    # missing field
    (np.dtype({"names": ["timestamp"], "formats": ["<i4"], "itemsize": 16}),
     ["field 'desc'", "C has 'char[12]' at offset 4", "no field at that offset"]),
    # wrong itemsize
    (weather_dtype(["<i4", "S12"], itemsize=20), ["records of 20 bytes", "'struct Weather_t' is 16 bytes"]),
    (np.dtype([("timestamp", "<i4"), ("desc", "S12"), ("extra", "u1")]), ["records of 17 bytes", "16 bytes"]),
    # wrong offset
    (weather_dtype(["<i4", "S12"], offsets=(4, 8), itemsize=20),
     ["field 'timestamp'", "at offset 0", "no field at that offset", "'timestamp' is int32 at offset 4"]),
    (weather_dtype(["<i4", "S12"], offsets=(0, 3)),
     ["field 'desc'", "at offset 4", "'desc' is |S12 at offset 3"]),
    # byte-swapped
    (weather_dtype([">i4", "S12"]), ["field 'timestamp'", "C has int32", ">i4 at offset 0"]),
    # not a structured array
    (np.dtype(np.int32), ["a plain int32 array, not a structured array"]),
])
def test_mismatching_record_array_refused(lib, dtype, needles):
    arr = np.zeros(3, dtype)
    with pytest.raises(TypeError) as e:
        lib.sum_timestamps(arr, 3)
    msg = str(e.value)
    assert "sum_timestamps() argument 1 'w'" in msg and "'struct Weather_t'" in msg
    for needle in needles:
        assert needle in msg, msg


@pytest.mark.parametrize("dtype", [
    np.dtype([("timestamp", "<i4"), ("desc", "S12")]),
    np.dtype([("timestamp", "=i4"), ("desc", "|S12")]),
    np.dtype([("when", "<i4"), ("what", "S12")]),        # names do not matter, the layout does
    np.dtype([("timestamp", "<i4"), ("desc", "u1", (12,))]),   # char[12] as 12 bytes
    np.dtype([("timestamp", "<i4"), ("desc", "i1", (12,))]),
    weather_dtype(["<i4", "S12"], offsets=(0, 4), itemsize=16),
])
def test_congruent_record_arrays_accepted(lib, dtype):
    arr = np.zeros(3, dtype)
    arr[dtype.names[0]] = [1, 2, 3]
    assert lib.sum_timestamps(arr, 3) == 6


def test_non_contiguous_and_read_only_record_arrays(lib):
    W = lib.types.Weather
    strided = np.zeros(6, W.dtype)[::2]
    with pytest.raises(TypeError, match="non-contiguous"):
        lib.sum_timestamps(strided, 3)
    ro = np.zeros(3, W.dtype)
    ro["timestamp"] = [1, 2, 3]
    ro.flags.writeable = False
    assert lib.sum_timestamps(ro, 3) == 6          # const Weather *: read-only is fine
    with pytest.raises(TypeError, match="read-only"):
        lib.stamp_weather(ro, 3, 0)                 # Weather *: C may write
    assert ro["timestamp"].tolist() == [1, 2, 3]
    # A 2-d C-contiguous array of records is records all the same.
    two = np.zeros((2, 2), W.dtype)
    two["timestamp"] = [[1, 2], [3, 4]]
    assert lib.sum_timestamps(two, 4) == 10
    with pytest.raises(TypeError, match="non-contiguous"):
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
    with pytest.raises(OverflowError, match="timestamp"):
        W(2**31)
    with pytest.raises(ValueError, match="13 bytes do not fit in 'char\\[12\\]'"):
        W(1, b"x" * 13)


def test_struct_value_attributes(lib):
    w = lib.types.Weather(1, b"abc")
    w.timestamp = -2**31
    assert w.timestamp == -2**31
    w.timestamp = 2**31 - 1
    with pytest.raises(OverflowError, match=r"field 'timestamp'.*\[-2147483648, 2147483647\]"):
        w.timestamp = 2**31
    with pytest.raises(TypeError, match="expected int"):
        w.timestamp = "x"
    with pytest.raises(TypeError, match="expected int"):
        w.timestamp = 1.5
    assert w.timestamp == 2**31 - 1     # unchanged by the refused assignments
    w.desc = b"twelve chars"
    assert w.desc == b"twelve chars"    # all 12 bytes, no NUL
    w.desc = b"ab"
    assert w.desc == b"ab" and bytes(w)[4:16] == b"ab" + bytes(10)   # the rest zeroed
    with pytest.raises(AttributeError, match="no field 'nope'"):
        w.nope = 1
    with pytest.raises(AttributeError):
        w.nope
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
    assert w != lib.types.vec2()               # another type
    assert (w == 5) is False
    with pytest.raises(TypeError):
        hash(w)                                # mutable: not hashable


def test_nested_struct_views(lib):
    N = lib.types.nested
    v = N((1.0, 2.0), 3)
    assert (v.p.x, v.p.y, v.tag) == (1.0, 2.0, 3)
    p = v.p
    p.x = 10.0                                 # a view: writes go to the parent
    assert v.p.x == 10.0
    assert lib.nested_sum(v) == 15.0
    v.p = {"x": 5, "y": 6}
    assert (p.x, p.y) == (5.0, 6.0)
    v.p = lib.types.vec2(7, 8)
    assert (v.p.x, v.p.y) == (7.0, 8.0)
    with pytest.raises(TypeError, match="expected 'vec2'"):
        v.p = lib.types.s8(1, 2.0)
    del v
    assert (p.x, p.y) == (7.0, 8.0)            # the view keeps its parent's memory alive
    assert N(p=lib.types.vec2(5, 6), tag=3) == N({"x": 5, "y": 6}, 3) == N((5, 6), 3)


def test_arrays_inside_structs(lib):
    A = lib.types.arrays_t
    a = lib.arrays_make(7)
    assert a.n == 7 and a.name == b"made"
    assert isinstance(a.v, np.ndarray) and a.v.dtype == np.float64 and a.v.tolist() == [0.5, 1.5, 2.5]
    assert a.m.dtype == np.int16 and a.m.shape == (2, 2) and a.m.tolist() == [[1, 2], [3, 4]]
    assert lib.arrays_sum(a) == 7 + 4.5 + 10 + 4
    v = a.v
    v[1] = 10.0                                # a NumPy view of the struct's memory
    assert a.v[1] == 10.0
    assert lib.arrays_sum(a) == 7 + 13 + 10 + 4
    a.m = [[1, 1], [1, 1]]
    a.name = b"ab"
    assert lib.arrays_sum(a) == 7 + 13 + 4 + 2
    b = A(1, [1, 2, 3], b"xyz", np.ones((2, 2), np.int16))
    assert b.v.tolist() == [1, 2, 3] and b.m.tolist() == [[1, 1], [1, 1]]
    with pytest.raises(ValueError):
        A(1, [1, 2])                           # wrong number of elements
    with pytest.raises(TypeError):
        A(m=np.full((2, 2), 1.5))              # no silent float -> short truncation
    assert A.dtype == np.dtype({"names": ["n", "v", "name", "m"],
                                "formats": ["<i4", ("<f8", (3,)), "S8", ("<i2", (2, 2))],
                                "offsets": [0, 8, 32, 40], "itemsize": 48})


# ---- by value through libffi -----------------------------------------------------------

f32 = lambda x: float(np.float32(x))   # noqa: E731

ROUND_TRIPS = [
    ("s1", 1, (-7,)),
    ("s2", 2, (1, -2)),
    ("s3", 3, (1, 2, -3)),
    ("s4", 4, (f32(1.1),)),
    ("s8", 8, (-3, f32(2.7))),
    ("s16", 16, (1 / 3, -9, f32(0.1))),
    ("s17p", 17, (b"0123456789abcdefg",)),
    ("s17", 24, (2.5, -2**40, 7)),
    ("s24", 24, (f32(-0.3), math.pi, 2**31 - 1)),
    ("s32", 32, (1e300, -1e-300, -2**63, f32(3.4e38))),
]


@pytest.mark.parametrize("name, size, values", ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_struct_round_trip_by_value(lib, name, size, values):
    T = lib.types[name]
    assert T.size == size
    fn = getattr(lib, "round_" + name)
    assert fn.direct is False                  # structs go through ffi_call
    v = T(*values)
    for r in (fn(v), fn(values), fn(dict(zip([f[0] for f in T.fields], values)))):
        assert type(r) is type(v)
        got = tuple(getattr(r, f[0]) for f in T.fields)
        assert got == values
        assert r == v or name == "s17"         # s17's padding bytes are C's to choose


def test_by_value_arguments_seen_by_c(lib):
    assert lib.s3_sum((1, 2, -3)) == 0
    assert lib.s16_sum((0.5, 2, 0.25)) == 2.75
    assert lib.s24_sum((1.5, 2.25, 3)) == 6.75
    assert lib.s32_sum((1, 2, 3, 4.5)) == 10.5
    v = lib.types.s32(1e300, -1e-300, -2**63, f32(3.4e38))
    assert [lib.s32_fields(v, k) for k in range(4)] == [1e300, -1e-300, float(-2**63), f32(3.4e38)]
    r = lib.s8_make(-5, 0.5)
    assert (r.i, r.f) == (-5, 0.5)
    assert lib.vadd((1, 2), {"x": 3, "y": 4}) == lib.types.vec2(4, 6)


def test_nested_and_union_round_trips(lib):
    assert lib.round_nested.direct is False and lib.round_u8.direct is False
    n = lib.types.nested((1.25, -2.5), -17)
    r = lib.round_nested(n)
    assert r == n and (r.p.x, r.p.y, r.tag) == (1.25, -2.5, -17)
    assert lib.nested_sum(((1, 2), 3)) == 6
    for d in (1.5, -0.0, math.inf, 5e-324):
        u = lib.types.u8(d=d)
        r = lib.round_u8(u)
        assert bytes(r) == bytes(u) and r.d == d or math.isnan(d)
        assert lib.u8_bits(u) == r.l == int(np.float64(d).view(np.int64))
    u = lib.types.u8(l=-1)
    assert lib.round_u8(u).l == -1 and math.isnan(lib.round_u8(u).d)
    u12 = lib.types.u12(f=[1.5, -2, f32(0.1)])
    r = lib.round_u12(u12)
    assert r == u12 and r.f.tolist() == [1.5, -2, f32(0.1)] and lib.u12_f2(u12) == f32(0.1)
    assert lib.round_u12({"i": 0x3F800000}).f[0] == 1.0
    w = lib.word_from_float(1.0)
    assert w.i == 0x3F800000 and w.f == 1.0 and w.b.tolist() == [0, 0, 0x80, 0x3F]
    assert lib.word_int({"f": 1.0}) == 0x3F800000
    assert lib.word_int(lib.types.word(b=[1, 0, 0, 0])) == 1
    with pytest.raises(TypeError, match="a union takes one initializer"):
        lib.types.word(1, 2.0)


# Unions and structs with bit-fields are classified by ndffi (libffi has no unions): one
# case per class of the SysV eightbytes, checked by a round trip and by C reading them.
CLASSIFIED = [
    ("uf", {"d": 1 / 3}, "d", None),
    ("uf", {"f": f32(1.1)}, "f", None),
    ("uf16", {"f": [1, 2, 3, 4]}, "f", ("uf16_sum", 10.0)),
    ("uf16", {"d": [1 / 3, -1e300]}, "d", None),
    ("umix", {"s": (1.5, 2.5)}, "s", ("umix_sum", 4.0)),
    ("umix", {"l": -2**62}, "l", None),
    ("usse", {"s": (1 / 3, 2.5)}, "s", ("usse_sum", 1 / 3 + 2.5)),
    ("ubig", {"c": bytes(range(1, 21))}, "c", ("ubig_sum", 210)),
    ("bfs", (-3, 1.5), None, ("bfs_sum", -1.5)),
    ("bfd", (15, 2**28 - 1, 0.5), None, ("bfd_sum", 15000 + 2**28 - 1 + 0.5)),
    ("bf12", (-2**39, 2**23 - 1, 0.5), None, ("bf12_sum", -2**39 + 2**23 - 1 + 0.5)),
    ("su", ({"d": 2.5}, 0.5), None, ("su_sum", 3.0)),
]


@pytest.mark.parametrize("name, init, member, check", CLASSIFIED,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CLASSIFIED)])
def test_classified_round_trip(lib, name, init, member, check):
    T = lib.types[name]
    v = T(**init) if isinstance(init, dict) else T(*init)
    fn = getattr(lib, "round_" + name)
    assert fn.direct is False
    r = fn(v)
    if member is not None:
        got, want = getattr(r, member), getattr(v, member)
        if isinstance(got, np.ndarray):
            assert got.tolist() == want.tolist()
        elif type(got).__name__ == "StructValue":
            assert bytes(got) == bytes(want)
        else:
            assert got == want
    else:
        assert bytes(r) == bytes(v)
    if check:
        assert getattr(lib, check[0])(v) == check[1]
        assert getattr(lib, check[0])(init) == check[1]


def test_mixed_by_value_arguments(lib):
    # Ten arguments: integer and SSE registers run out part way, the rest go on the stack.
    got = lib.mixed_args({"d": 1.0}, 2, {"f": [3, 0, 0, 4]}, 5.0, (6, 7, 8.0), {"s": (9, 10)},
                         {"s": (11, 12)}, (-1, 13.0), 14.0, (15, 0, 0, 16))
    assert got == 1 + 2 + 7 + 5 + 21 + 19 + 23 + 12 + 14 + 31


def test_long_double_records_by_value(lib):
    assert lib.sld_twice((1.5,)) == 3.0
    # A union of long double and an integer is passed in memory by the ABI, which libffi
    # cannot be told: refused with a clear error rather than passed wrongly.
    with pytest.raises(TypeError, match="'uld' cannot be passed by value"):
        lib.round_uld({"l": 77})


def test_long_double_struct_result(lib):
    # A struct of one long double classifies X87 and comes back in st(0), where libffi 3.4
    # looks in memory (ctypes gets NaN): ndffi describes the result as a long double.
    assert lib.round_sld((1.5,)).x == 1.5
    assert lib.round_sld({"x": -2.0 ** -70}).x == -2.0 ** -70
    assert lib.make_sld_nested(0.75).inner[0]["x"] == 0.75  # a NumPy record
    # and from a callback: the value goes back to C in st(0)
    assert lib.sld_from_callback(lambda x: (x * 4,), 2.5) == 11.0
    assert lib.sld_from_callback(lambda x: {"x": -x}, 2.5) == -1.5


def test_packed_struct_by_value(lib):
    # A double out of its alignment makes the struct MEMORY class in the SysV ABI;
    # ndffi refuses it rather than pass it in registers.
    with pytest.raises(TypeError, match="'struct packed' cannot be passed by value"):
        lib.packed_byval((1, 2.5))


def test_bitfield_struct_by_value(lib):
    f = lib.make_flags(1, 5, -7)
    assert (f.ready, f.mode, f.level) == (1, 5, -7)
    assert lib.flags_sum(f) == 1000 + 500 - 7
    assert lib.flags_sum((0, 7, 3)) == 703
    assert lib.flags_sum({"mode": 2}) == 200
    F = lib.types["struct flags"]
    g = F(ready=1)
    g.mode = 7
    assert bytes(g)[:4] == bytes([0b1111, 0, 0, 0])
    with pytest.raises(OverflowError, match=r"\[0, 7\] for a 3-bit field"):
        g.mode = 8
    with pytest.raises(OverflowError, match=r"\[0, 1\] for a 1-bit field"):
        g.ready = -1
    assert lib.flags_level(g) == 7


def test_wide_bitfields_and_over_aligned_values():
    ns = ndffi.Namespace()
    ns.cdef("struct b { unsigned long long a : 64; long long b : 64; unsigned long long c : 40; int d : 5; };"
            "struct al { char c; } __attribute__((aligned(64)));")
    v = ns.type("struct b")()
    v.a, v.b, v.c, v.d = 2**64 - 1, -2**63, 2**40 - 1, -16
    assert (v.a, v.b, v.c, v.d) == (2**64 - 1, -2**63, 2**40 - 1, -16)
    for name, bad in [("a", 2**64), ("a", -1), ("b", 2**63), ("b", -2**63 - 1), ("c", 2**40), ("d", 16),
                      ("d", -17)]:
        with pytest.raises(OverflowError, match=f"field '{name}'"):
            setattr(v, name, bad)
    assert (v.a, v.b, v.c, v.d) == (2**64 - 1, -2**63, 2**40 - 1, -16)
    # A value's memory has its type's alignment, beyond what the allocator gives.
    A = ns.type("struct al")
    assert A.alignment == 64 and A.size == 64
    assert {ndffi.addressof(A()) % 64 for _ in range(20)} == {0}
    # and so has ndffi.new's, for one value and for arrays
    kept = [ns.new("struct al *") for _ in range(10)] + [ns.new("struct al[]", n) for n in (0, 1, 3)]
    assert {int(p) % 64 for p in kept} == {0}
    arr = ns.new("struct al[3]")
    arr[2].c = 7
    assert arr[2].c == 7 and int(ndffi.addressof(arr[2])) - int(arr) == 128
    with pytest.raises(ValueError, match=r"new\('struct al\[\]'\): .* overflow"):
        ns.new("struct al[]", 2**60)


def test_struct_argument_type_errors(lib):
    with pytest.raises(TypeError, match="vadd\\(\\) argument 1 'a'"):
        lib.vadd(1.0, (3, 4))
    with pytest.raises(TypeError):
        lib.vadd(lib.types.s16(1, 2, 3), (3, 4))   # another struct type
    with pytest.raises(TypeError, match="no field 'z'"):
        lib.vadd({"z": 1}, (3, 4))
    with pytest.raises(TypeError):
        lib.vadd((1, 2, 3), (3, 4))


def test_struct_pointer_arguments(lib):
    a, b = lib.types.vec2(1, 2), lib.types.vec2(3, 4)
    assert lib.vdot(a, b) == 11.0                 # a struct value passes by address
    recs = np.array([(1.0, 2.0)], lib.types.vec2.dtype)
    assert lib.vdot(recs, b) == 11.0
    p = lib.new("struct packed *")
    p[0] = {"c": 1, "d": 2.5}
    assert lib.packed_d(p) == 2.5
    with pytest.raises(TypeError):
        lib.vdot(lib.types.s16(), b)


# ---- pointers to records -----------------------------------------------------------------


def test_record_pointer_as_array(lib):
    n = lib.new("int *")
    p = lib.weather_days(n)
    assert isinstance(p, ndffi.Pointer) and p.type == lib.types["Weather *"]
    days = p.as_array(n[0])
    assert days.dtype == lib.types.Weather.dtype and days.shape == (3,)
    assert days["timestamp"].tolist() == [100, 101, 102]
    assert days["desc"].tolist() == [b"sunny", b"rain", b"fog"]
    days["timestamp"][1] = 555                     # a view of C's memory
    assert p[1].timestamp == 555
    p[1] = (101, b"rain")
    assert days[1]["timestamp"] == 101
    assert p[0] == lib.types.Weather(100, b"sunny")
    assert lib.sum_timestamps(days, 3) == 303


# ---- enums -------------------------------------------------------------------------------


def test_enums(lib):
    color = lib.types.color
    assert issubclass(color, enum.IntEnum)
    assert [(m.name, m.value) for m in color] == [("RED", 0), ("GREEN", 5), ("BLUE", 6)]
    assert lib.types["enum color"] is color
    assert color.ctype.size == 4
    assert lib.RED == color.RED == 0 and lib.GREEN == 5 and lib.BLUE == 6
    assert lib.color_value(color.BLUE) == 60
    assert lib.color_value(5) == 50
    assert lib.color_value(3) == 30            # any value of the enum's integer type is C's
    assert lib.next_color(color.RED) == color.GREEN
    assert lib.next_color(lib.next_color(color.GREEN)) == color.RED
    with pytest.raises(OverflowError, match="color_value\\(\\) argument 1 'c'"):
        lib.color_value(-1)                    # enum color is unsigned int here
    with pytest.raises(OverflowError):
        lib.color_value(2**32)
    with pytest.raises(TypeError):
        lib.color_value("RED")


def test_enum_with_negative_and_expression_values():
    ns = ndffi.Namespace()
    ns.cdef("enum e { NEG = -2, ZERO = NEG + 2, BIG = 1 << 20, NEXT };"
            "enum wide { W = 0x100000000 };")
    e = ns.type("enum e")
    assert e.enumerators == [("NEG", -2), ("ZERO", 0), ("BIG", 1 << 20), ("NEXT", (1 << 20) + 1)]
    assert e.size == 4 and ns.constant("NEXT")[0] == (1 << 20) + 1
    assert ns.type("enum wide").size == 8
    # packed enums take the smallest type that holds their values
    ns.cdef("enum __attribute__((packed)) small { S0, S1 = 255 };"
            "enum tiny { T0 = -1, T1 } __attribute__((packed));"
            "enum __attribute__((packed)) mid { M0 = -129 };")
    assert [ns.type(f"enum {n}").size for n in ("small", "tiny", "mid")] == [1, 1, 2]


# ---- #define constants ---------------------------------------------------------------------


def test_define_constants():
    ns = ndffi.Namespace()
    ns.cdef(r"""
        #define BUFSIZE 4096
        #define TWICE (BUFSIZE * 2)
        #define EXPR ((BUFSIZE + 4) / 3 % 7)
        #define MASK (1u << 31)
        #define UBIG 0xffffffffffffffffULL
        #define NEG -5
        #define SHIFTED (NEG << 2)
        #define SCALE 0.5
        #define HALF (SCALE / 2)
        #define FSCALE 1.5f
        #define NAME "ndffi"
        #define ESC "a\tb\x41"
        #define CAT "ab" "cd"
        #define CH 'A'
        #define SZ sizeof(double)
        #define TERN (BUFSIZE > 10 ? 1 : 2)
        #define CASTED ((unsigned char)300)
        #define FUNC(x) ((x) + 1)
        #define FLAG
        enum { FROM_DEFINE = TWICE + 1 };
        struct sized { char buf[BUFSIZE / 1024]; };
    """)
    c = lambda n: ns.constant(n)[0]   # noqa: E731
    assert c("BUFSIZE") == 4096 and c("TWICE") == 8192 and c("EXPR") == 1
    assert c("MASK") == 2**31 and c("UBIG") == 2**64 - 1
    assert c("NEG") == -5 and c("SHIFTED") == -20
    assert c("SCALE") == 0.5 and c("HALF") == 0.25 and c("FSCALE") == 1.5
    assert c("NAME") == "ndffi" and c("ESC") == "a\tbA" and c("CAT") == "abcd"
    assert c("CH") == 65 and c("SZ") == 8 and c("TERN") == 1 and c("CASTED") == 44
    assert c("FROM_DEFINE") == 8193
    assert ns.type("struct sized").size == 4
    assert ns.constant("FUNC") is None and ns.constant("FLAG") is None
    assert str(ns.constant("MASK")[1]) == "unsigned int"
    assert str(ns.constant("SCALE")[1]) == "double" and str(ns.constant("FSCALE")[1]) == "float"
    assert str(ns.constant("NAME")[1]) == "const char *"


# Integer constant expressions, evaluated by ndffi and by the C compiler: the same value
# and the same C type (C's integer promotions and usual arithmetic conversions).
CONST_EXPRS = [
    "4096", "0x7fffffff", "0x80000000", "2147483648", "0xffffffffffffffff", "077", "10L", "10u",
    "~0", "~0u", "~0ul", "-1u", "1 << 31", "1u << 31", "(1 << 31) >> 31", "1L << 40",
    "0xffffffff + 1", "2147483647 + 1", "-(-2147483647 - 1)", "-1 < 1u", "-1L < 1u", "-1 < 1ul",
    "10 / -3", "-10 % 3", "-1 >> 1", "(-1u) >> 1", "0x80000000 >> 31", "sizeof(int) - 5",
    "(unsigned char)-1 + 1", "(signed char)200", "(unsigned short)-1", "(_Bool)5", "'a' + 1",
    "1 ? 2 : 3u", "0 ? 2L : 3u", "!5 + !0", "3 && 0 || 2", "(1 + 2) * 3 - 4 / 2 % 3",
    "0x10 | 0x01 ^ 0x11 & 0xf0", "BASE * 2 + 1", "BASE > 10 ? BASE : -BASE", "(long)BASE << 32",
    "sizeof(struct pair)", "sizeof(double[3])",
]


@pytest.mark.skipif(not (os.environ.get("CC") or shutil.which("cc")), reason="no C compiler")
def test_constants_match_compiler(tmp_path):
    head = "#define BASE 4096\nstruct pair { int a; double b; };\n"
    defs = "".join(f"#define E{i} ({e})\n" for i, e in enumerate(CONST_EXPRS))
    ns = ndffi.Namespace()
    ns.cdef(head + defs)
    src = tmp_path / "consts.c"
    src.write_text(
        "#include <stdio.h>\n" + head + defs +
        "#define TN(x) _Generic((x), int: \"int\", unsigned int: \"unsigned int\", long: \"long\", "
        "unsigned long: \"unsigned long\", long long: \"long long\", "
        "unsigned long long: \"unsigned long long\", signed char: \"signed char\", "
        "unsigned char: \"unsigned char\", char: \"char\", short: \"short\", "
        "unsigned short: \"unsigned short\", _Bool: \"_Bool\", default: \"?\")\n"
        "#define P(n, x) printf(\"%s %s %lld %llu\\n\", n, TN(x), (long long)(x), (unsigned long long)(x))\n"
        "int main(void) {\n" + "".join(f'P("E{i}", E{i});\n' for i in range(len(CONST_EXPRS))) +
        "return 0; }\n")
    cc = os.environ.get("CC") or shutil.which("cc")
    subprocess.run([cc, "-w", "-o", str(tmp_path / "consts"), str(src)], check=True)
    out = subprocess.run([str(tmp_path / "consts")], capture_output=True, text=True, check=True).stdout
    wrong = []
    for line, expr in zip(out.splitlines(), CONST_EXPRS):
        name, rest = line.split(" ", 1)
        tname, signed, unsigned = rest.rsplit(" ", 2)
        want = int(unsigned) if tname.startswith("unsigned") else int(signed)
        value, ctype = ns.constant(name)
        if (value, str(ctype)) != (want, tname):
            wrong.append(f"{expr}: C {want} ({tname}), ndffi {value} ({ctype})")
    assert not wrong, "\n".join(wrong)


def test_constants_through_library(lib):
    assert {"BUFSIZE", "SCALE", "NAME"} <= set(dir(lib))
    assert lib.BUFSIZE == 4096 and isinstance(lib.BUFSIZE, int)
    assert lib.SCALE == 0.5 and isinstance(lib.SCALE, float)
    assert lib.NAME == "ndffi"


def test_constant_redefinition():
    ns = ndffi.Namespace()
    ns.cdef("#define A 1\n#define S \"x\"\nenum e { E1 = 3 };")
    ns.cdef("#define A 1\n#define A (2 - 1)")   # the same value again: accepted
    for text, name in [("#define A 2", "A"), ("#define S \"y\"", "S"), ("#define A \"1\"", "A"),
                       ("#define E1 4", "E1"), ("enum f { A };", "A")]:
        with pytest.raises(ndffi.CDefError, match=f"conflicting definition of '{name}'"):
            ns.cdef(text)
    assert ns.constant("A")[0] == 1 and ns.constant("S")[0] == "x"
    # the same anonymous enums and records again (a cdef run twice): one type
    text = "typedef enum { R, G } color; typedef struct { color c; struct { int x; } in; } px; px make(color);"
    ns.cdef(text)
    ns.cdef(text)
    assert ns.constant("G")[0] == 1 and ns.type("px").size == 8
    with pytest.raises(ndffi.CDefError, match=r"conflicting typedef 'px': previously "
                                              r"'struct \{ color c; struct <anonymous> in; \}', now 'struct \{ int y; \}'"):
        ns.cdef("typedef struct { int y; } px;")
    with pytest.raises(ndffi.CDefError, match="conflicting definition of 'G': previously 1, now 0"):
        ns.cdef("enum { G };")
    # a failed cdef leaves nothing behind
    with pytest.raises(ndffi.CDefError):
        ns.cdef("#define NEW 1\n#define A 3")
    assert ns.constant("NEW") is None


def test_constant_errors():
    ns = ndffi.Namespace()
    for text, needle in [("#define X (1/0)", "division by zero"),
                         ("#define Y UNKNOWN + 1", "'UNKNOWN' is not a constant"),
                         ("#define Z 1 +", "expected a constant expression")]:
        with pytest.raises(ndffi.CDefError, match=needle):
            ns.cdef(text)


# ---- globals -----------------------------------------------------------------------------


def test_globals_in_place(lib):
    lib.counter = 7
    assert lib.counter == 7
    assert lib.bump() == 8                     # C sees the write, Python sees C's
    assert lib.counter == 8
    with pytest.raises(OverflowError, match=r"cannot set global 'int counter' of library .*libstructs.*: "
                                            r"expected int in \[-2147483648, 2147483647\]"):
        lib.counter = 2**40
    with pytest.raises(TypeError, match="cannot set global 'int counter' .*expected int for 'int', got float"):
        lib.counter = 1.5
    assert lib.counter == 8
    with pytest.raises(AttributeError, match="only declared C global variables"):
        lib.not_declared = 1


def test_global_arrays(lib):
    t = lib.table
    assert isinstance(t, ndffi.Pointer) and len(t) == 4
    assert list(t) == [1.5, 2.5, 3.5, 4.5]
    t[2] = 9.0
    assert lib.table[2] == 9.0
    with pytest.raises(IndexError):
        t[4]
    with pytest.raises(TypeError, match="is a C array"):
        lib.table = [1, 2, 3, 4]
    t[2] = 3.5
    h = lib.history
    assert [h[i].timestamp for i in range(2)] == [7, 8]
    h[1] = (9, b"new")
    assert lib.history_sum() == 16
    h[1].timestamp = 8                         # a view of the global element
    assert lib.history_sum() == 15


def test_global_struct(lib):
    o = lib.origin
    assert (o.x, o.y) == (1.5, -2.5)
    o.x = 3.0                                  # a view of the global itself
    assert lib.origin_norm2() == 9.0 + 6.25
    lib.origin = (3.0, 4.0)
    assert lib.origin_norm2() == 25.0 and (o.x, o.y) == (3.0, 4.0)
    lib.origin = {"x": 1.5, "y": -2.5}


# ---- unions and bit-fields in dtypes ----------------------------------------------------------


def test_union_dtype(lib):
    d = lib.types.word.dtype
    assert d.itemsize == 4
    assert {n: d.fields[n][1] for n in d.names} == {"i": 0, "f": 0, "b": 0}
    arr = np.zeros(2, d)
    arr["f"] = [1.0, -2.0]
    assert arr["i"].tolist() == [0x3F800000, -0x40000000]   # the fields overlap, as in C
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
    raw[1, 0] = 0b1011                          # ready = 1, mode = 5
    assert lib.flags_level(arr) == 30          # record 0: level 3, mode 0
    p = ndffi.cast("void *", arr)
    assert p.address == arr.ctypes.data
    as_flags = lib.cast("struct flags *", arr.ctypes.data)
    assert (as_flags[1].ready, as_flags[1].mode, as_flags[1].level) == (1, 5, 4)


def test_packed_struct(lib):
    P = lib.types["struct packed"]
    assert P.size == 9 and P.alignment == 1
    assert [(f[0], f[2]) for f in P.fields] == [("c", 0), ("d", 1)]
    assert P.dtype == np.dtype({"names": ["c", "d"], "formats": ["i1", "<f8"], "offsets": [0, 1],
                                "itemsize": 9})
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
        ("timestamp", "int", 0, None), ("desc", "char[12]", 4, None)]
    assert lib.sizeof("Weather") == 16 and lib.sizeof("struct flags") == 8
    n = lib.types.nested
    assert n.dtype.fields["p"][0] == lib.types.vec2.dtype and n.dtype.itemsize == 24
