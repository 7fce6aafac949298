"""Nothing C reads may change under it: a list whose items are converted is read as it was
when the conversion began (its items' __index__ or __array_interface__ may clear it), and
what a call hands C stays alive until C returns, whatever another thread does meanwhile.

C side: tests/clib/callbacks.c (row tables read after a callback ran, or after another
thread was let in) and tests/clib/numpy_funcs.c (wrap's outputs sized by an argument).
"""

import array
import gc
import threading

import numpy as np
import pytest

import ndffi
from conftest import clib_fixture
from ndffi import _ndffi

lib = clib_fixture(
    "callbacks",
    """
    double sum_rows_after(const double *const *rows, int n, int cols, void (*between)(void));
    double gated_sum_rows(const double *const *rows, int n, int cols);
    void gate_reset(void);
    void gate_wait_entered(void);
    void gate_open(void);
    typedef struct { long x; double y; } XY;
""",
)

nlib = clib_fixture(
    "numpy_funcs",
    """
    int arange_fill(double start, double step, double *out, int n);
    double dsum(const double *x, long n);
""",
)


def churn():
    """Allocate (and keep) many small arrays, so that memory freed just before is reused
    with other contents: reading it afterwards gives wrong values, not old ones."""
    return [np.full(4, -1e9) for _ in range(2000)] + [[None] * 8 for _ in range(2000)]


class Clears:
    """A number whose __index__ (or __float__) empties `target` (a list or dict) first."""

    def __init__(self, target, value):
        self.target, self.value, self.junk = target, value, None

    def __index__(self):
        self.target.clear()
        gc.collect()
        self.junk = churn()
        return self.value

    def __float__(self):
        return float(self.__index__())


def rows_of(k, n=4):
    return [np.arange(n, dtype=np.float64) + 10 * i for i in range(k)]


# ---- T ** row tables -----------------------------------------------------------------


class RowClearing:
    """A row by __array_interface__ whose lookup empties the list of rows it is in."""

    def __init__(self, rows, values):
        self.rows, self.data, self.junk = rows, np.array(values, dtype=np.float64), None

    @property
    def __array_interface__(self):
        self.rows.clear()
        gc.collect()
        self.junk = churn()
        return self.data.__array_interface__


def test_rows_cleared_by_a_rows_array_interface(lib):
    rows = rows_of(2)
    rows.append(RowClearing(rows, [100.0, 200.0, 300.0, 400.0]))
    rows += rows_of(3)
    want = (
        sum(np.arange(4.0).sum() + 40 * i for i in range(2))
        + 1000
        + sum(np.arange(4.0).sum() + 40 * i for i in range(3))
    )
    assert lib.sum_rows_after(rows, 6, 4, lambda: None) == want
    assert rows == []


def test_rows_cleared_by_python_code_while_c_holds_the_table(lib):
    rows = rows_of(8)
    want = float(sum(r.sum() for r in rows))
    kept = []

    def between():
        rows.clear()
        gc.collect()
        kept.append(churn())

    assert lib.sum_rows_after(rows, 8, 4, between) == want
    assert rows == []


def test_rows_cleared_by_another_thread_during_the_call(lib):
    rows = rows_of(8)
    want = float(sum(r.sum() for r in rows))
    result = {}
    lib.gate_reset()
    t = threading.Thread(target=lambda: result.setdefault("sum", lib.gated_sum_rows(rows, 8, 4)))
    t.start()
    lib.gate_wait_entered()  # the call is inside C, the GIL released
    rows.clear()
    gc.collect()
    junk = churn()
    lib.gate_open()
    t.join()
    assert result == {"sum": want}
    assert len(junk) == 4000


def test_a_rows_buffer_stays_exported_for_the_call(lib):
    # array.array rows: their buffers stay exported, so the rows cannot be resized
    # (and their memory moved) while C may read them.
    rows = [array.array("d", [1.0, 2.0]), array.array("d", [3.0, 4.0])]
    first = rows[0]
    refused = []

    def between():
        rows.clear()
        try:
            first.extend([0.0] * 100000)
        except BufferError as e:
            refused.append(e)

    assert lib.sum_rows_after(rows, 2, 2, between) == 10.0
    assert len(refused) == 1
    first.extend([5.0])  # after the call: its own again
    assert len(first) == 3


def test_rows_from_a_tuple_and_a_generic_sequence(lib):
    rows = tuple(rows_of(3))
    want = float(sum(r.sum() for r in rows))
    assert lib.sum_rows_after(rows, 3, 4, lambda: None) == want


# ---- new() initialisers ------------------------------------------------------------------


def test_new_array_initializer_cleared_by_an_items_index():
    init = [1, 2]
    init += [Clears(init, 3), 4, 5]
    p = ndffi.new("long[5]", init)
    assert p.as_array(5).tolist() == [1, 2, 3, 4, 5]
    assert init == []


def test_new_unsized_array_initializer_cleared_by_an_items_index():
    init = [7.5]
    init += [Clears(init, 1), 2.5]
    p = ndffi.new("double[]", init)
    assert p.as_array(3).tolist() == [7.5, 1.0, 2.5]


# ---- struct initialisers from sequences and dicts --------------------------------------


def test_struct_from_a_dict_cleared_by_a_fields_index(lib):
    d = {}
    d["x"] = Clears(d, 5)
    d["y"] = 2.5
    p = lib.new("XY *", d)
    assert (p[0].x, p[0].y) == (5, 2.5)


def test_struct_from_a_list_cleared_by_a_fields_index(lib):
    v = []
    v += [Clears(v, 6), 3.5]
    p = lib.new("XY *", v)
    assert (p[0].x, p[0].y) == (6, 3.5)


def test_array_of_structs_from_lists_cleared_on_the_way(lib):
    outer = []
    inner = [1, 1.5]
    outer += [inner, [Clears(outer, 2), 2.5], [3, 3.5]]
    p = lib.new("XY[3]", outer)
    assert [(p[i].x, p[i].y) for i in range(3)] == [(1, 1.5), (2, 2.5), (3, 3.5)]


# ---- shapes and roles ---------------------------------------------------------------------


def test_as_array_shape_cleared_by_an_items_index():
    p = ndffi.new("double[24]", list(range(24)))
    shape = []
    shape += [Clears(shape, 2), 3, 4]
    a = p.as_array(shape)
    assert a.shape == (2, 3, 4)
    assert a.ravel().tolist() == list(range(24))


def test_as_array_shape_errors_are_unchanged():
    p = ndffi.new("double[4]")
    with pytest.raises(TypeError, match="shape must be an int or a tuple of ints"):
        p.as_array(object())
    assert p.as_array(iter([2, 2])).shape == (2, 2)


def test_ufunc_roles_cleared_by_an_index(nlib):
    f = nlib.dsum
    roles = []
    roles += [("inptr", Clears(roles, 0)), ("dim", 0)]
    uf = _ndffi.make_ufunc(f, name="dsum", roles=roles, result=1, nin=1, nout=1, signature="(n)->()", min_chunk=1)
    assert uf(np.arange(5.0)) == 10.0


# ---- wrap: an output's size is the size C gets --------------------------------------------


class Growing:
    """An int that answers 4 the first time and 4000 after."""

    def __init__(self):
        self.calls = 0

    def __index__(self):
        self.calls += 1
        return 4 if self.calls == 1 else 4000


def test_wrap_out_shape_argument_is_read_once(nlib):
    fill = nlib.arange_fill.wrap(out=ndffi.Out(shape="n"))
    n = Growing()
    count, out = fill(1.0, 0.5, n)
    assert count == 4 and out.shape == (4,)
    assert out.tolist() == [1.0, 1.5, 2.0, 2.5]
    assert n.calls == 1
