"""ndffi: call C from Python and NumPy, fast and checked.

    import ndffi
    m = ndffi.load("m")
    m.cdef("double cos(double);")
    m.cos(0.0)   # 1.0
"""

from .building import BuildError, build, inline
from .callback import Allocator, callback
from .errors import BuildWarning, CacheWarning, LibraryNotFound
from .headers import HeaderError
from ._layout import abis, host_abi, layout
from .library import Library, Types, load
from ._ndffi import Callback, CDefError, CType, Function, Namespace, Pointer, StructValue, Value
from ._ndffi import errno, set_errno
from .numpy.wrap import In, InOut, Out, StatusError, len_of, negative_raises, nonzero_raises, shape_of
from .numpy.wrap import gufunc, ufunc, wrap
from . import pickling as _pickle

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
    """The CType of a built-in C type spelling, or of a struct value, Pointer or Value."""
    if isinstance(ctype, StructValue):
        return ctype.__ctype__
    if isinstance(ctype, (Pointer, Value)):
        return ctype.type
    return _builtins.type(ctype)


def sizeof(ctype):
    """The size in bytes of a built-in C type spelling."""
    return _builtins.type(ctype).size


def addressof(obj):
    """The address of the memory behind a Pointer, array or writable buffer, as an int."""
    if isinstance(obj, (Pointer, Callback)):
        return obj.address
    return _builtins.cast("void *", obj).address


def generate(header, *, library=None, output=None, include_dirs=(), defines=None, lib_dirs=()):
    """A Python module for C header ``header`` and its shared library ``library``: the
    module's text, or with ``output`` ("name.py") the paths of the module and its type
    stub written there.  The module embeds the declarations; importing it needs no
    libclang."""
    from .headers.generate import generate as _generate

    return _generate(header, library=library, output=output, include_dirs=include_dirs,
                     defines=defines, lib_dirs=lib_dirs)


__all__ = [
    "Allocator", "BuildError", "BuildWarning", "CacheWarning", "Callback", "CDefError", "CType",
    "Function", "HeaderError", "Library", "LibraryNotFound", "Pointer", "StructValue", "Types",
    "Value", "abis", "addressof", "build", "callback", "cast", "errno", "generate", "host_abi",
    "inline", "layout", "load", "new",
    "set_errno", "sizeof", "typeof",
]

# NumPy-native functions: Function.wrap(), .ufunc(), .gufunc(), and pickling.
__all__ += ["In", "InOut", "Out", "StatusError", "gufunc", "len_of", "negative_raises",
            "nonzero_raises", "shape_of", "ufunc", "wrap"]
_pickle.install()
