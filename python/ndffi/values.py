"""C memory and values of the built-in C types (the C and <stdint.h> type names), for the
module-level :func:`ndffi.new`, :func:`~ndffi.cast`, :func:`~ndffi.typeof`,
:func:`~ndffi.sizeof` and :func:`~ndffi.addressof`."""

from typing import Any

from ._ndffi import Callback, Namespace, Pointer, StructValue, Value

builtin_types = Namespace()  # the C and <stdint.h> type names, for module-level new/cast


def new(ctype: Any, init: Any = None) -> Any:
    """Zeroed C memory of ``ctype`` ("int *", "double[16]"), owned by the returned
    Pointer and freed with it; ``init`` sets its value or elements."""
    return builtin_types.new(ctype, init)


def cast(ctype: Any, value: Any) -> Any:
    """``value`` as C type ``ctype``, with C's conversion rules (explicit, so values are
    wrapped, not range-checked): a Pointer for pointer types, a Value otherwise."""
    return builtin_types.cast(ctype, value)


def typeof(ctype):
    """The CType of a built-in C type spelling, or of a struct value, Pointer or Value."""
    if isinstance(ctype, StructValue):
        return ctype.__ctype__
    if isinstance(ctype, (Pointer, Value)):
        return ctype.type
    return builtin_types.type(ctype)


def sizeof(ctype):
    """The size in bytes of a built-in C type spelling."""
    return builtin_types.type(ctype).size


def addressof(obj):
    """The address of the memory behind a Pointer, array or writable buffer, as an int."""
    if isinstance(obj, (Pointer, Callback)):
        return obj.address
    return builtin_types.cast("void *", obj).address
