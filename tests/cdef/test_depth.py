"""Deep and wide declarations: nesting past the documented limits is a CDefError (a
TypeError where it is not a parse), never a crash, also on a thread with a small stack;
types at the limit work everywhere (dtypes, struct values, calls by value, repr,
pickling); wide declarations (many members, parameters, declarations) are declared in
time linear in their size, which benchmarks/bench_cdef.py measures.

Inputs that crashed the interpreter before are run in a child process, so that a crash
fails the test instead of the test run."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ndffi
from ndffi._ndffi import MAX_NESTING, MAX_TYPE_DEPTH

L = MAX_TYPE_DEPTH


def test_documented_limits():
    assert (MAX_NESTING, MAX_TYPE_DEPTH) == (200, 1000)


def chain(kind, n):
    """n declarations, each one level deeper than the one before."""
    if kind == "struct":
        return "struct s0 { int a; };\n" + "".join(f"struct s{i} {{ struct s{i - 1} x; }};\n" for i in range(1, n))
    if kind == "pointer":
        return "typedef int p0;\n" + "".join(f"typedef p{i - 1} *p{i};\n" for i in range(1, n))
    if kind == "array":
        return "typedef int a0;\n" + "".join(f"typedef a{i - 1} a{i}[1];\n" for i in range(1, n))
    return "typedef void f0(void);\n" + "".join(f"typedef void f{i}(f{i - 1} *cb);\n" for i in range(1, n))


# kind: declarations at the limit (the last one is L levels deep)
AT_LIMIT = {"struct": L, "pointer": L + 1, "array": L + 1, "function": L + 1}


@pytest.mark.parametrize("kind", AT_LIMIT)
def test_type_depth_at_the_limit_and_past(kind):
    n = AT_LIMIT[kind]
    lib = ndffi.load(None)
    lib.cdef(chain(kind, n))
    assert len(lib._ns.typedef_names()) == (0 if kind == "struct" else n)
    past = ndffi.load(None)
    with pytest.raises(ndffi.CDefError) as info:
        past.cdef(chain(kind, n + 1))
    assert info.value.line == n + 1  # the first declaration past the limit
    assert f"type is nested too deeply (more than {L} levels" in str(info.value)
    assert past._ns.typedef_names() == [] and not past._ns.has_tag("struct", "s0")
    # a type made from the deepest one in a declaration is refused the same way
    last = {"struct": "struct s999", "pointer": "p1000", "array": "a1000", "function": "f1000"}[kind]
    with pytest.raises(ndffi.CDefError, match="nested too deeply"):
        lib.cdef(f"typedef {last} *deeper;" if kind != "struct" else f"struct t {{ {last} x; }};")
    with pytest.raises(ndffi.CDefError, match="nested too deeply"):
        lib.typeof({"struct": f"{last}[2]", "function": f"{last} **"}.get(kind, f"{last} *"))
    if kind == "struct":  # a struct pointed to or passed is walked on its own: it counts once
        assert lib.typeof(f"{last} *(*)({last}, {last} *)").size == lib.sizeof("void *")


def test_typedef_names_of_one_type_do_not_nest():
    ns = ndffi.Namespace()
    ns.cdef("typedef int t0;\n" + "".join(f"typedef t{i - 1} t{i};\n" for i in range(1, 100000)))
    assert ns.typedef("t99999") == ns.type("int")


DEEP_C = chain("struct", L) + textwrap.dedent(f"""
    struct s{L - 1} echo(struct s{L - 1} v) {{ return v; }}
    int inner(struct s{L - 1} v) {{ return v{".x" * (L - 1)}.a; }}
    int inner_at(const struct s{L - 1} *p, int i) {{ return p[i]{".x" * (L - 1)}.a; }}
""")
DEEP_CDEF = chain("struct", L) + (
    f"struct s{L - 1} echo(struct s{L - 1} v); int inner(struct s{L - 1} v);"
    f"int inner_at(const struct s{L - 1} *p, int i);"
)


def nested(value, levels):
    for _ in range(levels):
        value = (value,)
    return value


@pytest.fixture(scope="module")
def deep_lib():
    return ndffi.inline(DEEP_C, cdef=DEEP_CDEF, name="deep_structs")


def test_deepest_struct_everywhere(deep_lib):
    lib = deep_lib
    t = lib.types[f"struct s{L - 1}"]
    assert t.size == 4
    # its dtype, nested as deep
    d, levels = t.dtype, 0
    while d.names == ("x",):
        d, levels = d.fields["x"][0], levels + 1
    assert levels == L - 1 and d.names == ("a",) and d.fields["a"][0] == np.int32
    # values, by value through libffi, and a structured array checked against the layout
    v = t(nested(42, L - 1))
    assert lib.inner(v) == 42 and lib.inner(nested(-3, L)) == -3
    back = lib.echo(v)
    assert back == v and bytes(back) == (42).to_bytes(4, sys.byteorder, signed=True)
    arr = np.zeros(3, t.dtype)
    arr.view(np.int32)[:] = [5, 6, 7]
    assert lib.inner_at(arr, 2) == 7
    assert repr(v).startswith(f"<ndffi.StructValue 'struct s{L - 1}' {{x=<ndffi.StructValue 'struct s{L - 2}'")
    copy = pickle.loads(pickle.dumps(v))
    assert bytes(copy) == bytes(v) and copy.__ctype__.size == 4


def run_child(code, *args):
    """Run `code` in a fresh interpreter: its output, and a failure if it crashed."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout.split()


def test_hundred_thousand_nested_structs():
    # one per line, as generated code has them: refused at the limit, not a stack overflow
    out = run_child("""
        import ndffi
        text = "struct s0 {int a;};\\n" + "".join(f"struct s{i} {{struct s{i-1} x;}};\\n" for i in range(1, 100000))
        lib = ndffi.load(None)
        try:
            lib.cdef(text)
        except ndffi.CDefError as e:
            print(e.line, "nested-too-deeply" if "nested too deeply" in str(e) else str(e))
        lib.cdef(text.split("struct s1000 ")[0])   # up to the limit
        print(lib.types["struct s999"].dtype.itemsize, lib.types["struct s999"]().__ctype__.size)
    """)
    assert out == ["1001", "nested-too-deeply", "4", "4"]


def wrap(open_, middle, close, n):
    return open_ * n + middle + close * n


# (at the limit, one level past it): declarators, parameter lists, struct bodies and
# type names in each other; expressions (parentheses, unary operators, ?:, sizeof)
N = MAX_NESTING
NESTING = {
    "declarators": ("int " + wrap("(", "x", ")", N - 1) + ";", "int " + wrap("(", "x", ")", N) + ";"),
    "parameters": (
        "int f(" + wrap("int (*)(", "", ")", N - 2) + ");",
        "int f(" + wrap("int (*)(", "", ")", N - 1) + ");",
    ),  # noqa: E501
    "struct bodies": (wrap("struct {", "int a;", "} x;", N - 1) + ";", wrap("struct {", "int a;", "} x;", N) + ";"),
    "enum in bodies": (
        wrap("struct {", "enum { E } e;", "} x;", N - 1) + ";",
        wrap("struct {", "enum { E } e;", "} x;", N) + ";",
    ),
    "parentheses": ("int x[" + wrap("(", "1", ")", N - 1) + "];", "int x[" + wrap("(", "1", ")", N) + "];"),
    "unary": ("int x[" + "-" * (N - 2) + "1];", "int x[" + "-" * N + "1];"),
    "conditional": (
        "int x[" + "1?" * (N - 1) + "1" + ":1" * (N - 1) + "];",
        "int x[" + "1?" * N + "1" + ":1" * N + "];",
    ),
    "sizeof": (
        "int x[" + wrap("sizeof(char[", "1", "])", N - 1) + "];",
        "int x[" + wrap("sizeof(char[", "1", "])", N) + "];",
    ),
    "casts": ("#define C " + "(char)" * (N - 1) + "1", "#define C " + "(char)" * N + "1"),
}


@pytest.mark.parametrize("kind", NESTING)
def test_nesting_at_the_limit_and_past(kind):
    ok, past = NESTING[kind]
    ndffi.Namespace().cdef(ok)
    out = run_child(
        """
        import sys, ndffi
        ns = ndffi.Namespace()
        try:
            ns.cdef(sys.argv[1] * int(sys.argv[2]))
        except ndffi.CDefError as e:
            print("nested-too-deeply" if "nested too deeply" in str(e) else str(e))
        print(ns.names() == [] and ns.typedef_names() == [] and ns.constant_names() == [])
    """,
        past,
        "1",
    )
    assert out == ["nested-too-deeply", "True"]


def test_far_past_the_limits():
    out = run_child("""
        import ndffi
        texts = ["int " + "(" * 100000 + "x" + ")" * 100000 + ";",
                 "struct {" * 100000 + "int a;" + "} x;" * 100000 + ";",
                 "struct s {" * 100000 + "int a;" + "} x;" * 100000 + ";",
                 "int x[" + "1?" * 100000 + "1" + ":1" * 100000 + "];",
                 "int x[" + "sizeof(char[" * 30000 + "1" + "])" * 30000 + "];",
                 "int f(" + "int (*)(" * 50000 + ")" * 50000 + ");",
                 "#define C " + "(char)" * 100000 + "1",
                 "int " + "*" * 100000 + "p;"]
        for text in texts:
            try:
                ndffi.Namespace().cdef(text)
                print("accepted")
            except ndffi.CDefError as e:
                print("refused")
    """)
    assert out == ["refused"] * 8


SMALL_STACKS = """
    import sys, threading, ndffi
    kb, path = int(sys.argv[1]), sys.argv[2]
    L = ndffi._ndffi.MAX_TYPE_DEPTH
    lib = ndffi.load(path)
    chain = "struct s0 { int a; };" + "".join(f"struct s{i} {{ struct s{i-1} x; }};" for i in range(1, L))
    lib.cdef(chain + f"struct s{L-1} echo(struct s{L-1} v); int inner(struct s{L-1} v);")
    def nested(v, n):
        for _ in range(n):
            v = (v,)
        return v
    def steps():
        yield "declarators", lambda: ndffi.Namespace().cdef("int " + "(" * 199 + "x" + ")" * 199 + ";")
        yield "bodies", lambda: ndffi.Namespace().cdef("struct {" * 199 + "int a;" + "} x;" * 199 + ";")
        yield "expression", lambda: ndffi.Namespace().cdef("int x[" + "(" * 199 + "1" + ")" * 199 + "];")
        yield "chain", lambda: ndffi.Namespace().cdef(chain)
        t = lib.types[f"struct s{L-1}"]
        yield "dtype", lambda: t.dtype
        yield "value", lambda: t(nested(1, L - 1))
        yield "repr", lambda: repr(t())
        yield "call", lambda: lib.inner(nested(5, L))
        yield "echo", lambda: lib.echo(t())
        yield "cname", lambda: ndffi.Namespace().cdef("typedef void f0(void);" + "".join(
            f"typedef void f{i}(f{i-1} *);" for i in range(1, L)) + "void g(f998 *);")
    results = []
    def run():
        for name, step in steps():
            try:
                step()
                results.append(name + ":ok")
            except (ndffi.CDefError, TypeError) as e:
                results.append(name + ":" + type(e).__name__)
    threading.stack_size(kb * 1024)
    th = threading.Thread(target=run)
    th.start()
    th.join()
    print(" ".join(results))
"""


# The smallest stack tried: 64 KiB, or the least a thread may have (128 KiB on AArch64).
SMALLEST_KB = max(64, os.sysconf("SC_THREAD_STACK_MIN") // 1024)


@pytest.mark.parametrize("kb", [SMALLEST_KB, 256, 1024])
def test_deep_input_on_a_small_thread_stack(deep_lib, kb):
    out = run_child(SMALL_STACKS, str(kb), deep_lib.path)
    names = ["declarators", "bodies", "expression", "chain", "dtype", "value", "repr", "call", "echo", "cname"]
    assert [o.split(":")[0] for o in out] == names
    assert all(o.split(":")[1] in ("ok", "CDefError", "TypeError") for o in out), out
    if kb == SMALLEST_KB:  # too small for most of it: an error, not a crash
        assert "declarators:CDefError" in out and "value:TypeError" in out
    assert "chain:ok" in out and "repr:ok" in out  # declaring a chain and repr do not recurse that deep


def test_wide_declarations():
    ns = ndffi.Namespace()
    n = 100000
    ns.cdef("struct wide {" + "".join(f" int m{i};" for i in range(n)) + " };")
    t = ns.type("struct wide")
    assert t.size == 4 * n and len(t.fields) == n and t.fields[-1][:1] == (f"m{n - 1}",)
    assert t.fields[-1][2] == 4 * (n - 1)
    # a duplicate found at the end, where it is
    text = "struct dup {" + "".join(f" int m{i};" for i in range(n)) + " int m0; };"
    with pytest.raises(ndffi.CDefError, match="duplicate member 'm0'") as info:
        ns.cdef(text)
    assert info.value.column == text.rindex("m0") + 1
    with pytest.raises(ndffi.CDefError, match="duplicate member 'x'"):
        ns.cdef("struct anon_dup { struct {" + "".join(f" int y{i};" for i in range(1000)) + " int x; }; int x; };")
    # many parameters, many enumerators, many declarations in one call
    params = ", ".join(f"int p{i}" for i in range(10000))
    ns.cdef(f"int many({params});")
    assert len(ns.decl("many")[2].params) == 10000
    with pytest.raises(ndffi.CDefError, match="redefinition of parameter 'p1'"):
        ns.cdef(f"int many2({params}, long p1);")
    ns.cdef("enum big {" + ", ".join(f"E{i}" for i in range(n)) + "};")
    assert ns.constant(f"E{n - 1}")[0] == n - 1
    ns.cdef("".join(f"int f{i}(int);\n" for i in range(n)))
    assert len(ns.names()) == n + 1
    ns.cdef("int one_more(void);")
    assert ns.names()[-1] == "one_more" and len(ns.names()) == n + 2
