"""A user's script, checked with `mypy --strict` by tests/dist/test_typed.py: what a typed
code base writes against ndffi's public API.  It also runs (python tests/dist/typed_user.py)."""

import numpy as np
import numpy.typing as npt

import ndffi


def main() -> None:
    m: ndffi.Library = ndffi.load("m")
    m.cdef("double cos(double x); double frexp(double x, int *e);")
    c: float = m.cos(0.0)
    assert c == 1.0

    e: ndffi.Pointer = ndffi.new("int *")
    mantissa: float = m.frexp(48.0, e)
    exponent: int = e[0]
    assert (mantissa, exponent) == (0.75, 6)

    v: ndffi.Value = ndffi.cast("long", 2**40)
    p: ndffi.Pointer = ndffi.cast("double *", np.zeros(3))
    assert p[0] == 0.0 and v is not None

    libc: ndffi.Library = ndffi.load(None).cdef(
        "void qsort(void *base, size_t n, size_t size, int (*cmp)(const int *, const int *));")

    def compare(a: ndffi.Pointer, b: ndffi.Pointer) -> int:
        x: int = a[0]
        y: int = b[0]
        return (x > y) - (x < y)

    cmp: ndffi.Callback = ndffi.callback("int(const int *, const int *)", compare)
    arr: npt.NDArray[np.intc] = np.array([3, 1, 2], np.intc)
    libc.qsort(arr, len(arr), arr.itemsize, cmp)
    assert arr.tolist() == [1, 2, 3]

    lib: ndffi.Library = ndffi.inline("""
        double gauss(double x) { return x * x; }
        void fill(double *out, int n) { for (int i = 0; i < n; i++) out[i] = i; }
    """)
    fill = ndffi.wrap(lib.fill, out=ndffi.Out(shape=("n",)))
    filled: npt.NDArray[np.float64] = fill(5)
    assert filled.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    gauss: np.ufunc = ndffi.ufunc(lib.gauss)
    squares: npt.NDArray[np.float64] = gauss(np.arange(3.0))
    assert squares.tolist() == [0.0, 1.0, 4.0]


if __name__ == "__main__":
    main()
