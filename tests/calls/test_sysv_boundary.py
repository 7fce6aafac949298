"""By-value structs at the edge of the System V x86-64 register sequences.

A struct of at most 16 bytes travels in registers when all its eightbytes fit in what is
left of the six integer and eight SSE registers, else whole on the stack.  libffi 3.4.4
to 3.4.6 copied a struct's first INTEGER eightbyte into its register with the struct's
remaining size, so a {INTEGER, SSE} struct taking the last integer register (r9) also
overwrote the first SSE register: `float f(T, T, T, T, T, T)` with
T = {unsigned long; float} saw the sixth struct's float in place of the first's.  ndffi
hands libffi such structs as their eightbytes, so the answer does not depend on the
libffi the system has.

Generated signatures mix structs of every pair of eightbyte classes with integer and
double scalars so that structs land just inside and just past both limits, with results
in registers and in memory (which takes rdi).  Each is checked as a call, through `...`,
and as a callback C calls.
"""

import random

import numpy as np
import pytest

import ndffi

# kind: (C fields, C type of each field is int-like?)
KINDS = {
    "if": [("unsigned long", "i"), ("float", "f")],  # INTEGER, SSE (the libffi bug)
    "iif": [("int", "a"), ("int", "b"), ("float", "c")],  # INTEGER, SSE, 12 bytes
    "fi": [("double", "d"), ("long", "l")],  # SSE, INTEGER
    "dd": [("double", "x"), ("double", "y")],  # SSE, SSE
    "ll": [("long", "a"), ("long", "b")],  # INTEGER, INTEGER
    "ff": [("float", "x"), ("float", "y")],  # SSE (one eightbyte)
    "big": [("long", "a"), ("long", "b"), ("long", "c")],  # memory
    "L": None,  # long
    "D": None,  # double
}
RESULTS = ["void", "float", "if", "big", "dd"]


def _signatures():
    sigs = [
        (["if"] * 6, "float"),
        (["iif"] * 6, "float"),
        (["if"] * 7, "float"),
        (["L"] * 5 + ["if", "D"], "float"),
        (["D"] + ["if"] * 5 + ["if"], "float"),
        (["if"] * 5 + ["D"] * 3 + ["if"], "void"),
        (["big"] + ["if"] * 6, "big"),
    ]
    for ints in (0, 4, 5, 6):
        for dbls in (0, 1, 7, 8):
            for structs in (["if"], ["iif"], ["fi"], ["if", "if"], ["ll", "if"], ["dd"], ["ff", "if"]):
                sigs.append(
                    (
                        ["L"] * ints + ["D"] * dbls + structs + ["D", "L"],
                        RESULTS[(ints + dbls + len(structs)) % len(RESULTS)],
                    )
                )
    rng = random.Random(848)
    for _ in range(40):
        args = [rng.choice(list(KINDS)) for _ in range(rng.randint(1, 11))]
        sigs.append((args, rng.choice(RESULTS)))
    return sigs


SIGS = _signatures()


def _ctype(kind):
    return {"L": "long", "D": "double"}.get(kind, f"struct k_{kind}")


def _fields(kind):
    return KINDS[kind] or [("long" if kind == "L" else "double", None)]


def _value(fn, arg, field, ctype):
    v = (fn % 97) * 1000 + arg * 10 + field + 1
    v = -v if arg % 2 and not ctype.startswith("unsigned") else v
    return v + 0.5 if ctype in ("float", "double") else v


def _source():
    out = ["double rec[64]; int nrec;"]
    for kind, fields in KINDS.items():
        if fields:
            out.append(f"struct k_{kind} {{ " + " ".join(f"{t} {n};" for t, n in fields) + " };")
    out.append("#include <stdarg.h>")
    decls = [out[0]] + out[1:-1]
    for n, (args, res) in enumerate(SIGS):
        rtype = {"void": "void", "float": "float"}.get(res, f"struct k_{res}")
        params = ", ".join(f"{_ctype(k)} a{j}" for j, k in enumerate(args))
        body = ["nrec = 0;"]
        for j, k in enumerate(args):
            if KINDS[k]:
                body += [f"rec[nrec++] = a{j}.{name};" for _, name in KINDS[k]]
            else:
                body.append(f"rec[nrec++] = a{j};")
        ret = {
            "void": "return;",
            "float": "return (float)rec[0];",
            "if": "{ struct k_if r = {nrec, (float)rec[0]}; return r; }",
            "big": "{ struct k_big r = {nrec, 7, -8}; return r; }",
            "dd": "{ struct k_dd r = {rec[0], nrec}; return r; }",
        }[res]
        out.append(f"{rtype} f{n}({params}) {{ {' '.join(body)} {ret} }}")
        decls.append(f"{rtype} f{n}({params});")
        # the same arguments through `...`
        vbody = ["va_list ap; va_start(ap, tag); nrec = 0;"]
        for _j, k in enumerate(args):
            vbody.append(f"{{ {_ctype(k)} a = va_arg(ap, {_ctype(k)});")
            vbody += [f"rec[nrec++] = a.{name};" for _, name in KINDS[k]] if KINDS[k] else ["rec[nrec++] = a;"]
            vbody.append("}")
        out.append(f"void v{n}(int tag, ...) {{ {' '.join(vbody)} va_end(ap); }}")
        decls.append(f"void v{n}(int tag, ...);")
        # C calling a callback of this signature with known values
        cargs = []
        for j, k in enumerate(args):
            vals = [_value(n, j, i, t) for i, (t, _) in enumerate(_fields(k))]
            lit = ", ".join(repr(v) for v in vals)
            cargs.append(f"({_ctype(k)}){{{lit}}}" if KINDS[k] else lit)
        call = f"cb({', '.join(cargs)})"
        keep = {
            "void": f"{call}; nrec = 0;",
            "float": f"rec[0] = {call}; nrec = 1;",
            "if": f"{{ struct k_if r = {call}; rec[0] = r.i; rec[1] = r.f; nrec = 2; }}",
            "big": f"{{ struct k_big r = {call}; rec[0] = r.a; rec[1] = r.b; rec[2] = r.c; nrec = 3; }}",
            "dd": f"{{ struct k_dd r = {call}; rec[0] = r.x; rec[1] = r.y; nrec = 2; }}",
        }[res]
        out.append(f"void c{n}({rtype} (*cb)({params})) {{ {keep} }}")
        decls.append(f"void c{n}({rtype} (*cb)({params}));")
    return "\n".join(out), "\n".join(decls).replace("#include <stdarg.h>", "")


@pytest.fixture(scope="module")
def blib(module_cache):
    code, decls = _source()
    decls = "extern " + decls.replace("double rec[64]; int nrec;", "double rec[64]; extern int nrec;", 1)
    return ndffi.inline(code, cdef=decls)


def _args(blib, n, args):
    made, flat = [], []
    for j, k in enumerate(args):
        vals = [_value(n, j, i, t) for i, (t, _) in enumerate(_fields(k))]
        flat += vals
        made.append(blib.types[f"struct k_{k}"](*vals) if KINDS[k] else vals[0])
    return made, [float(v) for v in flat]


def _recorded(blib):
    return list(blib.rec.as_array(64)[: blib.nrec])


def _check_result(res, r, flat):
    if res == "float":
        assert r == np.float32(flat[0])
    elif res == "if":
        assert (r.i, r.f) == (len(flat), np.float32(flat[0]))
    elif res == "big":
        assert (r.a, r.b, r.c) == (len(flat), 7, -8)
    elif res == "dd":
        assert (r.x, r.y) == (flat[0], len(flat))
    else:
        assert r is None


def _sig_id(sig):
    return "-".join(sig[0]) + "->" + sig[1]


@pytest.mark.parametrize("n", range(len(SIGS)), ids=[_sig_id(s) for s in SIGS])
def test_call(blib, n):
    args, res = SIGS[n]
    made, flat = _args(blib, n, args)
    r = getattr(blib, f"f{n}")(*made)
    assert _recorded(blib) == flat
    _check_result(res, r, flat)


def test_the_libffi_848_shape(blib):
    """The six {unsigned long; float} structs of libffi's struct_int_float test."""
    T = blib.types["struct k_if"]
    assert blib.f0(*[T(k, k + 0.25) for k in range(1, 7)]) == 1.0  # the first struct's i
    assert _recorded(blib) == [x for k in range(1, 7) for x in (k, k + 0.25)]  # its f is 1.25


@pytest.mark.parametrize("n", range(len(SIGS)), ids=[_sig_id(s) for s in SIGS])
def test_varargs(blib, n):
    args, _ = SIGS[n]
    made, flat = _args(blib, n, args)
    made = [ndffi.cast("long", v) if k == "L" else v for k, v in zip(args, made, strict=True)]  # an int is an int
    getattr(blib, f"v{n}")(0, *made)
    assert _recorded(blib) == flat


@pytest.mark.parametrize("release_gil", [True, False])
@pytest.mark.parametrize("n", range(len(SIGS)), ids=[_sig_id(s) for s in SIGS])
def test_callback(blib, n, release_gil):
    args, res = SIGS[n]
    _, flat = _args(blib, n, args)
    seen = []

    def cb(*got):
        for k, v in zip(args, got, strict=True):
            seen.extend(float(getattr(v, name)) for _, name in KINDS[k]) if KINDS[k] else seen.append(float(v))
        T = blib.types
        return {
            "void": None,
            "float": flat[0],
            "if": T["struct k_if"](len(flat), flat[0]),
            "big": T["struct k_big"](len(flat), 7, -8),
            "dd": T["struct k_dd"](flat[0], len(flat)),
        }[res]

    fn = getattr(blib, f"c{n}")
    if not release_gil:
        fn = blib._ns.function(f"c{n}", fn.address, blib._handle, False, False)
    fn(cb)
    assert seen == flat
    got = _recorded(blib)
    expect = {
        "void": [],
        "float": [float(np.float32(flat[0]))],
        "if": [len(flat), float(np.float32(flat[0]))],
        "big": [len(flat), 7, -8],
        "dd": [flat[0], len(flat)],
    }[res]
    assert got == expect
