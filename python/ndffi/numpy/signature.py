"""The ``__signature__`` of a declared function, from its C prototype: what
``inspect.signature``, ``help()`` and IPython show, e.g.
``dsum(x: ndarray[float64], n: int) -> float``.

Parameters are named as in the prototype (``p0``, ``p1``... where it names none, and
those cannot be passed by keyword); each annotation says what Python passes there; a
variadic function ends with ``*args``."""

from __future__ import annotations

import inspect
import keyword
import typing

import numpy as np

from .._ndffi import Pointer


class Accepts:
    """An annotation that is not a Python type: an array of a dtype (``ndarray[float64]``)
    or a C struct (its CType).  ``repr`` is how inspect shows it."""

    __slots__ = ("text", "dtype", "ctype")

    def __init__(self, text, dtype=None, ctype=None):
        self.text = text
        self.dtype = dtype
        self.ctype = ctype

    def __repr__(self):
        return self.text

    def __eq__(self, other):
        return isinstance(other, Accepts) and other.text == self.text

    def __hash__(self):
        return hash(self.text)


_SCALARS = {"int": int, "enum": int, "bool": bool, "float": float}


def _annotation(ct, result=False):
    """What Python gives for (or, for a result, gets from) C type ``ct``."""
    kind = ct.kind
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "void":
        return None
    if kind in ("struct", "union"):
        return Accepts(ct.name or ct.cname, ctype=ct)
    if kind == "pointer":
        item = ct.item
        if item.kind == "function":
            params = [_annotation(p) for p in item.params]
            return typing.Callable[params, _annotation(item.item, result=True)]
        if result:
            return Pointer
        if item.kind == "int" and item.size == 1 and item.cname.replace("const ", "").strip() == "char":
            return bytes if item.is_const else bytearray
        if item.kind in ("int", "float", "bool", "enum"):
            try:
                dtype = np.dtype(item.dtype)
            except (TypeError, ValueError):
                return Pointer
            return Accepts(f"ndarray[{dtype.name}]", dtype=dtype)
    return Pointer  # void *, T **, a pointer to a struct: a Pointer always fits


def _names(params):
    """Python names of the C parameters, and how many must be positional-only (those up
    to the last one the prototype leaves unnamed or names with a Python keyword)."""
    names, positional = [], 0
    for i, (name, _) in enumerate(params):
        if not name or not name.isidentifier() or keyword.iskeyword(name) or name in names:
            names.append(f"{name}_" if name and name.isidentifier() and name not in names else f"p{i}")
            positional = i + 1
        else:
            names.append(name)
    return names, positional


def signature_of(func):
    """The inspect.Signature of declared function ``func``."""
    params = func.params
    names, positional = _names(params)
    out = []
    for i, (name, (_, ct)) in enumerate(zip(names, params, strict=True)):
        kind = inspect.Parameter.POSITIONAL_ONLY if i < positional else inspect.Parameter.POSITIONAL_OR_KEYWORD
        out.append(inspect.Parameter(name, kind, annotation=_annotation(ct)))
    if func.ctype.cname.rstrip().endswith("...)"):
        taken = set(names)
        star = "args" if "args" not in taken else "varargs"
        out.append(inspect.Parameter(star, inspect.Parameter.VAR_POSITIONAL))
    return inspect.Signature(out, return_annotation=_annotation(func.ctype.item, result=True))
