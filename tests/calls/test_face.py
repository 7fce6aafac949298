"""A declared function is an exact builtin function (the interpreter's specialised call
path) that answers as its ndffi.Function: attributes, repr, isinstance, pickling, being
passed for a function pointer; and its real __signature__ from the C prototype."""

import inspect
import pickle
import pydoc
import types

import numpy as np
import pytest

import ndffi
from conftest import FOO_CDEF, clib_fixture

lib = clib_fixture("foo", FOO_CDEF)
slib = clib_fixture("structs", "typedef struct { double x, y; } vec2; vec2 vadd(vec2 a, vec2 b);")
cblib = clib_fixture("callbacks", "int call_int(int (*f)(int), int x); int call_int(int (*)(int), int);")


def test_a_declared_function_is_an_exact_builtin_function(lib):
    assert type(lib.add) is types.BuiltinFunctionType
    assert lib.add(2, 3) == 5 and lib.add(a=2, b=3) == 5
    assert lib.add is lib.add  # the library's one face


def test_it_answers_as_its_function(lib):
    f = lib.dsum
    assert isinstance(f, ndffi.Function) and f.__class__ is ndffi.Function
    assert repr(f) == str(f) == "<ndffi.Function double dsum(const double *x, long n)>"
    assert f.__name__ == f.__qualname__ == "dsum"
    assert f.prototype == "double dsum(const double *x, long n)"
    assert [name for name, _ in f.params] == ["x", "n"]
    assert f.ctype.cname == "double (const double *, long)"
    assert isinstance(f.address, int) and f.address != 0
    assert f.release_gil is True and f.use_errno is False
    assert f.__doc__.startswith("double dsum(const double *x, long n)\n\nA C function")
    assert pydoc.getdoc(f) == f.__doc__  # pydoc reads the builtin's own docstring
    assert f.__self__ is None  # a function, not a method of its Function
    assert "wrap" in dir(f) and "prototype" in dir(f)
    w = f.wrap(x=ndffi.In, n=ndffi.len_of("x"))
    assert w([1.0, 2.0, 3.5]) == 6.5


def test_other_builtins_are_themselves(lib):
    assert repr(len) == "<built-in function len>" and len.__name__ == "len"
    assert not isinstance(len, ndffi.Function)
    # a bound method of a Function has it as self too, but is not its face
    m = lib.add.wrap
    assert type(m) is types.BuiltinMethodType and m.__name__ == "wrap"
    assert not isinstance(m, ndffi.Function)
    with pytest.raises(TypeError, match="cast"):
        ndffi.cast("void *", m)


def test_it_pickles_and_passes_as_a_function_pointer(lib, cblib):
    f = pickle.loads(pickle.dumps(lib.add))
    assert type(f) is types.BuiltinFunctionType and f(4, 5) == 9 and f.prototype == lib.add.prototype
    assert int(ndffi.cast("void *", lib.add)) == lib.add.address
    twice = ndffi.inline("int twice(int x) { return 2 * x; }").twice
    assert cblib.call_int(twice, 21) == 42


def test_bytes_for_const_char_is_its_own_buffer(lib):
    assert lib.my_strlen(b"hello") == 5
    assert lib.my_strlen(b"ab\0cd") == 2  # C sees the bytes as they are
    with pytest.raises(TypeError, match="upcase.*immutable"):
        lib.upcase(b"abc")  # char *: C may write to it


def test_a_pointer_result(lib):
    p = lib.version()
    assert isinstance(p, ndffi.Pointer) and p.type.cname == "const char *"
    assert p.string() == b"foo 1.0"
    assert lib.version().type is p.type or lib.version().type == p.type


def test_signature_from_the_prototype(lib, slib, cblib):
    assert str(inspect.signature(lib.dsum)) == "(x: ndarray[float64], n: int) -> float"
    assert str(inspect.signature(lib.add)) == "(a: int, b: int) -> int"
    assert str(inspect.signature(lib.noop)) == "() -> None"
    assert str(inspect.signature(lib.my_printf)) == "(fmt: bytes, *args) -> int"
    assert str(inspect.signature(lib.upcase)) == "(s: bytearray) -> None"
    assert str(inspect.signature(lib.version)) == "() -> ndffi.Pointer"
    assert str(inspect.signature(lib.identity_ptr)) == "(p: ndffi.Pointer) -> ndffi.Pointer"
    assert str(inspect.signature(lib.h_close)) == "(p0: ndffi.Pointer, /) -> int"
    assert str(inspect.signature(slib.vadd)) == "(a: vec2, b: vec2) -> vec2"
    assert str(inspect.signature(cblib.call_int)) == "(f: Callable[[int], int], x: int) -> int"
    sig = inspect.signature(lib.sum_floats)
    assert sig.parameters["x"].annotation.dtype == np.float32
    assert inspect.signature(lib.dsum) is inspect.signature(lib.dsum)  # made once


def test_help_shows_the_signature(lib):
    text = pydoc.render_doc(lib.dsum, renderer=pydoc.plaintext)
    assert "dsum(x: ndarray[float64], n: int) -> float\n" in text
    assert "double dsum(const double *x, long n)" in text
    assert "method of" not in text
