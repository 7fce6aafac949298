"""atheris over ndffi's public Python entry points: cdef, load, new and cast.

Each input drives a few operations chosen by a FuzzedDataProvider.  Every operation must
end in a result or one of the documented exceptions (EXPECTED); any other exception, a
crash or a sanitizer report is a finding.  Raw pointers from ``cast`` are never
dereferenced: reading through an arbitrary address is unsafe by nature.  ``load`` only
sees paths inside a private temporary directory (files of random bytes) and names that
cannot exist, so no real library is ever opened.

    python fuzz/atheris_entry.py -runs=1000000 [-atheris_runs=N] [corpus_dir]
"""

import os
import sys
import tempfile

import atheris

# The entry points are C++: coverage feedback comes from this harness's own code
# (instrumented below); instrumenting ndffi's Python modules and all they import costs
# a slow start for little gain.
import ndffi

EXPECTED = (ndffi.CDefError, TypeError, ValueError, OverflowError, IndexError, OSError, KeyError)

SCALARS = [
    "char",
    "signed char",
    "unsigned char",
    "short",
    "unsigned short",
    "int",
    "unsigned int",
    "long",
    "unsigned long",
    "long long",
    "unsigned long long",
    "float",
    "double",
    "long double",
    "_Bool",
    "bool",
    "size_t",
    "ssize_t",
    "int8_t",
    "uint8_t",
    "int16_t",
    "uint16_t",
    "int32_t",
    "uint32_t",
    "int64_t",
    "uint64_t",
    "intptr_t",
    "uintptr_t",
    "void",
    "wchar_t",
]
TYPE_FORMS = ["{}", "{} *", "const {} *", "{} **", "{}[{n}]", "{} *[{n}]", "{}[{n}][{m}]", "{} (*)(int)", "{}(*)[{n}]"]
DECLARED = [
    "struct S { int a; char b; double c; };",
    "typedef struct { char desc[12]; int t; } W;",
    "union U { int i; float f; char c[3]; };",
    "struct B { unsigned a : 3; int b : 5; long c; };",
    "enum E { E0, E1 = 5, E2 };",
    "typedef int (*cb_t)(const void *, const void *);",
]
DECLARED_TYPES = [
    "struct S",
    "struct S *",
    "W",
    "W[3]",
    "union U",
    "union U *",
    "struct B",
    "enum E",
    "enum E *",
    "cb_t",
]

TMP = tempfile.mkdtemp(prefix="ndffi-atheris-")


def type_name(fdp):
    kind = fdp.ConsumeIntInRange(0, 9)
    if kind == 0:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40))
    if kind <= 2:
        return fdp.PickValueInList(DECLARED_TYPES)
    form = fdp.PickValueInList(TYPE_FORMS)
    return form.format(fdp.PickValueInList(SCALARS), n=fdp.ConsumeIntInRange(0, 64), m=fdp.ConsumeIntInRange(0, 8))


def value(fdp, depth=0):
    kind = fdp.ConsumeIntInRange(0, 11)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 20))
    if kind == 2:
        return fdp.ConsumeIntInRange(-300, 300)
    if kind == 3:
        return fdp.ConsumeRegularFloat() if fdp.ConsumeBool() else fdp.ConsumeFloat()
    if kind == 4:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 80))
    if kind == 5:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40))
    if kind == 6 and depth < 2:
        return [value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 8))]
    if kind == 7 and depth < 2:
        return tuple(value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4)))
    if kind == 8 and depth < 2:
        keys = ["a", "b", "c", "i", "f", "desc", "t", fdp.ConsumeUnicodeNoSurrogates(4)]
        return {fdp.PickValueInList(keys): value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))}
    if kind == 9:
        return fdp.ConsumeBool()
    if kind == 10:
        return bytearray(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 32)))
    return fdp.ConsumeProbability()


def namespace(fdp):
    ns = ndffi.Namespace()
    ns.cdef("\n".join(DECLARED))
    return ns


def op_cdef(fdp):
    ns = ndffi.Namespace()
    if fdp.ConsumeBool():
        text = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 400))
        text = text.decode("latin-1") if fdp.ConsumeBool() else text
    else:
        text = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 400))
    ns.cdef(text)
    for name in ns.names():
        ns.decl(name)
    for name in ns.typedef_names():
        t = ns.type(name)
        t.size  # noqa: B018


def op_new(fdp, ns):
    t = type_name(fdp)
    p = ns.new(t, value(fdp)) if fdp.ConsumeBool() else ns.new(t)
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        i = fdp.ConsumeIntInRange(-4, 70) if fdp.ConsumeBool() else fdp.ConsumeInt(9)
        if fdp.ConsumeBool():
            p[i] = value(fdp)
        else:
            p[i]
    repr(p)


def op_cast(fdp, ns):
    t = type_name(fdp)
    v = value(fdp)
    if fdp.ConsumeIntInRange(0, 3) == 0:
        v = ns.new(type_name(fdp))
    r = ns.cast(t, v)
    repr(r)
    if fdp.ConsumeBool():
        # a value cast again: scalars round-trip through C's conversions
        repr(ns.cast(type_name(fdp), r))


def op_load(fdp):
    # a bare name goes through ctypes.util.find_library, which runs ldconfig (~20 ms):
    # rare, so that the fuzzer keeps its pace
    if fdp.ConsumeIntInRange(0, 255) != 0:
        path = os.path.join(TMP, "libfuzz%d.so" % fdp.ConsumeIntInRange(0, 3))
        with open(path, "wb") as f:
            f.write(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 256)))
        args = [path] if fdp.ConsumeBool() else [os.path.basename(path)[3:-3], TMP]
    else:
        # a name no system library has, with characters the loader must cope with
        junk = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 30)).replace("\0", "")
        args = ["ndffi_fuzz_nonexistent_" + junk.replace("/", "_")]
        if fdp.ConsumeBool():
            args.append(os.path.join(TMP, "missing"))
    lib = ndffi.load(*args)  # random bytes never make a loadable library
    raise AssertionError(f"loaded {args!r}: {lib!r}")


_NS = None


def TestOneInput(data):
    global _NS
    if _NS is None:
        _NS = namespace(None)
    fdp = atheris.FuzzedDataProvider(data)
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        op = fdp.ConsumeIntInRange(0, 3)
        try:
            if op == 0:
                op_cdef(fdp)
            elif op == 1:
                op_new(fdp, _NS if fdp.ConsumeBool() else ndffi.values.builtin_types)
            elif op == 2:
                op_cast(fdp, _NS if fdp.ConsumeBool() else ndffi.values.builtin_types)
            else:
                op_load(fdp)
        except EXPECTED:
            pass


for _f in (type_name, value, op_cdef, op_new, op_cast, op_load):
    globals()[_f.__name__] = atheris.instrument_func(_f)


def main(argv):
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
