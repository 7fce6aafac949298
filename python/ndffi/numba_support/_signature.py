"""C types as Numba sees them: what a declared function's parameters accept inside
nopython code, and the C spelling of a Numba signature.

Everything here is decided once per C signature, when Numba types a function; a
compiled call does no checking.
"""

from dataclasses import dataclass

import numpy as np
from numba.core import types
from numba.np import numpy_support

_SCALAR_KINDS = ("int", "bool", "float", "enum")


class Unsupported(Exception):
    """A C type that a call from Numba cannot pass; the message says why."""


def scalar_type(ct):
    """The Numba type of C scalar type ``ct`` (int, _Bool, float, enum)."""
    try:
        return numpy_support.from_dtype(ct.dtype)
    except Exception:
        raise Unsupported(f"'{ct.cname}' has no Numba type") from None


def bare(cname):
    """A C spelling without its leading const."""
    return cname[6:] if cname.startswith("const ") else cname


@dataclass(frozen=True)
class Scalar:
    """An integer, _Bool, floating or enum parameter: C's conversions from any real number."""

    cname: str
    nbtype: types.Type


@dataclass(frozen=True)
class Record:
    """A struct or union pointee: its dtype's leaves, to compare with an array's."""

    cname: str
    itemsize: int
    leaves: tuple  # ((offset, dtype str, shape, field name), ...)


@dataclass(frozen=True)
class Pointer:
    """A ``T *`` parameter or result.  ``elem``: None for void, a Numba scalar type, a
    Record, or the pointee's C spelling (str) for what only raw pointers can point to
    (pointers, functions, incomplete structs, long double)."""

    cname: str
    const: bool
    elem: object
    char: bool = False  # char *: int8 and uint8 arrays


@dataclass(frozen=True)
class Refused:
    """A parameter (or result) that Numba cannot pass, and why."""

    cname: str
    reason: str


def _leaves(dtype, base=0, prefix=""):
    out = []
    if dtype.fields:
        for name, (sub, off, *_rest) in dtype.fields.items():
            out += _leaves(sub, base + off, prefix + name + ".")
    elif dtype.subdtype is not None and dtype.subdtype[0].fields:
        sub, shape = dtype.subdtype
        count = 1
        for n in shape:
            count *= n
        for k in range(count):
            out += _leaves(sub, base + k * sub.itemsize, f"{prefix[:-1]}[{k}].")
    else:
        shape = dtype.shape if dtype.subdtype is not None else ()
        base_dtype = dtype.subdtype[0] if dtype.subdtype is not None else dtype
        out.append((base, base_dtype.str, shape, prefix[:-1]))
    return out


def record_spec(ct):
    return Record(bare(ct.cname), ct.size, tuple(_leaves(ct.dtype)))


def record_mismatch(rec, dtype):
    """Why records of ``dtype`` are not laid out as C struct ``rec`` (None if they are)."""
    if dtype.fields is None:
        return f"a plain {dtype} array, not a structured array"
    have = {leaf[:3] for leaf in _leaves(dtype)}
    for off, code, shape, name in rec.leaves:
        if (off, code, shape) not in have:
            what = str(np.dtype(code)) + (f"{list(shape)}" if shape else "")
            return f"field '{name}': C has {what} at offset {off}, the array's records have no such field there"
    if dtype.itemsize != rec.itemsize:
        return f"records of {dtype.itemsize} bytes; C '{rec.cname}' is {rec.itemsize} bytes"
    return None


def pointer_spec(ct):
    """The Pointer spec of C pointer type ``ct``."""
    item = ct.item
    kind = item.kind
    const = item.is_const
    if kind == "void":
        return Pointer(ct.cname, const, None)
    if kind in _SCALAR_KINDS:
        try:
            nbtype = scalar_type(item)
        except Unsupported:
            return Pointer(ct.cname, const, bare(item.cname))
        char = kind == "int" and item.size == 1 and bare(item.cname) == "char"
        return Pointer(ct.cname, const, nbtype, char)
    if kind in ("struct", "union"):
        try:
            return Pointer(ct.cname, const, record_spec(item))
        except Exception:  # incomplete: no layout
            return Pointer(ct.cname, const, bare(item.cname))
    return Pointer(ct.cname, const, bare(item.cname))


def param_spec(ct):
    """What a parameter of C type ``ct`` takes inside nopython code."""
    kind = ct.kind
    if kind in _SCALAR_KINDS:
        try:
            return Scalar(ct.cname, scalar_type(ct))
        except Unsupported as exc:
            return Refused(ct.cname, str(exc))
    if kind == "pointer":
        if ct.item.kind == "function":
            return Refused(
                ct.cname,
                "function-pointer (callback) parameters cannot be passed from Numba; call the function from Python",
            )
        return pointer_spec(ct)
    if kind in ("struct", "union"):
        return Refused(
            ct.cname,
            f"a {kind} passed by value cannot be passed from Numba; declare a function that takes a pointer to it",
        )
    return Refused(ct.cname, f"'{ct.cname}' cannot be passed from Numba")


def result_spec(ct):
    """The Numba type a call's result of C type ``ct`` has (a Refused for none)."""
    kind = ct.kind
    if kind == "void":
        return types.void
    if kind in _SCALAR_KINDS:
        try:
            return scalar_type(ct)
        except Unsupported as exc:
            return Refused(ct.cname, str(exc))
    if kind == "pointer":
        elem = pointer_spec(ct).elem
        return types.CPointer(elem) if isinstance(elem, types.Type) else types.voidptr
    return Refused(ct.cname, f"a {kind} result (by value) cannot be returned to Numba")


# ---- a Numba signature in C --------------------------------------------------------

_C_NAMES = {
    types.boolean: "_Bool",
    types.int8: "int8_t",
    types.uint8: "uint8_t",
    types.int16: "int16_t",
    types.uint16: "uint16_t",
    types.int32: "int32_t",
    types.uint32: "uint32_t",
    types.int64: "int64_t",
    types.uint64: "uint64_t",
    types.float32: "float",
    types.float64: "double",
    types.void: "void",
}


def c_spelling(nbtype):
    """A C spelling of Numba type ``nbtype``, for messages ('double *', 'int32_t')."""
    if nbtype in _C_NAMES:
        return _C_NAMES[nbtype]
    if isinstance(nbtype, types.CPointer):
        return c_spelling(nbtype.dtype) + " *"
    if isinstance(nbtype, types.RawPointer):
        return "void *"
    return f"<{nbtype}>"


def c_signature(sig):
    """'int32_t (*)(void *, void *)' for Numba signature int32(voidptr, voidptr)."""
    return f"{c_spelling(sig.return_type)} (*)({', '.join(c_spelling(a) for a in sig.args) or 'void'})"
