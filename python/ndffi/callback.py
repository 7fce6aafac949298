"""Callbacks and the thread-safe Allocator.

``ndffi.callback(signature, fn)`` makes a C function pointer that calls ``fn``; the
work happens in C++ (src/py/callback.cpp).  ``Allocator`` is the cookbook's allocator
callback, written on top of it.
"""

import threading
from collections.abc import Callable
from typing import Any, overload

import numpy as np

from ._ndffi import Callback, CType, Namespace

_builtins = Namespace()


@overload
def callback(
    signature: str | CType, fn: None = None, *, on_error: object = 0, _namespace: Namespace | None = None
) -> Callable[[Callable[..., Any]], Callback]: ...
@overload
def callback(
    signature: str | CType,
    fn: "Callable[..., Any] | Allocator",
    *,
    on_error: object = 0,
    _namespace: Namespace | None = None,
) -> Callback: ...
def callback(
    signature: str | CType,
    fn: "Callable[..., Any] | Allocator | None" = None,
    *,
    on_error: object = 0,
    _namespace: Namespace | None = None,
) -> "Callback | Callable[[Callable[..., Any]], Callback]":
    """A C function pointer that calls the Python callable ``fn``.

    ``signature`` is a C function type, ``"int(const void *, const void *)"`` (a pointer
    to one and a CType work too; types of a library are spelled with
    ``lib.callback(...)``).  Without ``fn``, returns a decorator::

        @ndffi.callback("int(const void *, const void *)")
        def cmp(a, b): ...

    Arguments reach ``fn`` converted as a call's results are (pointers as
    :class:`ndffi.Pointer` typed by the signature); its result is converted and
    range-checked as a call's argument is.  A pointer result may be a Pointer, None, or
    an array or buffer, whose data address is returned: the object must stay alive for as
    long as C uses the memory (a result that would be freed on return is an error).

    An exception in ``fn`` makes the callback return ``on_error`` (default 0, NULL for
    pointers) to C; it is raised again, with its traceback, by the ndffi call during
    which the callback ran.  Called from anywhere else (a thread C started, a handler C
    stored and calls later), the exception goes to ``sys.unraisablehook``.

    Keep the Callback alive for as long as C may call it.  A call after it was
    garbage-collected does not crash: it is reported through ``sys.unraisablehook`` and
    returns 0.  Each freed Callback leaves its closure (about 100 bytes) behind for that.
    ``release()`` (or the end of a ``with`` block) does the same at a point of your
    choosing, when C has been told to forget the pointer: the Python callable is let go,
    and the Callback can no longer be passed to C.
    A plain callable passed for a function-pointer parameter needs no Callback: it is
    wrapped for that call only.  C must not keep that pointer: if it does, a later call
    through it is reported through ``sys.unraisablehook`` and returns 0, and never runs
    another callable on the thread of an ndffi call.  (Its closure serves other plain
    callables later, and a call from a thread C started cannot be told from one the
    current call makes: a pointer C keeps or hands to its own threads after the call
    must be an ``ndffi.callback``.)
    """
    ns = _namespace if _namespace is not None else _builtins
    if fn is None:

        def decorate(f):
            return ns.callback(signature, f, on_error)

        return decorate
    return ns.callback(signature, fn, on_error)


def _dtype_of_typecode(code):
    char = chr(code & 0xFF)
    try:
        dtype = np.dtype(char)
    except TypeError:
        dtype = None
    if dtype is None or dtype.hasobject:
        raise TypeError(
            f"Allocator: C asked for typecode {char!r}, which is not a NumPy type character of data "
            "('d', 'f', 'i', ...)"
        )
    return dtype


class Allocator:
    """The cookbook's allocator callback, thread safe: C asks Python for arrays.

    Pass it for a function-pointer parameter of type ``void *(*)(int ndim, int *shape,
    char typecode)``: each call allocates a zeroed array of ``shape[:ndim]`` with the
    NumPy dtype of ``typecode`` (``'d'``, ``'f'``, ``'i'``, ... as in NumPy's
    ``NPY_TYPECHAR``) and returns its data pointer.  The two-argument form
    ``void *(*)(int ndim, int *shape)`` takes its dtype from ``dtype=`` or, if not given,
    from the result type (``float *`` gives float32).  The integer types of ``ndim``,
    ``shape`` and ``typecode`` may be any C integer types; the result any data pointer
    (its pointee must then match the dtype).

    The allocator keeps every array alive (C writes into them after the callback
    returns).  ``arrays`` lists, in call order, those allocated by the current thread,
    so several Python threads may call C with the same Allocator concurrently and each
    gets its own arrays back; ``all_arrays`` lists every array, including those requested
    from threads C started and from threads that have finished (``clear()`` forgets
    them).  ``take()`` returns this thread's arrays and forgets them.
    """

    def __init__(self, dtype=None):
        self.dtype = None if dtype is None else np.dtype(dtype)
        if self.dtype is not None and self.dtype.hasobject:
            raise TypeError(
                f"Allocator(dtype={self.dtype}): C writes the arrays' memory, which for a dtype holding Python "
                "objects would overwrite their references; give a numeric or struct dtype"
            )
        self._lock = threading.Lock()
        self._records = []  # (thread token, array), in call order
        self._thread = threading.local()
        self._callbacks = {}  # function pointer CType -> Callback

    def _me(self):
        """This thread's token: an object made for it on first use.  Not the thread's
        identifier, which the OS gives to a new thread once this one has finished: a
        new thread gets a token of its own, and a finished thread's arrays stay in
        ``all_arrays`` (C may still use them) until :meth:`clear`, never in another
        thread's ``arrays``."""
        try:
            return self._thread.token
        except AttributeError:
            token = self._thread.token = object()
            return token

    # ---- what Python sees ----
    @property
    def arrays(self):
        me = self._me()
        with self._lock:
            return [a for t, a in self._records if t is me]

    @property
    def all_arrays(self):
        with self._lock:
            return [a for _, a in self._records]

    def take(self):
        """This thread's arrays, in call order; the allocator forgets them."""
        me = self._me()
        with self._lock:
            mine = [a for t, a in self._records if t is me]
            self._records = [(t, a) for t, a in self._records if t is not me]
        return mine

    def clear(self):
        """Forget every array (of every thread)."""
        with self._lock:
            self._records = []

    def __len__(self):
        return len(self._records)

    def __repr__(self):
        d = f" dtype={self.dtype}" if self.dtype is not None else ""
        return f"<ndffi.Allocator{d} with {len(self._records)} arrays>"

    # ---- what C sees ----
    def _keep(self, arr):
        me = self._me()
        with self._lock:
            self._records.append((me, arr))
        return arr

    def _ndffi_callback_(self, ptype):
        """The Callback serving function pointer type ``ptype`` (made once per type)."""
        cb = self._callbacks.get(ptype)
        if cb is None:
            made = self._make(ptype)
            with self._lock:  # two threads passing it first at once share one
                cb = self._callbacks.setdefault(ptype, made)
        return cb

    def _make(self, ptype):
        ftype = ptype.item
        params, result = ftype.params, ftype.item
        usage = (
            "an Allocator serves 'void *(*)(int ndim, int *shape, char typecode)' or "
            f"'void *(*)(int ndim, int *shape)', not '{ptype.cname}'"
        )
        ok = (
            result.kind == "pointer"
            and result.item.kind != "function"
            and len(params) in (2, 3)
            and params[0].kind in ("int", "enum")
            and params[1].kind == "pointer"
            and params[1].item.kind == "int"
            and (len(params) == 2 or params[2].kind in ("int", "enum"))
        )
        if not ok:
            raise TypeError(usage)
        if len(params) == 3:
            fixed = self.dtype

            def allocate(ndim, shape, typecode):
                dtype = _dtype_of_typecode(typecode)
                if fixed is not None and dtype != fixed:
                    raise TypeError(
                        f"Allocator(dtype={fixed}): C asked for typecode {chr(typecode & 0xFF)!r} ({dtype})"
                    )
                return self._keep(np.zeros(_shape(ndim, shape), dtype))
        else:
            dtype = self.dtype
            if dtype is None:
                if result.item.kind == "void":
                    raise TypeError(f"Allocator() needs dtype= for '{ptype.cname}': C does not say the element type")
                dtype = result.item.dtype

            def allocate(ndim, shape):  # type: ignore[misc]  # C passes no typecode here
                return self._keep(np.zeros(_shape(ndim, shape), dtype))

        allocate.__qualname__ = "Allocator"
        return _builtins.callback(ptype, allocate, None)


def _shape(ndim, shape):
    if ndim < 0:
        raise ValueError(f"Allocator: negative ndim {ndim}")
    return tuple(int(n) for n in shape.as_array(ndim)) if ndim else ()


__all__ = ["Allocator", "Callback", "callback"]
