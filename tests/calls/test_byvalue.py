"""Structs and unions by value, against tests/clib/structs.c: round trips through
libffi, arguments as C sees them, nested records and unions, the SysV classification of
unions and bit-fields ndffi does itself, long double and packed records, and the errors
for arguments of the wrong type.
"""

import math

import numpy as np
import pytest

import ndffi
from conftest import (
    AARCH64_LINUX,
    CHAR_SIGNED,
    ENGINE,
    MORE_DECLS,
    WEATHER_DECLS,
    X86_64_SYSV,
    classified,
    clib_fixture,
)

lib = clib_fixture("structs", WEATHER_DECLS, MORE_DECLS)


# ---- by value through libffi -----------------------------------------------------------

f32 = lambda x: float(np.float32(x))  # noqa: E731
char = lambda x: x if CHAR_SIGNED else x % 256  # noqa: E731  (a byte with its top bit set)

ROUND_TRIPS = [
    ("s1", 1, (char(-7),)),
    ("s2", 2, (1, char(-2))),
    ("s3", 3, (1, 2, char(-3))),
    ("s4", 4, (f32(1.1),)),
    ("s8", 8, (-3, f32(2.7))),
    ("s16", 16, (1 / 3, -9, f32(0.1))),
    ("s17p", 17, (b"0123456789abcdefg",)),
    ("s17", 24, (2.5, -(2**40), 7)),
    ("s24", 24, (f32(-0.3), math.pi, 2**31 - 1)),
    ("s32", 32, (1e300, -1e-300, -(2**63), f32(3.4e38))),
]


@pytest.mark.parametrize("name, size, values", ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_struct_round_trip_by_value(lib, name, size, values):
    T = lib.types[name]
    assert T.size == size
    fn = getattr(lib, "round_" + name)
    assert fn.direct is ENGINE  # structs go through ndffi's engine or ffi_call
    v = T(*values)
    for r in (fn(v), fn(values), fn(dict(zip([f[0] for f in T.fields], values, strict=True)))):
        assert type(r) is type(v)
        got = tuple(getattr(r, f[0]) for f in T.fields)
        assert got == values
        assert r == v or name == "s17"  # s17's padding bytes are C's to choose


def test_by_value_arguments_seen_by_c(lib):
    assert lib.s3_sum((1, 2, char(-3))) == (0 if CHAR_SIGNED else 256)
    assert lib.s16_sum((0.5, 2, 0.25)) == 2.75
    assert lib.s24_sum((1.5, 2.25, 3)) == 6.75
    assert lib.s32_sum((1, 2, 3, 4.5)) == 10.5
    v = lib.types.s32(1e300, -1e-300, -(2**63), f32(3.4e38))
    assert [lib.s32_fields(v, k) for k in range(4)] == [1e300, -1e-300, float(-(2**63)), f32(3.4e38)]
    r = lib.s8_make(-5, 0.5)
    assert (r.i, r.f) == (-5, 0.5)
    assert lib.vadd((1, 2), {"x": 3, "y": 4}) == lib.types.vec2(4, 6)


@classified  # unions by value: classified by the ABI file
def test_nested_and_union_round_trips(lib):
    assert lib.round_nested.direct is ENGINE and lib.round_u8.direct is ENGINE
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
# case per class of the SysV eightbytes (on AArch64: HFAs of floats and of doubles, general
# registers, by reference), checked by a round trip and by C reading them.
CLASSIFIED = [
    ("uf", {"d": 1 / 3}, "d", None),
    ("uf", {"f": f32(1.1)}, "f", None),
    ("uf16", {"f": [1, 2, 3, 4]}, "f", ("uf16_sum", 10.0)),
    ("uf16", {"d": [1 / 3, -1e300]}, "d", None),
    ("umix", {"s": (1.5, 2.5)}, "s", ("umix_sum", 4.0)),
    ("umix", {"l": -(2**62)}, "l", None),
    ("usse", {"s": (1 / 3, 2.5)}, "s", ("usse_sum", 1 / 3 + 2.5)),
    ("ubig", {"c": bytes(range(1, 21))}, "c", ("ubig_sum", 210)),
    ("bfs", (-3, 1.5), None, ("bfs_sum", -1.5)),
    ("bfd", (15, 2**28 - 1, 0.5), None, ("bfd_sum", 15000 + 2**28 - 1 + 0.5)),
    ("bf12", (-(2**39), 2**23 - 1, 0.5), None, ("bf12_sum", -(2**39) + 2**23 - 1 + 0.5)),
    ("su", ({"d": 2.5}, 0.5), None, ("su_sum", 3.0)),
]


@classified
@pytest.mark.parametrize("name, init, member, check", CLASSIFIED, ids=[f"{c[0]}-{i}" for i, c in enumerate(CLASSIFIED)])
def test_classified_round_trip(lib, name, init, member, check):
    T = lib.types[name]
    v = T(**init) if isinstance(init, dict) else T(*init)
    fn = getattr(lib, "round_" + name)
    assert fn.direct is ENGINE
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


@classified
def test_mixed_by_value_arguments(lib):
    # Ten arguments: integer and SSE registers run out part way, the rest go on the stack.
    got = lib.mixed_args(
        {"d": 1.0},
        2,
        {"f": [3, 0, 0, 4]},
        5.0,
        (6, 7, 8.0),
        {"s": (9, 10)},
        {"s": (11, 12)},
        (-1, 13.0),
        14.0,
        (15, 0, 0, 16),
    )
    assert got == 1 + 2 + 7 + 5 + 21 + 19 + 23 + 12 + 14 + 31


def test_long_double_records_by_value(lib):
    assert lib.sld_twice((1.5,)) == 3.0
    # A union of long double and an integer is passed (and returned) in memory by the
    # ABI, which libffi cannot be told: ndffi's engine passes it, a call through libffi
    # refuses it rather than pass it wrongly.
    if ENGINE:
        assert lib.round_uld({"l": 77}).l == 77
        assert lib.round_uld({"l": -(2**40)}).l == -(2**40)
    elif X86_64_SYSV:
        with pytest.raises(TypeError, match="'uld' cannot be passed by value through libffi: it is a union of long"):
            lib.round_uld({"l": 77})


@classified
def test_long_double_struct_result(lib):
    # A struct of one long double classifies X87 and comes back in st(0), where libffi 3.4
    # looks in memory (ctypes gets NaN): ndffi describes the result as a long double.
    # (On AArch64 it is an HFA of one quad, in q0.)
    assert lib.round_sld((1.5,)).x == 1.5
    assert lib.round_sld({"x": -(2.0**-70)}).x == -(2.0**-70)
    assert lib.make_sld_nested(0.75).inner[0]["x"] == 0.75  # a NumPy record
    # and from a callback: the value goes back to C in st(0)
    assert lib.sld_from_callback(lambda x: (x * 4,), 2.5) == 11.0
    assert lib.sld_from_callback(lambda x: {"x": -x}, 2.5) == -1.5


def test_packed_struct_by_value(lib):
    # AArch64: its memory image in two general registers, whatever its members.  x86-64
    # System V: a double out of its alignment makes the struct MEMORY class, which ndffi's
    # engine passes and libffi cannot be told (refused rather than passed in registers).
    if X86_64_SYSV and not ENGINE:
        with pytest.raises(TypeError, match="'struct packed' cannot be passed by value through libffi: .*packed"):
            lib.packed_byval((1, 2.5))
    else:
        assert lib.packed_byval((1, 2.5)) == 3.5


MISALIGNED_C = """
struct pd { double d; } __attribute__((packed));
struct in_pd { char c; struct pd x; };                               /* x.d at 1 */
struct bf_first { unsigned char flag : 7; int value; } __attribute__((packed));
struct pi { int i; } __attribute__((packed));
struct pi_arr { char c; struct pi v[1]; };                           /* v[0].i at 1 */
union pu { int i; float f; } __attribute__((packed));
struct in_pu { char c; union pu v; };
struct big_pd { char c; struct pd x; double e[2]; };                 /* 25 bytes: memory */
struct a32 { long x; } __attribute__((aligned(32)));
double in_pd_d(struct in_pd s) { return s.x.d; }
int bf_first_v(struct bf_first s) { return s.value; }
int pi_arr_i(struct pi_arr s) { return s.v[0].i; }
int in_pu_i(struct in_pu s) { return s.v.i; }
double big_pd_sum(struct big_pd s) { return s.c + s.x.d + s.e[0] + s.e[1]; }
struct big_pd big_pd_make(double d) { struct big_pd s = {1, {d}, {2, 3}}; return s; }
long a32_x(int i, struct a32 a) { return a.x + i; }
/* a union's bit-field counts by its type (int) at the union's offset (11): misaligned */
union ubf { signed char a; int b : 26; };
struct __attribute__((packed)) in_ubf { double d; short s; char c; union ubf u; };
struct in_ubf in_ubf_make(long x) { struct in_ubf r = {0}; r.d = x; return r; }
int in_ubf_s(struct in_ubf v) { return v.s; }
"""


def test_records_with_misaligned_scalars_by_value():
    # GCC passes a record of at most 16 bytes with a scalar out of its natural alignment
    # in memory, wherever the misalignment comes from (a packed member struct, union or
    # array element, a member after a bit-field): ndffi's engine does, a call through
    # libffi (which would use registers) refuses it.  Over 16 bytes a record is in memory
    # anyway, and passed.
    lib = ndffi.inline(MISALIGNED_C, name="byvalue_misaligned")
    assert lib.big_pd_sum((4, (0.5,), (1.0, 2.0))) == 7.5
    r = lib.big_pd_make(6.25)
    assert (r.c, r.x.d, list(r.e)) == (1, 6.25, [2.0, 3.0])
    calls = [
        ("in_pd_d", ((1, (2.5,)),), 2.5),
        ("bf_first_v", ((1, 5),), 5),
        ("pi_arr_i", ((1, [(5,)]),), 5),
        ("in_pu_i", ((1, {"i": 5}),), 5),
        ("in_ubf_make", (5,), None),
        ("in_ubf_s", ((1.0, 5, 0, {"a": 1}),), 5),
    ]
    for name, args, want in calls:
        if AARCH64_LINUX:  # AAPCS64 has no such rule: passed right, or refused
            try:
                r = getattr(lib, name)(*args)
                assert r.d == 5.0 if want is None else r == want
            except TypeError as e:
                assert "cannot be passed by value" in str(e)
        elif ENGINE:
            r = getattr(lib, name)(*args)
            assert (r.d, r.s, r.c) == (5.0, 0, 0) if want is None else r == want
        else:
            with pytest.raises(TypeError, match=f"cannot call '.*{name}.*' cannot be passed by value through libffi"):
                getattr(lib, name)(*args)
    if ENGINE:
        assert lib.a32_x(1, (5,)) == 6
    elif X86_64_SYSV:
        with pytest.raises(
            TypeError, match="cannot call '.*a32_x.*' cannot be passed by value through libffi.*above 16"
        ):
            lib.a32_x(1, (5,))


OVER_ALIGNED_C = r"""
#include <stdarg.h>
#include <stdint.h>
struct a32 { long x; } __attribute__((aligned(32)));
struct a64 { double d; int k; } __attribute__((aligned(64)));
typedef struct { float v[8]; } __attribute__((aligned(32))) vec8;
struct a128 { char c; } __attribute__((aligned(128)));
/* each adds how far off its alignment C found a record (0 when placed as GCC places it) */
#define OFF(p, n) ((long)((uintptr_t)(p) % (n)))
long a32_after(int i, struct a32 a, long j, struct a32 b, char c) {
  return a.x * 100 + b.x * 10 + i + j + c + (OFF(&a, 32) + OFF(&b, 32)) * 1000000;
}
double a64_sum(double z, struct a64 a, int n, struct a64 b) {
  return a.d + b.d + a.k * 10 + b.k * 100 + z + n + (OFF(&a, 64) + OFF(&b, 64)) * 1e6;
}
long a32_spilled(long a, long b, long c, long d, long e, long f, char g, struct a32 h) {
  return a + b + c + d + e + f + g + h.x * 1000 + OFF(&h, 32) * 1000000;
}
vec8 vec8_scale(vec8 v, float s) { for (int i = 0; i < 8; i++) v.v[i] *= s; return v; }
struct a64 a64_make(double d, int k) { struct a64 r = {d, k}; return r; }
long a128_c(struct a128 a) { return a.c; }
double vec8_back(vec8 (*f)(vec8, int), int k) {
  vec8 v; for (int i = 0; i < 8; i++) v.v[i] = i;
  vec8 r = f(v, k); double s = 0; for (int i = 0; i < 8; i++) s += r.v[i] * (i + 1);
  return s;
}
long a32_back(long (*f)(int, struct a32, long, struct a32, char)) { struct a32 a = {5}, b = {7}; return f(1, a, 2, b, 3); }
long a32_va(int n, ...) {
  va_list ap; va_start(ap, n); long s = 0;
  for (int i = 0; i < n; i++) { struct a32 a = va_arg(ap, struct a32); s = s * 10 + a.x; }
  va_end(ap); return s;
}
"""


@pytest.mark.skipif(not X86_64_SYSV, reason="x86-64 System V places records aligned above 16 at their alignment")
def test_records_aligned_above_16_by_value():
    # GCC keeps a record's alignment (32, 64) on the stack and expects a result buffer of
    # that alignment: ndffi's engine does both, libffi (whose stack is aligned to 16) is
    # refused.  Above 64 neither passes it.
    lib = ndffi.inline(OVER_ALIGNED_C, name="byvalue_over_aligned")
    a32 = lib.types["struct a32"]
    calls = [
        ("a32_after", lambda: lib.a32_after(1, (5,), 2, (7,), 3), 576),
        ("a64_sum", lambda: lib.a64_sum(0.5, (1.0, 2), 3, (4.0, 5)), 528.5),
        ("a32_spilled", lambda: lib.a32_spilled(1, 2, 3, 4, 5, 6, 7, (8,)), 8028),
        (
            "vec8_scale",
            lambda: [float(x) for x in lib.vec8_scale((list(range(8)),), 2.0).v],
            [2.0 * i for i in range(8)],
        ),
        ("a64_make", lambda: (lambda r: (r.d, r.k))(lib.a64_make(2.5, 7)), (2.5, 7)),
        (
            "vec8_back",
            lambda: lib.vec8_back(lambda v, k: ([x * k for x in v.v],), 2),
            2.0 * sum(i * (i + 1) for i in range(8)),
        ),
        ("a32_back", lambda: lib.a32_back(lambda i, a, j, b, c: a.x * 100 + b.x * 10 + i + j + c), 576),
        ("a32_va", lambda: lib.a32_va(3, a32(1), a32(2), a32(3)), 123),
    ]
    for name, call, want in calls:
        if ENGINE:
            assert call() == want, name
        else:
            with pytest.raises(TypeError, match="by value through libffi.*aligned above 16"):
                call()
    with pytest.raises(TypeError, match="cannot call '.*a128_c.*' cannot be passed by value .*above 64"):
        lib.a128_c((1,))


MANY_LARGE_C = r"""
typedef struct { long x[3]; } __attribute__((aligned(16))) big16;  /* 32 bytes */
#define P12(T) T a0, T a1, T a2, T a3, T a4, T a5, T a6, T a7, T a8, T a9, T a10, T a11
#define S12(f) (f(a0) * 1 + f(a1) * 2 + f(a2) * 3 + f(a3) * 4 + f(a4) * 5 + f(a5) * 6 + f(a6) * 7 + \
                f(a7) * 8 + f(a8) * 9 + f(a9) * 10 + f(a10) * 11 + f(a11) * 12)
#define X0(a) (a).x[0]
long big16_sum(P12(big16), double z) { return S12(X0) + (long)z; }
long big16_back(long (*f)(P12(big16), double)) {
  big16 b[12];
  for (int i = 0; i < 12; i++) { b[i].x[0] = i + 1; b[i].x[1] = b[i].x[2] = -1; }
  return f(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], 3.0);
}
"""


def test_many_large_aligned_records_by_value():
    # Twelve records of 32 bytes aligned to 16: in memory on x86-64, by reference on
    # AArch64, where the addresses past the eighth go on the stack at 8 bytes each
    # (libffi aligned their slots to the record's 16: C read garbage addresses).
    lib = ndffi.inline(MANY_LARGE_C, name="byvalue_many_large")
    want = sum((i + 1) * (i + 1) for i in range(12)) + 3
    assert lib.big16_sum(*[([i + 1, 0, 0],) for i in range(12)], 3.0) == want
    got = lib.big16_back(lambda *a: sum(int(r.x[0]) * (i + 1) for i, r in enumerate(a[:12])) + int(a[12]))
    assert got == want


NESTED_AND_ZERO_LENGTH_C = r"""
struct __attribute__((packed)) P { char c; float f; };   /* in memory alone: f at 1 */
struct N { short s; char c; };
struct O { struct N n; char y[3]; struct P p; };          /* p.f at 8: O goes in rdi and xmm0 */
struct O give_o(float f) { struct O o = {{1, 2}, {3, 4, 5}, {6, f}}; return o; }
struct O give_o_ld(float f, long double z) { struct O o = {{1, 2}, {3, 4, 5}, {6, f + (float)z}}; return o; }
double drive_o_ld(double (*cb)(struct O, long double)) { struct O o = {{1, 2}, {3, 4, 5}, {6, 7.5f}}; return cb(o, 1.0L); }
/* GNU zero-length arrays: GCC classifies their element where they start */
struct __attribute__((packed)) z1 { char c; int i[0]; };  /* i at 1: memory */
struct fk { float a; int k[0]; };                         /* k at 4: INTEGER, in rdi */
struct ldz { long double x; int a[0]; };                  /* a at 16: nothing, x87 as long double */
int take_z1(struct z1 a, int k) { return a.c + k; }
struct z1 give_z1(int k) { struct z1 r; r.c = k; return r; }
float take_fk(struct fk v) { return v.a; }
struct fk give_fk(float a) { struct fk r; r.a = a; return r; }
struct ldz give_ldz(double d) { struct ldz r; r.x = d; return r; }
double drive_ldz(struct ldz (*f)(double)) { return (double)f(2.5).x; }
"""


def test_records_around_ones_only_the_engine_passes():
    # A record C passes in memory, held in one it passes in registers, is described by
    # the outer record's classes (not as bytes, which libffi would put in integer
    # registers): right through libffi too, as results and callback arguments.
    lib = ndffi.inline(NESTED_AND_ZERO_LENGTH_C, name="byvalue_nested_zero_length")
    ld = ndffi.cast("long double", 1.0)
    assert lib.give_o(2.5).p.f == 2.5
    assert lib.give_o_ld(2.5, ld).p.f == 3.5
    assert lib.drive_o_ld(lambda o, z: o.p.f + o.n.s * 10) == 17.5
    # zero-length arrays classified as GCC does
    if X86_64_SYSV and not ENGINE:
        with pytest.raises(TypeError, match="'struct z1' cannot be passed by value through libffi"):
            lib.take_z1((5, []), 7)
    else:
        assert lib.take_z1((5, []), 7) == 12
        assert lib.give_z1(0x41).c == 0x41
    assert lib.take_fk((1.5, [])) == 1.5
    assert lib.give_fk(-2.25).a == -2.25
    if AARCH64_LINUX:  # 16 bytes aligned to 16 and no HFA: refused there
        with pytest.raises(TypeError, match="'struct ldz' cannot be passed by value on this platform"):
            lib.give_ldz(1.25)
        return
    assert lib.give_ldz(1.25).x == 1.25
    assert lib.drive_ldz(lambda d: (d * 2, [])) == 5.0


FIRST_ELEMENT_C = r"""
struct __attribute__((packed)) q3 { signed char a; unsigned short b; };
/* m[0].b at 2 is aligned, m[1].b at 5 is not: GCC looks at the first element only */
struct __attribute__((packed)) r8 { unsigned char c; struct q3 m[2]; signed char t; };
struct __attribute__((packed)) p5 { char c; int i; };
struct r8 r8_give(int k) { struct r8 r = {k, {{k, k + 1}, {k, k + 2}}, k}; return r; }
int r8_take(struct r8 r) { return r.c + r.m[0].a + r.m[0].b * 10 + r.m[1].a * 100 + r.m[1].b * 1000 + r.t; }
int r8_drive(struct r8 (*fp)(int)) { struct r8 r = fp(3); return r.c + r.m[1].b * 10 + r.t * 100; }
int p5_drive(int (*f)(struct p5, long double)) { struct p5 p = {1, 2}; return f(p, 1.0L); }
long double p5_ld(struct p5 p, long double x) { return p.i + x; }
long double p5_ld_back(long double (*f)(struct p5)) { struct p5 p = {1, 2}; return f(p); }
"""


def test_arrays_of_packed_records_classified_by_their_first_element():
    # Registers, as GCC passes it, for ndffi's engine and libffi alike.
    lib = ndffi.inline(FIRST_ELEMENT_C, name="byvalue_first_element")
    r = lib.r8_give(3)
    assert (r.c, [(int(e["a"]), int(e["b"])) for e in r.m], r.t) == (3, [(3, 4), (3, 5)], 3)
    assert lib.r8_take((1, [(2, 3), (4, 5)], 6)) == 1 + 2 + 30 + 400 + 5000 + 6
    assert lib.r8_drive(lambda k: (k, [(0, 0), (0, k * 2)], -1)) == 3 + 60 - 100
    # a record C passes in memory, with a long double beside it: the engine's entry takes
    # both, libffi's closure is refused
    if ENGINE or AARCH64_LINUX:
        assert lib.p5_drive(lambda p, x: p.i * 10 + int(x)) == 21
        assert lib.p5_ld((1, 2), ndffi.cast("long double", 0.5)) == 2.5
    elif X86_64_SYSV:
        with pytest.raises(TypeError, match="'struct p5' cannot be passed to a callback by value through libffi"):
            lib.p5_drive(lambda p, x: p.i)
    # a callback returning long double: the engine's entry loads st(0)
    if ENGINE or AARCH64_LINUX:
        assert lib.p5_ld_back(lambda p: p.i + 0.25) == 2.25
    elif X86_64_SYSV:
        with pytest.raises(TypeError, match="'struct p5' cannot be passed to a callback by value through libffi"):
            lib.p5_ld_back(lambda p: p.i)
    else:
        assert lib.p5_ld_back(lambda p: p.i) == 2


LD_CALLBACK_C = r"""
struct ld1 { long double x; };
/* twenty calls: a result left on the x87 stack, or one not pushed, spoils the sum after eight */
long double ld_sum_calls(long double (*f)(long double, int), int n) {
    long double s = 0;
    for (int i = 0; i < n; i++) s += f(i * 0.5L, i);
    return s;
}
long double ld1_sum_calls(struct ld1 (*f)(int), int n) {
    long double s = 0;
    for (int i = 0; i < n; i++) s += f(i).x;
    return s;
}
/* eight integers, nine doubles and a long double: some on the stack */
long double ld_wide(long double (*f)(long, long, long, long, long, long, long, long, double, double, double,
                                     double, double, double, double, double, double, long double)) {
    return f(1, 2, 3, 4, 5, 6, 7, 8, .5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5L) * 2;
}
/* 32 bytes: MEMORY, not st(0), though its only scalar is a long double */
struct __attribute__((aligned(32))) ld32 { long double x; };
struct ld32 ld32_make(int i) { struct ld32 r; r.x = i / 4.0L; return r; }
long double ld32_sum_calls(struct ld32 (*f)(int), int n) {
    long double s = 0;
    for (int i = 0; i < n; i++) s += f(i).x;
    return s;
}
/* a long double in all but name: in st(0) as a result, as GCC returns it */
union uld1 { long double x; };
union uld1 uld1_make(int i) { union uld1 r; r.x = i / 4.0L; return r; }
long double uld1_sum_calls(union uld1 (*f)(int), int n) {
    long double s = 0;
    for (int i = 0; i < n; i++) s += f(i).x;
    return s;
}
/* 1 + 2^-60 needs the 64-bit significand of x87's format */
int ld_is_fine(long double (*f)(void)) { return f() == 1.0L + 0x1p-60L; }
"""


def test_callbacks_returning_long_double():
    # x86-64 System V: ndffi's entry loads the result into st(0) (libffi's closure where
    # it is forced); elsewhere libffi's closure returns it as the ABI says.
    lib = ndffi.inline(LD_CALLBACK_C, name="byvalue_ld_callbacks")
    cb = ndffi.callback("long double(long double, int)", lambda x, i: x * 2 + i)
    if X86_64_SYSV:
        assert cb.direct == ENGINE
    assert lib.ld_sum_calls(cb, 20) == sum(i * 1.0 + i for i in range(20))
    assert lib.ld1_sum_calls(lambda i: (i * 0.25,), 20) == sum(i * 0.25 for i in range(20))

    def wide(*a):
        assert a == (1, 2, 3, 4, 5, 6, 7, 8, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5)
        return sum(a)

    assert lib.ld_wide(wide) == 2 * (36 + 40.5 + 9.5)
    fine = np.longdouble(1) + np.longdouble(2.0**-60)
    assert lib.ld_is_fine(lambda: fine) == 1
    if X86_64_SYSV:
        assert lib.uld1_make(3).x == 0.75
        assert lib.uld1_sum_calls(lambda i: (i * 0.5,), 20) == sum(i * 0.5 for i in range(20))
    # aligned(32): returned in memory, by the engine (libffi refuses its alignment)
    if X86_64_SYSV and ENGINE:
        assert lib.ld32_make(3).x == 0.75
        assert lib.ld32_sum_calls(lambda i: (i * 0.5,), 20) == sum(i * 0.5 for i in range(20))
    elif X86_64_SYSV:
        with pytest.raises(TypeError, match="'struct ld32' cannot be passed by value through libffi"):
            lib.ld32_make(3)
    # an argument object the callback keeps is not given the next call's value
    kept = []
    lib.ld_sum_calls(lambda x, i: kept.append(x) or x, 5)
    assert [type(x) for x in kept] == [np.longdouble] * 5 and kept == [0, 0.5, 1, 1.5, 2]
    # an exception in the callback: the call raises it, and the x87 stack stays balanced
    with pytest.raises(ZeroDivisionError):
        lib.ld_sum_calls(lambda x, i: 1 / (i - 3), 20)
    assert lib.ld_sum_calls(cb, 20) == sum(i * 1.0 + i for i in range(20))


ZERO_WIDTH_C = r"""
union zu { double d; unsigned short : 0; };
struct zs { float x; int : 0; float y; };
struct __attribute__((packed)) pk { char c; long a : 60; };
/* a gap libffi would not leave, after a zero-width bit-field or before an _Alignas member */
struct zg { float f; long : 0; unsigned short g[2]; };
struct ag { float f; _Alignas(8) unsigned short g[2]; };
double zg_get(struct zg s, long n) { return s.f + s.g[0] * 10 + s.g[1] * 100 + n * 1000; }
double ag_get(struct ag s, long n) { return s.f + s.g[0] * 10 + s.g[1] * 100 + n * 1000; }
double zg_back(double (*f)(struct zg, long)) { struct zg s = {1.5f, {3, 4}}; return f(s, 9); }
double zu_get(union zu u, long k) { return u.d + k; }
union zu zu_make(double d) { union zu u; u.d = d; return u; }
float zs_get(struct zs s, float z) { return s.x + s.y * 10 + z * 100; }
long pk_get(struct pk s, long x) { return (long)s.a * 10 + s.c * 1000 + x; }
struct pk pk_make(long a) { struct pk s; s.c = 3; s.a = a; return s; }
double zu_back(double (*f)(union zu, long)) { union zu u; u.d = 2.5; return f(u, 7); }
long pk_back(long (*f)(struct pk, long)) { struct pk s; s.c = 2; s.a = -5; return f(s, 9); }
"""


@classified
def test_zero_width_and_straddling_bit_fields_by_value():
    # GCC classes a union's members by their types, a zero-width bit-field's too (INTEGER:
    # this union travels in rdi, not xmm0), and a struct's zero-width bit-field not at all
    # (since GCC 12); a bit-field of a packed struct that straddles two eightbytes makes
    # both INTEGER.  Checked against what GCC compiled, as calls and callbacks.
    lib = ndffi.inline(ZERO_WIDTH_C, name="byvalue_zero_width")
    assert lib.zu_get({"d": 2.5}, 1) == 3.5
    assert lib.zu_make(-1.25).d == -1.25
    assert lib.zs_get((1.5, 2.0), 3.0) == 321.5
    assert lib.pk_get((1, -(2**58)), 4) == -(2**58) * 10 + 1004
    r = lib.pk_make(2**58 + 3)
    assert (r.c, r.a) == (3, 2**58 + 3)
    assert lib.zu_back(lib.callback("double(union zu, long)", lambda u, k: u.d * 10 + k)) == 32.0
    assert lib.pk_back(lib.callback("long(struct pk, long)", lambda s, x: s.c * 100 + s.a * 10 + x)) == 200 - 50 + 9
    assert lib.zg_get((1.5, [3, 4]), 9) == lib.ag_get((1.5, [3, 4]), 9) == 9431.5
    zg = lib.callback("double(struct zg, long)", lambda s, n: s.f + s.g[0] * 10 + s.g[1] * 100 + n * 1000)
    assert lib.zg_back(zg) == 9431.5


def test_an_empty_struct_by_value_is_refused_as_empty():
    # GNU C's struct with no members has no bytes: C passes nothing, which libffi cannot
    # be told; the refusal says that (not a reason of layout or packing).
    lib = ndffi.inline("struct e {}; int e_after(struct e x, int y) { return y; }", name="byvalue_empty")
    with pytest.raises(TypeError, match=r"cannot call 'int e_after\(struct e x, int y\)': 'struct e' has no bytes"):
        lib.e_after({}, 3)


@classified
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
    ns.cdef(
        "struct b { unsigned long long a : 64; long long b : 64; unsigned long long c : 40; int d : 5; };"
        "struct al { char c; } __attribute__((aligned(64)));"
    )
    v = ns.type("struct b")()
    v.a, v.b, v.c, v.d = 2**64 - 1, -(2**63), 2**40 - 1, -16
    assert (v.a, v.b, v.c, v.d) == (2**64 - 1, -(2**63), 2**40 - 1, -16)
    for name, bad in [("a", 2**64), ("a", -1), ("b", 2**63), ("b", -(2**63) - 1), ("c", 2**40), ("d", 16), ("d", -17)]:
        with pytest.raises(OverflowError, match=f"field '{name}'"):
            setattr(v, name, bad)
    assert (v.a, v.b, v.c, v.d) == (2**64 - 1, -(2**63), 2**40 - 1, -16)
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
        lib.vadd(lib.types.s16(1, 2, 3), (3, 4))  # another struct type
    with pytest.raises(TypeError, match="no field 'z'"):
        lib.vadd({"z": 1}, (3, 4))
    with pytest.raises(TypeError):
        lib.vadd((1, 2, 3), (3, 4))


def test_struct_pointer_arguments(lib):
    a, b = lib.types.vec2(1, 2), lib.types.vec2(3, 4)
    assert lib.vdot(a, b) == 11.0  # a struct value passes by address
    recs = np.array([(1.0, 2.0)], lib.types.vec2.dtype)
    assert lib.vdot(recs, b) == 11.0
    p = lib.new("struct packed *")
    p[0] = {"c": 1, "d": 2.5}
    assert lib.packed_d(p) == 2.5
    with pytest.raises(TypeError):
        lib.vdot(lib.types.s16(), b)


AL16_DECLS = """
    typedef struct { _Alignas(16) long a; long b; } al16m;
    typedef struct { long a, b; } __attribute__((aligned(16))) al16r;
    typedef struct { double d; } __attribute__((aligned(16))) al16d;
    long al16m_after_int(int x, al16m s);
    long al16r_on_stack(long a, long b, long c, long d, long e, long f, long g, long h, int i, al16r s);
    double al16d_pair(double x, al16d a, al16d b);
"""


def test_records_aligned_to_16(clib_dir):
    lib = ndffi.load("libstructs", clib_dir).cdef(AL16_DECLS)
    calls = [
        ("al16m_after_int", (3, (4, 5)), 3045),
        ("al16r_on_stack", (1, 2, 3, 4, 5, 6, 7, 8, 3, (4, 5)), 36 + 345),
        ("al16d_pair", (1.0, (2.0,), (3.0,)), 123.0),
    ]
    for name, args, want in calls:
        if AARCH64_LINUX:
            # AAPCS64 starts the first at an even register, which libffi does not; GCC places
            # the others by their members' alignment, which the type model does not keep.
            # Refused, never passed wrongly.
            with pytest.raises(TypeError, match=f"cannot call '.*{name}.*' cannot be passed by value"):
                getattr(lib, name)(*args)
        else:
            assert getattr(lib, name)(*args) == want


PTR_PAIR_C = """
typedef struct { double x, y; } pv2;
typedef struct { const char *name; long n; } named;
pv2 pv_flip(pv2 v) { pv2 r = {v.y, v.x}; return r; }
named pv_named(long n) { named r = {0, n}; return r; }
long pv_len(named v) { long k = 0; while (v.name && v.name[k]) k++; return k * 1000 + v.n; }
"""
PTR_PAIR_CDEF = """
typedef struct { double x, y; } pv2;
typedef struct { const char *name; long n; } named;
pv2 pv_flip(pv2 v);
named pv_named(long n);
long pv_len(named v);
"""


@pytest.mark.parametrize("release_gil", [False, True])
def test_struct_results_and_the_gc(release_gil):
    # A call's struct result starts outside the GC's lists (it refers to nothing); a
    # pointer stored into it puts it there, with what it keeps, which lives as long as it.
    import gc
    import weakref

    lib = ndffi.inline(PTR_PAIR_C, name="byvalue_gc")
    lib.cdef(PTR_PAIR_CDEF, release_gil=release_gil)
    v = lib.types.pv2(1.5, -2.25)
    for _ in range(3):  # results made anew and from freed ones
        r = lib.pv_flip(v)
        assert (r.x, r.y) == (-2.25, 1.5)
        assert lib.pv_flip(r).x == 1.5
    named = lib.pv_named(7)
    assert named.n == 7 and not named.name
    buf = ndffi.new("char[]", b"hello")
    named.name = buf
    assert gc.is_tracked(named)
    assert lib.pv_len(named) == 5007
    probe = weakref.ref(buf)
    del buf
    gc.collect()
    assert probe() is not None  # kept by the struct value
    assert lib.pv_len(named) == 5007
    del named
    gc.collect()
    assert probe() is None
