"""What each C parameter of a wrapped function is (``ndffi.In``, ``InOut``, ``Out``,
``len_of``, ``shape_of``), and the ready-made status checks (``nonzero_raises``,
``negative_raises``)."""

from typing import Any

import numpy as np

from ..errors import Error

__all__ = ["In", "InOut", "Out", "StatusError", "len_of", "negative_raises", "nonzero_raises", "shape_of"]


# ---- parameter specifications ----------------------------------------------------


class _Spec:
    """Base of the parameter specifications; compares and hashes by value."""

    _fields: tuple[str, ...] = ()

    def _key(self):
        return (type(self).__name__,) + tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other):
        return isinstance(other, _Spec) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields if getattr(self, f) is not None)
        return f"ndffi.{type(self).__name__}({args})"


class In(_Spec):
    """An input array for a ``T *`` parameter.

    Anything ``numpy.asarray`` accepts is converted to a C-contiguous array of the
    C element type (copied when needed; NumPy's 'same_kind' rule, and integers must
    fit).  ``ndim=`` requires that many dimensions.  The C function must not write
    through this pointer: a copy may have been passed.
    """

    _fields = ("ndim",)

    def __init__(self, ndim: int | None = None) -> None:
        self.ndim = ndim


class InOut(_Spec):
    """An array the C function reads and writes in place.  Never copied: it must be an
    ndarray of exactly the C element type, C-contiguous and writeable, else TypeError."""

    _fields = ("ndim",)

    def __init__(self, ndim: int | None = None) -> None:
        self.ndim = ndim


class Out(_Spec):
    """An output array the wrapper allocates (zeroed) and returns.

    The shape is ``like=`` another array argument's, or ``shape=``: an int, the name of
    an integer argument, ``len_of``/``shape_of``, or a tuple of these.  The dtype is
    the C element type (``dtype=`` only for ``void *``).  The caller may pass its own
    buffer as a keyword argument of the same name (checked like ``InOut``).
    """

    _fields = ("like", "shape", "dtype")

    def __init__(self, like: Any = None, shape: Any = None, dtype: Any = None) -> None:
        if like is None and shape is None:
            raise TypeError("Out() needs like='argument' or shape=...")
        self.like = like
        if isinstance(shape, list):
            shape = tuple(shape)
        self.shape = shape
        self.dtype = None if dtype is None else np.dtype(dtype).str


class len_of(_Spec):
    """An integer parameter receiving the number of elements of array argument ``name``
    (its length as a C array)."""

    _fields = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class shape_of(_Spec):
    """An integer parameter receiving ``name.shape[axis]``."""

    _fields = ("name", "axis")

    def __init__(self, name: str, axis: int) -> None:
        self.name = name
        self.axis = int(axis)


def _spec(value):
    if isinstance(value, type) and issubclass(value, (In, InOut)):
        return value()
    if value is Out:
        raise TypeError("Out needs a shape: Out(like='a') or Out(shape=...)")
    return value


# ---- status checks ---------------------------------------------------------------


class StatusError(Error, RuntimeError):
    """A C function reported failure through its status result (``check=``)."""

    def __init__(self, message, status=None, function=None):
        super().__init__(message)
        self.status = status
        self.function = function


def nonzero_raises(status: int, function: str | None = None) -> None:
    """``check=`` for C functions returning 0 on success: any other value raises
    :class:`StatusError` carrying it."""
    if status:
        raise StatusError(f"{function or 'C function'}() failed with status {status}", status, function)


def negative_raises(status: int, function: str | None = None) -> None:
    """``check=`` for C functions returning a negative value on failure."""
    if status < 0:
        raise StatusError(f"{function or 'C function'}() failed with status {status}", status, function)
