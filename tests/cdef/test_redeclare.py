"""Declaring again: a cdef run twice (a notebook cell run again, a header read twice) is
accepted when each declaration is the same as before, and then the types are the same
objects; a declaration that conflicts with an earlier one is a CDefError naming where
both are.  A failing cdef leaves the library as it was."""

import pickle
import threading

import pytest

import ndffi

README_CELL = """
    typedef struct Weather_t { int timestamp; char desc[12]; } Weather;
    void print_weather(Weather *w, int nelems);
    typedef struct { double x, y; } vec2;
    vec2 vadd(vec2 a, vec2 b);
    enum color { RED, GREEN = 5, BLUE };
    #define BUFSIZE 4096
    extern int counter;
"""


def test_readme_cell_runs_twice():
    lib = ndffi.load(None)
    lib.cdef(README_CELL)
    before = [
        lib.types.Weather,
        lib.types["struct Weather_t"],
        lib.types.vec2,
        lib.types["enum color"].ctype,
        lib.typeof("Weather *"),
    ]
    prototypes = [lib._ns.decl(n)[1] for n in ("print_weather", "vadd", "counter")]
    lib.cdef(README_CELL)
    after = [
        lib.types.Weather,
        lib.types["struct Weather_t"],
        lib.types.vec2,
        lib.types["enum color"].ctype,
        lib.typeof("Weather *"),
    ]
    assert after == before
    assert [lib._ns.decl(n)[1] for n in ("print_weather", "vadd", "counter")] == prototypes
    assert lib.types.Weather.dtype == before[0].dtype and lib.types.Weather.size == 16
    assert (lib.types.color.RED, lib.types.color.GREEN, lib.types.color.BLUE) == (0, 5, 6)
    assert lib.BUFSIZE == 4096
    assert sorted(lib._ns.names()) == ["counter", "print_weather", "vadd"]
    # a value of the type made before the second run is a value of the type after it
    w = before[0](timestamp=7)
    assert lib.types.Weather(timestamp=7) == w
    # the library pickles with what it declares, once: it is made again from that
    assert lib._record.cdefs == [(README_CELL, (("release_gil", True),))]
    again = pickle.loads(pickle.dumps(w))
    assert again.timestamp == 7 and again.__ctype__.size == 16 and str(again.__ctype__) == "struct Weather_t"


SAME = [
    "struct S { int a; unsigned b : 3, : 0, c : 5; double d[2]; };",
    "union U { int i; float f; struct { short lo, hi; } half; };",
    "enum E { A = -1, B, C = 7 } __attribute__((packed));",
    "struct Out { struct In { int x; } in; struct Out *next; union { int u; char c; }; };",
    "struct P { char c; int i; } __attribute__((packed));",
    "struct Al { char c; int i __attribute__((aligned(8))); } __attribute__((aligned(16)));",
    "#pragma pack(push, 2)\nstruct Pk { char c; int i; };\n#pragma pack(pop)",
    "struct Fam { int n; double items[]; };",
    "typedef struct T { int a; } T, *PT; T make(PT);",
    "typedef enum { R, G } rg; typedef struct { rg c; struct { int x; } in; } anon; anon f(anon);",
]


@pytest.mark.parametrize("text", SAME, ids=[t[:40] for t in SAME])
def test_same_definition_again_is_the_same_type(text):
    ns = ndffi.Namespace()
    ns.cdef(text)
    tags = [w for w in text.replace("{", " ").split() if w.isidentifier()]
    spellings = [
        f"{kind} {name}"
        for kind, name in zip(tags, tags[1:], strict=False)
        if kind in ("struct", "union", "enum") and ns.has_tag(kind, name)
    ]
    types = [ns.type(s) for s in spellings]
    typedefs = {n: ns.typedef(n) for n in ns.typedef_names()}
    ns.cdef(text)  # another cdef call
    ns.cdef(text + "\n" + text)  # twice in one call
    ns.cdef(" ".join(f"{s};" for s in spellings))  # forward declarations after the definition
    assert [ns.type(s) for s in spellings] == types
    assert all(t.size == ns.type(s).size and t.size > 0 for s, t in zip(spellings, types, strict=True))
    assert {n: ns.typedef(n) for n in ns.typedef_names()} == typedefs
    assert len(set(ns.typedef_names())) == len(ns.typedef_names())


BASE = """struct S { int a; char b[4]; unsigned f : 3; };
union U { int i; float f; };
enum E { A, B = 5, C };
struct P { char c; int i; } __attribute__((packed));
#pragma pack(2)
struct Q { char c; int i; };
#pragma pack()
int f(int x, const char *s);
typedef unsigned long handle;
extern double gain;
#define LIMIT 100
"""

# (text, line and column of the conflicting declaration's name in BASE, message fragment)
CONFLICTS = [
    ("struct S { int a; char b[5]; unsigned f : 3; };", (1, 8), "member 'b' is 'char b[5]', was 'char b[4]'"),
    ("struct S { int a; char b[4]; unsigned f : 4; };", (1, 8), "member 'f' is 'unsigned int f : 4'"),
    ("struct S { long a; char b[4]; unsigned f : 3; };", (1, 8), "member 'a' is 'long a', was 'int a'"),
    ("struct S { int a; char b[4]; };", (1, 8), "member 'f' ('unsigned int f : 3') is missing"),
    ("struct S { int a; char b[4]; unsigned f : 3; int g; };", (1, 8), "member 'g' ('int g') is new"),
    ("struct S { int a; char b[4]; unsigned f : 3; } __attribute__((aligned(8)));", (1, 8), "its size is 16, was 12"),
    ("union U { int i; double f; };", (2, 7), "member 'f' is 'double f', was 'float f'"),
    ("enum E { A, B = 5, C, D };", (3, 6), "enumerator 'D' is new"),
    ("enum E { A, B = 5 };", (3, 6), "enumerator 'C' is missing"),
    ("enum E { A, B = 5, C } __attribute__((packed));", (3, 6), "its integer type is 'unsigned char'"),
    ("enum E { A, B = 6, C };", (3, 13), "conflicting definition of 'B': previously 5, now 6"),
    ("struct P { char c; int i; };", (4, 8), "member 'i' is at offset 4, was at 1"),
    ("#pragma pack(1)\nstruct Q { char c; int i; };", (6, 8), "member 'i' is at offset 1, was at 2"),
    ("struct Q { char c; int i; } __attribute__((aligned(2)));", (6, 8), "member 'i' is at offset 4, was at 2"),
    ("int f(int x, char *s);", (8, 5), "previously 'int f(int x, const char *s)', now 'int f(int x, char *s)'"),
    ("long f(int x, const char *s);", (8, 5), "conflicting declaration of 'f'"),
    ("typedef long handle;", (9, 23), "conflicting typedef 'handle': previously 'unsigned long', now 'long'"),
    ("int handle(void);", (9, 23), "'handle' is already declared as a typedef"),
    ("extern float gain;", (10, 15), "previously 'double gain', now 'float gain'"),
    ("#define LIMIT 101", (11, 9), "conflicting definition of 'LIMIT': previously 100, now 101"),
    ("#define LIMIT 100.0", (11, 9), "conflicting definition of 'LIMIT'"),
]


@pytest.mark.parametrize("text, first, fragment", CONFLICTS, ids=[c[0][:50] for c in CONFLICTS])
def test_conflicting_redeclaration_names_both_positions(text, first, fragment):
    lib = ndffi.load(None)
    lib.cdef(BASE)
    lib.cdef("int other(void);")
    state = (
        lib._ns.names(),
        lib._ns.typedef_names(),
        lib._ns.constant_names(),
        lib.types["struct S"],
        lib.types["union U"],
        lib._ns.decl("f"),
        lib.sizeof("struct Q"),
    )
    text = "\n" + text  # the conflict on line 2 (or 3, after a #pragma line) of the third call
    with pytest.raises(ndffi.CDefError) as info:
        lib.cdef(text)
    e = info.value
    msg = str(e)
    assert fragment in msg
    assert e.previous == (first[0], first[1], 1)
    line = text.splitlines()[e.line - 1]
    assert e.line >= 2 and line.strip() and e.text and line[e.column - 1 :].startswith(e.text)
    assert (
        f"(first at line {first[0]}, column {first[1]} of cdef call 1, "
        f"again at line {e.line}, column {e.column})" in msg
    )
    # the library is as it was
    assert (
        lib._ns.names(),
        lib._ns.typedef_names(),
        lib._ns.constant_names(),
        lib.types["struct S"],
        lib.types["union U"],
        lib._ns.decl("f"),
        lib.sizeof("struct Q"),
    ) == state


def test_conflict_within_one_cdef_call():
    ns = ndffi.Namespace()
    with pytest.raises(ndffi.CDefError) as info:
        ns.cdef("struct N { int a; };\n\nstruct N { int b; };")
    assert (info.value.line, info.value.column) == (3, 8)
    assert "(first at line 1, column 8 of this cdef call, again at line 3, column 8)" in str(info.value)
    assert info.value.previous == (1, 8, 1)
    assert not ns.has_tag("struct", "N")
    with pytest.raises(ndffi.CDefError) as info:
        ns.cdef("int broken(")
    assert info.value.previous is None


def test_other_declarations_again():
    ns = ndffi.Namespace()
    text = (
        "typedef int (*cb_t)(const void *, const void *); int f(int, cb_t);\n"
        'extern const char *names[4];\n#define PI 3.25\n#define NAME "x"\nenum { LO = -2, HI };'
    )
    ns.cdef(text)
    ns.cdef(text)
    # the same types spelled otherwise, parameter names added, qualifiers of parameters
    ns.cdef(
        "int f(const int n, int (*cmp)(const void *, const void *)); typedef int (*cb_t)(const void *, const void *);"  # noqa: E501
        "\n#define PI (13 / 4.0)"
    )
    assert ns.decl("f")[1] == "int f(int n, cb_t cmp)"  # the first spelling, the names given later
    assert ns.names() == ["f", "names"] and ns.typedef_names() == ["cb_t"]
    assert ns.constant("PI")[0] == 3.25 and ns.constant("HI")[0] == -1


def test_failed_cdef_takes_back_everything():
    ns = ndffi.Namespace()
    ns.cdef("struct later; int f(int); typedef int T;\n#define N 1\nenum e { A };")
    state = (ns.names(), ns.typedef_names(), ns.constant_names(), ns.decl("f"))
    with pytest.raises(ndffi.CDefError):
        ns.cdef(
            "struct later { int x; double y; }; struct fresh { int a; }; union u { int i; };\n"
            "int f(int named); int g(void); typedef long U;\n#define M 2\nenum e2 { C };\n"
            "int f(long);"
        )
    assert (ns.names(), ns.typedef_names(), ns.constant_names(), ns.decl("f")) == state
    assert ns.type("struct later").size == 0  # incomplete again
    assert not ns.has_tag("struct", "fresh") and not ns.has_tag("union", "u") and not ns.has_tag("enum", "e2")
    with pytest.raises(TypeError, match="incomplete"):
        ns.type("struct later").dtype  # noqa: B018
    # and the names are free for other declarations
    ns.cdef("struct later { char c; }; struct fresh { long a; }; long g(long); typedef char U;\n#define M 3")
    assert ns.type("struct later").size == 1 and ns.decl("g")[1] == "long g(long)" and ns.constant("M")[0] == 3


def test_rerun_from_threads():
    lib = ndffi.load(None)
    text = README_CELL + "int extra(int);"
    lib.cdef(text)
    errors = []

    def work(k):
        try:
            for i in range(50):
                lib.cdef(text)
                lib.cdef(f"int fresh_{k}_{i}(int x);")
                with pytest.raises(ndffi.CDefError):
                    lib.cdef(f"int fresh_{k}_{i}(long x);")
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(lib._ns.names()) == 4 + 4 * 50
    assert lib.types.Weather.size == 16


def test_failed_definition_of_a_declared_tag_leaves_it_incomplete():
    ns = ndffi.Namespace()
    ns.cdef("enum E; struct S; union U;")
    deep = "struct s0 { int a; };" + "".join(f"struct s{i} {{ struct s{i - 1} x; }};" for i in range(1, 1000))
    for bad, fragment in [
        ("enum E { A, B, C = x };", "'x' is not a constant"),
        ("union U { int i; float f; } u; int broken(;", "expected a type"),
        ("struct S { struct S { int a; } in; };", "nested redefinition of 'struct S'"),
        (deep + "struct S { struct s999 x; };", "'struct S': type is nested too deeply"),
    ]:
        with pytest.raises(ndffi.CDefError, match=fragment):
            ns.cdef(bad)
        assert ns.type("struct S").size == ns.type("union U").size == 0
        assert ns.type("enum E").enumerators == [] and ns.constant_names() == []
    ns.cdef("enum E { Z }; struct S { int q; }; union U { char c; };")
    assert ns.type("enum E").enumerators == [("Z", 0)] and ns.constant_names() == ["Z"]
    assert (ns.type("struct S").size, ns.type("union U").size) == (4, 1)


@pytest.mark.parametrize(
    "first, then",
    [
        ("enum { abs = 7 };", "int abs(int);"),
        ("int abs(int);", "enum { abs = 7 };"),
        ("#define abs 7", "int abs(int);"),
    ],
)
def test_a_constant_and_a_function_of_one_name_conflict_either_way(first, then):
    lib = ndffi.load(None).cdef(first)
    with pytest.raises(ndffi.CDefError, match="'abs' is already"):
        lib.cdef(then)
