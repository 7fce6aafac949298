"""C memory and values of the built-in C types (the C and <stdint.h> type names), for the
module-level :func:`ndffi.new`, :func:`~ndffi.cast`, :func:`~ndffi.typeof`,
:func:`~ndffi.sizeof` and :func:`~ndffi.addressof`."""

from typing import Any

from ._ndffi import Callback, CType, Namespace, Pointer, StructValue, Value

builtin_types = Namespace()  # the C and <stdint.h> type names, for module-level new/cast


def new(ctype: str, init: object = None) -> Pointer:
    """Zeroed C memory of ``ctype`` ("int *", "double[16]"), owned by the returned
    Pointer and freed with it; ``init`` sets its value or elements."""
    return builtin_types.new(ctype, init)


def cast(ctype: str, value: object) -> Any:
    """``value`` as C type ``ctype``, with C's conversion rules (explicit, so values are
    wrapped, not range-checked): a Pointer for pointer types, a Value otherwise.  (Typed
    ``Any``: which of the two is decided by the C type's spelling, so that
    ``p: ndffi.Pointer = ndffi.cast("double *", x)`` type-checks as written.)"""
    return builtin_types.cast(ctype, value)


def typeof(ctype: str | StructValue | Pointer | Value) -> CType:
    """The CType of a built-in C type spelling, or of a struct value, Pointer or Value."""
    if isinstance(ctype, StructValue):
        return ctype.__ctype__
    if isinstance(ctype, (Pointer, Value)):
        return ctype.type
    return builtin_types.type(ctype)


def sizeof(ctype: str) -> int:
    """The size in bytes of a built-in C type spelling."""
    return size_of(builtin_types.type(ctype), ctype)


def size_of(t, spelling):
    """``t.size``; a TypeError for a type without one (as C's sizeof refuses it)."""
    if not t.complete:
        what = {"void": "void has no size", "function": "a function type has no size (a pointer to it has)"}.get(
            t.kind,
            f"'{t.cname}' is an incomplete type (declared nowhere, or without its members or length): "
            "declare it in full with cdef() first",
        )
        raise TypeError(f"sizeof({spelling!r}): {what}")
    return t.size


def addressof(obj: object) -> int:
    """The address of the memory behind a Pointer, array or writable buffer, as an int."""
    if isinstance(obj, (Pointer, Callback)):
        return obj.address
    pointer = builtin_types.cast("void *", obj)
    assert isinstance(pointer, Pointer)  # a pointer type's cast
    return pointer.address
