"""Callbacks that C enters from registers: floating and mixed integer/floating arguments
(exact values, in every order, with results in xmm0), and data pointer arguments, whose
Pointer objects are reused from call to call only when nothing else holds them.

C side: tests/clib/cbregs.c.
"""

import math
import random
import struct
import weakref

import numpy as np
import pytest

import ndffi

CDEF = """
    double cr_d(double (*f)(double), double x);
    float cr_f(float (*f)(float), float x);
    double cr_id(double (*f)(int, double), int a, double b);
    double cr_di(double (*f)(double, int), double a, int b);
    long cr_dldl(long (*f)(double, long, double, long), double a, long b, double c, long d);
    float cr_fdf(float (*f)(float, double, float), float a, double b, float c);
    double cr_d5(double (*f)(double, double, double, double, double), double a, double b, double c, double d,
                 double e);
    int cr_idipd(int (*f)(int, double, int *, double, int), int a, double b, int *p, double c, int d);
    double cr_di5(double (*f)(double, int, int, int, int, int), double a, int b, int c, int d, int e, int g);
    void cr_vfd(void (*f)(float, double), float a, double b);
    unsigned long long cr_bits(double (*f)(double), double x);
    void cr_each(void (*f)(int *), int *v, int n);
    int cr_each_const(int (*f)(const int *, long), const int *v, int n);
    struct cr_pt { int x; double y; };
    double cr_each_pt(double (*f)(struct cr_pt *), struct cr_pt *v, int n);
    unsigned long long cr_u4(unsigned long long (*f)(unsigned char, unsigned short, unsigned int, unsigned long long),
                             unsigned char a, unsigned short b, unsigned int c, unsigned long long d);
"""
# cr_l0..cr_l5 and cr_v0..cr_v5: f called with 0..5 long arguments, its long result or none
CDEF += "".join(
    f"{res} cr_{res[0]}{n}({res} (*f)({', '.join(['long'] * n) or 'void'}){''.join(f', long a{i}' for i in range(n))});\n"
    for res in ("long", "void")
    for n in range(6)
)


@pytest.fixture(scope="module")
def lib(clib_dir):
    return ndffi.load("libcbregs", clib_dir).cdef(CDEF)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def double_of(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


# -0.0, infinities, NaNs with payloads and either sign, subnormals, the extremes
SPECIAL_BITS = [
    0x8000000000000000,
    0x7FF0000000000000,
    0xFFF0000000000000,
    0x7FF8000000000001,
    0x7FF4000000000000,
    0xFFFABCDEF0123456,
    0x0000000000000001,
    0x800FFFFFFFFFFFFF,
    0x0008000000000000,
    0x7FEFFFFFFFFFFFFF,
    0x0010000000000000,
    bits(math.pi),
]


def doubles(n, seed):
    rnd = random.Random(seed)
    return [double_of(b) for b in SPECIAL_BITS] + [double_of(rnd.getrandbits(64)) for _ in range(n)]


def same(a, b):
    return bits(a) == bits(b)


@pytest.mark.parametrize("direct", [True, False])
def test_double_argument_and_result_exact(lib, direct):
    seen = []

    def f(x):
        seen.append(x)
        return x

    cb = ndffi.values.builtin_types.callback("double(double)", f, 0, direct)
    back = ndffi.values.builtin_types.callback("double(double)", lambda x: x, 0, direct)
    for x in doubles(200, 1):
        seen.clear()
        r = lib.cr_d(cb, x)
        assert len(seen) == 1 and same(seen[0], x), (hex(bits(x)), seen)
        assert same(r, x), (hex(bits(x)), r)
        # the result's bits, read by C as it got them from xmm0
        assert lib.cr_bits(back, x) == bits(x)


@pytest.mark.direct
def test_register_entry_for_short_signatures(lib):
    # every shape of up to five arguments whose integer ones leave a register is direct,
    # integer-only ones with a result or none included
    sigs = ["double(double)", "double(int, double)", "long(double, long, double, long)", "float(float)"]
    sigs += ["long(void)", "void(void)", "void(long)", "long(long, long, long, long, long)", "void(int, long, int)"]
    for sig in sigs:
        assert ndffi.callback(sig, lambda *a: 0).direct


@pytest.mark.parametrize("direct", [True, False])
def test_float_arguments_exact(lib, direct):
    vals = [0.0, -0.0, math.inf, -math.inf, 1.401298464324817e-45, -1.1754942106924411e-38, 3.4028234663852886e38]
    rnd = np.random.default_rng(2)
    vals += [float(v) for v in rnd.standard_normal(50).astype(np.float32)]
    cb = ndffi.values.builtin_types.callback("float(float)", lambda x: x, 0, direct)
    for v in vals:
        assert same(lib.cr_f(cb, v), v)
    got = []
    cbv = ndffi.values.builtin_types.callback("void(float, double)", lambda a, b: got.append((a, b)), 0, direct)
    for v, d in zip(vals, doubles(len(vals), 3)[: len(vals)], strict=True):
        got.clear()
        assert lib.cr_vfd(cbv, v, d) is None
        assert len(got) == 1 and same(got[0][0], v) and same(got[0][1], d)


@pytest.mark.parametrize("direct", [True, False])
def test_kept_float_arguments_keep_their_values(lib, direct):
    # a float argument's object is reused only when the callback let go of it
    kept = []
    cb = ndffi.values.builtin_types.callback("float(float)", lambda x: kept.append(x) or x + 1, 0, direct)
    vals = [1.5, 2.5, -3.25, 1e-3]
    assert [lib.cr_f(cb, v) for v in vals] == [float(np.float32(v) + 1) for v in vals]
    assert kept == [float(np.float32(v)) for v in vals]
    assert len({id(x) for x in kept}) == len(vals)


U4 = "unsigned long long(unsigned char, unsigned short, unsigned int, unsigned long long)"
# each width's extremes, the shared small ints, one-digit ints and more than one digit
U4_CASES = [
    (0, 0, 0, 0),
    (255, 65535, 2**32 - 1, 2**64 - 1),
    (5, 256, 2**30 - 1, 2**30),
    (128, 257, 2**31, 2**63),
    (1, 32768, 2**30, 2**62 + 12345),
    (200, 1, 7, 3),
]


@pytest.mark.parametrize("direct", [True, False])
def test_unsigned_arguments_exact(lib, direct):
    mk = ndffi.values.builtin_types.callback
    mixed = mk(U4, lambda a, b, c, d: (a * 3 + b * 5 + c * 7 + d) % 2**64, 0, direct)  # lets go of each
    for a, b, c, d in U4_CASES * 2:
        assert lib.cr_u4(mixed, a, b, c, d) == (a * 3 + b * 5 + c * 7 + d) % 2**64
    kept = []
    keeper = mk(U4, lambda *args: kept.append(args) or 0, 0, direct)
    for case in U4_CASES:
        assert lib.cr_u4(keeper, *case) == 0
    assert kept == U4_CASES


@pytest.mark.parametrize("direct", [True, False])
def test_mixed_orders_exact(lib, direct):
    rnd = random.Random(4)
    ds = doubles(40, 5)
    mk = ndffi.values.builtin_types.callback
    got = []

    def rec(*a):
        got.append(a)
        return 0

    for k in range(len(ds) - 1):
        a, b = ds[k], ds[k + 1]
        i, j = rnd.randrange(-(2**31), 2**31), rnd.randrange(-(2**63), 2**63)
        got.clear()
        lib.cr_id(mk("double(int, double)", rec, 0, direct), i, a)
        lib.cr_di(mk("double(double, int)", rec, 0, direct), a, i)
        lib.cr_dldl(mk("long(double, long, double, long)", rec, 0, direct), a, j, b, -j - 1)
        lib.cr_d5(mk("double(double, double, double, double, double)", rec, 0, direct), a, b, -1.5, a, b)
        lib.cr_di5(mk("double(double, int, int, int, int, int)", rec, 0, direct), a, i, 1, 2, 3, -i - 1)
        want = [(i, a), (a, i), (a, j, b, -j - 1), (a, b, -1.5, a, b), (a, i, 1, 2, 3, -i - 1)]
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert len(g) == len(w)
            assert all(same(x, y) if isinstance(y, float) else x == y for x, y in zip(g, w, strict=True)), (g, w)
    # results: each comes back from the argument it names
    for k in range(len(ds) - 2):
        a, b, c = ds[k], ds[k + 1], ds[k + 2]
        assert same(lib.cr_id(mk("double(int, double)", lambda i, x: x, 0, direct), 7, a), a)
        assert same(lib.cr_di(mk("double(double, int)", lambda x, i: x, 0, direct), b, 7), b)
        pick = mk("double(double, double, double, double, double)", lambda *v, k=k: v[k % 5], 0, direct)
        assert same(lib.cr_d5(pick, a, b, c, -a, -b), [a, b, c, -a, -b][k % 5])
        assert (
            lib.cr_dldl(mk("long(double, long, double, long)", lambda w, x, y, z: x - z, 0, direct), a, 10, b, 3) == 7
        )
        assert same(
            lib.cr_di5(mk("double(double, int, int, int, int, int)", lambda x, *i: x, 0, direct), c, 1, 2, 3, 4, 5), c
        )
    f32 = float(np.float32(1.25))
    assert lib.cr_fdf(mk("float(float, double, float)", lambda x, y, z: z, 0, direct), 0.5, math.pi, f32) == f32


@pytest.mark.parametrize("direct", [True, False])
def test_mixed_with_pointer(lib, direct):
    buf = np.array([5, 6, 7], np.int32)

    def f(a, x, p, y, b):
        p[1] = a + b
        return int(x + y) + p[0]

    cb = ndffi.values.builtin_types.callback("int(int, double, int *, double, int)", f, 0, direct)
    assert lib.cr_idipd(cb, 10, 1.5, buf, 2.5, 20) == 4 + 5
    assert buf.tolist() == [5, 30, 7]


def test_floating_callback_exception_reaches_caller(lib):
    def bad(*x):
        raise KeyError(x[0] if isinstance(x, tuple) else x)

    with pytest.raises(KeyError):
        lib.cr_d(bad, 1.0)
    cb = ndffi.callback("double(int, double)", bad, on_error=-2.5)
    with pytest.raises(KeyError):
        lib.cr_id(cb, 1, 2.0)
    # a result of the wrong type: the caller gets a TypeError naming the callback
    with pytest.raises(TypeError, match="result"):
        lib.cr_d(lambda x: "no", 1.0)


# ---- data pointer arguments ---------------------------------------------------------


def test_pointer_argument_index_and_write(lib):
    v = np.arange(6, dtype=np.int32)
    seen = []

    def f(p):
        seen.append((p[0], p[-1] if p.address > v.ctypes.data else None))
        p[0] = p[0] * 10 + 1

    lib.cr_each(f, v, 6)
    assert v.tolist() == [1, 11, 21, 31, 41, 51]
    assert seen == [(0, None), (1, 1), (2, 11), (3, 21), (4, 31), (5, 41)]


def test_pointer_argument_is_unbounded_and_typed(lib):
    v = np.arange(4, dtype=np.int32)
    info = []

    def f(p, i):
        info.append((type(p) is ndffi.Pointer, str(p.type), p.address))
        # C's memory of unknown extent: indexing past the element is not refused
        return p[1] if i < 3 else 100

    assert lib.cr_each_const(f, v, 4) == 1 + 2 + 3 + 100
    assert [a for _, _, a in info] == [v.ctypes.data + 4 * i for i in range(4)]
    assert all(ok for ok, _, _ in info)
    assert {t for _, t, _ in info} == {"const int *"}
    with pytest.raises(TypeError):
        len(_first_pointer(lib, v))


def _first_pointer(lib, v):
    kept = []
    lib.cr_each_const(lambda p, i: kept.append(p) or 0, v, 1)
    return kept[0]


def test_const_pointer_argument_refuses_writes(lib):
    v = np.arange(3, dtype=np.int32)

    def f(p, i):
        p[0] = 5
        return 0

    with pytest.raises(TypeError, match="const"):
        lib.cr_each_const(f, v, 3)
    assert v.tolist() == [0, 1, 2]


@pytest.mark.parametrize("keep_every", [1, 2, 3])
def test_pointers_kept_after_the_callback_keep_their_address(lib, keep_every):
    v = np.zeros(12, dtype=np.int32)
    kept, weak, calls = [], [], []

    def f(p):
        calls.append(p.address)
        if len(calls) % keep_every == 0:
            kept.append(p)
        else:
            weak.append(weakref.ref(p))

    cb = ndffi.callback("void(int *)", f)
    lib.cr_each(cb, v, 12)
    lib.cr_each(cb, v[6:], 6)  # again: the kept ones must not be given the new addresses
    base = v.ctypes.data
    assert calls == [base + 4 * i for i in range(12)] + [base + 24 + 4 * i for i in range(6)]
    want = [a for k, a in enumerate(calls) if (k + 1) % keep_every == 0]
    assert [p.address for p in kept] == want
    # a Pointer that only a weak reference still reaches was not reused either
    for w in weak:
        p = w()
        if p is not None:
            assert p.address in calls
    kept[0][0] = 77
    assert v[(want[0] - base) // 4] == 77


def test_pointer_argument_reused_object_is_fresh_each_call(lib):
    # the object handed to the callable is one nothing else sees: a new identity for the
    # callable is not promised, but its value is always the current call's
    v = np.arange(5, dtype=np.int32)
    got = []
    cb = ndffi.callback("int(const int *, long)", lambda p, i: got.append((p.address, p[0])) or 0)
    lib.cr_each_const(cb, v, 5)
    assert got == [(v.ctypes.data + 4 * i, i) for i in range(5)]


def test_struct_pointer_argument(lib):
    pts = lib.new("struct cr_pt[3]")
    for i in range(3):
        pts[i].x, pts[i].y = i + 1, 0.5 * i
    kept = []

    def f(p):
        kept.append(p[0])
        p[0].y = p[0].y + p[0].x
        return p[0].y

    assert lib.cr_each_pt(f, pts, 3) == pytest.approx((0 + 1) + (0.5 + 2) + (1.0 + 3))
    assert [pts[i].y for i in range(3)] == [1.0, 2.5, 4.0]
    assert [k.x for k in kept] == [1, 2, 3]


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("n", range(6))
def test_every_integer_argument_count_exact(lib, n, direct):
    # 0..5 integer arguments, a long result or none: each count and result kind has its
    # own entry; every argument arrives in its place and the result whole
    params = ", ".join(["long"] * n) or "void"
    seen = []

    def f(*args):
        seen.append(args)
        return args[-1] * 3 - 1 if args else -(2**63)

    returning = ndffi.values.builtin_types.callback(f"long({params})", f, 0, direct)
    nothing = ndffi.values.builtin_types.callback(f"void({params})", lambda *a: seen.append(a) or 12345, 0, direct)
    # (the direct entry itself is asserted by test_register_entry_for_short_signatures)
    assert returning.direct == nothing.direct
    rnd = random.Random(n)
    for _ in range(50):
        args = tuple(rnd.randrange(-(2**61), 2**61) for _ in range(n))
        seen.clear()
        assert getattr(lib, f"cr_l{n}")(returning, *args) == (args[-1] * 3 - 1 if args else -(2**63))
        assert getattr(lib, f"cr_v{n}")(nothing, *args) is None
        assert seen == [args, args]
