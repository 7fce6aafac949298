"""ndffi: call C from Python and NumPy, fast and checked.

    import ndffi
    m = ndffi.load("m")
    m.cdef("double cos(double);")
    m.cos(0.0)   # 1.0

The public API, from the stages that make it (see the README's tree): ``loading/`` finds
libraries, ``library`` declares what they hold, ``headers/`` reads C headers, ``building/``
compiles sources, ``numpy/`` makes NumPy-native functions, ``pickling`` sends it all to
other processes.
"""

from . import pickling as _pickling
from ._layout import abis, host_abi, layout
from ._ndffi import (
    Callback,
    CDefError,
    CType,
    Function,
    Namespace,  # noqa: F401  (ndffi.Namespace: a declaration namespace of its own)
    Pointer,
    StructValue,
    Value,
    errno,
    set_errno,
)
from .building import build, inline
from .callback import Allocator, callback
from .errors import BuildError, BuildWarning, CacheWarning, Error, HeaderError, HeaderNotFound, LibraryNotFound, public
from .headers.generate import generate
from .library import Library, Types
from .load import load
from .numpy.ufunc import gufunc, ufunc
from .numpy.wrap import In, InOut, Out, StatusError, len_of, negative_raises, nonzero_raises, shape_of, wrap
from .values import addressof, cast, new, sizeof, typeof

__version__ = "0.1.0"

__all__ = [
    "Allocator",
    "BuildError",
    "BuildWarning",
    "CacheWarning",
    "Callback",
    "CDefError",
    "CType",
    "Error",
    "Function",
    "HeaderError",
    "HeaderNotFound",
    "Library",
    "LibraryNotFound",
    "Pointer",
    "StructValue",
    "Types",
    "Value",
    "abis",
    "addressof",
    "build",
    "callback",
    "cast",
    "errno",
    "generate",
    "host_abi",
    "inline",
    "layout",
    "load",
    "new",
    "set_errno",
    "sizeof",
    "typeof",
]

# NumPy-native functions: Function.wrap(), .ufunc(), .gufunc(), and pickling.
__all__ += [
    "In",
    "InOut",
    "Out",
    "StatusError",
    "gufunc",
    "len_of",
    "negative_raises",
    "nonzero_raises",
    "shape_of",
    "ufunc",
    "wrap",
]
_pickling.install()
public(BuildError, BuildWarning, CacheWarning, HeaderError, HeaderNotFound, LibraryNotFound, StatusError)
