"""ndffi: call C from Python and NumPy, fast and checked.

    import ndffi
    m = ndffi.load("m")
    m.cdef("double cos(double);")
    m.cos(0.0)   # 1.0

The public API, from the stages that make it (see the README's tree): ``loading/`` finds
libraries, ``library`` declares what they hold, ``headers/`` reads C headers, ``building/``
compiles sources, ``numpy/`` makes NumPy-native functions, ``pickling`` sends it all to
other processes.

Compiling (:func:`build`, :func:`inline`) and generating modules (:func:`generate`) are
imported the first time they are used, so that ``import ndffi`` costs little more than
``import numpy``.
"""

import typing as _typing

from . import pickling as _pickling
from ._layout import abis, host_abi, layout
from ._ndffi import (
    Callback,
    CDefError,
    CType,
    Function,
    Namespace,
    Pointer,
    StructValue,
    Value,
    errno,
    set_errno,
)
from .callback import Allocator, callback
from .errors import BuildError, BuildWarning, CacheWarning, Error, HeaderError, HeaderNotFound, LibraryNotFound
from .errors import public as _public
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
    "Namespace",
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
_public(BuildError, BuildWarning, CacheWarning, HeaderError, HeaderNotFound, LibraryNotFound, StatusError)

if _typing.TYPE_CHECKING:
    from .building import build, inline
    from .headers.generate import generate


def __getattr__(name: str) -> object:
    """``build``, ``inline`` and ``generate``, imported when first asked for."""
    if name in ("build", "inline"):
        from . import building

        value = getattr(building, name)
    elif name == "generate":
        from .headers.generate import generate as value
    else:
        raise AttributeError(f"module 'ndffi' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"build", "inline", "generate"})
