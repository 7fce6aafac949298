"""libffi's testsuite shapes (testsuite/libffi.call and libffi.closures) through ndffi:
every function of tests/clib/ffi_shapes.c called from Python, and called by C as a
callback through its NAME_via driver, in both GIL modes, with exact values.

The C file's header says what each function computes; this module models those rules
(the weighted sum of every scalar leaf in long double, member-wise addition, echo) so
that one rule checks every shape: the values C computed, and in a callback the values
the callback was given.  The declarations are the C file's own, read through its
preprocessor, so there is one copy of each shape.
"""

import math
import random
import struct
import subprocess
import zlib

import numpy as np
import pytest

import ndffi
from conftest import CLIB_SRC, _clib_builder, classified

SOURCE = CLIB_SRC / "ffi_shapes.c"
LD = np.longdouble


def _declarations():
    cmd = _clib_builder.compiler() + ["-E", "-P", "-DSHAPES_DECLARATIONS", str(SOURCE)]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


DECLS = _declarations()
_NS = ndffi.Namespace()
_NAMES = _NS.cdef(DECLS)
SHAPES = [n for n in _NAMES if n + "_via" in _NAMES and not n.startswith("va_")]


def _classified(t):
    """Whether passing t by value needs the ABI file's own classification (a union or a
    bit-field inside), which x86-64 System V and AArch64 Linux have."""
    if t.kind == "union":
        return True
    if t.kind == "array":
        return _classified(t.item)
    return t.kind == "struct" and any(bits or _classified(ft) for _, ft, _, bits in t.fields)


def _params(names):
    out = []
    for n in names:
        ftype = _NS.decl(n)[2]
        marks = [classified] if any(map(_classified, ftype.params + (ftype.item,))) else []
        out.append(pytest.param(n, marks=marks))
    return out


@pytest.fixture(scope="module", params=["gil-released", "gil-held"])
def lib(request, clib_dir):
    return ndffi.load("libffi_shapes", clib_dir).cdef(DECLS, release_gil=request.param == "gil-released")


# ---- the leaves of a value: its scalars in C order ---------------------------------------


def _member(value, name, i):
    if isinstance(value, (tuple, list)):
        return value[i]
    if isinstance(value, np.void):
        return value[name]
    return getattr(value, name)


def leaves(t, value):
    """[(CType, bits or None, value)] of every scalar of `value`, a value of type `t`
    (a tuple we built, a StructValue, a record of a NumPy array...)."""
    if t.kind == "struct":
        out = []
        for i, (name, ft, off, bits) in enumerate(t.fields):
            v = _member(value, name, i)
            if isinstance(v, bytes) and isinstance(value, ndffi.StructValue):
                v = bytes(value)[off : off + ft.size]  # the field reads up to its first NUL
            out += [(ft, bits, v)] if bits else leaves(ft, v)
        return out
    if t.kind == "array":
        if isinstance(value, bytes):  # a char array reads as bytes
            value = [wrap(t.item, None, c) for c in value.ljust(t.length, b"\0")]
        return [leaf for i in range(t.length) for leaf in leaves(t.item, value[i])]
    if t.kind == "union":  # through its first member
        name, ft, _, _ = t.fields[0]
        return leaves(ft, value[name] if isinstance(value, dict) else getattr(value, name))
    return [(t, None, value)]


def leaf_types(t):
    """[(CType, bits)] of the scalars of type `t`."""
    if t.kind == "struct":
        return [x for _, ft, _, bits in t.fields for x in ([(ft, bits)] if bits else leaf_types(ft))]
    if t.kind == "array":
        return leaf_types(t.item) * t.length
    if t.kind == "union":
        return leaf_types(t.fields[0][1])
    return [(t, None)]


def _pointer_kind(t):
    item = t.item
    if item.kind == "function":
        return "func"
    if item.cname in ("char", "const char"):
        return "string"
    if item.cname in ("int", "const int"):
        return "intp"
    return "address"


def _address(v):
    return 0 if v is None else v if isinstance(v, int) else v.address


def normal(t, v):
    """A leaf's value as the rules see it: int, float, address, bytes."""
    if t.kind == "pointer":
        kind = _pointer_kind(t)
        if kind == "string":
            return bytes(v).split(b"\0")[0] if isinstance(v, (bytes, bytearray)) else v.string()
        if kind == "intp":
            return int(v[0])
        return _address(v)
    if t.kind == "float":
        return float(v)
    return int(v)


def number(t, v):
    """What a leaf adds to the weighted sum, in long double."""
    v = normal(t, v)
    if t.kind == "pointer" and _pointer_kind(t) == "func":
        return LD(0)
    if isinstance(v, bytes):
        return LD(len(v))
    if isinstance(v, int):
        return LD(np.uint64(v)) if v >= 0 else LD(np.int64(v))
    return LD(v)


def int_range(t, bits=None):
    width = bits[1] if bits else 8 * t.size
    signed = t.kind != "bool" and np.dtype(t.dtype).kind == "i"
    return (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)


def wrap(t, bits, v):
    lo, hi = int_range(t, bits)
    return (v - lo) % (hi - lo + 1) + lo


def convert(t, bits, s):
    """The long double s as a value of leaf type t (conv_* of the C file)."""
    if t.kind == "float":
        with np.errstate(over="ignore"):  # beyond FLT_MAX: inf, as in C
            return float(np.array(s).astype(np.float32)) if t.size == 4 else float(s)
    u = int(s) % 2**64
    if t.kind == "pointer":
        return u
    if t.kind == "bool":
        return int(u != 0)
    return wrap(t, bits, u)


def add(t, bits, a, b):
    """Member-wise x.m + y.m in the member's type (add_* of the C file)."""
    a, b = normal(t, a), normal(t, b)
    if t.kind == "float":
        if t.size == 4:
            return float(np.float32(a) + np.float32(b))
        return a + b if t.size == 8 else float(LD(a) + LD(b))
    if t.kind == "pointer":
        return (a + b) % 2**64
    if t.kind == "bool":
        return int((a + b) % 2**64 != 0)
    return wrap(t, bits, a + b)


def wsum(types, values):
    s, k = LD(-0.0), 1
    for t, v in zip(types, values, strict=True):
        for lt, _, lv in leaves(t, v):
            s = s + LD(k) * number(lt, lv)
            k += 1
    return s


# ---- values ---------------------------------------------------------------------------


def _float32(rng):
    return math.ldexp(rng.randint(-(2**23), 2**23), rng.randint(-40, 40))


def leaf_value(t, bits, rng, exact, full):
    """A value for a leaf of type t: in the type's whole range with `full`, else
    moderate; dyadic and small where `exact` (a sum that a double holds exactly)."""
    if t.kind == "bool":
        return rng.random() < 0.5
    if t.kind == "float":
        if exact or t.size > 8:
            return rng.randint(-4000, 4000) / 16
        if t.size == 4:
            return _float32(rng) if full else rng.randint(-(2**20), 2**20) / 64
        return math.ldexp(rng.randint(-(2**52), 2**52), rng.randint(-200, 200)) if full else rng.uniform(-1e3, 1e3)
    if t.kind == "pointer":
        kind = _pointer_kind(t)
        if kind == "string":
            return bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(0, 12)))
        if kind == "intp":
            return np.array([rng.randint(-1000, 1000)], np.intc)
        if kind == "func":
            return Counter()
        return rng.randint(0, 2**47) if full else rng.randint(0, 2**32)
    lo, hi = int_range(t, bits)
    if not full:
        lo, hi = max(lo, -1000), min(hi, 2000)
    return rng.randint(lo, hi)


class Counter:
    """A void (*)(void) argument: a Callback that counts its calls."""

    by_address = {}

    def __init__(self):
        self.calls = 0
        self.cb = ndffi.callback("void(void)", self)
        Counter.by_address[self.cb.address] = self

    def __call__(self):
        self.calls += 1


def as_arg(lib, t, v):
    """A leaf value as ndffi takes it for C type t."""
    if t.kind == "pointer":
        kind = _pointer_kind(t)
        if kind == "address":
            return lib.cast(t.cname, v)
        if kind == "func":
            return v.cb
        if kind == "string" and not t.item.is_const:
            return bytearray(v + b"\0")
    return v


def build(lib, t, leaf_iter):
    """A value of type t (nested tuples and lists) from an iterator of leaf values."""
    if t.kind == "struct":
        return tuple(next(leaf_iter) if bits else build(lib, ft, leaf_iter) for _, ft, _, bits in t.fields)
    if t.kind == "array":
        return [build(lib, t.item, leaf_iter) for _ in range(t.length)]
    if t.kind == "union":
        return {t.fields[0][0]: build(lib, t.fields[0][1], leaf_iter)}
    return as_arg(lib, t, next(leaf_iter))


def arguments(lib, types, rng, exact=False, full=False):
    out = []
    for t in types:
        vals = [leaf_value(lt, bits, rng, exact, full) for lt, bits in leaf_types(t)]
        out.append(build(lib, t, iter(vals)))
    return out


def same(t, got, want):
    """Exact equality of two leaf values (a float's sign and NaN included)."""
    got, want = normal(t, got), want if isinstance(want, (int, float, bytes)) else normal(t, want)
    if isinstance(want, float):
        return struct.pack("<d", got) == struct.pack("<d", want) or (math.isnan(got) and math.isnan(want))
    return got == want


def check_value(t, got, want_leaves):
    """`got` (of type t) has the leaf values `want_leaves`."""
    got_leaves = leaves(t, got)
    assert len(got_leaves) == len(want_leaves)
    for (lt, _, g), w in zip(got_leaves, want_leaves, strict=True):
        assert same(lt, g, w), f"{lt.cname}: got {normal(lt, g)!r}, expected {w!r} ({got!r})"


# ---- the rules, per shape ---------------------------------------------------------------


def rule(fn):
    """(kind, parameter types, result type) of a shape."""
    name = fn.__name__
    kind = "add" if name.endswith("_add") else "echo" if name.endswith("_echo") else "wsum"
    return kind, [t for _, t in fn.params], fn.ctype.item


def expected(fn, args):
    """The leaves of fn(*args) under the C file's rules."""
    kind, types, rt = rule(fn)
    if kind == "add":
        x, y = (leaves(types[0], a) for a in args)
        return [add(t, bits, a, b) for (t, bits, a), (_, _, b) in zip(x, y, strict=True)]
    if kind == "echo":
        return [normal(t, v) for t, _, v in leaves(types[0], args[0])]
    s = wsum(types, args)
    if rt.kind == "void":
        return [float(s)]
    if rt.kind == "struct":
        return [convert(t, bits, s + LD(j)) for j, (t, bits) in enumerate(leaf_types(rt), 1)]
    return [convert(rt, None, s)]


def extremes(t):
    """The edge values of a scalar type t (None for other types)."""
    if t.kind not in ("bool", "int", "float", "pointer"):
        return None
    if t.kind == "bool":
        return [False, True]
    if t.kind == "float":
        info = np.finfo(np.float32 if t.size == 4 else np.float64)
        edge = [float(info.max), float(info.smallest_normal), float(info.smallest_subnormal)]
        edge += [float(info.smallest_normal) / 2, 1 / 3 if t.size > 4 else 1.5]
        return [0.0, -0.0, math.inf, -math.inf, math.nan] + edge + [-v for v in edge]
    if t.kind == "pointer":
        return [0, 1, 2**47, 2**64 - 1] if _pointer_kind(t) == "address" else None
    lo, hi = int_range(t)
    return sorted({lo, lo + 1, hi - 1, hi, 0, 1, hi // 3} | ({-1, lo // 3} if lo else set()))


def rounds(lib, fn):
    """The argument lists a shape is run with: a scalar's edge values, else three of
    random values."""
    kind, types, rt = rule(fn)
    if len(types) == 1 and extremes(types[0]) is not None:
        return [[as_arg(lib, types[0], v)] for v in extremes(types[0])]
    rng = random.Random(zlib.crc32(fn.__name__.encode()))
    all_types = [lt for t in types + [rt] for lt, _ in leaf_types(t)]
    exact = rt.kind == "void" or any(t.kind == "float" and t.size > 8 for t in all_types)
    return [arguments(lib, types, rng, exact=exact, full=kind != "wsum") for _ in range(3)]


def result_value(lib, t, leaf_values):
    """A callback's result of type t from its leaf values."""
    return build(lib, t, iter(leaf_values)) if t.kind != "void" else None


def counters(types, args):
    """The Counters among the void (*)(void) arguments."""
    return [
        Counter.by_address[_address(v)]
        for t, a in zip(types, args, strict=True)
        for lt, _, v in leaves(t, a)
        if lt.kind == "pointer" and _pointer_kind(lt) == "func"
    ]


# ---- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", _params(SHAPES))
def test_call(lib, name):
    fn = getattr(lib, name)
    kind, types, rt = rule(fn)
    for args in rounds(lib, fn):
        want = expected(fn, args)
        r = fn(*args)
        assert all(c.calls == 1 for c in counters(types, args))
        if rt.kind == "void":
            assert r is None
            check_value(ndffi.typeof("long double"), lib.shapes_last(), want)
        else:
            check_value(rt, r, want)


@pytest.mark.parametrize("name", _params(SHAPES))
def test_callback(lib, name):
    fn, via = getattr(lib, name), getattr(lib, name + "_via")
    kind, types, rt = rule(fn)
    for args in rounds(lib, fn):
        seen = []

        def callback(*got):
            seen.append(got)  # noqa: B023
            assert len(got) == len(types)
            for t, g, a in zip(types, got, args, strict=True):  # noqa: B023
                check_value(t, g, [normal(lt, v) for lt, _, v in leaves(t, a)])
            return result_value(lib, rt, expected(fn, got))

        r = via(callback, *args)
        assert len(seen) == 1
        if rt.kind != "void":
            check_value(rt, r, expected(fn, args))


# ---- variadic functions -------------------------------------------------------------------

# The letters of va_take (ffi_shapes.c) and the C type each stands for; Python passes a
# value cast to that type (a struct value, a Pointer, bytes), except for two letters of
# its own: n a plain int (C reads an int) and g a plain float (C reads a double).
VA_LETTERS = {
    "b": "signed char",
    "B": "unsigned char",
    "h": "short",
    "H": "unsigned short",
    "i": "int",
    "I": "unsigned int",
    "l": "long",
    "L": "unsigned long",
    "q": "long long",
    "Q": "unsigned long long",
    "f": "float",
    "d": "double",
    "D": "long double",
    "p": "void *",
    "s": "const char *",
    "S": "vsmall",
    "T": "vlarge",
    "F": "double (*)(double)",
    "n": "int",
    "g": "double",
}
VA_CASES = [
    ("va_int", ""),
    ("va_int", "BbHhIiLlfd"),
    ("va_int", "iiiiiiiiiiii"),
    ("va_int", "pdsQ"),
    ("va_int", "ngng"),
    ("va_int", "STS"),
    ("va_int", "STSBbHhIiLlfd"),
    ("va_char_float", "BbHhIiLlfd"),
    ("va_char_float", "gnfD"),
    ("va_double", ""),
    ("va_double", "dddd"),
    ("va_double", "ddddddddddd"),
    ("va_double", "qQfDg"),
    ("va_longdouble", "DDD"),
    ("va_longdouble", "dDiD"),
    ("va_uint", "II"),
    ("va_ulong", "LL"),
    ("va_float", "fif"),
    ("va_struct", "iQd"),
    ("va_struct", "T"),
    ("va_double", "F"),
    ("va_int", "dFd"),
]


def _va_type(lib, letter):
    return lib.typeof(VA_LETTERS[letter])


def va_arguments(lib, fn, letters):
    """The fixed arguments, the C letters, and the variadic arguments of a case."""
    rng = random.Random(zlib.crc32((fn.__name__ + letters).encode()))
    fixed = arguments(lib, [t for _, t in fn.params[:-1]], rng, exact=True)
    code = letters.replace("n", "i").replace("g", "d").encode()
    var = []
    for letter in letters:
        t = _va_type(lib, letter)
        if letter == "F":
            var.append(ndffi.callback("double(double)", lambda x: 2 * x + 1))
            continue
        (v,) = arguments(lib, [t], rng, exact=True)
        if letter in "ng":
            var.append(v)
        elif t.kind in ("struct", "pointer"):
            var.append(lib.types[t.name](*v) if t.kind == "struct" else v)
        else:
            var.append(ndffi.cast(t.cname, v))
    return fixed, code, var


def va_sum(lib, fn, fixed, code, var, letters):
    s = wsum([t for _, t in fn.params], fixed + [code])
    k = 1 + sum(len(leaf_types(t)) for _, t in fn.params)
    for letter, v in zip(letters, var, strict=True):
        t = _va_type(lib, letter)
        if letter == "F":
            s, k = s + LD(k) * LD(2 * k + 1), k + 1
            continue
        for lt, _, lv in leaves(t, v.value if isinstance(v, ndffi.Value) else v):
            s, k = s + LD(k) * number(lt, lv), k + 1
    return s


def va_result(t, s):
    if t.kind == "struct":
        return [convert(lt, bits, s + LD(j)) for j, (lt, bits) in enumerate(leaf_types(t), 1)]
    return [convert(t, None, s)]


def _va_params():
    return [pytest.param(f, letters, id=f"{f}-{letters or 'none'}") for f, letters in VA_CASES]


@pytest.mark.parametrize("name, letters", _va_params())
def test_variadic_call(lib, name, letters):
    fn = getattr(lib, name)
    fixed, code, var = va_arguments(lib, fn, letters)
    s = va_sum(lib, fn, fixed, code, var, letters)
    check_value(fn.ctype.item, fn(*fixed, code, *var), va_result(fn.ctype.item, s))


@pytest.mark.parametrize("name, letters", _va_params())
def test_variadic_with_callback(lib, name, letters):
    fn, via = getattr(lib, name), getattr(lib, name + "_via")
    rt = fn.ctype.item
    fixed, code, var = va_arguments(lib, fn, letters)
    s = va_sum(lib, fn, fixed, code, var, letters)
    seen = []

    def callback(x):
        seen.append(x)
        return result_value(lib, rt, va_result(rt, LD(x)))

    check_value(rt, via(callback, *fixed, code, *var), va_result(rt, s))
    assert seen == [float(s)]


# ---- long double beyond a double ----------------------------------------------------------

LD_VALUES = [
    pytest.param(LD(1) / 3, id="third"),
    pytest.param(LD(2) ** -16400, id="subnormal"),
    pytest.param(LD("1e4000"), id="beyond-double"),
]


@pytest.mark.parametrize("value", LD_VALUES)
def test_long_double_beyond_double(lib, value):
    assert lib.id_longdouble(value) == value
    assert lib.id_longdouble_via(lambda x: x, value) == value
    assert lib.just_ld_add((value,), (0,)).x == value


# ---- ufuncs: the same shapes element by element ---------------------------------------------


def _numeric(t):
    return t.kind in ("int", "bool", "float")


def _ufunc_params():
    """The shapes of numbers to a number or struct: ufuncs."""
    out = []
    for name in SHAPES:
        ftype = _NS.decl(name)[2]
        if name.endswith(("_add", "_echo")) or not ftype.params or not all(map(_numeric, ftype.params)):
            continue
        if ftype.item.kind == "struct" or _numeric(ftype.item):
            out.append(name)
    return out


@pytest.fixture(scope="module")
def lib_ufunc(clib_dir):
    return ndffi.load("libffi_shapes", clib_dir).cdef(DECLS)


@pytest.mark.parametrize("name", _ufunc_params())
def test_ufunc(lib_ufunc, name):
    fn = getattr(lib_ufunc, name)
    kind, types, rt = rule(fn)
    rows = rounds(lib_ufunc, fn)
    columns = [np.array([row[i] for row in rows], dtype=t.dtype) for i, t in enumerate(types)]
    with np.errstate(all="ignore"):  # the edge values overflow, as C's do
        out = fn.ufunc()(*columns)
    assert out.dtype == rt.dtype and out.shape == (len(rows),)
    for row, got in zip(rows, out, strict=True):
        check_value(rt, got.item() if rt.kind != "struct" else got, expected(fn, row))
