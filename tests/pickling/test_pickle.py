"""Pickling: ndffi objects rebuild in a fresh process from (library, declarations)."""

import concurrent.futures
import multiprocessing
import pickle
import subprocess
import sys

import numpy as np
import pytest

import ndffi

DECLS = """
    typedef double real;
    double gauss(double x);
    void to_polar(double x, double y, double *r, double *theta);
    double dsum(const double *x, long n);
    int normalize(double *x, int n);
"""


@pytest.fixture(scope="module")
def lib(clib_dir):
    lib = ndffi.load("libnumpy_funcs", clib_dir)
    lib.cdef(DECLS)
    lib.cdef("void cumsum(const double *x, int n, double *out);", release_gil=False)
    return lib


def in_fresh_process(payload, code):
    """Run `code` in a new interpreter with `obj` = pickle.loads(payload); return its stdout."""
    script = "import pickle, sys\nimport numpy as np\nobj = pickle.loads(sys.stdin.buffer.read())\n" + code
    proc = subprocess.run([sys.executable, "-c", script], input=payload, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode().strip()


def test_library_rebuilds_in_a_fresh_process(lib):
    payload = pickle.dumps(lib)
    out = in_fresh_process(payload, "print(obj.path); print(obj.gauss(0.0)); print(obj.cumsum.release_gil)")
    assert out.splitlines() == [lib.path, "1.0", "False"]


def test_function_wrapped_ufunc_gufunc_in_a_fresh_process(lib, fiblib):
    objects = {
        "fib": fiblib.fib,
        "fibseries": fiblib.fibseries.wrap(a=ndffi.In, elements=ndffi.len_of("a"), series=ndffi.Out(like="a")),
        "fibu": fiblib.fib.ufunc(),
        "polar": lib.to_polar.ufunc(outputs=["r", "theta"], threads=2),
        "normf": lib.dsum.gufunc("(n)->()", name="normf"),
        "normalize": lib.normalize.wrap(x=ndffi.InOut, n=ndffi.len_of("x"), check=ndffi.nonzero_raises),
        "real": lib.types.real,
        "int_t": ndffi.typeof("int *"),
        "value": ndffi.cast("short", 70000),
    }
    code = """
o = obj
print(o["fib"](8))
print(o["fibseries"]([5, 13, 2, 6]).tolist())
print(o["fibu"](np.arange(1, 6)).tolist(), type(o["fibu"]).__name__)
r, t = o["polar"](3.0, 4.0); print(float(r), o["polar"].nout)
print(o["normf"](np.arange(6.0).reshape(2, 3)).tolist(), o["normf"].__name__, o["normf"].signature)
x = np.array([3.0, 4.0]); o["normalize"](x); print(x.tolist())
try:
    o["normalize"](np.zeros(2))
except Exception as e:
    print(type(e).__name__, e.status)
print(o["real"], o["int_t"], o["value"].value, o["value"].type)
"""
    out = in_fresh_process(pickle.dumps(objects), code).splitlines()
    assert out == [
        "13",
        "[3, 144, 1, 5]",
        "[0, 1, 1, 2, 3] ufunc",
        "5.0 2",
        "[3.0, 12.0] normf (n)->()",
        "[0.6, 0.8]",
        "StatusError 2",
        "double int * 4464 short",
    ]


def test_round_trip_in_this_process_reuses_one_rebuilt_library(lib):
    g = lib.gauss.ufunc()
    g2 = pickle.loads(pickle.dumps(g))
    assert isinstance(g2, np.ufunc) and g2 is not g
    assert pickle.loads(pickle.dumps(g)) is g2  # rebuilt once per process
    f2 = pickle.loads(pickle.dumps(lib.dsum))
    assert f2.prototype == "double dsum(const double *x, long n)"
    assert pickle.loads(pickle.dumps(lib.gauss)) is pickle.loads(pickle.dumps(lib.gauss))
    x = np.linspace(-1, 1, 5)
    assert np.array_equal(g2(x), g(x))


def test_numpy_ufuncs_still_pickle_by_name():
    assert pickle.loads(pickle.dumps(np.add)) is np.add
    assert pickle.loads(pickle.dumps(np.sin)) is np.sin


def test_pointers_and_unknown_functions_refuse(lib):
    p = ndffi.new("int *", 5)
    with pytest.raises(
        TypeError,
        match=r"cannot pickle ndffi.Pointer .*: it is a raw address, meaningless "
        r"in another process",
    ):
        pickle.dumps(p)
    f = lib._ns.function("gauss", lib._handle.symbol("gauss"), lib._handle)
    with pytest.raises(
        TypeError,
        match=r"cannot pickle ndffi.Function 'double gauss\(double x\)': it does "
        r"not come from a Library's declarations",
    ):
        pickle.dumps(f)


def test_struct_values_holding_pointers_refuse():
    # their bytes hold raw addresses: rebuilt elsewhere (or after the memory went), C
    # would read through them
    lib = ndffi.load(None).cdef(
        "struct flat { int n; double x[2]; }; struct holder { int n; double *data; };"
        "struct outer { struct { char *names[2]; } inner[1]; };"
    )
    flat = lib.new("struct flat *", {"n": 2, "x": [1.5, 2.5]})[0]
    assert bytes(pickle.loads(pickle.dumps(flat))) == bytes(flat)
    data = np.ones(3)
    for value, member in (
        (lib.types["struct holder"](n=3, data=data), "data"),
        (lib.types["struct outer"](), r"inner\[\]\.names\[\]"),
    ):
        with pytest.raises(TypeError, match=f"its member '{member}' is a pointer"):
            pickle.dumps(value)


def _apply(fn, arg):
    return fn(arg)


def test_process_pool_with_spawned_workers(lib, fiblib):
    fibseries = fiblib.fibseries.wrap(a=ndffi.In, elements=ndffi.len_of("a"), series=ndffi.Out(like="a"))
    gauss = lib.gauss.ufunc()
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        series = pool.submit(_apply, fibseries, [1, 2, 3, 4, 5, 6, 7, 8]).result(timeout=120)
        g = pool.submit(_apply, gauss, np.array([0.0, 1.0])).result(timeout=120)
    assert series.tolist() == [0, 1, 1, 2, 3, 5, 8, 13]
    assert g.tolist() == [lib.gauss(0.0), lib.gauss(1.0)]  # the C function, bit for bit


def test_struct_values_and_their_types_in_a_fresh_process(clib_dir):
    lib = ndffi.load("libstructs", clib_dir)
    lib.cdef("typedef struct { double x, y; } vec2; vec2 vadd(vec2 a, vec2 b);")
    v = lib.vadd((1, 2), (3, 4))
    payload = pickle.dumps({"v": v, "T": lib.types.vec2, "lib": lib})
    out = in_fresh_process(payload, "v = obj['v']; print(v.x, v.y); print(obj['lib'].vadd(v, obj['T'](0.5, 0.25)).y)")
    assert out.splitlines() == ["4.0 6.0", "6.25"]


NUMPY_PICKLING = r"""
import copyreg, pickle, sys
import numpy as np
numpy_reducer = copyreg.dispatch_table.get(np.ufunc)
cases = [(name, proto) for name in ("add", "sin", "matmul") for proto in (2, 5)]
before = [pickle.dumps(getattr(np, name), protocol=proto) for name, proto in cases]
import ndffi
print(copyreg.dispatch_table.get(np.ufunc) is numpy_reducer)   # import ndffi changes nothing
lib = ndffi.load(sys.argv[1], sys.argv[2])
lib.cdef("double gauss(double x);")
g = lib.gauss.ufunc()
after = [pickle.dumps(getattr(np, name), protocol=proto) for name, proto in cases]
print(after == before)                                           # NumPy's ufuncs: NumPy's bytes
print(all(pickle.loads(b) is getattr(np, name) for b, (name, _) in zip(after, cases)))
g2 = pickle.loads(pickle.dumps(g))                               # ndffi's: by how it was made
print(g2 is not g and float(g2(0.5)) == float(g(0.5)))
"""


def test_numpy_ufuncs_pickle_by_numpys_reducer_and_ndffis_by_ndffis(clib_dir):
    proc = subprocess.run(
        [sys.executable, "-c", NUMPY_PICKLING, "libnumpy_funcs", clib_dir], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "True", "True"]


ASM_HEADER = """
double my_cos(double x) __asm__("cos");   /* the library's symbol has another name */
double sin(double x);
"""


def test_a_function_bound_by_an_asm_label_pickles_as_any_other(tmp_path, cache):
    (tmp_path / "asm.h").write_text(ASM_HEADER)
    m = ndffi.load("m", header=str(tmp_path / "asm.h"), use_errno=True)
    assert m.header["aliases"] == {"my_cos": "cos"}
    assert m.my_cos(0.0) == 1.0
    # Made the one way every Function is: the library's options, and its pickling record.
    assert (m.my_cos.release_gil, m.my_cos.use_errno) == (m.sin.release_gil, m.sin.use_errno) == (True, True)
    out = in_fresh_process(pickle.dumps((m.my_cos, m.sin)), "f, s = obj; print(f(0.0), s(0.0), f.__name__)")
    assert out.split() == ["1.0", "0.0", "my_cos"]
    assert pickle.loads(pickle.dumps(m.my_cos)) is pickle.loads(pickle.dumps(m.my_cos))


def test_copies_of_struct_values_are_of_the_same_type():
    # copy.copy and copy.deepcopy go through the reducer: in this process they rebuild
    # nothing, so the library's functions take the copies
    import copy

    lib = ndffi.inline(
        "typedef struct { double x, y; } vec2; double norm1(const vec2 *v) { return v->x + v->y; }",
        name="pickle_copy",
    )
    v = lib.types.vec2(1.0, 2.0)
    for c in (copy.copy(v), copy.deepcopy(v), pickle.loads(pickle.dumps(v))):
        assert c.__ctype__ == v.__ctype__ and lib.norm1(c) == 3.0
