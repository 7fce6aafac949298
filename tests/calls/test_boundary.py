"""Random calls across the Python/C boundary.

A test library of randomly generated functions is compiled once per session.  Each
function echoes what it received into global record arrays: every scalar argument, the
first element of every array (and writes a marker into it when the pointer is not
const), every field of a struct passed by value or by pointer, and the result of calling
its callback once with a known argument.  Hypothesis then calls the functions with
random Python values, good and bad, and checks that either the C side saw exactly the
values given or a TypeError / OverflowError / ValueError was raised -- nothing else.
"""

import os
import random

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test  # noqa: E402

import ndffi  # noqa: E402

STRESS = os.environ.get("NDFFI_STRESS") == "1"
ALLOWED = (TypeError, OverflowError, ValueError)

# C scalar type -> (numpy dtype, kind) where kind is 'i' signed, 'u' unsigned, 'f' float
SCALARS = {
    "int8_t": "i1",
    "uint8_t": "u1",
    "int16_t": "i2",
    "uint16_t": "u2",
    "int32_t": "i4",
    "uint32_t": "u4",
    "int64_t": "i8",
    "uint64_t": "u8",
    "signed char": "b",
    "unsigned char": "B",
    "short": "h",
    "unsigned short": "H",
    "int": "i",
    "unsigned int": "I",
    "long": "l",
    "unsigned long": "L",
    "long long": "q",
    "unsigned long long": "Q",
    "size_t": "uintp",
    "float": "f4",
    "double": "f8",
}
SCALAR_NAMES = sorted(SCALARS)
ALL_DTYPES = [
    np.dtype(c) for c in ("i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8", "f2", "c8", "c16", "?", "S3")
]

N_FUNCS = 60
N_STRUCTS = 4
SLOTS = 8  # record slots per parameter


def _dtype(ctype):
    return np.dtype(SCALARS[ctype])


def _kind(ctype):
    return _dtype(ctype).kind


def _slot_array(ctype):
    return {"i": "rec_i", "u": "rec_u", "f": "rec_d"}[_kind(ctype)]


def _slot_ctype(ctype):
    return {"i": "int64_t", "u": "uint64_t", "f": "double"}[_kind(ctype)]


def _generate(seed=20261125):
    rng = random.Random(seed)
    structs = []
    for s in range(N_STRUCTS):
        fields = [(f"f{j}", rng.choice(SCALAR_NAMES)) for j in range(rng.randint(1, SLOTS - 1))]
        structs.append((f"S{s}", fields))
    funcs = []
    for f in range(N_FUNCS):
        params = []
        for _k in range(rng.randint(1, 6)):
            kind = rng.choice(["scalar", "scalar", "scalar", "array", "carray", "struct", "structp", "cb"])
            if kind in ("scalar", "array", "carray"):
                params.append((kind, rng.choice(SCALAR_NAMES)))
            elif kind in ("struct", "structp"):
                params.append((kind, rng.randrange(N_STRUCTS)))
            else:
                params.append((kind, rng.choice(["int32_t", "double"])))
        funcs.append((f"fn{f}", params))
    return structs, funcs


def _c_param(kind, t, k, structs):
    if kind == "scalar":
        return f"{t} a{k}"
    if kind == "array":
        return f"{t} *a{k}"
    if kind == "carray":
        return f"const {t} *a{k}"
    if kind == "struct":
        return f"{structs[t][0]} a{k}"
    if kind == "structp":
        return f"{structs[t][0]} *a{k}"
    return f"{t} (*a{k})({t})"


def _sources(structs, funcs):
    decl = []
    for name, fields in structs:
        decl.append("typedef struct { " + " ".join(f"{t} {n};" for n, t in fields) + f" }} {name};")
    n = 6 * SLOTS
    decl.append(
        f"extern int64_t rec_i[{n}]; extern uint64_t rec_u[{n}]; "
        f"extern double rec_d[{n}]; extern int rec_null[6]; extern int rec_calls;"
    )
    protos = []
    bodies = []
    for fname, params in funcs:
        proto = f"void {fname}(" + ", ".join(_c_param(kind, t, k, structs) for k, (kind, t) in enumerate(params)) + ")"
        protos.append(proto + ";")
        body = [
            "  memset(rec_i, 0, sizeof rec_i); memset(rec_u, 0, sizeof rec_u);",
            "  memset(rec_d, 0, sizeof rec_d); memset(rec_null, 0, sizeof rec_null);",
            "  rec_calls++;",
        ]
        for k, (kind, t) in enumerate(params):
            base = k * SLOTS
            if kind == "scalar":
                body.append(f"  {_slot_array(t)}[{base}] = ({_slot_ctype(t)})a{k};")
            elif kind in ("array", "carray"):
                body.append(f"  if (!a{k}) rec_null[{k}] = 1; else {{")
                body.append(f"    {_slot_array(t)}[{base}] = ({_slot_ctype(t)})a{k}[0];")
                if kind == "array":
                    body.append(f"    a{k}[0] = ({t})42;")
                body.append("  }")
            elif kind in ("struct", "structp"):
                acc = f"a{k}." if kind == "struct" else f"a{k}->"
                if kind == "structp":
                    body.append(f"  if (!a{k}) rec_null[{k}] = 1; else {{")
                for j, (fn, ft) in enumerate(structs[t][1]):
                    body.append(f"  {_slot_array(ft)}[{base + j}] = ({_slot_ctype(ft)}){acc}{fn};")
                if kind == "structp":
                    body.append("  }")
            else:
                arg = "1000 + " + str(k) if t == "int32_t" else f"0.25 + {k}"
                body.append(
                    f"  if (!a{k}) rec_null[{k}] = 1; else {_slot_array(t)}[{base}] = ({_slot_ctype(t)})a{k}({arg});"
                )
        bodies.append(proto + " {\n" + "\n".join(body) + "\n}\n")
    head = "#include <stdint.h>\n#include <stddef.h>\n#include <string.h>\n"
    types = "\n".join(decl[: len(structs)])
    code = (
        head
        + types
        + "\n"
        + f"int64_t rec_i[{n}]; uint64_t rec_u[{n}]; double rec_d[{n}]; "
        + "int rec_null[6]; int rec_calls;\n"
        + "\n".join(bodies)
    )
    return code, "\n".join(decl + protos)


STRUCTS, FUNCS = _generate()


@pytest.fixture(scope="module")
def blib(module_cache):
    code, cdef = _sources(STRUCTS, FUNCS)
    lib = ndffi.inline(code, cdef=cdef)
    n = 6 * SLOTS
    rec = {
        "rec_i": lib.rec_i.as_array(n),
        "rec_u": lib.rec_u.as_array(n),
        "rec_d": lib.rec_d.as_array(n),
        "null": lib.rec_null.as_array(6),
    }
    return lib, rec


# ---------------------------------------------------------------- value generators
# Each generator draws (python value, status, expectation).  status is "ok" (the call
# must succeed and C must see `expectation`), "bad" (must raise an allowed error) or
# "either" (may do either; if it succeeds, C must see `expectation`).


def _limits(ctype):
    info = np.iinfo(_dtype(ctype))
    return int(info.min), int(info.max)


def _c_value(ctype, v):
    """What C holds after converting Python value v (already known to be in range)."""
    if _kind(ctype) == "f":
        return float(np.array(v, dtype=_dtype(ctype)))
    return int(v)


@st.composite
def scalar_arg(draw, ctype):
    kind = _kind(ctype)
    choice = draw(st.integers(0, 9))
    if kind in "iu":
        lo, hi = _limits(ctype)
        if choice <= 3:
            v = draw(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi, 0, -1 if lo else 1])))
            return v, "ok", int(v)
        if choice == 4:
            v = draw(
                st.one_of(
                    st.integers(hi + 1, hi + 2**70), st.integers(lo - 2**70, lo - 1), st.sampled_from([hi + 1, lo - 1])
                )
            )
            return v, "bad", None
        if choice == 5:
            v = draw(st.booleans())
            return v, "either", int(v)
        if choice == 6:
            dt = draw(st.sampled_from([d for d in ALL_DTYPES if d.kind in "iu"]))
            info = np.iinfo(dt)
            v = draw(st.integers(int(info.min), int(info.max)))
            ok = lo <= v <= hi
            return dt.type(v), ("either" if ok else "bad"), v
        other = draw(st.sampled_from([None, 1.0, 2.5, float("nan"), "1", b"1", 1j, [1], object()]))
        return other, "bad", None
    # float / double
    if choice <= 3:
        v = draw(st.floats(width=32 if ctype == "float" else 64, allow_nan=False))
        return v, "ok", _c_value(ctype, v)
    if choice == 4:
        v = draw(st.integers(-(2**53), 2**53))
        return v, "ok", _c_value(ctype, float(v))
    if choice == 5:
        if ctype == "float":
            v = draw(st.sampled_from([1e39, -1e39, 3.5e38, float(2**200)]))
        else:
            v = draw(st.sampled_from([2**1024, -(2**1030)]))
        return v, "bad", None
    if choice == 6:
        v = draw(st.sampled_from([float("inf"), float("-inf")]))
        return v, "ok", v
    if choice == 7:
        v = draw(st.floats(allow_nan=False, allow_infinity=False, width=32))
        return np.float32(v), "either", _c_value(ctype, float(v))
    other = draw(st.sampled_from([None, "1.0", b"1", 1j, [1.0], object()]))
    return other, "bad", None


@st.composite
def array_arg(draw, ctype, const):
    want = _dtype(ctype)
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return None, "ok", None
    if choice == 1:
        other = draw(st.sampled_from([1, 0, 1.5, "abc", [1, 2], (1,), object()]))
        return other, "bad", None
    if choice == 2:
        other = draw(st.sampled_from([b"abcdefgh", bytearray(b"abcdefgh"), memoryview(b"abcdefgh")]))
        return other, "either", None
    dt = want if choice <= 5 else draw(st.sampled_from(ALL_DTYPES))
    if draw(st.booleans()) and dt.itemsize > 1:
        dt = dt.newbyteorder()
    n = draw(st.integers(1, 5))
    shape = (n,) if draw(st.booleans()) else (n, draw(st.integers(1, 3)))
    size = int(np.prod(shape))
    step = draw(st.sampled_from([1, 1, 1, 2, -1]))
    misalign = draw(st.sampled_from([0, 0, 0, 1]))
    raw = np.frombuffer(bytearray(size * abs(step) * dt.itemsize + misalign + 8), dtype=np.uint8)
    arr = raw[misalign : misalign + size * abs(step) * dt.itemsize].view(dt)
    arr = arr[::step][:size] if step > 0 else arr[::-1][:size]
    arr = arr.reshape(shape) if arr.flags.c_contiguous else arr
    if dt.kind in "iu":
        info = np.iinfo(dt)
        vals = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=size, max_size=size))
    elif dt.kind == "f":
        vals = draw(st.lists(st.floats(width=min(dt.itemsize * 8, 64), allow_nan=False), min_size=size, max_size=size))
    elif dt.kind == "b":
        vals = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    else:
        vals = [1] * size if dt.kind == "c" else [b"ab"] * size
    arr[...] = np.array(vals, dtype=dt).reshape(arr.shape)
    if draw(st.integers(0, 3)) == 0:
        arr.flags.writeable = False
    f = arr.flags
    good = dt == want and dt.isnative and f.c_contiguous and f.aligned and (const or f.writeable)
    return arr, ("ok" if good else "bad"), (arr.flat[0].item() if good else None)


def _good_struct(draw, sidx, lib):
    """(the struct's type, its fields, good values drawn for them, what C sees of them)."""
    name, fields = STRUCTS[sidx]
    vals = []
    for _, t in fields:
        if _kind(t) == "f":
            vals.append(draw(st.floats(width=32 if t == "float" else 64, allow_nan=False)))
        else:
            lo, hi = _limits(t)
            vals.append(draw(st.integers(lo, hi)))
    expect = [_c_value(t, v) for (_, t), v in zip(fields, vals, strict=True)]
    return getattr(lib.types, name), fields, vals, expect


@st.composite
def struct_arg(draw, sidx, lib):
    T, fields, vals, expect = _good_struct(draw, sidx, lib)
    choice = draw(st.integers(0, 7))
    if choice == 0:
        return T(*vals), "ok", expect
    if choice == 1:
        return tuple(vals), "ok", expect
    if choice == 2:
        return {n: v for (n, _), v in zip(fields, vals, strict=True)}, "ok", expect
    if choice == 3:  # one field out of range or of the wrong type
        j = draw(st.integers(0, len(vals) - 1))
        t = fields[j][1]
        bad = (None if _kind(t) == "f" else _limits(t)[1] + 1) if draw(st.booleans()) else "x"
        vals[j] = bad
        return tuple(vals), "bad", None
    if choice == 4:
        return tuple(vals) + (0, 0), "bad", None
    if choice == 5:
        other = getattr(lib.types, STRUCTS[(sidx + 1) % N_STRUCTS][0])
        return other(), "bad", None
    other = draw(st.sampled_from([None, 1, "abc", b"abc", np.zeros(3)]))
    return other, "bad", None


@st.composite
def structp_arg(draw, sidx, lib):
    T, fields, vals, expect = _good_struct(draw, sidx, lib)
    choice = draw(st.integers(0, 6))
    if choice == 0:
        return None, "ok", None
    if choice <= 2:
        arr = np.zeros(draw(st.integers(1, 3)), T.dtype)
        arr[0] = tuple(vals)
        if draw(st.integers(0, 3)) == 0:
            arr.flags.writeable = False
            return arr, "bad", None
        return arr, "ok", expect
    if choice == 3:
        return T(*vals), "either", expect
    if choice == 4:  # the same fields, packed: a layout that differs unless it happens to match
        dt = np.dtype([(n, _dtype(t)) for n, t in fields])
        arr = np.zeros(2, dt)
        arr[0] = tuple(vals)
        return arr, ("either" if dt.itemsize == T.dtype.itemsize and dt.fields == T.dtype.fields else "bad"), expect
    if choice == 5:
        other = getattr(lib.types, STRUCTS[(sidx + 1) % N_STRUCTS][0])
        return np.zeros(1, other.dtype), "bad", None
    other = draw(st.sampled_from([1, "abc", np.zeros(4), [1, 2]]))
    return other, "bad", None


@st.composite
def callback_arg(draw, ctype, k):
    arg = 1000 + k if ctype == "int32_t" else 0.25 + k
    choice = draw(st.integers(0, 7))
    if choice == 0:
        return None, "ok", None
    if choice <= 2:
        return (lambda x: x * 2 + 1), "ok", arg * 2 + 1
    if choice == 3:
        return ndffi.callback(f"{ctype}({ctype})", lambda x: x * 2 + 1), "ok", arg * 2 + 1
    if choice == 4:
        f = draw(st.sampled_from([lambda: 1, lambda x, y: 1, lambda x, y, z=1: 1]))
        return f, "bad", None
    if choice == 5:
        r = draw(st.sampled_from(["x", None, 2**40 if ctype == "int32_t" else "y", b"1"]))
        return (lambda x: r), "bad", None
    if choice == 6:
        return (lambda x: 1 / 0), "raises", ZeroDivisionError
    other = draw(st.sampled_from([1, "f", b"f", 2.5]))
    return other, "bad", None


@st.composite
def call_case(draw, lib):
    fidx = draw(st.integers(0, N_FUNCS - 1))
    fname, params = FUNCS[fidx]
    args = []
    for k, (kind, t) in enumerate(params):
        if kind == "scalar":
            args.append(draw(scalar_arg(t)))
        elif kind in ("array", "carray"):
            args.append(draw(array_arg(t, kind == "carray")))
        elif kind == "struct":
            args.append(draw(struct_arg(t, lib)))
        elif kind == "structp":
            args.append(draw(structp_arg(t, lib)))
        else:
            args.append(draw(callback_arg(t, k)))
    return fidx, args


def _same(got, want):
    if isinstance(want, float) and isinstance(got, float):
        return got == want or (got != got and want != want)
    return got == want


def _check_case(lib, rec, fidx, args):
    fname, params = FUNCS[fidx]
    statuses = [a[1] for a in args]
    values = [a[0] for a in args]
    calls_before = lib.rec_calls
    try:
        getattr(lib, fname)(*values)
    except ALLOWED as exc:
        if lib.rec_calls != calls_before:
            # C ran, so every argument converted: the error is a callback's
            assert not any(s == "bad" for (kind, _), s in zip(params, statuses, strict=True) if kind != "cb"), (
                f"{fname} entered C with an argument it should have refused"
            )
        if all(s in ("ok", "raises") for s in statuses) and "raises" not in statuses:
            raise AssertionError(f"{fname}{tuple(values)!r} raised {exc!r} for valid input") from exc
        if "bad" not in statuses and "either" not in statuses:
            raise AssertionError(f"{fname} raised {exc!r}, expected the callback's error") from exc
        return
    except ZeroDivisionError:
        assert "raises" in statuses, f"{fname}: ZeroDivisionError with no raising callback"
        return
    # success
    assert "bad" not in statuses, (
        f"{fname}{tuple(values)!r} accepted invalid input {[v for v, s in zip(values, statuses, strict=True) if s == 'bad']!r}"
    )  # noqa: E501
    assert "raises" not in statuses, f"{fname}: the callback's exception was lost"
    assert lib.rec_calls == calls_before + 1
    for k, ((kind, t), (v, _status, expect)) in enumerate(zip(params, args, strict=True)):
        base = k * SLOTS
        if kind == "scalar":
            got = rec[_slot_array(t)][base].item()
            assert _same(got, expect), f"{fname} arg {k} ({t}): gave {v!r}, C saw {got!r}, want {expect!r}"
        elif kind in ("array", "carray"):
            if v is None:
                assert rec["null"][k] == 1
                continue
            if expect is None:  # 'either' buffers: only checked for NULL-ness
                assert rec["null"][k] == 0
                continue
            got = rec[_slot_array(t)][base].item()
            want = _c_value(t, expect)
            assert _same(got, want), f"{fname} arg {k} ({t} *): C saw {got!r}, want {want!r}"
            if kind == "array":
                assert v.flat[0] == 42, f"{fname} arg {k}: C's write did not reach the array (a copy?)"
        elif kind in ("struct", "structp"):
            if v is None:
                assert rec["null"][k] == 1
                continue
            for j, ((fn, ft), want) in enumerate(zip(STRUCTS[t][1], expect, strict=True)):
                got = rec[_slot_array(ft)][base + j].item()
                assert _same(got, want), f"{fname} arg {k} field {fn} ({ft}): C saw {got!r}, want {want!r}"
        else:
            if v is None:
                assert rec["null"][k] == 1
                continue
            got = rec[_slot_array(t)][base].item()
            assert _same(got, expect), f"{fname} arg {k} callback: C got {got!r}, want {expect!r}"


def _run(blib, n, per_example=1):
    """n calls, drawn per_example at a time (fewer, longer examples cost less)."""
    lib, rec = blib
    done = [0]

    @settings(max_examples=n // per_example, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        for _ in range(per_example):
            fidx, args = data.draw(call_case(lib))
            _check_case(lib, rec, fidx, args)
            done[0] += 1

    check()
    assert done[0] >= n


class BoundaryMachine(RuleBasedStateMachine):
    """Calls interleaved with new declarations of the same functions on fresh handles of
    the library, struct values made earlier and passed later, and Pointers from
    ndffi.new passed where arrays are expected."""

    blib = None  # set by the test

    def __init__(self):
        super().__init__()
        self.lib, self.rec = self.blib
        self.handles = [self.lib]
        decl = _sources(STRUCTS, FUNCS)[1].splitlines()
        self.types_decl = "\n".join(decl[: N_STRUCTS + 1])
        self.protos = decl[N_STRUCTS + 1 :]

    values = Bundle("values")

    @rule(data=st.data())
    def call(self, data):
        fidx, args = data.draw(call_case(self.lib))
        _check_case(self.lib, self.rec, fidx, args)

    @rule(data=st.data())
    def call_through_new_handle(self, data):
        lib = data.draw(st.sampled_from(self.handles))
        fidx = data.draw(st.integers(0, N_FUNCS - 1))
        fname, params = FUNCS[fidx]
        lib.cdef(self.protos[fidx])  # an identical redeclaration is allowed
        args = [self._draw_arg(data, kind, t, k, lib) for k, (kind, t) in enumerate(params)]
        _check_case(lib, self.rec, fidx, args)

    def _draw_arg(self, data, kind, t, k, lib=None):
        if kind == "scalar":
            return data.draw(scalar_arg(t))
        if kind in ("array", "carray"):
            return data.draw(array_arg(t, kind == "carray"))
        if kind == "struct":
            return data.draw(struct_arg(t, lib or self.lib))
        if kind == "structp":
            return data.draw(structp_arg(t, lib or self.lib))
        return data.draw(callback_arg(t, k))

    @rule()
    def load_again(self):
        if len(self.handles) < 4:
            lib = ndffi.load(str(self.lib.path))
            lib.cdef(self.types_decl)
            self.handles.append(lib)

    @rule(target=values, sidx=st.integers(0, N_STRUCTS - 1), data=st.data())
    def make_struct(self, sidx, data):
        T, _, vals, expect = _good_struct(data.draw, sidx, self.lib)
        return sidx, T(*vals), expect

    @rule(v=values, data=st.data())
    def pass_struct_later(self, v, data):
        sidx, value, expect = v
        cands = [
            i for i, (_, ps) in enumerate(FUNCS) if any(kind in ("struct", "structp") and t == sidx for kind, t in ps)
        ]
        if not cands:
            return
        fidx = data.draw(st.sampled_from(cands))
        _, params = FUNCS[fidx]
        args = []
        for k, (kind, t) in enumerate(params):
            if kind in ("struct", "structp") and t == sidx:
                args.append((value, "ok" if kind == "struct" else "either", expect))
            else:
                args.append(self._draw_arg(data, kind, t, k))
        _check_case(self.lib, self.rec, fidx, args)

    @rule(data=st.data())
    def pass_new_pointer(self, data):
        cands = [i for i, (_, ps) in enumerate(FUNCS) if any(kind in ("array", "carray") for kind, _ in ps)]
        fidx = data.draw(st.sampled_from(cands))
        _, params = FUNCS[fidx]
        args = []
        for k, (kind, t) in enumerate(params):
            if kind in ("array", "carray"):
                p = ndffi.new(f"{t}[4]")
                v = data.draw(scalar_arg(t).filter(lambda a: a[1] == "ok"))[0]
                p[0] = v
                args.append((p, "either", None))
            else:
                args.append(self._draw_arg(data, kind, t, k))
        _check_case(self.lib, self.rec, fidx, args)


def test_state_machine(blib):
    BoundaryMachine.blib = blib
    try:
        run_state_machine_as_test(
            BoundaryMachine,
            settings=settings(
                max_examples=50,
                stateful_step_count=25,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        BoundaryMachine.blib = None  # the library is not kept past the test


def test_generated_library_declares_everything(blib):
    lib, _ = blib
    for fname, _params in FUNCS:
        assert callable(getattr(lib, fname))
    kinds = {kind for _, params in FUNCS for kind, _ in params}
    assert kinds == {"scalar", "array", "carray", "struct", "structp", "cb"}
    seen = {t for _, params in FUNCS for kind, t in params if kind == "scalar"}
    assert len(seen) >= 15


def test_random_calls(blib):
    _run(blib, 2000)


@pytest.mark.stress
@pytest.mark.skipif(not STRESS, reason="set NDFFI_STRESS=1 (make stress)")
def test_random_calls_stress(blib):
    _run(blib, 100_000, per_example=10)
