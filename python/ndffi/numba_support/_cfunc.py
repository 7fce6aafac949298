"""numba.cfunc objects for C function-pointer parameters: C calls the compiled code
directly, no Python runs per call.

The binding asks :func:`function_pointer` once per (cfunc, function pointer type) for
the address to pass, after checking the cfunc's Numba signature against the C one.
"""

import weakref

from numba.core import types
from numba.core.ccallback import CFunc
from numba.np import numpy_support

from ._signature import Unsupported, c_signature, record_mismatch, record_spec, scalar_type

# cfunc -> {function pointer CType: address or reason}
_answers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def function_pointer(cfunc, ptype):
    """The address of ``cfunc`` to pass for C function pointer type ``ptype``, or a str
    saying how its signature differs (the binding raises TypeError with it)."""
    per_type = _answers.get(cfunc)
    if per_type is None:
        per_type = _answers.setdefault(cfunc, {})
    answer = per_type.get(ptype)
    if answer is None:
        why = signature_mismatch(cfunc._sig, ptype.item)
        if why is None:
            answer = cfunc.address
        else:
            answer = (
                f"numba cfunc '{cfunc.__qualname__}' of C type '{c_signature(cfunc._sig)}' (numba {cfunc._sig}): {why}"
            )
        per_type[ptype] = answer
    return answer


def signature_mismatch(sig, ftype):
    """How Numba signature ``sig`` differs from C function type ``ftype`` (None if it
    does not)."""
    if ftype.cname.rstrip().endswith("...)"):
        return "C declares a variadic function"
    params = ftype.params
    if len(sig.args) != len(params):
        return f"it takes {_count(len(sig.args))}, C passes {len(params)}"
    for i, (nb, ct) in enumerate(zip(sig.args, params, strict=False)):
        if not _fits(nb, ct):
            return f"parameter {i + 1}: C passes '{ct.cname}', the cfunc takes {nb}"
    if not _fits(sig.return_type, ftype.item):
        return f"the result: C expects '{ftype.item.cname}', the cfunc returns {sig.return_type}"
    return None


def _count(n):
    return f"{n} parameter" + ("" if n == 1 else "s")


def _fits(nb, ct):
    """Does a value of Numba type ``nb`` stand for C type ``ct`` (const aside)?"""
    kind = ct.kind
    if kind == "void":
        return nb == types.void
    if kind in ("int", "bool", "float", "enum"):
        try:
            return nb == scalar_type(ct)
        except Unsupported:
            return False
    if kind != "pointer":
        return False
    if isinstance(nb, types.RawPointer):  # voidptr: any pointer, read with carray
        return True
    if not isinstance(nb, types.CPointer):
        return False
    item = ct.item
    if item.kind == "void":  # C's "any pointer": the cfunc says what to
        return True  # read there (qsort's comparator)
    if item.kind in ("struct", "union"):
        if not isinstance(nb.dtype, types.Record):
            return False
        try:
            return record_mismatch(record_spec(item), numpy_support.as_dtype(nb.dtype)) is None
        except Exception:
            return False
    return _fits(nb.dtype, item)


def register():
    from .. import _ndffi

    _ndffi._register_function_pointer_source(CFunc, function_pointer)
