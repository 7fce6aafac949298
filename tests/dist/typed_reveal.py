"""What mypy sees of ndffi's API, checked by tests/dist/test_typed.py: each reveal_type()
is followed by the type mypy must reveal.  None of them is Any: only what C gives back
for a declared type (a call's result, an element, a field, a global, ``cast``'s result,
whose kind its C type spelling decides) is dynamic.  (Checked by mypy, never run.)"""

from collections.abc import Callable
from typing import Any

import ndffi


def compare(a: ndffi.Pointer, b: ndffi.Pointer) -> int:
    return 0


def main() -> None:
    m = ndffi.load("m")
    reveal_type(m)  # ndffi.library.Library
    reveal_type(m.cdef("double cos(double);"))  # ndffi.library.Library
    reveal_type(m.types)  # ndffi.library.Types
    reveal_type(m.path)  # str
    reveal_type(m.new("int[4]"))  # ndffi._ndffi.Pointer
    reveal_type(m.typeof("int"))  # ndffi._ndffi.CType
    reveal_type(m.sizeof("int"))  # int
    reveal_type(m.callback("int(const int *, const int *)", compare))  # ndffi._ndffi.Callback
    p = ndffi.new("int *")
    reveal_type(p)  # ndffi._ndffi.Pointer
    reveal_type(p.address)  # int
    reveal_type(p.type)  # ndffi._ndffi.CType
    reveal_type(p + 1)  # ndffi._ndffi.Pointer
    reveal_type(p - 1)  # ndffi._ndffi.Pointer
    reveal_type(p - p)  # int
    reveal_type(p.string())  # bytes
    reveal_type(ndffi.callback("int(const int *, const int *)", compare))  # ndffi._ndffi.Callback
    reveal_type(ndffi.callback("int(int)"))  # def (def (*Any, **Any) -> Any) -> ndffi._ndffi.Callback
    cb = ndffi.callback("int(const int *, const int *)", compare)
    reveal_type(cb.address)  # int
    reveal_type(cb.pointer)  # ndffi._ndffi.Pointer
    reveal_type(cb.prototype)  # str
    t = ndffi.typeof("int")
    reveal_type(t)  # ndffi._ndffi.CType
    reveal_type(t.size)  # int
    reveal_type(t.kind)  # str
    reveal_type(t.item)  # ndffi._ndffi.CType | None
    reveal_type(t.fields)  # list[tuple[str, ndffi._ndffi.CType, int, tuple[int, int] | None]] | None
    reveal_type(ndffi.sizeof("long"))  # int
    reveal_type(ndffi.addressof(p))  # int
    reveal_type(ndffi.inline("int f(void) { return 1; }"))  # ndffi.library.Library
    reveal_type(ndffi.build(["x.c"]))  # ndffi.library.Library
    f: Callable[..., Any] = m.cos
    reveal_type(ndffi.wrap(f))  # def (*Any, **Any) -> Any
    reveal_type(ndffi.ufunc(f))  # numpy.ufunc
    reveal_type(ndffi.gufunc(f, "(n)->()"))  # numpy.ufunc
    reveal_type(ndffi.Out(shape=("n",)))  # ndffi.numpy.params.Out
    reveal_type(ndffi.len_of("x"))  # ndffi.numpy.params.len_of
    reveal_type(ndffi.layout("struct s { int a; };"))  # dict[str, object]
    reveal_type(ndffi.abis())  # dict[str, str]
    reveal_type(ndffi.host_abi())  # str
    reveal_type(ndffi.errno())  # int
    fn = m.cos
    assert isinstance(fn, ndffi.Function)
    reveal_type(fn.prototype)  # str
    reveal_type(fn.params)  # tuple[tuple[str, ndffi._ndffi.CType], ...]
    reveal_type(fn.ufunc())  # numpy.ufunc
    reveal_type(fn.assume_const())  # ndffi._ndffi.Function
    v = ndffi.cast("long", 3)
    assert isinstance(v, ndffi.Value)
    reveal_type(v.type)  # ndffi._ndffi.CType
    reveal_type(int(v))  # int
