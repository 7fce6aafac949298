"""Every ABI's type model and record layout against clang's ``-target``, without running
code for it.

For each ABI ndffi knows (``ndffi.abis()``: Linux, macOS and Windows on x86-64 and
AArch64, MinGW, i686 and armv7 Linux), libclang parses the same declarations for that
ABI's target triple (``-ffreestanding -nostdinc``: no target headers needed) and reports
``sizeof``, ``_Alignof`` and ``offsetof`` of every record and member, and the bit offset
and width of every bit-field; ``ndffi.layout(..., abi=...)`` must give the same numbers.

- The scalar facts: the size, alignment and signedness of every scalar type, what the
  standard typedefs name, ``max_align_t``, ``__int128`` where it exists, the alignment
  of a bare ``__attribute__((aligned))``.
- Random declarations from a seeded generator: scalars of every kind (``_Complex`` and
  ``__int128`` included), arrays, nested
  and anonymous structs and unions, bit-fields (zero-width and unnamed ones, ones that
  straddle a unit, of enum types), flexible array members, ``packed`` and
  ``aligned(n)`` on records and members, ``_Alignas``, ``__declspec(align(n))`` on
  Windows, ``#pragma pack`` around records and between members, enums of every size.
  Each batch is one libclang translation unit.  200 declarations per ABI in the normal
  run, 5,000 under ``NDFFI_STRESS=1`` (``make stress``).
"""

import os
import random

import pytest

import ndffi

cindex = pytest.importorskip("clang.cindex")

ABIS = list(ndffi.abis())
BATCH = 50
NORMAL = 200
STRESS = 5000

# What the ABI's headers would define, from clang's own predefined macros; ndffi has
# these names built in.
CLANG_PRELUDE = """\
typedef __SIZE_TYPE__ size_t;
typedef __WCHAR_TYPE__ wchar_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT64_TYPE__ uint64_t;
"""
PRELUDE = """\
enum e_small { ES0, ES1, ES2 };
enum e_neg { EN0 = -1, EN1 = 1 };
enum e_big { EB0 = 0x100000000 };
enum __attribute__((packed)) e_packed { EP0, EP1 = 200 };
enum e_pneg { EPN0 = -300, EPN1 } __attribute__((packed));
typedef long long ll_lowered __attribute__((aligned(4)));
typedef double d_lowered __attribute__((aligned(2)));
typedef short s_lowered __attribute__((aligned(1)));
typedef long long ll_raised __attribute__((aligned(8)));
typedef int al8 __attribute__((aligned(8)));
"""
# Typedefs whose aligned(n) changes the alignment (lowers it, or raises long long's where
# it is 4), and whose arrays stay valid: the size a multiple of the new alignment.
ALIGNED_TYPEDEFS = ["ll_lowered", "d_lowered", "s_lowered", "ll_raised"]
ENUMS = ["enum e_small", "enum e_neg", "enum e_big", "enum e_packed", "enum e_pneg"]

_index = None


def clang_parse(text, abi):
    global _index
    if _index is None:
        _index = cindex.Index.create()
    args = ["-target", ndffi.abis()[abi], "-ffreestanding", "-nostdinc", "-std=gnu11", "-w"]
    tu = _index.parse("decls.c", args=args, unsaved_files=[("decls.c", text)])
    errors = [
        f"{d.location.line}:{d.location.column}: {d.spelling}"
        for d in tu.diagnostics
        if d.severity >= cindex.Diagnostic.Error
    ]
    return tu, errors


@pytest.fixture(scope="module", params=ABIS)
def abi(request):
    return request.param


# ---------------------------------------------------------------------------------------
# The scalar facts

SCALARS = [
    "_Bool",
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
    "void *",
    "__int128",
    "unsigned __int128",
]
TYPEDEFS = {
    "wchar_t": "__WCHAR_TYPE__",
    "size_t": "__SIZE_TYPE__",
    "ptrdiff_t": "__PTRDIFF_TYPE__",
    "intptr_t": "__INTPTR_TYPE__",
    "uintptr_t": "__UINTPTR_TYPE__",
    "int64_t": "__INT64_TYPE__",
    "uint64_t": "__UINT64_TYPE__",
    "intmax_t": "__INTMAX_TYPE__",
    "uintmax_t": "__UINTMAX_TYPE__",
}
SIGNED_KINDS = {"CHAR_S", "SCHAR", "SHORT", "INT", "LONG", "LONGLONG", "INT128", "FLOAT", "DOUBLE", "LONGDOUBLE"}
# max_align_t as clang's <stddef.h> (__stddef_max_align_t.h) defines it.
MAX_ALIGN_T = """\
#if defined(_MSC_VER)
typedef double max_align_t;
#elif defined(__APPLE__)
typedef long double max_align_t;
#else
typedef struct {
  long long __clang_max_align_nonce1 __attribute__((__aligned__(__alignof__(long long))));
  long double __clang_max_align_nonce2 __attribute__((__aligned__(__alignof__(long double))));
} max_align_t;
#endif
"""


def clang_scalars(abi):
    """{name: (size, align, signed, canonical spelling)} as clang has them on `abi`."""
    names = [s for s in SCALARS if "__int128" not in s]
    int128 = not clang_parse("typedef __int128 t;", abi)[1]
    if int128:
        names += ["__int128", "unsigned __int128"]
    text = "".join(f"typedef {s} t{i};\n" for i, s in enumerate(names))
    text += "".join(f"typedef {m} {n};\n" for n, m in TYPEDEFS.items()) + MAX_ALIGN_T
    text += "struct bare { char c __attribute__((aligned)); };\n"
    tu, errors = clang_parse(text, abi)
    assert not errors, errors
    out, spelled = {}, dict(enumerate(names))
    for c in tu.cursor.get_children():
        if c.kind == cindex.CursorKind.TYPEDEF_DECL:
            name = spelled[int(c.spelling[1:])] if c.spelling[0] == "t" and c.spelling[1:].isdigit() else c.spelling
            canon = c.type.get_canonical()
            out[name] = (c.type.get_size(), c.type.get_align(), canon.kind.name in SIGNED_KINDS, canon.spelling)
        elif c.kind == cindex.CursorKind.STRUCT_DECL and c.spelling == "bare":
            out["aligned"] = c.type.get_align()
    return out


def test_scalar_facts_match_clang(abi):
    want = clang_scalars(abi)
    report = ndffi.layout("struct bare { char c __attribute__((aligned)); };", abi=abi)
    got = report["scalars"]
    assert report["abi"] == abi
    diffs = []
    for name in SCALARS:
        if name not in want:
            if name in got:
                diffs.append(f"{name}: ndffi has it, clang has no such type on {abi}")
            continue
        size, align, signed, _ = want[name]
        entry = got.get(name)
        if entry is None or (entry["size"], entry["align"], entry["signed"]) != (size, align, signed):
            diffs.append(f"{name}: clang size {size} align {align} signed {signed}, ndffi {entry}")
    for name in TYPEDEFS:
        size, align, signed, spelling = want[name]
        entry = got[name]
        if (entry["size"], entry["align"], entry["signed"], entry["type"]) != (size, align, signed, spelling):
            diffs.append(f"{name}: clang {spelling} ({size}/{align}), ndffi {entry}")
    size, align = want["max_align_t"][:2]
    if (got["max_align_t"]["size"], got["max_align_t"]["align"]) != (size, align):
        diffs.append(f"max_align_t: clang {size}/{align}, ndffi {got['max_align_t']}")
    if report["types"]["struct bare"]["align"] != want["aligned"]:
        diffs.append(
            f"aligned without a number: clang {want['aligned']}, ndffi {report['types']['struct bare']['align']}"
        )
    assert not diffs, f"{abi} ({ndffi.abis()[abi]}):\n" + "\n".join(diffs)


def test_scalar_facts_of_the_brief():
    """The facts each ABI is known for, spelled out (the test above proves them all)."""
    s = {abi: ndffi.layout("", abi=abi)["scalars"] for abi in ABIS}
    assert not s["aarch64-linux"]["char"]["signed"] and not s["armv7-linux-gnueabihf"]["char"]["signed"]
    assert s["aarch64-darwin"]["char"]["signed"] and s["x86_64-linux"]["char"]["signed"]
    assert [s[a]["long"]["size"] for a in ("x86_64-windows", "x86_64-mingw", "i686-linux")] == [4, 4, 4]
    assert s["x86_64-linux"]["long double"] == {
        "size": 16,
        "align": 16,
        "signed": True,
        "format": "x87 80-bit extended, in 16 bytes",
    }
    assert (s["i686-linux"]["long double"]["size"], s["i686-linux"]["long double"]["align"]) == (12, 4)
    assert s["aarch64-linux"]["long double"]["format"] == "IEEE binary128"
    for a in ("aarch64-darwin", "x86_64-windows", "armv7-linux-gnueabihf"):
        assert s[a]["long double"]["size"] == 8
    assert s["x86_64-windows"]["wchar_t"]["size"] == 2 and s["x86_64-linux"]["wchar_t"]["size"] == 4
    assert s["i686-linux"]["long long"]["align"] == 4 and s["armv7-linux-gnueabihf"]["long long"]["align"] == 8
    assert "__int128" not in s["i686-linux"] and s["aarch64-linux"]["__int128"]["align"] == 16
    assert ndffi.host_abi() in ABIS or ndffi.host_abi() == "host"
    assert ndffi.layout("")["abi"] == ndffi.host_abi()


# ---------------------------------------------------------------------------------------
# Random declarations


class Gen:
    """Random C declarations for one ABI, valid for clang (sizes from ndffi's scalar
    facts, which the test above checks, pick the bit-field widths and _Alignas values
    the compiler accepts)."""

    def __init__(self, rng, abi):
        self.r = rng
        self.declspec = "windows" in abi or "mingw" in abi  # __declspec(align(n)) parses there
        facts = ndffi.layout(PRELUDE, abi=abi)
        self.scalars = facts["scalars"]
        self.enum_bits = {k: 8 * v["size"] for k, v in facts["types"].items() if k.startswith("enum")}
        self.int128 = "__int128" in self.scalars
        ints = [
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
        ]
        if self.int128:
            ints += ["__int128", "unsigned __int128"]
        self.bit_types = {t: 8 * self.scalars[t]["size"] for t in ints}
        self.bit_types.update({"_Bool": 1, "signed int": 32, "unsigned": 32})
        self.bit_types.update(self.enum_bits)
        self.types = (
            ints
            + [
                "_Bool",
                "float",
                "double",
                "long double",
                "void *",
                "const char *",
                "fnptr",
                "size_t",
                "wchar_t",
                "int64_t",
                "uint64_t",
                "float _Complex",
                "double _Complex",
                "long double _Complex",
            ]
            + ENUMS
            + ALIGNED_TYPEDEFS
        )

    def natural(self, t):
        """An alignment at least that of type `t` (for _Alignas values clang accepts)."""
        if t in ("fnptr", "const char *"):
            t = "void *"
        t = t.replace(" _Complex", "")
        if t in self.scalars:
            return self.scalars[t]["align"]
        return self.enum_bits.get(t, 64) // 8

    def chance(self, n):
        return self.r.randrange(n) == 0

    def dims(self, p=4):
        if not self.chance(p):
            return ""
        # zero-length arrays (a GNU extension) but where an array of a record of no bytes is
        # an error (Microsoft's records have 4 bytes then, fewer than their alignment)
        zero = self.chance(8) and not self.declspec
        return "".join(
            f"[{self.r.choice([0, 1, 1, 2, 3] if zero else [1, 1, 2, 3])}]" for _ in range(self.r.randint(1, 3))
        )

    def aligned(self):
        return "aligned" if self.chance(6) else f"aligned({self.r.choice([1, 2, 4, 8, 16, 32])})"

    def member_attrs(self, natural=None, bitfield=False):
        prefix, suffix = "", []
        if self.chance(9):
            suffix.append("packed")
        if self.chance(7):
            if not bitfield and self.chance(2):
                prefix += f"__attribute__(({self.aligned()})) "
            else:
                suffix.append(self.aligned())
        if self.declspec and not bitfield and self.chance(12):
            prefix += f"__declspec(align({self.r.choice([1, 2, 4, 8, 16])})) "
        if natural and not bitfield and self.chance(10):  # never below the type's alignment
            types = [t for t in ("double", "long double", "long long") if self.natural(t) >= natural]
            prefix += (
                "_Alignas("
                + (
                    self.r.choice(types)
                    if types and self.chance(3)
                    else str(self.r.choice([n for n in (1, 2, 4, 8, 16, 32, 64) if n >= natural]))
                )
                + ") "
            )  # noqa: E501
        return prefix, (f" __attribute__(({', '.join(suffix)}))" if suffix else "")

    def record_attrs(self):
        head = " __attribute__((packed))" if self.chance(10) else ""
        tail = " __attribute__((packed))" if not head and self.chance(9) else ""
        if self.chance(7):
            if self.chance(3):
                head += f" __attribute__(({self.aligned()}))"
            else:
                tail += f" __attribute__(({self.aligned()}))"
        if self.declspec and self.chance(12):
            head += f" __declspec(align({self.r.choice([1, 2, 4, 8, 16, 32])}))"
        return head, tail

    def member(self, names, depth, helpers, tags):
        k = self.r.randrange(12)
        if k < 4:  # a scalar, maybe an array
            t = self.r.choice(self.types)
            pre, post = self.member_attrs(self.natural(t))
            name = names()
            d = self.dims()
            decl = f"int (*{name}{d})(int)" if t == "fnptr" else f"{t} {name}{d}"
            return f"{pre}{decl}{post};"
        if k < 8:  # a bit-field: named, unnamed, zero-width; straddling by chance
            t = self.r.choice(sorted(self.bit_types))
            bits = self.bit_types[t]
            pre, post = self.member_attrs(bitfield=True)
            if self.chance(5):
                return f"{t} : {self.r.choice([0, 0, self.r.randint(1, bits)])}{post};"
            return f"{t} {names()} : {self.r.randint(1, bits)}{post};"
        if k == 8:  # several declarators of one integer type
            t = self.r.choice(["char", "unsigned char", "short", "int", "unsigned int", "long", "long long"])
            bits = self.bit_types[t]
            parts = [
                f"{names()} : {self.r.randint(1, bits)}" if self.chance(2) else names() + self.dims(3)
                for _ in range(self.r.randint(2, 4))
            ]
            return f"{t} {', '.join(parts)};"
        if k == 9 and helpers:  # a record defined before
            pre, post = self.member_attrs()
            return f"{pre}{self.r.choice(helpers)} {names()}{self.dims()}{post};"
        if depth > 0:
            if k == 10:  # an anonymous member: its members are the enclosing record's
                return self.record(names, depth - 1, helpers, tags, anonymous=True) + ";"
            sub = self.record(names, depth - 1, helpers, tags, tag=self.chance(3))
            pre, post = self.member_attrs()
            return f"{pre}{sub} {names()}{self.dims()}{post};"
        return f"int {names()};"

    def record(self, names, depth, helpers, tags, tag=False, top=False, anonymous=False):
        """A struct or union specifier: `tag` names it; an `anonymous` member's has a
        named member; the `top` one may end in a flexible array member."""
        kw = "union" if self.chance(4) else "struct"
        head, tail = self.record_attrs()
        members = [self.member(names, depth, helpers, tags) for _ in range(self.r.randint(1, 8 if top else 4))]
        if anonymous:
            members.append(f"int {names()};")
        elif self.chance(25):
            members = []  # an empty record (a GNU extension; 4 bytes by Microsoft's rules)
        if top and kw == "struct" and self.chance(8):
            t = self.r.choice([t for t in self.types if t != "fnptr"])
            members += [f"char {names()};", f"{t} {names()}[];"]  # a flexible array member
        if len(members) > 1 and self.chance(8):  # a #pragma pack between members
            i = self.r.randrange(len(members))
            members.insert(i, f"\n#pragma pack(push, {self.r.choice([1, 2, 4, 8])})\n")
            members.insert(self.r.randint(i + 1, len(members)), "\n#pragma pack(pop)\n")
        name = f" {tags()}" if tag else ""
        return f"{kw}{head}{name} {{ {' '.join(members)} }}{tail}"

    def pragma(self, text):
        if not self.chance(3):
            return text
        n = self.r.choice([1, 2, 4, 8, 16])
        style = self.r.randrange(3)
        if style == 0:
            return f"#pragma pack(push, {n})\n{text}\n#pragma pack(pop)\n"
        if style == 1:
            return f"#pragma pack(push)\n#pragma pack({n})\n{text}\n#pragma pack(pop)\n"
        return f"#pragma pack({n})\n{text}\n#pragma pack()\n"

    def enum(self, i):
        """An enum whose values need 1 to 8 bytes, signed or not, maybe packed."""
        v = self.r.choice(
            [0, -5, 200, 1 << 8, 1 << 16, -(1 << 15), (1 << 31) - 1, 1 << 31, -(1 << 31) - 1, 1 << 40, -(1 << 40)]
        )
        values = [f"E{i}_0 = {v}"]
        for j in range(1, self.r.randint(1, 4)):
            step = self.r.choice([1, 100, -300, 1 << 20])
            values.append(f"E{i}_{j} = {v + step}" if step != 1 else f"E{i}_{j}")
            v += step
        packed = " __attribute__((packed))" if self.chance(3) else ""
        return f"enum{packed} ec{i} {{ {', '.join(values)} }};\n"

    def case(self, i):
        """C text of declaration `i` (its names end in `i`)."""
        counters = {"m": 0, "n": 0}

        def names():
            counters["m"] += 1
            return f"m{counters['m'] - 1}"

        def tags():
            counters["n"] += 1
            return f"n{i}_{counters['n'] - 1}"

        text, helpers = "", []
        if self.chance(4):
            text += self.enum(i)
            helpers.append(f"enum ec{i}")
        for j in range(self.r.randint(0, 2)):
            rec = self.record(names, 1, [], tags)
            text += self.pragma(rec.replace(" {", f" h{i}_{j} {{", 1) + ";") + "\n"
            helpers.append(f"{rec.split()[0]} h{i}_{j}")
        main = self.record(names, 2, helpers, tags, top=True)
        if self.chance(5):
            text += self.pragma(f"typedef {main} t{i};") + "\n"
        else:
            text += self.pragma(main.replace(" {", f" s{i} {{", 1) + ";") + "\n"
        return text


def clang_records(tu):
    """{key: cursor} of every record and enum definition, and of the typedefs of them."""
    out = {}

    def walk(c):
        for ch in c.get_children():
            kind = ch.kind
            if (
                kind in (cindex.CursorKind.STRUCT_DECL, cindex.CursorKind.UNION_DECL, cindex.CursorKind.ENUM_DECL)
                and ch.is_definition()
            ):
                # "struct s0"; an untagged one is spelled after its typedef, or as unnamed
                spelled = ch.type.spelling
                if spelled.split()[0] in ("struct", "union", "enum") and "(" not in spelled:
                    out[spelled] = ch
                walk(ch)
            elif kind == cindex.CursorKind.TYPEDEF_DECL:
                decl = ch.underlying_typedef_type.get_declaration()
                # a typedef of a scalar is compared as itself: its size and alignment
                out[ch.spelling] = ch if decl.kind == cindex.CursorKind.NO_DECL_FOUND else decl
            elif kind == cindex.CursorKind.FIELD_DECL:
                walk(ch)

    walk(tu.cursor)
    return out


def clang_fields(rec):
    """[(name, field cursor)] of a record, the members of anonymous ones flattened."""
    out = []
    for f in rec.type.get_fields():
        if f.is_bitfield() and not f.spelling:
            continue
        if not f.spelling or "(" in f.spelling:
            out += clang_fields(f.type.get_declaration())
        else:
            out.append((f.spelling, f))
    return out


def compare(key, entry, cursor, report, diffs):
    t = cursor.type
    want = (t.get_size(), t.get_align())
    if (entry["size"], entry["align"]) != want:
        diffs.append(f"{key}: clang size {want[0]} align {want[1]}, ndffi {entry['size']} {entry['align']}")
    if cursor.kind == cindex.CursorKind.TYPEDEF_DECL:
        return
    if cursor.kind == cindex.CursorKind.ENUM_DECL:
        if entry["underlying"] != cursor.enum_type.spelling:
            diffs.append(f"{key}: clang's type {cursor.enum_type.spelling}, ndffi's {entry['underlying']}")
        return
    fields = clang_fields(cursor)
    got_names = [f["name"] for f in entry["fields"]]
    if got_names != [n for n, _ in fields]:
        diffs.append(f"{key}: clang's members {[n for n, _ in fields]}, ndffi's {got_names}")
        return
    for f, (name, c) in zip(entry["fields"], fields, strict=True):
        bits = t.get_offset(name)
        if c.is_bitfield():
            got = (f.get("bit_offset"), f.get("bit_width"))
            if got != (bits, c.get_bitfield_width()) or f["offset"] != bits // 8:
                diffs.append(f"{key}.{name}: clang bit {bits} width {c.get_bitfield_width()}, ndffi {got}")
        elif (f["offset"] * 8, "bit_offset" in f) != (bits, False):
            diffs.append(f"{key}.{name}: clang offset {bits / 8}, ndffi {f['offset']}")
        sub = report.get(f["type"].split("[")[0])
        if sub is not None and f["type"].startswith(key + "."):  # a member of an unnamed record type
            e = c.type
            while e.kind in (cindex.TypeKind.CONSTANTARRAY, cindex.TypeKind.INCOMPLETEARRAY):
                e = e.element_type
            compare(f["type"].split("[")[0], sub, e.get_declaration(), report, diffs)


def check_batch(abi, cases):
    tu, errors = clang_parse(CLANG_PRELUDE + PRELUDE + "\n".join(cases), abi)
    assert not errors, f"clang refuses the generated declarations for {abi}: {errors[:3]}"
    want = clang_records(tu)
    failures, compared = [], 0
    for n, text in enumerate(cases):
        try:
            report = ndffi.layout(PRELUDE + text, abi=abi)["types"]
        except ndffi.CDefError as e:
            failures.append(f"{text}\nndffi refuses it: {e}")
            continue
        diffs = []
        for key, entry in report.items():
            if key in ENUMS and n:
                continue  # the prelude's, compared with the first declaration
            if key in want and "." not in key:
                compare(key, entry, want[key], report, diffs)
                compared += key not in ENUMS
        if diffs:
            failures.append(text + "\n".join(diffs[:10]))
    assert not failures, (
        f"{abi} ({ndffi.abis()[abi]}): {len(failures)} of {len(cases)} declarations "
        "differ from clang:\n\n" + "\n\n".join(failures[:3])
    )
    return compared


def run_random(abi, count, seed):
    """Lays out `count` random declarations on `abi` and compares; returns how many
    records (structs, unions, enums, typedefs of them) were compared."""
    rng = random.Random(f"{seed}/{abi}")
    gen = Gen(rng, abi)
    compared = 0
    for start in range(0, count, BATCH):
        compared += check_batch(abi, [gen.case(i) for i in range(start, min(count, start + BATCH))])
    assert compared >= count  # every declaration's records were found on both sides
    return compared


def test_random_layouts_match_clang(abi):
    run_random(abi, NORMAL, seed=int(os.environ.get("NDFFI_LAYOUT_SEED", "1")))


@pytest.mark.stress
@pytest.mark.skipif(os.environ.get("NDFFI_STRESS") != "1", reason="set NDFFI_STRESS=1 (make stress)")
def test_random_layouts_match_clang_stress(abi):
    run_random(abi, STRESS, seed=int(os.environ.get("NDFFI_LAYOUT_SEED", "2")))


# ---------------------------------------------------------------------------------------
# Each family of rules at its corners, with clang's numbers (the random declarations
# above find these by chance; here each stays pinned).  Bit positions are in bits.

KNOWN = [
    # (ABI, declaration, size, alignment, {member: byte offset, or ("bit", first bit, width)})
    # An aligned(n) bit-field goes to a multiple of n unless it would straddle a unit of
    # its type where it is, and a #pragma pack between members counts from the next
    # record on (GCC differs in both: tests/cdef/test_layout.py has its numbers for the host).
    (
        "x86_64-linux",
        "struct s { unsigned char a : 6; long b : 37 __attribute__((aligned(4))); };",
        16,
        8,
        {"a": ("bit", 0, 6), "b": ("bit", 32, 37)},
    ),
    (
        "x86_64-linux",
        "#pragma pack(4)\nstruct s { unsigned short a; int b : 8 __attribute__((aligned(16))); "
        "char c : 2; };\n#pragma pack()",
        4,
        4,
        {"a": 0, "b": ("bit", 16, 8), "c": ("bit", 24, 2)},
    ),
    (
        "x86_64-linux",
        "struct s { char c;\n#pragma pack(1)\nint x; char d; double y; };\n#pragma pack()",
        24,
        8,
        {"c": 0, "x": 4, "d": 8, "y": 16},
    ),
    # Microsoft's: a bit-field of another size opens a unit; a record of no bytes has 4;
    # an alignment inside a member's type survives packed and #pragma pack; #pragma pack
    # above 8 is ignored; in a union bit-fields give no alignment; every enum is int;
    # __declspec(align(n)) before 'struct' aligns the struct.
    ("x86_64-windows", "struct s { char a : 4; int b : 4; };", 8, 4, {"a": ("bit", 0, 4), "b": ("bit", 32, 4)}),
    ("x86_64-windows", "struct s { int : 0; };", 4, 1, {}),
    (
        "x86_64-windows",
        "struct s { char a; struct t { char c; } __attribute__((aligned(8))) b; } __attribute__((packed));",
        16,
        8,
        {"a": 0, "b": 8},
    ),
    ("x86_64-windows", "__declspec(align(16)) struct s { char c; };", 16, 16, {"c": 0}),
    ("x86_64-windows", "#pragma pack(16)\nstruct s { char c; double d; };\n#pragma pack()", 16, 8, {"c": 0, "d": 8}),
    (
        "x86_64-windows",
        "#pragma pack(2)\nstruct s { char c; double d __attribute__((aligned(8))); };\n#pragma pack()",
        16,
        8,
        {"c": 0, "d": 8},
    ),
    ("x86_64-windows", "union s { char a : 3; int b : 5; };", 4, 1, {"a": ("bit", 0, 3), "b": ("bit", 0, 5)}),
    ("x86_64-windows", "enum s { A = 0x100000000 };", 4, 4, {}),
    # MinGW: Microsoft's bit-fields, which packed does not pack, in GCC's layout;
    # __declspec(align(n)) is ignored; a zero-width bit-field can end a unit early
    ("x86_64-mingw", "struct s { char a : 4; int b : 4; };", 8, 4, {"a": ("bit", 0, 4), "b": ("bit", 32, 4)}),
    ("x86_64-mingw", "__declspec(align(16)) struct s { char c; };", 1, 1, {"c": 0}),
    (
        "x86_64-mingw",
        "struct s { char a; long long b : 3; } __attribute__((packed));",
        16,
        8,
        {"a": 0, "b": ("bit", 64, 3)},
    ),
    (
        "x86_64-mingw",
        "#pragma pack(1)\nstruct s { signed char a : 7; double b __attribute__((packed)); "
        "unsigned __int128 c : 33; __int128 : 0; };\n#pragma pack()",
        32,
        16,
        {"a": ("bit", 0, 7), "b": 1, "c": ("bit", 72, 33)},
    ),
    # AAPCS64 on Linux: unnamed bit-fields align the record; Apple's arm64 does not
    ("aarch64-linux", "struct s { char a; int : 0; char b; };", 8, 4, {"a": 0, "b": 4}),
    ("aarch64-linux", "struct s { char a; int : 3; };", 4, 4, {"a": 0}),
    ("aarch64-darwin", "struct s { char a; int : 0; char b; };", 5, 1, {"a": 0, "b": 4}),
    # 32-bit: long long and double aligned to 8 on armv7, to 4 on i386, long double in 12
    (
        "armv7-linux-gnueabihf",
        "struct s { char a; long long b; char c : 1; };",
        24,
        8,
        {"a": 0, "b": 8, "c": ("bit", 128, 1)},
    ),
    (
        "i686-linux",
        "struct s { char a; long long b; double d; long double e; };",
        32,
        4,
        {"a": 0, "b": 4, "d": 12, "e": 20},
    ),
    ("i686-linux", "struct s { char a; long long b : 40; };", 8, 4, {"a": 0, "b": ("bit", 8, 40)}),
    ("i686-linux", "enum s { A = -1, B = 0x100000000 };", 8, 4, {}),
]


@pytest.mark.parametrize("abi, decl, size, align, members", KNOWN, ids=range(len(KNOWN)))
def test_known_layouts(abi, decl, size, align, members):
    types = ndffi.layout(decl, abi=abi)["types"]
    (entry,) = [v for k, v in types.items() if k.endswith(" s")]
    got = {
        f["name"]: ("bit", f["bit_offset"], f["bit_width"]) if "bit_offset" in f else f["offset"]
        for f in entry.get("fields", [])
    }
    assert (entry["size"], entry["align"], got) == (size, align, members)


# A typedef's aligned(n) as each ABI has it: System V and Apple take the new alignment
# (packed and #pragma pack still lower it), Microsoft keeps the natural alignment and
# requires the new one (a lowered one never lowers, a raised one survives packing), and
# a bit-field's unit is aligned to its size there.
ALIGNED_TYPEDEF_CASES = [
    "struct at1 { char c; al8 x; };",
    "struct at2 { char c; al8 x; } __attribute__((packed));",
    "#pragma pack(push, 2)\nstruct at3 { char c; al8 x; ll_lowered y; };\n#pragma pack(pop)",
    "struct at4 { char c; ll_lowered y; d_lowered z; s_lowered s; };",
    "struct at5 { char c; ll_lowered x[3]; int y; };",
    "struct at6 { char c; al8 x : 5; int y; };",
    "struct at7 { char c; ll_lowered x : 5; int y; };",
    "struct at8 { char c; ll_lowered x : 40; char y; };",
    "union at9 { char c; ll_lowered x[2]; } __attribute__((packed));",
    "#pragma pack(push, 1)\nstruct at10 { al8 f; unsigned long g; };\n#pragma pack(pop)",
    "typedef void *vp2 __attribute__((aligned(2))); struct at11 { char c; vp2 p; };",
]


def test_aligned_typedefs_match_clang(abi):
    assert check_batch(abi, ALIGNED_TYPEDEF_CASES) >= len(ALIGNED_TYPEDEF_CASES)


def test_aligned_typedefs_refused_where_c_refuses_them():
    with pytest.raises(
        ndffi.CDefError, match=r"array of 'int' \(4 bytes\), whose size is not a multiple of its alignment \(8\)"
    ):
        ndffi.layout("typedef int al8 __attribute__((aligned(8))); struct s { al8 a[3]; };")
    with pytest.raises(ndffi.CDefError, match=r"aligned\(16\) attribute on a typedef of 'struct p'.*not supported"):
        ndffi.layout("struct p { int x; }; typedef struct p p16 __attribute__((aligned(16)));")


def test_layout_errors():
    with pytest.raises(ValueError, match="unknown ABI 'vax'.*x86_64-linux"):
        ndffi.layout("int x;", abi="vax")
    assert ndffi.layout("", abi="x86_64-pc-windows-msvc")["abi"] == "x86_64-windows"
    with pytest.raises(TypeError, match="decls must be a str"):
        ndffi.layout(b"int x;")
    with pytest.raises(ndffi.CDefError, match="line 1"):
        ndffi.layout("struct s { int x }", abi="aarch64-linux")
    # __int128 is laid out where the ABI has it, and is no type for calls yet
    assert ndffi.layout("struct s { __int128 x; };", abi="aarch64-linux")["types"]["struct s"]["align"] == 16
    with pytest.raises(ndffi.CDefError, match="'__int128' is not supported on i686-linux"):
        ndffi.layout("struct s { __int128 x; };", abi="i686-linux")
    with pytest.raises(ndffi.CDefError, match="'__int128' is not supported in declarations of functions"):
        ndffi.Namespace().cdef("__int128 f(void);")
    # so is _Complex: two of its floating type, aligned as one
    c = ndffi.layout("struct s { char c; long double _Complex z; };", abi="i686-linux")["types"]["struct s"]
    assert (c["size"], c["align"], c["fields"][1]["offset"], c["fields"][1]["type"]) == (
        28,
        4,
        4,
        "long double _Complex",
    )  # noqa: E501
    # functions take float and double _Complex (tests/calls/test_complex.py), not long double's
    with pytest.raises(ndffi.CDefError, match="'long double _Complex' is not supported in declarations of functions"):
        ndffi.Namespace().cdef("long double _Complex f(void);")
    with pytest.raises(ndffi.CDefError, match="invalid combination of type specifiers 'int _Complex'"):
        ndffi.layout("struct s { int _Complex z; };")


def test_report_shape():
    """Typedef names, anonymous members flattened, unnamed record types under their
    member's name, enums with their integer type."""
    r = ndffi.layout(
        "typedef struct s { char c; struct { short x; } inner[2]; union { int u; char v; }; "
        "unsigned bits : 3; } S; typedef int I; enum e { A = -1 };",
        abi="x86_64-linux",
    )
    assert set(r) == {"abi", "scalars", "types"}
    s = r["types"]["struct s"]
    assert r["types"]["S"] == s and r["types"]["I"] == {"size": 4, "align": 4, "type": "int"}
    assert [(f["name"], f["offset"]) for f in s["fields"]] == [("c", 0), ("inner", 2), ("u", 8), ("v", 8), ("bits", 12)]
    assert s["fields"][1]["type"] == "struct s.inner[2]"
    assert r["types"]["struct s.inner"] == {
        "size": 2,
        "align": 2,
        "fields": [{"name": "x", "offset": 0, "type": "short"}],
    }
    assert s["fields"][4] == {"name": "bits", "offset": 12, "bit_offset": 96, "bit_width": 3, "type": "unsigned int"}
    assert r["types"]["enum e"] == {"size": 4, "align": 4, "underlying": "int", "enumerators": {"A": -1}}


def test_command_line(tmp_path):
    import json
    import subprocess
    import sys

    decls = tmp_path / "decls.h"
    decls.write_text("struct s { char c; long x; int f : 3; };\n")

    def run(*args, stdin=None):
        return subprocess.run(
            [sys.executable, "-m", "ndffi", "layout", *args], capture_output=True, text=True, input=stdin
        )

    p = run("--abi", "x86_64-windows", str(decls))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == ndffi.layout(decls.read_text(), abi="x86_64-windows")
    assert json.loads(p.stdout)["types"]["struct s"]["size"] == 12
    p = run("-", stdin=decls.read_text())  # the host's, from standard input
    assert p.returncode == 0 and json.loads(p.stdout)["abi"] == ndffi.host_abi()
    p = run("--list")
    assert p.returncode == 0 and "aarch64-darwin" in p.stdout and "arm64-apple-darwin" in p.stdout
    p = run("--abi", "vax", str(decls))
    assert p.returncode == 2 and "unknown ABI 'vax'" in p.stderr
    p = run("--abi", "arm64-apple-darwin", str(decls))  # clang's triple for it
    assert p.returncode == 0 and json.loads(p.stdout)["abi"] == "aarch64-darwin"
    p = run(str(tmp_path / "missing.h"))
    assert p.returncode == 1 and "cannot read" in p.stderr
    p = run("-", stdin="struct s { int x }")
    assert p.returncode == 1 and "<stdin>: line 1" in p.stderr
