"""The direct call stubs against libffi, on random signatures.

A seeded generator writes random C functions over the scalar types (0..8 parameters,
plus some with 9..12 floating-point parameters, so that every register class
overflows somewhere and those calls fall back to libffi), each returning a checksum of
its arguments.  They are compiled into one shared library, declared with ndffi, and
called both as ``lib.fN`` (the direct stub or the engine where the ABI file has them) and
as a Function forced through libffi; the two results must be identical and equal to the value
computed in Python with C's wrap-around and rounding rules.
"""

import ctypes
import os
import random
import subprocess
import sys

import numpy as np
import pytest

import ndffi
from conftest import CHAR_SIGNED, X86_64_SYSV, compile_shared

SEED = 1729
N_FUNCS = 150  # 0..8 parameters
N_SPILL = 15  # 9..12 parameters, mostly floating point
CALLS_PER_FUNC = 4

LONG = ctypes.sizeof(ctypes.c_long)
PTR = ctypes.sizeof(ctypes.c_void_p)

# C type -> (class, size, signed)
TYPES = {
    "char": ("int", 1, CHAR_SIGNED),
    "signed char": ("int", 1, True),
    "unsigned char": ("int", 1, False),
    "short": ("int", 2, True),
    "unsigned short": ("int", 2, False),
    "int": ("int", 4, True),
    "unsigned": ("int", 4, False),
    "long": ("int", LONG, True),
    "unsigned long": ("int", LONG, False),
    "long long": ("int", 8, True),
    "_Bool": ("bool", 1, False),
    "float": ("float", 4, True),
    "double": ("double", 8, True),
    "void *": ("pointer", PTR, False),
}
PARAM_TYPES = list(TYPES)
RESULT_TYPES = PARAM_TYPES + ["void"]
MASK64 = (1 << 64) - 1


def wrap(value, size, signed):
    """C's conversion of an integer to an integer type of `size` bytes."""
    bits = 8 * size
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


# ---- the C side -----------------------------------------------------------------------


def c_function(index, result, params):
    """The C source of fN: an integer checksum (wrapping, in unsigned long long) or a
    floating weighted sum (in double, each step rounded as Python rounds it)."""
    name = f"f{index}"
    args = ", ".join(f"{t} a{i}" for i, t in enumerate(params)) or "void"
    floating = result in ("float", "double")
    lines = [f"{result} {name}({args}) {{"]
    if floating:
        lines.append(f"  double acc = {index};")
        for i, t in enumerate(params):
            v = f"(double)(uintptr_t)a{i}" if t == "void *" else f"(double)a{i}"
            lines.append(f"  acc = acc + {i + 1}.0 * {v};")
    else:
        lines.append(f"  unsigned long long acc = {index}ULL;")
        for i, t in enumerate(params):
            cls = TYPES[t][0]
            if cls in ("float", "double"):
                v = f"(unsigned long long)(long long)((double)a{i} * 8.0)"
            elif cls == "pointer":
                v = f"(unsigned long long)(uintptr_t)a{i}"
            else:
                v = f"(unsigned long long)a{i}"
            lines.append(f"  acc += {i + 1}ULL * {v};")
    if result == "void":
        lines.append("  g_sink = acc;")
    elif result == "_Bool":
        lines.append("  return (_Bool)(acc & 1);")
    elif result == "void *":
        lines.append("  return (void *)(uintptr_t)acc;")
    else:
        lines.append(f"  return ({result})acc;")
    lines.append("}")
    return "\n".join(lines)


def expected(index, result, params, values):
    """What fN returns for `values` (Python values as passed), computed as C does."""
    if result in ("float", "double"):
        acc = float(index)
        for i, (t, v) in enumerate(zip(params, values, strict=True)):
            x = float(pointer_int(v)) if t == "void *" else float(v)
            acc = acc + float(i + 1) * x
        return float(np.float32(acc)) if result == "float" else acc
    acc = index
    for i, (t, v) in enumerate(zip(params, values, strict=True)):
        cls = TYPES[t][0]
        if cls in ("float", "double"):
            x = int(float(v) * 8.0)  # truncation toward zero, as (long long)
        elif cls == "pointer":
            x = pointer_int(v)
        else:
            x = int(v)
        acc = (acc + (i + 1) * (x & MASK64)) & MASK64
    if result == "void":
        return acc  # stored in g_sink
    if result == "_Bool":
        return bool(acc & 1)
    if result == "void *":
        return wrap(acc, PTR, False)
    _, size, signed = TYPES[result]
    return wrap(acc, size, signed)


def pointer_int(v):
    return 0 if v is None else v.address


# ---- random signatures and values ------------------------------------------------------


def random_signatures(rng):
    sigs = []
    for _ in range(N_FUNCS):
        n = rng.randint(0, 8)
        sigs.append((rng.choice(RESULT_TYPES), [rng.choice(PARAM_TYPES) for _ in range(n)]))
    floats = ["float", "double"]
    for _ in range(N_SPILL):
        n = rng.randint(9, 12)
        params = [rng.choice(floats) if rng.random() < 0.8 else rng.choice(PARAM_TYPES) for _ in range(n)]
        sigs.append((rng.choice(RESULT_TYPES), params))
    return sigs


def random_value(rng, t):
    cls, size, signed = TYPES[t]
    if cls == "bool":
        return rng.choice([True, False])
    if cls == "pointer":
        r = rng.random()
        return (
            None
            if r < 0.2
            else ndffi.cast(
                "void *", rng.choice([rng.randrange(1, 1 << 47), (1 << 64) - 8 if PTR == 8 else (1 << 32) - 8, 1])
            )
        )
    if cls in ("float", "double"):
        x = rng.choice([0.0, -0.0, 1.5, -2.25, rng.uniform(-1e6, 1e6), rng.uniform(-1, 1)])
        # a float argument: a value float32 represents exactly, so no rounding on the way in
        return float(np.float32(x)) if cls == "float" else x
    lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
    return rng.choice([lo, hi, 0, -1 if signed else 1, rng.randint(lo, hi), rng.randint(lo, hi)])


def register_shape(params):
    ints = sum(TYPES[t][0] in ("int", "bool", "pointer") for t in params)
    return ints, len(params) - ints


# ---- the test -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def random_library(tmp_path_factory):
    rng = random.Random(SEED)
    sigs = random_signatures(rng)
    src = ["#include <stdint.h>", "unsigned long long g_sink;"]
    src += [c_function(i, r, p) for i, (r, p) in enumerate(sigs)]
    so_file = compile_shared(tmp_path_factory.mktemp("abi"), "random_sigs", src)
    lib = ndffi.load(str(so_file))
    protos = []
    for i, (r, p) in enumerate(sigs):
        protos.append(f"{r} f{i}({', '.join(p) or 'void'});")
    lib.cdef("\n".join(protos), release_gil=False)
    sink = ctypes.c_ulonglong.in_dll(ctypes.CDLL(str(so_file)), "g_sink")
    return lib, sigs, sink


def test_direct_stubs_match_libffi(random_library):
    lib, sigs, sink = random_library
    rng = random.Random(SEED + 1)
    failures = []
    for i, (result, params) in enumerate(sigs):
        name = f"f{i}"
        direct = getattr(lib, name)
        forced = lib._ns.function(name, lib._handle.symbol(name), lib._handle, allow_direct=False)
        assert forced.direct is False
        for _ in range(CALLS_PER_FUNC):
            values = [random_value(rng, t) for t in params]
            want = expected(i, result, params, values)
            got = []
            for f in (direct, forced):
                sink.value = 0
                r = f(*values)
                if result == "void":
                    assert r is None
                    r = sink.value
                elif result == "void *":
                    assert r is None or isinstance(r, ndffi.Pointer)
                    r = pointer_int(r)
                got.append(r)
            if not (got[0] == got[1] == want and type(got[0]) is type(got[1])):
                failures.append(
                    f"{result} {name}({', '.join(params)}) with {values}: "
                    f"direct {got[0]!r}, libffi {got[1]!r}, expected {want!r}"
                )
    assert not failures, "\n".join(failures[:20])


@pytest.mark.direct
def test_every_scalar_signature_bypasses_libffi(random_library):
    # a register stub when every argument has a register, else the engine (the stack)
    lib, sigs, _ = random_library
    spilled = 0
    for i, (result, params) in enumerate(sigs):
        ints, floats = register_shape(params)
        assert getattr(lib, f"f{i}").direct, (i, result, params)
        spilled += not (ints <= 6 and floats <= 8)
    assert 0 < spilled < len(sigs)


def test_float_results_are_rounded_once(random_library):
    # a float result must be the float32 value, not a double's bits reinterpreted
    lib, sigs, _ = random_library
    for i, (result, params) in enumerate(sigs):
        if result == "float" and all(TYPES[t][0] == "double" for t in params) and params:
            values = [0.1] * len(params)
            r1 = getattr(lib, f"f{i}")(*values)
            assert r1 == float(np.float32(r1))
            assert r1 == expected(i, result, params, values)


def test_extreme_integers_round_trip(random_library):
    # every integer parameter type at both ends of its range, through both engines
    lib, sigs, _ = random_library
    seen = set()
    for i, (result, params) in enumerate(sigs):
        if result not in ("long long", "unsigned long") or not params:
            continue
        ints = [t for t in params if TYPES[t][0] == "int"]
        if not ints or set(ints) <= seen:
            continue
        seen |= set(ints)
        name = f"f{i}"
        forced = lib._ns.function(name, lib._handle.symbol(name), lib._handle, allow_direct=False)
        for end in (0, 1):
            values = []
            for t in params:
                cls, size, signed = TYPES[t]
                if cls == "int":
                    lo = -(1 << (8 * size - 1)) if signed else 0
                    hi = (1 << (8 * size - 1)) - 1 if signed else (1 << (8 * size)) - 1
                    values.append(hi if end else lo)
                else:
                    values.append(random_value(random.Random(i), t))
            want = expected(i, result, params, values)
            assert getattr(lib, name)(*values) == forced(*values) == want
    assert len(seen) >= 6


_ENGINE_PROBE = """
import ndffi
from ndffi import _ndffi
m = ndffi.load("m").cdef("double ldexp(double x, int e);")
cb = ndffi.callback("int(int)", lambda x: x + 1)
print(_ndffi.FORCE_LIBFFI, m.ldexp.direct, cb.direct, m.ldexp(1.5, 3), cb(4))
"""


@pytest.mark.parametrize("value, forced", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_force_libffi_environment_variable(value, forced):
    # read when the extension loads: a fresh interpreter with the variable set
    env = {**os.environ, "NDFFI_FORCE_LIBFFI": value}
    out = subprocess.run(
        [sys.executable, "-c", _ENGINE_PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    direct = str(X86_64_SYSV and not forced)
    assert out == [str(forced), direct, direct, "12.0", "5"]
