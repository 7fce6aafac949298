"""A library's named values, against tests/clib/structs.c: enums as IntEnum, #define
constants (integer constant expressions checked against the C compiler's values and
types) and global variables read and written in place.
"""

import enum
import os
import shutil
import subprocess

import numpy as np
import pytest

import ndffi
from conftest import MORE_DECLS, WEATHER_DECLS, clib_fixture

lib = clib_fixture("structs", WEATHER_DECLS, MORE_DECLS)


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
    assert lib.color_value(3) == 30  # any value of the enum's integer type is C's
    assert lib.next_color(color.RED) == color.GREEN
    assert lib.next_color(lib.next_color(color.GREEN)) == color.RED
    with pytest.raises(OverflowError, match="color_value\\(\\) argument 1 'c'"):
        lib.color_value(-1)  # enum color is unsigned int here
    with pytest.raises(OverflowError):
        lib.color_value(2**32)
    with pytest.raises(TypeError):
        lib.color_value("RED")


def test_enum_with_negative_and_expression_values():
    ns = ndffi.Namespace()
    ns.cdef("enum e { NEG = -2, ZERO = NEG + 2, BIG = 1 << 20, NEXT };enum wide { W = 0x100000000 };")
    e = ns.type("enum e")
    assert e.enumerators == [("NEG", -2), ("ZERO", 0), ("BIG", 1 << 20), ("NEXT", (1 << 20) + 1)]
    assert e.size == 4 and ns.constant("NEXT")[0] == (1 << 20) + 1
    assert ns.type("enum wide").size == 8
    # packed enums take the smallest type that holds their values
    ns.cdef(
        "enum __attribute__((packed)) small { S0, S1 = 255 };"
        "enum tiny { T0 = -1, T1 } __attribute__((packed));"
        "enum __attribute__((packed)) mid { M0 = -129 };"
    )
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
    c = lambda n: ns.constant(n)[0]  # noqa: E731
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


def test_float_constants_are_floats():
    # A float constant is rounded once, to float, and arithmetic on floats (and ints) is
    # done in float, as C does it (FLT_EVAL_METHOD 0); a double operand makes it double.
    ns = ndffi.Namespace()
    ns.cdef("""
        #define F1 1.1f
        #define F2 (1.0f / 3)
        #define F3 16777217.0f
        #define F4 (-1.1f)
        #define F5 (1.1f * 2.0)
        #define F6 0x1.000001p0f
    """)
    f32 = lambda x: float(np.float32(x))  # noqa: E731
    c = lambda n: ns.constant(n)[0]  # noqa: E731
    assert c("F1") == f32(1.1) and c("F2") == f32(np.float32(1) / np.float32(3)) and c("F3") == 16777216.0
    assert c("F4") == -f32(1.1) and c("F5") == f32(1.1) * 2.0 and c("F6") == 1.0
    assert [str(ns.constant(n)[1]) for n in ("F1", "F2", "F3", "F4", "F5")] == ["float"] * 4 + ["double"]


# Integer constant expressions, evaluated by ndffi and by the C compiler: the same value
# and the same C type (C's integer promotions and usual arithmetic conversions).
CONST_EXPRS = [
    "4096",
    "0x7fffffff",
    "0x80000000",
    "2147483648",
    "0xffffffffffffffff",
    "077",
    "10L",
    "10u",
    "~0",
    "~0u",
    "~0ul",
    "-1u",
    "1 << 31",
    "1u << 31",
    "(1 << 31) >> 31",
    "1L << 40",
    "0xffffffff + 1",
    "2147483647 + 1",
    "-(-2147483647 - 1)",
    "-1 < 1u",
    "-1L < 1u",
    "-1 < 1ul",
    "10 / -3",
    "-10 % 3",
    "-1 >> 1",
    "(-1u) >> 1",
    "0x80000000 >> 31",
    "sizeof(int) - 5",
    "(unsigned char)-1 + 1",
    "(signed char)200",
    "(unsigned short)-1",
    "(_Bool)5",
    "'a' + 1",
    "1 ? 2 : 3u",
    "0 ? 2L : 3u",
    "!5 + !0",
    "3 && 0 || 2",
    "(1 + 2) * 3 - 4 / 2 % 3",
    "0x10 | 0x01 ^ 0x11 & 0xf0",
    "BASE * 2 + 1",
    "BASE > 10 ? BASE : -BASE",
    "(long)BASE << 32",
    "sizeof(struct pair)",
    "sizeof(double[3])",
]


@pytest.mark.skipif(not (os.environ.get("CC") or shutil.which("cc")), reason="no C compiler")
def test_constants_match_compiler(tmp_path):
    head = "#define BASE 4096\nstruct pair { int a; double b; };\n"
    defs = "".join(f"#define E{i} ({e})\n" for i, e in enumerate(CONST_EXPRS))
    ns = ndffi.Namespace()
    ns.cdef(head + defs)
    src = tmp_path / "consts.c"
    src.write_text(
        "#include <stdio.h>\n"
        + head
        + defs
        + '#define TN(x) _Generic((x), int: "int", unsigned int: "unsigned int", long: "long", '
        'unsigned long: "unsigned long", long long: "long long", '
        'unsigned long long: "unsigned long long", signed char: "signed char", '
        'unsigned char: "unsigned char", char: "char", short: "short", '
        'unsigned short: "unsigned short", _Bool: "_Bool", default: "?")\n'
        '#define P(n, x) printf("%s %s %lld %llu\\n", n, TN(x), (long long)(x), (unsigned long long)(x))\n'
        "int main(void) {\n" + "".join(f'P("E{i}", E{i});\n' for i in range(len(CONST_EXPRS))) + "return 0; }\n"
    )
    cc = os.environ.get("CC") or shutil.which("cc")
    subprocess.run([cc, "-w", "-o", str(tmp_path / "consts"), str(src)], check=True)
    out = subprocess.run([str(tmp_path / "consts")], capture_output=True, text=True, check=True).stdout
    wrong = []
    for line, expr in zip(out.splitlines(), CONST_EXPRS, strict=True):
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
    ns.cdef('#define A 1\n#define S "x"\nenum e { E1 = 3 };')
    ns.cdef("#define A 1\n#define A (2 - 1)")  # the same value again: accepted
    for text, name in [
        ("#define A 2", "A"),
        ('#define S "y"', "S"),
        ('#define A "1"', "A"),
        ("#define E1 4", "E1"),
        ("enum f { A };", "A"),
    ]:
        with pytest.raises(ndffi.CDefError, match=f"conflicting definition of '{name}'"):
            ns.cdef(text)
    assert ns.constant("A")[0] == 1 and ns.constant("S")[0] == "x"
    # the same anonymous enums and records again (a cdef run twice): one type
    text = "typedef enum { R, G } color; typedef struct { color c; struct { int x; } in; } px; px make(color);"
    ns.cdef(text)
    ns.cdef(text)
    assert ns.constant("G")[0] == 1 and ns.type("px").size == 8
    with pytest.raises(
        ndffi.CDefError,
        match=r"conflicting typedef 'px': previously "
        r"'struct \{ color c; struct <anonymous> in; \}', now 'struct \{ int y; \}'",
    ):  # noqa: E501
        ns.cdef("typedef struct { int y; } px;")
    with pytest.raises(ndffi.CDefError, match="conflicting definition of 'G': previously 1, now 0"):
        ns.cdef("enum { G };")
    # a failed cdef leaves nothing behind
    with pytest.raises(ndffi.CDefError):
        ns.cdef("#define NEW 1\n#define A 3")
    assert ns.constant("NEW") is None


def test_constant_errors():
    ns = ndffi.Namespace()
    for text, needle in [
        ("#define X (1/0)", "division by zero"),
        ("#define Y UNKNOWN + 1", "'UNKNOWN' is not a constant"),
        ("#define Z 1 +", "expected a constant expression"),
        # a hex escape past a char is an error in C, not a truncation
        ('#define H "\\x100"', "invalid escape sequence"),
        ("#define C '\\x1ff'", "invalid character constant"),
        ('#define O "\\777"', "invalid escape sequence"),
        # (was: a signed overflow while reading the digits, found by fuzzing)
        ('int (an["\\xe000E00EEN" 0 p);', "invalid escape sequence"),
    ]:
        with pytest.raises(ndffi.CDefError, match=needle):
            ns.cdef(text)
    ns.cdef('#define OK "\\x0041\\x42"')  # leading zeros are fine
    assert ns.constant("OK")[0] == "AB"


# ---- globals -----------------------------------------------------------------------------


def test_globals_in_place(lib):
    lib.counter = 7
    assert lib.counter == 7
    assert lib.bump() == 8  # C sees the write, Python sees C's
    assert lib.counter == 8
    with pytest.raises(
        OverflowError,
        match=r"cannot set global 'int counter' of library .*libstructs.*: "
        r"expected int in \[-2147483648, 2147483647\]",
    ):
        lib.counter = 2**40
    with pytest.raises(TypeError, match="cannot set global 'int counter' .*expected int for 'int', got float"):
        lib.counter = 1.5
    assert lib.counter == 8
    with pytest.raises(AttributeError, match="only declared C global variables"):
        lib.not_declared = 1


def test_a_const_global_is_not_set(cache):
    g = ndffi.inline("const int fixed = 5;", cdef="const int fixed;", name="const_global")
    with pytest.raises(TypeError, match=r"^cannot set global 'const int fixed' of library .*: it is const$"):
        g.fixed = 3
    assert g.fixed == 5


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
    h[1].timestamp = 8  # a view of the global element
    assert lib.history_sum() == 15


def test_global_struct(lib):
    o = lib.origin
    assert (o.x, o.y) == (1.5, -2.5)
    o.x = 3.0  # a view of the global itself
    assert lib.origin_norm2() == 9.0 + 6.25
    lib.origin = (3.0, 4.0)
    assert lib.origin_norm2() == 25.0 and (o.x, o.y) == (3.0, 4.0)
    lib.origin = {"x": 1.5, "y": -2.5}
