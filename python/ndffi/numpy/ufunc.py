"""Real ``numpy.ufunc`` objects from C functions: ``Function.ufunc()`` and
``Function.gufunc(signature)``, whose inner loop calls the C function for each element
(src/py/ufunc.cpp); :func:`info` says how one was made."""

import copyreg
import os
import re
import threading
from typing import Any

import numpy as np

from .. import _ndffi
from .params import In, Out, _spec

__all__ = ["gufunc", "info", "ufunc"]


# ---- ufunc and gufunc --------------------------------------------------------------

_DEFAULT_MIN_CHUNK = 1 << 15


def _threads(threads):
    if threads is None:
        return 1
    threads = int(threads)
    if threads < 0:
        raise ValueError("threads must be >= 0 (0: every available core)")
    if threads == 0:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:
            return os.cpu_count() or 1
    return threads


def _is_number(ctype):
    return ctype is not None and ctype.kind in ("int", "float", "bool", "enum")


def _is_element(ctype):
    """A ufunc operand's element: a number, or a struct or union (its dtype, C layout)."""
    return _is_number(ctype) or (ctype is not None and ctype.kind in ("struct", "union"))


def ufunc(
    function: Any,
    name: str | None = None,
    *,
    outputs: Any = None,
    threads: Any = 1,
    min_chunk: int = _DEFAULT_MIN_CHUNK,
    doc: str | None = None,
) -> np.ufunc:
    """A real ``numpy.ufunc`` calling the C function for each element
    (``Function.ufunc``).

    Value parameters are the inputs; the C result is the first output, followed by the
    pointer parameters named in ``outputs`` (by default every pointer to a non-const
    number or struct), e.g. ``void to_polar(double x, double y, double *r, double *theta)`` is a
    ufunc with 2 inputs and 2 outputs.  Pointers to const numbers are inputs passed by
    address.  A struct or union (by value or through a pointer) is an operand of its
    type's ``dtype``: a structured array of exactly the C layout, never cast.  The loop is
    for the exact C types; NumPy's casting rules
    (``casting='same_kind'`` by default) convert other dtypes -- as in ``astype``, an
    int64 value that does not fit an ``int`` parameter wraps; pass ``casting="safe"``
    to refuse such inputs.

    ``threads=N`` (0: every core) splits inner loops of at least ``2 * min_chunk``
    elements across N native threads.  NumPy runs ufunc loops without the GIL, and the
    threads call the C function concurrently: use it only for functions that are
    thread safe and free of side effects.
    """
    cparams = function.params
    fname = function.__name__
    names = [c or f"arg{i + 1}" for i, (c, _) in enumerate(cparams)]
    if outputs is None:
        outputs = [
            names[i]
            for i, (_, t) in enumerate(cparams)
            if t.kind == "pointer" and _is_element(t.item) and not t.item.is_const
        ]
    else:
        outputs = [outputs] if isinstance(outputs, str) else list(outputs)
        for o in outputs:
            if o not in names:
                raise TypeError(f"ufunc() of {fname}(): no parameter named {o!r} (parameters: {', '.join(names)})")
            t = cparams[names.index(o)][1]
            if t.kind != "pointer" or not _is_element(t.item) or t.item.is_const:
                raise TypeError(
                    f"ufunc() of {fname}(): output '{o}' must be a pointer to a "
                    f"non-const number or struct, not '{t.cname}'"
                )
    has_result = function.ctype.item.kind != "void"
    inputs = [i for i, n in enumerate(names) if n not in outputs]
    for i in inputs:
        t = cparams[i][1]
        if not (_is_element(t) or (t.kind == "pointer" and _is_element(t.item))):
            raise TypeError(
                f"ufunc() of {fname}(): parameter '{names[i]}' ('{t.cname}') is "
                f"neither a number nor a pointer to one (nor a struct or union), so it "
                f"cannot be a ufunc operand"
            )
    nin = len(inputs)
    nout = int(has_result) + len(outputs)
    roles: list[tuple[str, int] | None] = [None] * len(cparams)
    for op, i in enumerate(inputs):
        roles[i] = ("in" if cparams[i][1].kind != "pointer" else "inptr", op)
    for k, o in enumerate(outputs):
        roles[names.index(o)] = ("out", nin + int(has_result) + k)
    out_names = (["result"] if has_result else []) + outputs
    text = (
        doc
        if doc is not None
        else (
            f"Element-wise C function ``{function.prototype}``.\n\n"
            f"Inputs: {', '.join(names[i] for i in inputs) or 'none'}; outputs: {', '.join(out_names) or 'none'}."
            + (f"\nRuns on {_threads(threads)} threads." if _threads(threads) > 1 else "")
        )
    )
    kwargs = (("name", name), ("outputs", tuple(outputs)), ("threads", threads), ("min_chunk", min_chunk), ("doc", doc))
    spec = ("ufunc", function, (), kwargs)
    _pickle_ndffi_ufuncs()
    return _ndffi.make_ufunc(
        function,
        name=name or fname,
        doc=text,
        roles=roles,
        result=nin if has_result else -1,
        nin=nin,
        nout=nout,
        threads=_threads(threads),
        min_chunk=int(min_chunk),
        spec=spec,
    )


_SIG_OPERAND = re.compile(r"\(\s*([^()]*?)\s*\)")


def _gspec(value):
    # In a generalized ufunc the signature gives every shape: bare Out is allowed.
    return value if value is Out else _spec(value)


def _parse_signature(signature):
    m = re.fullmatch(r"\s*(.*?)\s*->\s*(.*?)\s*", signature)
    if not m:
        raise ValueError(f"not a generalized ufunc signature: {signature!r} (e.g. '(n)->()')")

    def operands(text):
        ops = _SIG_OPERAND.findall(text)
        rebuilt = ",".join(f"({o})" for o in ops)
        if re.sub(r"\s", "", text) != re.sub(r"\s", "", rebuilt):
            raise ValueError(f"not a generalized ufunc signature: {signature!r}")
        return [[d.strip().rstrip("?").strip() for d in o.split(",")] if o.strip() else [] for o in ops]

    ins, outs = operands(m.group(1)), operands(m.group(2))
    dims = []
    for op in ins + outs:
        for d in op:
            if d not in dims:
                dims.append(d)
    return ins, outs, dims


def gufunc(
    function: Any,
    signature: str,
    params: Any = None,
    /,
    *,
    name: str | None = None,
    threads: Any = 1,
    min_chunk: int = _DEFAULT_MIN_CHUNK,
    doc: str | None = None,
    **more: Any,
) -> np.ufunc:
    """A generalized ``numpy.ufunc`` with core dimensions (``Function.gufunc``).

    ``lib.dsum.gufunc("(n)->()")`` for ``double dsum(const double *x, long n)``: pointer
    parameters take the core blocks of array operands (C-contiguous, copied when the
    operand is strided), and an integer parameter named like a core dimension (or
    mapped with ``param="n"``) receives that dimension's size.  By default pointers to
    const are inputs, other pointers outputs, other parameters scalar inputs; override
    with ``param=ndffi.In`` / ``ndffi.Out`` (in a dict after the signature for parameters
    named like this function's keywords).  Operands are the inputs in C order, then the
    C result (if any), then the output pointers in C order.  ``threads=`` as for
    :func:`ufunc`.
    """
    params = {**dict(params or {}), **more}
    cparams = function.params
    fname = function.__name__
    names = [c or f"arg{i + 1}" for i, (c, _) in enumerate(cparams)]
    unknown = [k for k in params if k not in names]
    if unknown:
        raise TypeError(
            f"gufunc() of {fname}(): no parameter named {', '.join(map(repr, unknown))} "
            f"(parameters: {', '.join(names)})"
        )
    ins, outs, dims = _parse_signature(signature)
    role_of = []
    for i, (_cname, t) in enumerate(cparams):
        spec = _gspec(params.get(names[i]))
        if isinstance(spec, str):
            if spec not in dims:
                raise ValueError(
                    f"gufunc() of {fname}(): '{names[i]}' takes core dimension "
                    f"{spec!r}, which {signature!r} does not have"
                )
            role_of.append(("dim", dims.index(spec)))
        elif spec is None:
            if t.kind in ("int", "enum") and names[i] in dims:
                role_of.append(("dim", dims.index(names[i])))
            elif t.kind == "pointer":
                role_of.append(("inptr" if t.item is not None and t.item.is_const else "out", None))
            else:
                role_of.append(("in", None))
        elif isinstance(spec, In):
            role_of.append(("inptr" if t.kind == "pointer" else "in", None))
        elif isinstance(spec, Out) or spec is Out:
            if t.kind != "pointer":
                raise TypeError(
                    f"gufunc() of {fname}(): '{names[i]}' ('{t.cname}') is not a pointer, so it cannot be an output"
                )
            role_of.append(("out", None))
        else:
            raise TypeError(
                f"gufunc() of {fname}(): '{names[i]}' must be ndffi.In, ndffi.Out or the "
                f"name of a core dimension, not {spec!r}"
            )
    has_result = function.ctype.item.kind != "void"
    in_params = [i for i, (r, _) in enumerate(role_of) if r in ("in", "inptr")]
    out_params = [i for i, (r, _) in enumerate(role_of) if r == "out"]
    nin, nout = len(in_params), int(has_result) + len(out_params)
    if nin != len(ins) or nout != len(outs):
        got_out = (["<result>"] if has_result else []) + [names[i] for i in out_params]
        raise ValueError(
            f"gufunc() of '{function.prototype}': signature {signature!r} has {len(ins)} input(s) and "
            f"{len(outs)} output(s), but the C parameters give inputs "
            f"({', '.join(names[i] for i in in_params)}) and outputs ({', '.join(got_out)}); "
            f"say which parameters are ndffi.In / ndffi.Out or core dimensions"
        )
    # C sizes what it reads and writes by the dimensions it is given: a named core
    # dimension no parameter receives would let C run past an operand's block.
    given = {ix for r, ix in role_of if r == "dim"}
    unknown_dims = [d for k, d in enumerate(dims) if k not in given and not d.isdigit()]
    if unknown_dims:
        raise ValueError(
            f"gufunc() of '{function.prototype}': core dimension {', '.join(map(repr, unknown_dims))} of "
            f"{signature!r} is given to no C parameter, so C cannot know it; name an integer parameter like it "
            f"or pass {unknown_dims[0]}='param' (or write the size, as in '(3)')"
        )
    # C sizes what it reads and writes by the dimensions it is given: a named core
    # dimension no parameter receives would let C run past an operand's block.
    given = {ix for r, ix in role_of if r == "dim"}
    unknown_dims = [d for k, d in enumerate(dims) if k not in given and not d.isdigit()]
    if unknown_dims:
        raise ValueError(
            f"gufunc() of '{function.prototype}': core dimension {', '.join(map(repr, unknown_dims))} of "
            f"{signature!r} is given to no C parameter, so C cannot know it; name an integer parameter like it "
            f"or pass {unknown_dims[0]}='param' (or write the size, as in '(3)')"
        )
    roles: list[tuple[str, int] | None] = [None] * len(cparams)
    for op, i in enumerate(in_params):
        roles[i] = (role_of[i][0], op)
    for k, i in enumerate(out_params):
        roles[i] = ("out", nin + int(has_result) + k)
    for i, (r, ix) in enumerate(role_of):
        if r == "dim":
            roles[i] = ("dim", ix)
    text = (
        doc
        if doc is not None
        else (
            f"Generalized ufunc {signature} of the C function ``{function.prototype}``."
            + (f"\nRuns on {_threads(threads)} threads." if _threads(threads) > 1 else "")
        )
    )
    kwargs = (("name", name), ("threads", threads), ("min_chunk", min_chunk), ("doc", doc))
    spec = ("gufunc", function, (signature, tuple(sorted((k, _gspec(v)) for k, v in params.items()))), kwargs)
    _pickle_ndffi_ufuncs()
    return _ndffi.make_ufunc(
        function,
        name=name or fname,
        doc=text,
        roles=roles,
        result=nin if has_result else -1,
        nin=nin,
        nout=nout,
        signature=signature,
        threads=_threads(threads),
        min_chunk=int(min_chunk),
        spec=spec,
    )


def info(uf):
    """What an ndffi ufunc calls and how: {'function', 'threads', 'loop', 'min_chunk'}."""
    return _ndffi.ufunc_info(uf)


# ---- pickling ----------------------------------------------------------------------------
# An ndffi ufunc is a numpy.ufunc, and pickle finds a ufunc's reducer by its type alone
# (copyreg.dispatch_table[numpy.ufunc], NumPy's: by name).  So the reducer that knows
# ndffi's ufuncs is registered only once ndffi makes one, and for every other ufunc it
# calls the reducer that was registered before it (NumPy's), whose result it returns as
# it is: NumPy's ufuncs pickle exactly as NumPy pickles them.

_previous_reducer = None
_reducer_lock = threading.Lock()
_made: dict = {}  # (kind, function, args, kwargs) -> the ufunc made again, once per process


def _reduce(uf):
    spec = _ndffi.ufunc_spec(uf)
    if spec is None:  # not ndffi's: the reducer that was there
        return _previous_reducer(uf) if _previous_reducer is not None else uf.__name__
    return rebuild_ufunc, tuple(spec)


def _pickle_ndffi_ufuncs():
    global _previous_reducer
    if copyreg.dispatch_table.get(np.ufunc) is _reduce:
        return
    with _reducer_lock:
        current = copyreg.dispatch_table.get(np.ufunc)
        if current is not _reduce:
            _previous_reducer = current
            copyreg.pickle(np.ufunc, _reduce)


def rebuild_ufunc(kind, function, args, kwargs):
    """The ufunc ``function.ufunc(*args, **kwargs)`` (or ``gufunc``) made again (unpickling),
    once per process for the same arguments."""
    key = (kind, function, args, kwargs)
    make = ufunc if kind == "ufunc" else gufunc
    try:
        hash(key)
    except TypeError:  # an unhashable argument: no caching
        return make(function, *args, **dict(kwargs))
    with _reducer_lock:
        uf = _made.get(key)
    if uf is None:
        uf = make(function, *args, **dict(kwargs))
        with _reducer_lock:
            uf = _made.setdefault(key, uf)
    return uf
