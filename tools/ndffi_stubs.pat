# nanobind stubgen patterns for ndffi._ndffi (tools/stubgen.py): the types of what the
# compiled module cannot describe at run time.  Each entry is a regular expression
# matched against a member's qualified name, then the lines that replace its stub;
# '\doc' copies the member's docstring.  A pattern that matches nothing is an error.

# ---- the module --------------------------------------------------------------------------

^ndffi\._ndffi\.__prefix__$:
    \import numpy
    \import inspect
    \from collections.abc import Callable, Iterator, Sequence
    \from typing import Any, Literal, overload

^ndffi\._ndffi\.make_ufunc$:
    def make_ufunc(function: Function, *, name: str | None = None, doc: str = "", roles: Sequence[tuple[str, int] | None], result: int = -1, nin: int, nout: int, signature: str | None = None, threads: int = 1, min_chunk: int = 32768, spec: object = None) -> numpy.ufunc:
        \doc

^ndffi\._ndffi\.ufunc_spec$:
    def ufunc_spec(ufunc: numpy.ufunc, /) -> object:
        \doc

^ndffi\._ndffi\.ufunc_info$:
    def ufunc_info(ufunc: numpy.ufunc, /) -> tuple[Function, str, int] | None:
        \doc

^ndffi\._ndffi\._closure_stats$:
    def _closure_stats() -> tuple[int, int, int, int, int]:
        \doc

^ndffi\._ndffi\._layout$:
    def _layout(text: str, abi: str | None = None) -> dict[str, object]:
        \doc

^ndffi\._ndffi\._abis$:
    def _abis() -> dict[str, str]:
        \doc

^ndffi\._ndffi\._register_function_pointer_source$:
    def _register_function_pointer_source(cls: type, conv: Callable[[object, CType], int | str], /) -> None:
        \doc

# ---- CType and Namespace (nanobind classes: only what returns a Python object) ----------

^ndffi\._ndffi\.CType\.fields$:
    @property
    def fields(self) -> list[tuple[str, CType, int, tuple[int, int] | None]] | None:
        \doc

^ndffi\._ndffi\.CType\.enumerators$:
    @property
    def enumerators(self) -> list[tuple[str, int]] | None:
        \doc

^ndffi\._ndffi\.CType\.item$:
    @property
    def item(self) -> CType | None:
        \doc

^ndffi\._ndffi\.CType\.params$:
    @property
    def params(self) -> tuple[CType, ...] | None:
        \doc

^ndffi\._ndffi\.CType\.length$:
    @property
    def length(self) -> int | None:
        \doc

^ndffi\._ndffi\.CType\.dtype$:
    @property
    def dtype(self) -> numpy.dtype[numpy.generic]:
        \doc

^ndffi\._ndffi\.CType\.__call__$:
    def __call__(self, *args: object, **fields: object) -> StructValue:
        """A struct or union value of this type, from its fields (by position or name)."""

^ndffi\._ndffi\.Namespace\.decl$:
    def decl(self, name: str, /) -> tuple[Literal["function", "variable"], str, CType] | None:
        """(kind, C declaration, CType) of a declared function or variable, or None."""

^ndffi\._ndffi\.Namespace\.typedef$:
    def typedef(self, name: str, /) -> CType | None:
        """The CType a typedef name stands for, or None."""

^ndffi\._ndffi\.Namespace\.constant$:
    def constant(self, name: str, /) -> tuple[int | float | str | bytes, CType] | None:
        \doc

^ndffi\._ndffi\.Namespace\.variable$:
    def variable(self, name: str, address: int, keepalive: object | None = None) -> Pointer:
        \doc

^ndffi\._ndffi\.Namespace\.type$:
    def type(self, spelling: str, /) -> CType:
        """The CType of a C type spelling ("int *", "struct point")."""

^ndffi\._ndffi\.Namespace\.function$:
    def function(self, name: str, address: int, keepalive: object | None, release_gil: bool = True, use_errno: bool = False, allow_direct: bool = True, home: object | None = None) -> Function: ...

^ndffi\._ndffi\.Namespace\.function_assuming_const$:
    def function_assuming_const(self, name: str, assume_const: Sequence[str], address: int, keepalive: object | None, release_gil: bool, use_errno: bool, home: object | None) -> Function: ...

^ndffi\._ndffi\.Namespace\.new$:
    def new(self, ctype: str, init: object | None = None) -> Pointer:
        """Zeroed C memory of ctype, owned by the returned Pointer; init sets its value."""

^ndffi\._ndffi\.Namespace\.cast$:
    def cast(self, ctype: str, value: object, /) -> Pointer | Value:
        """value as C type ctype: a Pointer for pointer types, a Value otherwise."""

^ndffi\._ndffi\.Namespace\.callback$:
    def callback(self, signature: str | CType, fn: object, on_error: object | None = None, allow_direct: bool = True) -> Callback: ...

# ---- the types written against the C API -------------------------------------------------
# What C gives back (an element, a call's result, a field) has the type of its C
# declaration, known only at run time: those are Any, as ctypes' and cffi's are.

^ndffi\._ndffi\.(Pointer|Value|StructValue)\.__(lt|le|gt|ge)__$:
    def __\2__(self, other: object, /) -> bool: ...

^ndffi\._ndffi\.(Pointer|Value|StructValue)\.__(eq|ne)__$:
    def __\2__(self, other: object, /) -> bool: ...

^ndffi\._ndffi\.(Pointer|Value|StructValue|Function|Callback)\.__repr__$:
    def __repr__(self) -> str: ...

^ndffi\._ndffi\.Pointer\.__hash__$:
    def __hash__(self) -> int: ...

^ndffi\._ndffi\.(Value|StructValue)\.__hash__$:
    __hash__: None  # type: ignore[assignment]

^ndffi\._ndffi\.Pointer\.__call__$:
    def __call__(self, *args: object) -> Any:
        """Call the C function a function pointer points to, checked by its type."""

^ndffi\._ndffi\.Pointer\.__iter__$:
    def __iter__(self) -> Iterator[Any]: ...

^ndffi\._ndffi\.Pointer\.__(add|radd)__$:
    def __\1__(self, offset: int, /) -> Pointer: ...

^ndffi\._ndffi\.Pointer\.__sub__$:
    @overload
    def __sub__(self, other: int, /) -> Pointer:
        """p - i: a Pointer i elements back."""
    @overload
    def __sub__(self, other: Pointer, /) -> int:
        """p - q: the distance in elements."""

^ndffi\._ndffi\.Pointer\.__rsub__$:
    def __rsub__(self, other: Pointer, /) -> int: ...

^ndffi\._ndffi\.Pointer\.__bool__$:
    def __bool__(self) -> bool: ...

^ndffi\._ndffi\.(Pointer|Value)\.__int__$:
    def __int__(self) -> int: ...

^ndffi\._ndffi\.Pointer\.__getitem__$:
    def __getitem__(self, index: int | slice, /) -> Any: ...

^ndffi\._ndffi\.Pointer\.__setitem__$:
    def __setitem__(self, index: int | slice, value: object, /) -> None: ...

^ndffi\._ndffi\.Pointer\.__delitem__$:
    def __delitem__(self, index: int, /) -> None: ...

^ndffi\._ndffi\.Pointer\.__len__$:
    def __len__(self) -> int: ...

^ndffi\._ndffi\.Pointer\.string$:
    def string(self, length: int | None = None) -> bytes:
        \doc

^ndffi\._ndffi\.Pointer\.as_array$:
    def as_array(self, shape: int | tuple[int, ...], dtype: object = None) -> numpy.ndarray[tuple[int, ...], numpy.dtype[numpy.generic]]:
        \doc

^ndffi\._ndffi\.(Pointer|Function|Callback)\.address$:
    @property
    def address(self) -> int:
        \doc

^ndffi\._ndffi\.(Pointer|Value)\.type$:
    @property
    def type(self) -> CType:
        \doc

^ndffi\._ndffi\.Value\.value$:
    @property
    def value(self) -> int | float | numpy.longdouble | Pointer:
        \doc

^ndffi\._ndffi\.Value\.__float__$:
    def __float__(self) -> float: ...

^ndffi\._ndffi\.Value\.__index__$:
    def __index__(self) -> int: ...

^ndffi\._ndffi\.(Function|Callback)\.__call__$:
    def __call__(self, *args: object) -> Any: ...

^ndffi\._ndffi\.(Function|Callback)\.__(name|qualname)__$:
    @property
    def __\2__(self) -> str: ...

^ndffi\._ndffi\.Function\.__signature__$:
    @property
    def __signature__(self) -> inspect.Signature: ...

^ndffi\._ndffi\.Function\.__self__$:
    @property
    def __self__(self) -> None: ...

^ndffi\._ndffi\.Function\.__reduce__$:
    def __reduce__(self) -> tuple[object, ...]: ...

^ndffi\._ndffi\.Function\._variadic_plans$:
    @property
    def _variadic_plans(self) -> tuple[tuple[str, ...], ...]: ...

^ndffi\._ndffi\.Function\.wrap$:
    def wrap(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        \doc

^ndffi\._ndffi\.Function\.(ufunc|gufunc)$:
    def \1(self, *args: Any, **kwargs: Any) -> numpy.ufunc:
        \doc

^ndffi\._ndffi\.Function\.assume_const$:
    def assume_const(self, *params: str) -> Function:
        \doc

^ndffi\._ndffi\.Function\.prototype$:
    @property
    def prototype(self) -> str:
        \doc

^ndffi\._ndffi\.(Function|Callback)\.ctype$:
    @property
    def ctype(self) -> CType:
        \doc

^ndffi\._ndffi\.Function\.params$:
    @property
    def params(self) -> tuple[tuple[str, CType], ...]:
        \doc

^ndffi\._ndffi\.(Function|Callback)\.(release_gil|use_errno|direct|released)$:
    @property
    def \2(self) -> bool:
        \doc

^ndffi\._ndffi\.StructValue\.__getattribute__$:
    def __getattr__(self, field: str) -> Any:
        """A field's value (a nested struct or an array field is a view into this one)."""

^ndffi\._ndffi\.StructValue\.__setattr__$:
    def __setattr__(self, field: str, value: object) -> None: ...

^ndffi\._ndffi\.StructValue\.__delattr__$:
    def __delattr__(self, field: str) -> None: ...

^ndffi\._ndffi\.StructValue\.__bytes__$:
    def __bytes__(self) -> bytes:
        \doc

^ndffi\._ndffi\.StructValue\.__dir__$:
    def __dir__(self) -> list[str]: ...

^ndffi\._ndffi\.StructValue\.__ctype__$:
    @property
    def __ctype__(self) -> CType:
        \doc

^ndffi\._ndffi\.Callback\.release$:
    def release(self) -> None:
        \doc

^ndffi\._ndffi\.Callback\.__enter__$:
    def __enter__(self) -> Callback: ...

^ndffi\._ndffi\.Callback\.__exit__$:
    def __exit__(self, *exc_info: object) -> None: ...

^ndffi\._ndffi\.Callback\.(fn|__wrapped__)$:
    @property
    def \1(self) -> Callable[..., Any]:
        \doc

^ndffi\._ndffi\.Callback\.prototype$:
    @property
    def prototype(self) -> str:
        \doc

^ndffi\._ndffi\.Callback\.pointer$:
    @property
    def pointer(self) -> Pointer:
        \doc

^ndffi\._ndffi\.Callback\.on_error$:
    @property
    def on_error(self) -> object:
        \doc

^ndffi\._ndffi\.LibraryBase\.__getattribute__$:
    def __getattribute__(self, name: str, /) -> Any:
        \doc
