"""Pickling of ndffi objects, so they can be sent to worker processes (Dask,
multiprocessing, concurrent.futures).

Everything pickles by *how to make it again*: a Library by how it was loaded (its
resolved path, and the name and directories given to ``load``) and every ``cdef`` text
with its options; a Function by its library and name; a CType by a library (or the
built-in types) and a C spelling; a wrapped function and a ufunc by their Function and
the arguments that made them (:mod:`ndffi.numpy.wrap`, :mod:`ndffi.numpy.ufunc`).  A
process rebuilds each library once and reuses it.

Raw pointers and callbacks hold addresses that mean nothing in another process: they
refuse with a TypeError.
"""

import copyreg
import os
import threading

from . import _ndffi
from ._ndffi import CDefError, CType, Function, Pointer, Value
from .library import Library, assumed_const, live_libraries, record_of
from .load import load
from .values import builtin_types as _builtins

# ---- rebuilding (in the receiving process) ---------------------------------------

_libraries: dict = {}  # state -> Library
_lock = threading.RLock()  # worker threads may unpickle at once: one library each


def rebuild_library(state):
    with _lock:
        lib = _libraries.get(state)
        if lib is None:
            # In the process that pickled it (copy.copy, copy.deepcopy, a round trip) the
            # live library itself: its functions take the values made of its types.
            for live in list(live_libraries):
                if live._record.state() == state:
                    return live
            lib = _libraries[state] = _make_library(state)
        return lib


def _make_library(state):
    path, origin, cdefs = state
    if origin is not None:
        name, dirs, options = origin
        options = dict(options)
        if path and os.path.isabs(path) and os.path.exists(path):
            lib = load(path, **options)
        else:
            lib = load(name, *dirs, **options)
        lib._record.origin = origin
    else:
        lib = load(path or None)
    for text, options in cdefs:
        lib.cdef(text, **dict(options))
    return lib


def rebuild_function(state, name, assumed_const=()):
    lib = rebuild_library(state)
    return lib.assume_const(name, *assumed_const) if assumed_const else getattr(lib, name)


def rebuild_ctype(state, spelling):
    if state is None:
        return _builtins.type(spelling)
    return rebuild_library(state).typeof(spelling)


def rebuild_struct(state, spelling, data):
    value = rebuild_ctype(state, spelling)()
    memoryview(value).cast("B")[:] = data
    return value


def rebuild_value(state, spelling, value):
    if state is None:
        return _builtins.cast(spelling, value)
    return rebuild_library(state).cast(spelling, value)


# ---- reducers ------------------------------------------------------------------------


def _reduce_library(lib):
    return rebuild_library, (lib._record.state(),)


def _reduce_function(f):
    record = record_of(f)
    if record is None:
        raise TypeError(
            f"cannot pickle ndffi.Function '{f.prototype}': it does not come from a "
            f"Library's declarations, so another process cannot make it again"
        )
    assumed = assumed_const(f)
    if assumed:
        return rebuild_function, (record.state(), f.__name__, assumed)
    return rebuild_function, (record.state(), f.__name__)


def _find_type(t):
    """(library state or None, spelling) that parses back to CType t."""
    spellings = [t.cname]
    try:
        if _builtins.type(t.cname) == t:
            return None, t.cname
    except (CDefError, TypeError, ValueError, KeyError):
        pass
    for lib in list(live_libraries):
        ns = lib._ns
        for spelling in spellings + list(ns.typedef_names()):
            try:
                if ns.type(spelling) == t:
                    return lib._record.state(), spelling
            except (CDefError, TypeError, ValueError, KeyError):
                continue
    raise TypeError(f"cannot pickle CType '{t.cname}': no loaded library declares it")


def _reduce_ctype(t):
    state, spelling = _find_type(t)
    return rebuild_ctype, (state, spelling)


def _reduce_value(v):
    state, spelling = _find_type(v.type)
    return rebuild_value, (state, spelling, v.value)


def _pointer_member(t):
    """The path of a pointer member of struct/union type t (its members' too), or None.
    A walk with a stack of its own: a struct may nest as deep as the type model allows."""
    todo, seen = [(t, "")], set()
    while todo:
        t, path = todo.pop()
        while t.kind == "array":
            t, path = t.item, path + "[]"
        if t.kind == "pointer":
            return path
        if t.kind in ("struct", "union") and t not in seen:  # each type once: no pointer in it
            seen.add(t)
            todo += [(ft, f"{path}.{name}" if path else name) for name, ft, _off, _bits in reversed(t.fields or ())]
    return None


def _reduce_struct(v):
    member = _pointer_member(v.__ctype__)
    if member is not None:
        raise TypeError(
            f"cannot pickle {v!r}: its member '{member}' is a pointer, a raw address meaningless in another "
            "process (and not keeping what it points to alive); pickle the data it points to instead"
        )
    state, spelling = _find_type(v.__ctype__)
    return rebuild_struct, (state, spelling, bytes(v))


def _refuse(kind, why):
    def reduce(obj):
        raise TypeError(f"cannot pickle {kind} {obj!r}: {why}")

    return reduce


def install():
    copyreg.pickle(Library, _reduce_library)
    copyreg.pickle(Function, _reduce_function)
    copyreg.pickle(CType, _reduce_ctype)
    copyreg.pickle(Value, _reduce_value)
    copyreg.pickle(_ndffi.StructValue, _reduce_struct)
    copyreg.pickle(
        Pointer,
        _refuse(
            "ndffi.Pointer",
            "it is a raw address, meaningless in another process; pickle the data instead (e.g. p.as_array(n).copy())",
        ),
    )
    for name in ("Callback", "Closure"):
        cls = getattr(_ndffi, name, None)
        if isinstance(cls, type):
            copyreg.pickle(
                cls,
                _refuse(
                    f"ndffi.{name}",
                    "a C callback is machine code made in this process; make it again in the receiving process",
                ),
            )
