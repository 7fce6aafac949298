"""The engines against each other on random signatures with structs and unions by value,
and callbacks of the same signatures called from C.

A seeded generator writes random record types (scalars of both classes, arrays, nested
structs, unions, odd sizes, records of one and two eightbytes of every class pair and
records over 16 bytes, which travel in memory) and random C functions over them and over
scalars (up to 14 parameters, so that both register sequences overflow onto the stack),
each returning a checksum of every scalar it was given, or a record filled from it.  Each
is called as ``lib.fN`` (ndffi's own engine on x86-64 System V) and as a Function forced
through libffi; both must give the value computed here in Python.  For each signature, C
also calls a callback of it with known arguments (``gN``) and checksums what it returns.
Random variadic calls (scalars and records through ``...``) are checked the same way.
"""

import random

import pytest

import ndffi
from conftest import ENGINE, X86_64_SYSV, compile_shared

SEED = 2718
N_RECORDS = 40
N_FUNCS = 120
CALLS_PER_FUNC = 3
MASK64 = (1 << 64) - 1

# scalar C type -> (size, signed, floating)
SCALARS = {
    "signed char": (1, True, False),
    "unsigned char": (1, False, False),
    "short": (2, True, False),
    "unsigned short": (2, False, False),
    "int": (4, True, False),
    "unsigned": (4, False, False),
    "long": (8, True, False),
    "unsigned long": (8, False, False),
    "float": (4, True, True),
    "double": (8, True, True),
}
RANDOM_SCALARS = list(SCALARS)  # the random records' members and signatures' scalars
SCALARS["long double"] = (16, True, True)  # in the packed records' library only


def wrap(value, size, signed):
    bits = 8 * size
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


# ---- types: a record is a list of members (name, kind, detail) ---------------------------
#   ("scalar", ctype), ("array", ctype, n), ("record", index), ("records", index, n)


class Rec:
    def __init__(self, index, union, members):
        self.index, self.union, self.members = index, union, members
        self.name = f"r{index}"
        self.attribute = ""  # e.g. " __attribute__((packed))"

    def leaves(self, records, path):
        """(C access path, Python access path, scalar type) of every scalar read; a union
        is read (and written) through its first member only."""
        out = []
        for name, kind, *detail in self.members[:1] if self.union else self.members:
            if kind == "scalar":
                out.append((f"{path}.{name}", [name], detail[0]))
            elif kind == "array":
                for k in range(detail[1]):
                    out.append((f"{path}.{name}[{k}]", [name, k], detail[0]))
            elif kind == "record":
                for c, py, t in records[detail[0]].leaves(records, f"{path}.{name}"):
                    out.append((c, [name] + py, t))
            else:  # an array of records
                for k in range(detail[1]):
                    for c, py, t in records[detail[0]].leaves(records, f"{path}.{name}[{k}]"):
                        out.append((c, [name, k] + py, t))
        return out

    def c_decl(self, records):
        lines = [f"typedef {'union' if self.union else 'struct'} {{"]
        for name, kind, *detail in self.members:
            if kind == "scalar":
                lines.append(f"  {detail[0]} {name};")
            elif kind == "array":
                lines.append(f"  {detail[0]} {name}[{detail[1]}];")
            else:
                n = f"[{detail[1]}]" if kind == "records" else ""
                lines.append(f"  {records[detail[0]].name} {name}{n};")
        lines.append(f"}}{self.attribute} {self.name};")
        return "\n".join(lines)


def random_records(rng):
    records = []
    scalars = RANDOM_SCALARS
    for i in range(N_RECORDS):
        shape = rng.random()
        members = []
        if shape < 0.15:  # all floating: SSE eightbytes
            for k in range(rng.randint(1, 4)):
                members.append((f"m{k}", "scalar", rng.choice(["float", "double"])))
        elif shape < 0.3:  # float next to an int in one eightbyte: INTEGER
            members = [("m0", "scalar", "float"), ("m1", "scalar", rng.choice(["int", "unsigned", "short"]))]
            if rng.random() < 0.5:
                members.append(("m2", "scalar", rng.choice(["double", "long", "float"])))
        elif shape < 0.4:  # odd sizes
            members = [("m0", "array", rng.choice(["unsigned char", "signed char"]), rng.randint(1, 15))]
        else:
            for k in range(rng.randint(1, 5)):
                r = rng.random()
                if r < 0.6 or not records:
                    members.append((f"m{k}", "scalar", rng.choice(scalars)))
                elif r < 0.8:
                    members.append((f"m{k}", "array", rng.choice(scalars), rng.randint(1, 3)))
                else:
                    sub = rng.randrange(len(records))
                    if records[sub].union and records[sub].members[0][1] == "record":
                        sub = 0
                    members.append((f"m{k}", "record", sub))
        union = shape > 0.88 and len(members) > 1
        records.append(Rec(i, union, members))
    return records


def random_type(rng, records):
    return rng.choice(records).name if rng.random() < 0.5 else rng.choice(RANDOM_SCALARS)


def random_signatures(rng, records):
    sigs = []
    for _ in range(N_FUNCS):
        n = rng.randint(0, 14) if rng.random() < 0.4 else rng.randint(0, 5)
        result = "void" if rng.random() < 0.1 else random_type(rng, records)
        sigs.append((result, [random_type(rng, records) for _ in range(n)]))
    # six {unsigned long; float}: what libffi 3.4.4 passes wrongly by itself
    sigs.append(("float", ["rif"] * 6))
    sigs.append(("rif", ["rif"] * 7))
    return sigs


# ---- the C side --------------------------------------------------------------------------


def c_term(t, expr):
    return f"(unsigned long long)(long long)((double){expr} * 8.0)" if SCALARS[t][2] else f"(unsigned long long){expr}"


def c_function(index, result, params, by_name, records):
    args = ", ".join(f"{t} a{i}" for i, t in enumerate(params)) or "void"
    lines = [f"{result} f{index}({args}) {{", f"  unsigned long long acc = {index}ULL;"]
    for i, t in enumerate(params):
        reads = by_name[t].leaves(records, f"a{i}") if t in by_name else [(f"a{i}", [], t)]
        for c, _, st in reads:
            lines.append(f"  acc = acc * 1000003ULL + {c_term(st, c)};")
    if result == "void":
        lines.append("  g_sink = acc;")
    elif result in by_name:
        lines.append(f"  {result} r;")
        lines.append("  memset(&r, 0, sizeof r);")
        for k, (c, _, st) in enumerate(by_name[result].leaves(records, "r")):
            lines.append(f"  {c} = {c_value(st, k)};")
        lines.append("  return r;")
    else:
        lines.append(f"  return {c_value(result, 0)};")
    lines.append("}")
    return "\n".join(lines)


def c_caller(index, result, params, by_name, records):
    """g<index>(fp): C calling the callback fp with known arguments (leaf k of them all
    holds c_value(type, k) with acc = index), returning the checksum of what fp returned."""
    fp = f"{result} (*fp)({', '.join(params) or 'void'})"
    lines = [f"unsigned long long g{index}({fp}) {{", f"  unsigned long long acc = {index}ULL, h = {index}ULL;"]
    k = 0
    for i, t in enumerate(params):
        if t in by_name:
            lines += [f"  {t} a{i};", f"  memset(&a{i}, 0, sizeof a{i});"]
            for c, _, st in by_name[t].leaves(records, f"a{i}"):
                lines.append(f"  {c} = {c_value(st, k)};")
                k += 1
        else:
            lines.append(f"  {t} a{i} = {c_value(t, k)};")
            k += 1
    call = f"fp({', '.join(f'a{i}' for i in range(len(params)))})"
    if result == "void":
        lines.append(f"  {call};")
    else:
        lines.append(f"  {result} r = {call};")
        reads = by_name[result].leaves(records, "r") if result in by_name else [("r", [], result)]
        for c, _, st in reads:
            lines.append(f"  h = h * 1000003ULL + {c_term(st, c)};")
    lines += ["  return h;", "}"]
    return "\n".join(lines)


def c_value(t, k):
    if SCALARS[t][2]:
        return f"({t})((double)((acc + {k}ULL) % 4096ULL) / 4.0)"
    return f"({t})(acc + {k}ULL)"


def py_value(t, acc, k):
    size, signed, floating = SCALARS[t]
    return ((acc + k) % 4096) / 4.0 if floating else wrap(acc + k, size, signed)


# ---- Python values -----------------------------------------------------------------------


def random_scalar(rng, t):
    size, signed, floating = SCALARS[t]
    if floating:
        return rng.choice([0.0, -0.5, 1.25, rng.randint(-4000, 4000) / 4])
    lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
    return rng.choice([lo, hi, 0, rng.randint(lo, hi)])


def random_init(rng, rec, by_name, records):
    """A tuple initializer for `rec` (a union: its first member)."""
    values = []
    for _, kind, *detail in rec.members[:1] if rec.union else rec.members:
        if kind == "scalar":
            values.append(random_scalar(rng, detail[0]))
        elif kind == "array":
            values.append([random_scalar(rng, detail[0]) for _ in range(detail[1])])
        elif kind == "record":
            values.append(random_init(rng, records[detail[0]], by_name, records))
        else:
            values.append([random_init(rng, records[detail[0]], by_name, records) for _ in range(detail[1])])
    return tuple(values)


def flat(init, rec, records):
    """The scalars of an initializer, in leaf order."""
    out = []
    for v, (_, kind, *detail) in zip(init, rec.members[:1] if rec.union else rec.members, strict=False):
        if kind == "scalar":
            out.append(v)
        elif kind == "array":
            out.extend(v)
        elif kind == "record":
            out.extend(flat(v, records[detail[0]], records))
        else:
            for e in v:
                out.extend(flat(e, records[detail[0]], records))
    return out


def checksum(index, params, values, by_name, records):
    acc = index
    for t, v in zip(params, values, strict=True):
        if t in by_name:
            rec = by_name[t]
            items = zip(flat(v, rec, records), [st for _, _, st in rec.leaves(records, "")], strict=True)
        else:
            items = [(v, t)]
        for x, st in items:
            term = int(float(x) * 8.0) if SCALARS[st][2] else x
            acc = (acc * 1000003 + (term & MASK64)) & MASK64
    return acc


def expected(index, result, params, values, by_name, records):
    """What f<index>(*values) returns: the checksum (in g_sink for void), or a record
    whose leaf k is py_value(type, checksum, k)."""
    acc = checksum(index, params, values, by_name, records)
    if result == "void":
        return acc
    if result in by_name:
        return [py_value(st, acc, k) for k, (_, _, st) in enumerate(by_name[result].leaves(records, ""))]
    return py_value(result, acc, 0)


def read_leaves(value, rec, records):
    out = []
    for _, py, _ in rec.leaves(records, ""):
        v = value
        for step in py:
            # a struct value's member by attribute; an element of an array of records is a
            # NumPy record, read by field name
            v = v[step] if isinstance(step, int) or not hasattr(v, step) else getattr(v, step)
        out.append(float(v) if isinstance(v, float) or type(v).__name__.startswith("float") else int(v))
    return out


# ---- the test ----------------------------------------------------------------------------


def build_library(directory, records, sigs, c_extra="", decl_extra="", **cdef_options):
    """The library of f<i> and g<i> for the signatures `sigs` over `records`, declared;
    (lib, its g_sink)."""
    by_name = {r.name: r for r in records}
    decls = "\n".join(r.c_decl(records) for r in records)
    src = ["#include <string.h>", "#include <stdarg.h>", "unsigned long long g_sink;", decls]
    src += [c_function(i, r, p, by_name, records) for i, (r, p) in enumerate(sigs)]
    src += [c_caller(i, r, p, by_name, records) for i, (r, p) in enumerate(sigs)]
    so_file = compile_shared(directory, "records", src + [c_extra])
    lib = ndffi.load(str(so_file))
    protos = [f"{r} f{i}({', '.join(p) or 'void'});" for i, (r, p) in enumerate(sigs)]
    protos += [f"unsigned long long g{i}({r} (*fp)({', '.join(p) or 'void'}));" for i, (r, p) in enumerate(sigs)]
    lib.cdef(decls + "\n" + "\n".join(protos) + "\n" + decl_extra, **cdef_options)
    import ctypes

    return lib, ctypes.c_ulonglong.in_dll(ctypes.CDLL(str(so_file)), "g_sink")


@pytest.fixture(scope="module")
def records_library(tmp_path_factory):
    rng = random.Random(SEED)
    records = random_records(rng)
    rif = Rec(len(records), False, [("m0", "scalar", "unsigned long"), ("m1", "scalar", "float")])
    rif.name = "rif"
    records.append(rif)
    # a union at offset 4, whose second eightbyte is SSE only where it lies (INTEGER, SSE),
    # and the same two levels down
    uff = Rec(len(records), True, [("m0", "array", "float", 2), ("m1", "scalar", "int")])
    uff.name = "uff"
    records.append(uff)
    ru = Rec(len(records), False, [("m0", "scalar", "unsigned"), ("m1", "record", uff.index)])
    ru.name = "ru"
    records.append(ru)
    rru = Rec(len(records), False, [("m0", "record", ru.index), ("m1", "scalar", "float")])
    rru.name = "rru"
    records.append(rru)
    sigs = random_signatures(rng, records[: uff.index])
    sigs += [("ru", ["ru", "int", "ru"]), ("void", ["double", "ru", "long", "rru"]), ("rru", ["rru"] * 7)]
    d = tmp_path_factory.mktemp("abi_records")
    lib, sink = build_library(d, records, sigs, VARIADIC_C, VARIADIC_DECL, release_gil=False)
    return lib, records, {r.name: r for r in records}, sigs, sink


def value(lib, t, init):
    """A struct value of type t from a tuple initializer."""
    return lib.typeof(t)(*init)


def forced(lib, name):
    f = lib._ns.function(name, lib._handle.symbol(name), lib._handle, allow_direct=False)
    assert f.direct is False
    return f


def test_records_by_value_match_libffi(records_library):
    lib, records, by_name, sigs, sink = records_library
    rng = random.Random(SEED + 1)
    failures = []
    for i, (result, params) in enumerate(sigs):
        name = f"f{i}"
        engines = {"engine": getattr(lib, name), "libffi": forced(lib, name)}
        for call in range(CALLS_PER_FUNC):
            values = [
                random_init(rng, by_name[t], by_name, records) if t in by_name else random_scalar(rng, t)
                for t in params
            ]
            want = expected(i, result, params, values, by_name, records)
            for label, f in engines.items():
                # the second call passes struct values (the record arguments' own copies)
                args = values
                if call == 1:
                    args = [value(lib, t, v) if t in by_name else v for t, v in zip(params, values, strict=True)]
                sink.value = 0
                r = f(*args)
                if result == "void":
                    assert r is None
                    got = sink.value
                elif result in by_name:
                    got = read_leaves(r, by_name[result], records)
                else:
                    got = r
                if got != want:
                    failures.append(f"{label}: {result} {name}({', '.join(params)}) with {values}: {got!r} != {want!r}")
    assert not failures, "\n".join(failures[:10])


@pytest.mark.direct
def test_records_use_the_engine(records_library):
    lib, _, _, sigs, _ = records_library
    for i, (result, params) in enumerate(sigs):
        assert getattr(lib, f"f{i}").direct, (result, params)


def test_six_integer_float_structs(records_library):
    # libffi 3.4.4 by itself overwrites the first SSE register with the sixth struct
    lib, _, _, sigs, _ = records_library
    i = sigs.index(("float", ["rif"] * 6))
    args = [(k + 1, float(k) + 0.5) for k in range(6)]
    want_acc = i
    for a, x in args:
        want_acc = (want_acc * 1000003 + a) & MASK64
        want_acc = (want_acc * 1000003 + int(x * 8)) & MASK64
    want = (want_acc % 4096) / 4.0
    assert getattr(lib, f"f{i}")(*args) == want
    assert forced(lib, f"f{i}")(*args) == want


def callback_round_trip(lib, index, result, params, by_name, records, rng):
    """C (g<index>) calls a callback of the signature with known arguments; a mismatch
    between what the callback saw and C wrote, or C read back and it returned, as text."""
    want_args, k = [], 0
    for t in params:
        reads = [st for _, _, st in by_name[t].leaves(records, "")] if t in by_name else [t]
        want_args.append([py_value(st, index, k + j) for j, st in enumerate(reads)])
        k += len(reads)
    ret = None
    if result in by_name:
        ret = random_init(rng, by_name[result], by_name, records)
    elif result != "void":
        ret = random_scalar(rng, result)
    got = []

    def handler(*args):
        got.append(
            [read_leaves(a, by_name[t], records) if t in by_name else [a] for t, a in zip(params, args, strict=True)]
        )
        return ret

    cb = lib.callback(f"{result}({', '.join(params) or 'void'})", handler)
    assert cb.direct == ENGINE  # entered by the engine on x86-64 System V, else by libffi
    h = getattr(lib, f"g{index}")(cb)
    want_h = index if result == "void" else checksum(index, [result], [ret], by_name, records)
    if got != [want_args] or h != want_h:
        return f"{result} g{index}({', '.join(params)}): args {got} != {[want_args]} or {h} != {want_h}"
    return None


def test_records_reach_callbacks_as_c_passes_them(records_library):
    # C (gN) calls a callback of each random signature with known arguments, in registers
    # and on the stack; the callback must see each as C wrote it, and C must read back
    # each scalar of what the callback returned.
    lib, records, by_name, sigs, _ = records_library
    rng = random.Random(SEED + 3)
    failures = [callback_round_trip(lib, i, r, p, by_name, records, rng) for i, (r, p) in enumerate(sigs)]
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures[:10])


# ---- records C passes in memory at 16 bytes or less, and over-aligned ones ----------------
# x86-64 System V passes a record of at most 16 bytes in memory when one of its scalars is
# out of its natural alignment (packed) or it is a union of long double with another type,
# and one aligned above 16 at its alignment on the stack.  ndffi's engine does so; libffi,
# which would use registers or its 16-aligned stack, refuses them.


def random_packed_records(rng):
    records = []
    small = ["signed char", "unsigned char", "short", "unsigned short", "int", "float", "double", "long"]
    for i in range(24):
        members = [("m0", "scalar", rng.choice(["signed char", "unsigned char", "short"]))]
        for k in range(1, rng.randint(2, 4)):
            r = rng.random()
            if r < 0.65 or not records:
                members.append((f"m{k}", "scalar", rng.choice(small)))
            elif r < 0.8:
                members.append((f"m{k}", "array", rng.choice(small[:5]), rng.randint(1, 2)))
            elif r < 0.9:
                members.append((f"m{k}", "record", rng.randrange(len(records))))
            else:  # elements after the first may be misaligned where the first is not
                members.append((f"m{k}", "records", rng.randrange(len(records)), 2))
        rec = Rec(i, False, members)
        rec.name = f"p{i}"
        # most packed; the others hold a packed member at whatever offset it falls
        rec.attribute = " __attribute__((packed))" if rng.random() < 0.75 or not records else ""
        records.append(rec)
    uld = Rec(len(records), True, [("m0", "scalar", "int"), ("m1", "scalar", "long double")])
    uld.name = "uld"
    records.append(uld)
    # in registers: GCC judges an array by its first element (m[0].b at 2), not by m[1].b at 5
    q3 = Rec(len(records), False, [("m0", "scalar", "signed char"), ("m1", "scalar", "unsigned short")])
    q3.name, q3.attribute = "q3", " __attribute__((packed))"
    records.append(q3)
    r8 = Rec(len(records), False, [("m0", "scalar", "unsigned char"), ("m1", "records", q3.index, 2)])
    r8.members.append(("m2", "scalar", "signed char"))
    r8.name, r8.attribute = "r8", " __attribute__((packed))"
    records.append(r8)
    # on the stack at its alignment
    a32 = Rec(len(records), False, [("m0", "scalar", "long"), ("m1", "scalar", "float")])
    a32.name, a32.attribute = "a32", " __attribute__((aligned(32)))"
    records.append(a32)
    return records


def refusal_expected(e):
    """Whether these records may be refused so: by libffi on x86-64 System V (where the
    engine passes them), and elsewhere as the platform's rules say (AArch64: one of 16
    bytes aligned to 16 that is no HFA, such as the union with long double)."""
    if X86_64_SYSV:
        return not ENGINE and "by value through libffi" in str(e)
    return "cannot be passed by value on this platform" in str(e)


@pytest.fixture(scope="module")
def packed_library(tmp_path_factory):
    rng = random.Random(SEED + 10)
    records = random_packed_records(rng)
    sigs = []
    for _ in range(60):
        n = rng.randint(1, 12)
        result = rng.choice([r.name for r in records] + ["long", "double", "long double", "void"])
        sigs.append(
            (result, [rng.choice([r.name for r in records] + ["int", "double", "long double"]) for _ in range(n)])
        )
    lib, sink = build_library(tmp_path_factory.mktemp("abi_packed"), records, sigs)
    return lib, records, {r.name: r for r in records}, sigs, sink


def test_records_in_memory_at_16_bytes_or_less(packed_library):
    lib, records, by_name, sigs, sink = packed_library
    rng = random.Random(SEED + 11)
    small = [r.name for r in records if lib.sizeof(r.name) <= 16]
    assert len(small) >= 10  # the generator makes mostly small records
    failures, refused = [], 0
    for i, (result, params) in enumerate(sigs):
        values = [
            random_init(rng, by_name[t], by_name, records) if t in by_name else random_scalar(rng, t) for t in params
        ]
        want = expected(i, result, params, values, by_name, records)
        sig = f"{result} f{i}({', '.join(params)})"
        try:
            sink.value = 0
            r = getattr(lib, f"f{i}")(*values)
        except TypeError as e:
            # refused only by a call through libffi, for a record C passes in memory
            if not refusal_expected(e):
                failures.append(f"{sig}: {e}")
            refused += 1
            continue
        got = sink.value if result == "void" else read_leaves(r, by_name[result], records) if result in by_name else r
        if got != want:
            failures.append(f"{sig} with {values}: {got!r} != {want!r}")
    assert not failures, "\n".join(failures[:10])
    assert refused == 0 if ENGINE else refused > 0 or not X86_64_SYSV


def test_records_in_memory_reach_callbacks(packed_library):
    lib, records, by_name, sigs, _ = packed_library
    rng = random.Random(SEED + 12)
    failures = []
    for i, (result, params) in enumerate(sigs):
        try:
            failures.append(callback_round_trip(lib, i, result, params, by_name, records, rng))
        except TypeError as e:  # refused only where libffi's closures would serve it
            if not refusal_expected(e):
                failures.append(f"{result}({', '.join(params)}): {e}")
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures[:10])


# ---- variadic ----------------------------------------------------------------------------

VARIADIC_DECL = """
typedef struct { long a; double b; } vpair;
typedef struct { double x, y; } vvec;
typedef struct { long a, b, c; } vbig;
typedef struct { float f; int i; } vfi;
unsigned long long vmix(const char *fmt, ...);
vbig vmix_big(const char *fmt, ...);
"""

VARIADIC_C = (
    VARIADIC_DECL.replace("unsigned long long vmix(const char *fmt, ...);", "").replace(
        "vbig vmix_big(const char *fmt, ...);", ""
    )
    + r"""
static unsigned long long vacc(const char *fmt, va_list ap) {
  unsigned long long acc = 7;
#define T(x) acc = acc * 1000003ULL + (unsigned long long)(x)
#define F(x) T((long long)((x) * 8.0))
  for (const char *p = fmt; *p; p++) {
    switch (*p) {
      case 'i': T(va_arg(ap, int)); break;
      case 'l': T(va_arg(ap, long)); break;
      case 'd': F(va_arg(ap, double)); break;
      case 'p': { vpair v = va_arg(ap, vpair); T(v.a); F(v.b); break; }
      case 'v': { vvec v = va_arg(ap, vvec); F(v.x); F(v.y); break; }
      case 'b': { vbig v = va_arg(ap, vbig); T(v.a); T(v.b); T(v.c); break; }
      case 'f': { vfi v = va_arg(ap, vfi); F(v.f); T(v.i); break; }
    }
  }
  return acc;
}
unsigned long long vmix(const char *fmt, ...) {
  va_list ap; va_start(ap, fmt);
  unsigned long long r = vacc(fmt, ap);
  va_end(ap);
  return r;
}
vbig vmix_big(const char *fmt, ...) {
  va_list ap; va_start(ap, fmt);
  unsigned long long r = vacc(fmt, ap);
  va_end(ap);
  vbig b = {(long)r, (long)(r >> 1), 3};
  return b;
}
"""
)

VARIADIC_KINDS = "ildpvbf"


def variadic_value(rng, lib, k):
    """A value for format letter k and the terms vacc() adds for it (("d", x) for doubles)."""
    if k == "i":
        v = rng.randint(-(1 << 31), (1 << 31) - 1)
        return v, [v]
    if k == "l":
        v = rng.choice([rng.randint(-(1 << 63), -(1 << 31) - 1), rng.randint(1 << 31, (1 << 63) - 1)])
        return v, [v]
    if k == "d":
        v = rng.randint(-4000, 4000) / 4
        return v, [("d", v)]
    if k == "p":
        a, b = rng.randint(-1000, 1000), rng.randint(-400, 400) / 4
        return value(lib, "vpair", (a, b)), [a, ("d", b)]
    if k == "v":
        x, y = rng.randint(-400, 400) / 4, rng.randint(-400, 400) / 4
        return value(lib, "vvec", (x, y)), [("d", x), ("d", y)]
    if k == "b":
        a, b, c = (rng.randint(-1000, 1000) for _ in range(3))
        return value(lib, "vbig", (a, b, c)), [a, b, c]
    x, i = rng.randint(-400, 400) / 4, rng.randint(-1000, 1000)
    return value(lib, "vfi", (x, i)), [("d", x), i]


def variadic_checksum(terms):
    acc = 7
    for t in terms:
        x = int(t[1] * 8.0) if isinstance(t, tuple) else t
        acc = (acc * 1000003 + (x & MASK64)) & MASK64
    return acc


def test_variadic_records_and_spills_match_libffi(records_library):
    lib = records_library[0]
    rng = random.Random(SEED + 2)
    engines = [lib.vmix, forced(lib, "vmix")]
    big = [lib.vmix_big, forced(lib, "vmix_big")]
    for _ in range(60):
        fmt = "".join(rng.choice(VARIADIC_KINDS) for _ in range(rng.randint(0, 16)))
        args, terms = [], []
        for k in fmt:
            v, t = variadic_value(rng, lib, k)
            args.append(v)
            terms += t
        want = variadic_checksum(terms)
        for f in engines:
            assert f(fmt.encode(), *args) == want, (fmt, args)
        for f in big:
            r = f(fmt.encode(), *args)
            assert (r.a, r.b, r.c) == (wrap(want, 8, True), wrap(want >> 1, 8, True), 3), fmt


@pytest.mark.skipif(not X86_64_SYSV, reason="the engine is x86-64 System V's")
@pytest.mark.direct
def test_struct_functions_report_the_engine(records_library):
    lib = records_library[0]
    assert lib.f0.direct and "called directly" in lib.f0.__doc__
