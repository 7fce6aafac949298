"""ndffi: call C from Python and NumPy, fast and checked.

    import ndffi
    m = ndffi.load("m")
    m.cdef("double cos(double);")
    m.cos(0.0)   # 1.0
"""

from ._callback import Allocator, callback
from ._errors import LibraryNotFound
from ._library import Library, Types, load
from ._ndffi import Callback, CDefError, CType, Function, Namespace, Pointer, Value
from ._ndffi import errno, set_errno

__version__ = "0.1.0"

_builtins = Namespace()   # the C and <stdint.h> type names, for module-level new/cast


def new(ctype, init=None):
    """Zeroed C memory of ``ctype`` ("int *", "double[16]"), owned by the returned
    Pointer and freed with it; ``init`` sets its value or elements."""
    return _builtins.new(ctype, init)


def cast(ctype, value):
    """``value`` as C type ``ctype``, with C's conversion rules (explicit, so values are
    wrapped, not range-checked): a Pointer for pointer types, a Value otherwise."""
    return _builtins.cast(ctype, value)


def typeof(ctype):
    """The CType of a built-in C type spelling."""
    return _builtins.type(ctype)


def sizeof(ctype):
    """The size in bytes of a built-in C type spelling."""
    return _builtins.type(ctype).size


def addressof(obj):
    """The address of the memory behind a Pointer, array or writable buffer, as an int."""
    if isinstance(obj, (Pointer, Callback)):
        return obj.address
    return _builtins.cast("void *", obj).address


__all__ = [
    "Allocator", "Callback", "CDefError", "CType", "Function", "Library", "LibraryNotFound",
    "Pointer", "Types", "Value", "addressof", "callback", "cast", "errno", "load", "new",
    "set_errno", "sizeof", "typeof",
]
