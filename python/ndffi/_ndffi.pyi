from collections.abc import Sequence
from typing import Any

from ndffi import (
    CDefError as CDefError,
    Callback as Callback,
    Function as Function,
    Pointer as Pointer,
    StructValue as StructValue,
    Value as Value
)


MAX_NESTING: int = ...

MAX_TYPE_DEPTH: int = ...

class CType:
    """A C type."""

    @property
    def size(self) -> int: ...

    @property
    def alignment(self) -> int: ...

    @property
    def kind(self) -> str: ...

    @property
    def fields(self) -> object:
        """
        [(name, CType, offset, (bit_offset, bit_width) or None)] of a struct or union
        """

    @property
    def enumerators(self) -> object:
        """[(name, value)] of an enum"""

    @property
    def name(self) -> str:
        """
        the tag (or typedef name) of a struct, union or enum; the spelling otherwise
        """

    def __call__(self, *args, **kwargs) -> object: ...

    @property
    def cname(self) -> str: ...

    @property
    def is_const(self) -> bool: ...

    @property
    def item(self) -> object:
        """the pointee, element or result type"""

    @property
    def params(self) -> object:
        """a function type's parameter types (None for other types)"""

    @property
    def length(self) -> object: ...

    @property
    def dtype(self) -> object: ...

    def __str__(self) -> str: ...

    def __repr__(self) -> str: ...

    def __eq__(self, arg: object, /) -> bool: ...

    def __hash__(self) -> int: ...

class Handle:
    """An open shared library."""

    @property
    def path(self) -> str: ...

    def symbol(self, arg: str, /) -> int | None:
        """The address of an exported symbol, or None."""

def dlopen(path: str | None, global_: bool = ...) -> Handle: ...

class Namespace:
    """A scope of C declarations."""

    def __init__(self) -> None: ...

    def cdef(self, arg: str, /) -> list[str]:
        """
        Parse declarations; returns the names of the functions and variables it added.
        """

    def names(self) -> list[str]: ...

    def typedef_names(self) -> list[str]: ...

    def decl(self, arg: str, /) -> object: ...

    def typedef(self, arg: str, /) -> object: ...

    def constant(self, arg: str, /) -> object:
        """(value, CType) of a #define or enumerator, or None"""

    def variable(self, name: str, address: int, keepalive: object | None = ...) -> object:
        """
        A Pointer to a global variable (to the first element of a global array).
        """

    def has_tag(self, arg0: str, arg1: str, /) -> bool: ...

    def constant_names(self) -> list[str]: ...

    def type(self, arg: str, /) -> object: ...

    def function(self, name: str, address: int, keepalive: object | None, release_gil: bool = ..., use_errno: bool = ..., allow_direct: bool = ..., assume_const: Sequence[str] = ...) -> object: ...

    def new(self, ctype: str, init: object | None = ...) -> object: ...

    def cast(self, arg0: str, arg1: object, /) -> object: ...

    def callback(self, signature: object, fn: object, on_error: object | None = ..., allow_direct: bool = ...) -> object: ...

FORCE_LIBFFI: bool = ...

def make_ufunc(function, *, name=..., doc=..., roles, result=..., nin, nout, signature=..., threads=..., min_chunk=..., spec=...):
    """Make a numpy.ufunc calling a Function."""

def ufunc_spec(*args, **kwargs) -> Any:
    """How an ndffi ufunc was made (None for other ufuncs)."""

def ufunc_info(*args, **kwargs) -> Any:
    """The Function, loop kind and threads of an ndffi ufunc."""

def errno() -> int:
    """
    The errno saved after the last call (of a library loaded with use_errno=True) in this thread.
    """

def set_errno(arg: int, /) -> None:
    """Set the errno the next call in this thread starts with."""
