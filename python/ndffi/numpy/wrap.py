"""NumPy-shaped Python functions from C functions: ``wrap()`` (ufuncs: :mod:`.ufunc`).

``Function.wrap(**params)`` says what each C parameter is and returns a Python function
that converts inputs, allocates outputs, fills in lengths and calls the C function once:

    fibseries = lib.fibseries.wrap(a=ndffi.In, elements=ndffi.len_of("a"),
                                   series=ndffi.Out(like="a"))
    fibseries([1, 2, 3])      # array([0, 1, 1], dtype=int32)
"""

import inspect
import keyword
import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .params import In, InOut, Out, StatusError, _spec, len_of, negative_raises, nonzero_raises, shape_of
from .steps import (
    _apart,
    _apply,
    _call_on,
    _constant,
    _index,
    _item_dtype,
    _make_dim,
    _make_in,
    _make_inout,
    _set_dim,
    _set_from,
    _set_index,
    _set_size,
    _size,
)

__all__ = [
    "In",
    "InOut",
    "Out",
    "StatusError",
    "Wrapped",
    "len_of",
    "negative_raises",
    "nonzero_raises",
    "shape_of",
    "wrap",
]


def _is_unsigned(ctype):
    try:
        return np.dtype(ctype.dtype).kind == "u"
    except (TypeError, AttributeError, ValueError):
        return False


def _check_arity(check):
    """Whether ``check`` takes the function name as a second argument."""
    try:
        sig = inspect.signature(check)
    except (TypeError, ValueError):
        return False
    try:
        sig.bind(0, "f")
        return True
    except TypeError:
        return False


# ---- wrap ------------------------------------------------------------------------


class Wrapped:
    """A Python function made by :meth:`Function.wrap`: converts array inputs,
    allocates outputs and calls the C function once.  It pickles by the C function
    (its library and declarations) and the specification."""

    def __reduce__(self):
        params, options = self._wrap_kwargs
        return rebuild_wrapped, (self.function, params, options)

    def __repr__(self):
        return f"<ndffi wrapped {self.__name__}{self.__signature__} of '{self.function.prototype}'>"


def rebuild_wrapped(function, params, options):
    """The Wrapped of ``function`` made again from its specification (unpickling)."""
    return function.wrap(dict(params), **dict(options))


def _pyname(name, index, taken):
    if not name:
        name = f"arg{index + 1}"
    if keyword.iskeyword(name) or name.startswith("_nd_"):
        name += "_"
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def wrap(
    function: Any, params: Any = None, /, *, check: Any = None, name: str | None = None, **more: Any
) -> Callable[..., Any]:
    """Make a NumPy-shaped Python function around a C function (``Function.wrap``).

    Each keyword names a C parameter and says what it is:

    - ``ndffi.In`` / ``ndffi.In(ndim=2)``: an input array (converted, may be copied);
    - ``ndffi.InOut``: an array modified in place (never copied);
    - ``ndffi.Out(like="a")`` / ``ndffi.Out(shape=...)``: an output, allocated and returned;
    - ``ndffi.len_of("a")`` / ``ndffi.shape_of("a", 0)``: an integer filled from an array;
    - any other value: passed as that constant on every call.

    A C parameter named ``check`` or ``name`` is given in a dict as the first
    argument: ``f.wrap({"name": ndffi.In})``.  Parameters not named are arguments of
    the wrapper, passed to C as they are (checked as in a direct call).  The wrapper
    returns the C result (unless ``check=`` is given) followed by the outputs: one
    value, a tuple, or None.
    ``check(status[, name])`` is called with the C result and raises on failure;
    ``ndffi.nonzero_raises`` and ``ndffi.negative_raises`` are ready-made checks.
    """
    params = {**dict(params or {}), **more}
    cparams = function.params
    fname = function.__name__
    pnames, by_name = [], {}
    taken: set[str] = set()
    for i, (cname, _ctype) in enumerate(cparams):
        pnames.append(_pyname(cname, i, taken))
        by_name[cname or f"arg{i + 1}"] = i
    unknown = [k for k in params if k not in by_name]
    if unknown:
        listed = ", ".join(cname or f"arg{i + 1}" for i, (cname, _) in enumerate(cparams))
        raise TypeError(
            f"wrap() of {fname}(): no parameter named {', '.join(map(repr, unknown))}; the parameters are: {listed}"
        )
    specs = [None] * len(cparams)
    for k, v in params.items():
        specs[by_name[k]] = _spec(v)
    dtypes = _array_dtypes(fname, cparams, pnames, specs)
    _check_references(fname, cparams, by_name, specs, dtypes)
    wrap_kwargs = (
        tuple(sorted(((k, _spec(v)) for k, v in params.items()), key=lambda kv: kv[0])),
        (("check", check), ("name", name)),
    )
    return _Plan(function, name or fname, pnames, by_name, specs, dtypes).wrapper(check, wrap_kwargs)


def _array_dtypes(fname, cparams, pnames, specs):
    """{parameter index: dtype} of the In, InOut and Out parameters, after checking that
    each can be what its specification says."""
    dtypes = {}
    for i, spec in enumerate(specs):
        cname, ctype = cparams[i]
        label = f"wrap() of {fname}(): parameter '{cname or pnames[i]}' ('{ctype.cname}')"
        if isinstance(spec, (In, InOut, Out)):
            if ctype.kind != "pointer":
                raise TypeError(f"{label} is not a pointer, so it cannot be {type(spec).__name__}")
            dtype = _item_dtype(ctype)
            if isinstance(spec, Out):
                if spec.dtype is not None:
                    if dtype is not None and np.dtype(spec.dtype) != dtype:
                        raise TypeError(
                            f"{label}: the dtype comes from the C type ({dtype}); "
                            f"dtype={np.dtype(spec.dtype)} does not match"
                        )
                    dtype = np.dtype(spec.dtype)
                if dtype is None:
                    raise TypeError(f"{label}: Out needs dtype= for this element type")
                if ctype.item.is_const:
                    raise TypeError(f"{label} points to const, so it cannot be an output")
            if isinstance(spec, InOut) and ctype.item is not None and ctype.item.is_const:
                raise TypeError(f"{label} points to const, so C cannot write it: use In")
            dtypes[i] = dtype
        elif isinstance(spec, (len_of, shape_of)):
            if ctype.kind not in ("int", "enum"):
                raise TypeError(f"{label} is not an integer, so it cannot be {type(spec).__name__}")
    return dtypes


def _check_references(fname, cparams, by_name, specs, arrays):
    """Every name a len_of, shape_of or Out refers to is an array (or, in a shape, an
    integer argument) of the wrapper."""

    def index_of(ref, what):
        if ref not in by_name:
            raise TypeError(f"wrap() of {fname}(): {what} refers to {ref!r}, which is not a parameter")
        return by_name[ref]

    for i, spec in enumerate(specs):
        what = f"{type(spec).__name__} of '{cparams[i][0]}'"
        array_refs, int_refs = [], []
        if isinstance(spec, (len_of, shape_of)):
            array_refs.append(spec.name)
        elif isinstance(spec, Out):
            if spec.like is not None:
                array_refs.append(spec.like)
            for s in spec.shape if isinstance(spec.shape, tuple) else (spec.shape,):
                if isinstance(s, (len_of, shape_of)):
                    array_refs.append(s.name)
                elif isinstance(s, str):
                    int_refs.append(s)
                elif s is not None and not isinstance(s, (int, np.integer)):
                    raise TypeError(
                        f"wrap() of {fname}(): the shape of '{cparams[i][0]}' has {s!r}; "
                        f"expected ints, argument names, len_of or shape_of"
                    )
        for ref in array_refs:
            if index_of(ref, what) not in arrays:
                raise TypeError(
                    f"wrap() of {fname}(): {spec!r} refers to '{ref}', which is not an In, InOut or Out array"
                )
        for ref in int_refs:
            j = index_of(ref, what)
            if specs[j] is not None or cparams[j][1].kind not in ("int", "enum"):
                raise TypeError(
                    f"wrap() of {fname}(): the shape of '{cparams[i][0]}' refers to "
                    f"'{ref}', which is not an integer argument of the wrapper"
                )


class _Plan:
    """What a wrapper does on each call, made once: its arguments are a list ``v`` (in
    the order of its signature, then the C arguments computed from them and the
    constants); *steps* convert, check, allocate and compute in place, and the C call
    takes its arguments from ``v`` by index (``operator.itemgetter``).  Plain closures:
    no code is generated."""

    def __init__(self, function, wname, pnames, by_name, specs, dtypes):
        self.function, self.wname, self.pnames, self.by_name = function, wname, pnames, by_name
        self.specs, self.dtypes = specs, dtypes
        cparams = function.params
        # The signature: array and plain arguments in C order, then the output buffers as
        # optional keywords; slot[i] is C parameter i's place in it.
        positional = [i for i, s in enumerate(specs) if s is None or isinstance(s, (In, InOut))]
        outputs = self._output_order()
        self.slot = {i: k for k, i in enumerate(positional + outputs)}
        self.npos, self.outputs = len(positional), outputs
        self.sig_params = [inspect.Parameter(pnames[i], inspect.Parameter.POSITIONAL_OR_KEYWORD) for i in positional]
        self.sig_params += [
            inspect.Parameter(pnames[i], inspect.Parameter.KEYWORD_ONLY, default=None) for i in sorted(outputs)
        ]
        self.steps, self.doc_params, self.doc_returns, self.notes = [], [], [], []
        for i, spec in enumerate(specs):
            self._input(i, spec, cparams[i][1])
        # An integer argument that sets an output's shape is read once, as an int, so that C
        # gets the size the output was allocated with (an __index__ may answer anything next).
        for j in sorted(
            {by_name[r] for s in specs if isinstance(s, Out) for r in _refs(s) if specs[by_name[r]] is None}
        ):
            self.steps.append(_set_index(self.slot[j], _index(wname, pnames[j])))
        for i in outputs:
            self._output(i, specs[i], cparams[i][1])
        reads = [self.slot[i] for i, s in enumerate(specs) if isinstance(s, In)]
        writes = [self.slot[i] for i, s in enumerate(specs) if isinstance(s, (InOut, Out))]
        if reads and writes:
            self.steps.append(_apart(reads, writes))
        self.extra = []  # the initial values of the slots after the signature's
        self.arguments = [self._argument(i, spec) for i, spec in enumerate(specs)]

    def _output_order(self):
        """The Out parameters in the order they can be allocated (Out(like=another Out))."""
        specs, by_name = self.specs, self.by_name
        pending = [i for i, s in enumerate(specs) if isinstance(s, Out)]
        done = {i for i in self.dtypes if not isinstance(specs[i], Out)}
        order = []
        while pending:
            ready = [
                i for i in pending if all(by_name[r] in done for r in _refs(specs[i]) if by_name[r] in self.dtypes)
            ]
            if not ready:
                raise TypeError(
                    f"wrap() of {self.function.__name__}(): the output shapes refer to each other in a cycle"
                )
            for i in ready:
                order.append(i)
                done.add(i)
                pending.remove(i)
        return order

    def _input(self, i, spec, ctype):
        py, decl = self.pnames[i], ctype.cname
        if spec is None:
            self.doc_params.append((py, _scalar_doc(ctype), f"C ``{decl}``, passed as it is."))
        elif isinstance(spec, In):
            dt = self.dtypes[i]
            self.steps.append(_make_in(self.wname, py, dt, spec.ndim, not ctype.item.is_const, self.slot[i]))
            dims = f"{spec.ndim}-d " if spec.ndim is not None else ""
            self.doc_params.append(
                (
                    py,
                    f"array_like of {dt if dt is not None else 'any dtype'}",
                    f"C ``{decl}``: a {dims}C-contiguous array, converted (and copied) when needed.",
                )
            )
        elif isinstance(spec, InOut):
            dt = self.dtypes[i]
            self.steps.append(_apply(self.slot[i], _make_inout(self.wname, py, dt, spec.ndim)))
            self.doc_params.append(
                (
                    py,
                    f"ndarray of {dt if dt is not None else 'any dtype'}",
                    f"C ``{decl}``: modified in place; must be C-contiguous, writeable "
                    f"and of exactly this dtype (never copied).",
                )
            )
        elif not isinstance(spec, (len_of, shape_of, Out)):
            self.notes.append(f"``{py}`` is always ``{spec!r}``.")

    def _output(self, i, spec, ctype):
        py, dt, k = self.pnames[i], self.dtypes[i], self.slot[i]
        check = _make_inout(self.wname, py, dt, None, "Out")
        zeros = np.zeros
        if spec.like is not None:
            j = self.slot[self.by_name[spec.like]]

            def allocate(v):
                x = v[k]
                if x is None:
                    v[k] = zeros(v[j].shape, dt)
                else:
                    check(x, v[j].shape)
        else:
            shape = self._shape(i, spec)

            def allocate(v):
                x = v[k]
                if x is None:
                    v[k] = zeros(shape(v), dt)
                else:
                    check(x, shape(v))

        self.steps.append(allocate)
        where = f"shape of ``{spec.like}``" if spec.like is not None else f"shape ``{_shape_text(spec.shape)}``"
        self.doc_params.append(
            (
                py,
                f"ndarray of {dt}, optional",
                f"Output buffer for C ``{ctype.cname}``; allocated with the {where} when not given.",
            )
        )
        self.doc_returns.append((py, f"ndarray of {dt}", f"Written by the C function ({where})."))

    def _shape(self, i, spec):
        """A getter of the shape of output ``i`` (not ``like=``) from the arguments."""
        parts = []
        for s in spec.shape if isinstance(spec.shape, tuple) else (spec.shape,):
            if isinstance(s, str):
                parts.append(operator.itemgetter(self.slot[self.by_name[s]]))  # an int by now
            elif isinstance(s, len_of):
                parts.append(_size(self.slot[self.by_name[s.name]]))
            elif isinstance(s, shape_of):
                target = self.by_name[s.name]
                dim = _make_dim(self.wname, self.pnames[i], self.pnames[target], s.axis)
                parts.append(_call_on(self.slot[target], dim))
            else:
                parts.append(_constant(int(s)))
        if len(parts) == 1:
            only = parts[0]
            return lambda v: (only(v),)
        return lambda v: tuple([g(v) for g in parts])

    def _argument(self, i, spec):
        """The slot of ``v`` that holds C argument ``i`` when C is called."""
        py = self.pnames[i]
        if spec is None or isinstance(spec, (In, InOut, Out)):
            return self.slot[i]
        k = len(self.sig_params) + len(self.extra)
        self.extra.append(None)
        if isinstance(spec, len_of):
            self.notes.append(f"``{py}`` is passed as ``{spec.name}.size``.")
            self.steps.append(_set_size(k, self.slot[self.by_name[spec.name]]))
        elif isinstance(spec, shape_of):
            target = self.by_name[spec.name]
            self.notes.append(f"``{py}`` is passed as ``{spec.name}.shape[{spec.axis}]``.")
            ndim = getattr(self.specs[target], "ndim", None)
            j, axis = self.slot[target], spec.axis
            if ndim is not None and -ndim <= axis < ndim:  # the rank was checked
                self.steps.append(_set_dim(k, j, axis))
            else:
                self.steps.append(_set_from(k, _call_on(j, _make_dim(self.wname, py, self.pnames[target], axis))))
        else:
            self.extra[-1] = spec  # a constant
        return k

    def wrapper(self, check, wrap_kwargs):
        """The Wrapped: the call, its signature and docstring."""
        function, wname = self.function, self.wname
        finish = self._finish(check)
        tail = (None,) * len(self.outputs) + tuple(self.extra)
        call = _caller(function, self._binder(tail), self.npos, tail, self.steps, self.arguments, finish)
        names = [p.name for p in self.sig_params]
        if call is None:  # every argument passed to C as it is, few enough for a template
            call = _direct(function, names, _identifier(wname))
        signature = inspect.Signature(self.sig_params)
        doc = _docstring(wname, signature, function.prototype, self.doc_params, self.doc_returns, self.notes)
        call.__name__ = _identifier(wname)
        call.__qualname__ = wname
        call.__doc__ = doc
        call.__signature__ = signature
        cls = type(
            wname,
            (Wrapped,),
            {"__call__": staticmethod(call), "__doc__": doc, "__signature__": signature, "__module__": "ndffi"},
        )
        w = cls()
        w.__name__ = wname
        w.__qualname__ = wname
        w.function = function
        w.prototype = function.prototype
        w._wrap_kwargs = wrap_kwargs
        return w

    def _finish(self, check):
        """(C result, arguments) -> what the wrapper returns, after ``check``."""
        results = []  # getters of what is returned
        function, wname = self.function, self.wname
        if check is not None:
            result = function.ctype.item
            if not callable(check):
                raise TypeError(f"wrap() of {function.__name__}(): check= must be callable, got {check!r}")
            if result.kind == "void":
                raise TypeError(f"wrap() of {function.__name__}(): check= needs a status result; the C result is void")
            if check is negative_raises and result.kind in ("int", "enum") and _is_unsigned(result):
                raise TypeError(
                    f"wrap() of {function.__name__}(): negative_raises can never fire on a '{result.cname}' result "
                    "(unsigned); compare it with its failure value in a check of your own"
                )
            self.notes.append(f"The C result is a status, checked by ``{getattr(check, '__name__', check)}``.")
        elif function.ctype.item.kind != "void":
            results.append(None)  # the C result
            self.doc_returns.insert(
                0, ("result", _scalar_doc(function.ctype.item), f"The C result (``{function.ctype.item.cname}``).")
            )
        results += [self.slot[i] for i in sorted(self.outputs)]
        if check is not None and _check_arity(check):

            def checked(r):
                check(r, wname)
        elif check is not None:
            checked = check
        else:
            checked = None
        return _returner(results, checked)

    def _binder(self, tail):
        """(args, kwargs) -> the argument list, with Python's own messages for wrong calls."""
        names = [p.name for p in self.sig_params]
        npos, wname = self.npos, _identifier(self.wname)
        index = {n: k for k, n in enumerate(names)}

        outputs = {names[k]: k for k in range(npos, len(names))}

        def bind(args, kwargs):
            n = len(args)
            if n == npos:  # the common case: output buffers given by keyword
                v = [*args, *tail]
                for key, value in kwargs.items():
                    k = outputs.get(key)
                    if k is None:
                        break
                    v[k] = value
                else:
                    return v
            if n > npos:
                raise TypeError(
                    f"{wname}() takes {npos} positional argument{'s' if npos != 1 else ''} "
                    f"but {n} {'were' if n != 1 else 'was'} given"
                )
            v = [*args, *[_MISSING] * (npos - n), *tail]
            for key, value in kwargs.items():
                k = index.get(key)
                if k is None:
                    raise TypeError(f"{wname}() got an unexpected keyword argument '{key}'")
                if k < n:
                    raise TypeError(f"{wname}() got multiple values for argument '{key}'")
                v[k] = value
            missing = [repr(names[k]) for k in range(npos) if v[k] is _MISSING]
            if missing:
                listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
                raise TypeError(
                    f"{wname}() missing {len(missing)} required positional "
                    f"argument{'s' if len(missing) != 1 else ''}: {listed}"
                )
            return v

        return bind


_MISSING = object()


def _caller(function, bind, npos, tail, steps, arguments, finish):
    """The wrapper's call: bind, run the steps, call C with the arguments' slots, finish
    (``finish`` is None: return the C result).  Written for speed: no comprehension or
    per-argument call on the way to C."""
    steps = tuple(steps)
    if not arguments:
        pick = _no_arguments
    elif len(arguments) == 1:
        pick = operator.itemgetter(slice(arguments[0], arguments[0] + 1))  # [v[k]]
    else:
        pick = operator.itemgetter(*arguments)

    if finish is None and not steps and not tail and arguments == list(range(npos)) and npos <= len(_DIRECT):
        return None  # _direct()'s
    if finish is None and not steps and not tail and arguments == list(range(npos)):

        def call(*args, **kwargs):  # every argument passed to C as it is
            if kwargs or len(args) != npos:
                args = bind(args, kwargs)
            return function(*args)
    elif isinstance(finish, int):  # return argument slot ``finish``: the one output

        def call(*args, **kwargs):
            v = bind(args, kwargs) if kwargs or len(args) != npos else [*args, *tail]
            for step in steps:
                step(v)
            function(*pick(v))
            return v[finish]
    elif finish is None:

        def call(*args, **kwargs):
            v = bind(args, kwargs) if kwargs or len(args) != npos else [*args, *tail]
            for step in steps:
                step(v)
            return function(*pick(v))
    else:

        def call(*args, **kwargs):
            v = bind(args, kwargs) if kwargs or len(args) != npos else [*args, *tail]
            for step in steps:
                step(v)
            return finish(function(*pick(v)), v)

    return call


def _direct0(function):
    return lambda: function()


def _direct1(function):
    return lambda a: function(a)


def _direct2(function):
    return lambda a, b: function(a, b)


def _direct3(function):
    return lambda a, b, c: function(a, b, c)


def _direct4(function):
    return lambda a, b, c, d: function(a, b, c, d)


_DIRECT = (_direct0, _direct1, _direct2, _direct3, _direct4)


def _direct(function, names, wname):
    """The wrapper that passes its arguments to C as they are: a function of the
    parameters ``names`` (its code's, renamed: Python binds keywords and words its
    messages), calling ``function`` with no packing of ``*args``."""
    call = _DIRECT[len(names)](function)
    code = call.__code__
    call.__code__ = code.replace(
        co_varnames=tuple(names) + code.co_varnames[len(names) :], co_name=wname, co_qualname=wname
    )
    return call


def _no_arguments(v):
    return ()


def _returner(results, checked):
    """What the wrapper returns from the C result and the argument list: ``results``
    lists argument slots (None: the C result); ``checked`` is called with the result."""
    if not results:
        if checked is None:
            return lambda r, v: None

        def none_checked(r, v):
            checked(r)

        return none_checked
    getters = [(lambda r, v: r) if k is None else (lambda r, v, k=k: v[k]) for k in results]
    if len(getters) == 1:
        only = getters[0]
        if checked is None:
            return results[0]  # None: the C result; a slot: that output

        def one_checked(r, v):
            checked(r)
            return only(r, v)

        return one_checked

    def several(r, v):
        if checked is not None:
            checked(r)
        return tuple([g(r, v) for g in getters])

    return several


def _refs(spec):
    if isinstance(spec, (len_of, shape_of)):
        return [spec.name]
    if isinstance(spec, Out):
        refs = [spec.like] if spec.like is not None else []
        shape = spec.shape if isinstance(spec.shape, tuple) else (spec.shape,)
        for s in shape:
            if isinstance(s, str):
                refs.append(s)
            elif isinstance(s, (len_of, shape_of)):
                refs.append(s.name)
        return refs
    return []


def _shape_text(shape):
    shape = shape if isinstance(shape, tuple) else (shape,)
    out = []
    for s in shape:
        if isinstance(s, len_of):
            out.append(f"{s.name}.size")
        elif isinstance(s, shape_of):
            out.append(f"{s.name}.shape[{s.axis}]")
        else:
            out.append(str(s))
    return "(" + ", ".join(out) + ("," if len(out) == 1 else "") + ")"


def _identifier(name):
    ident = re.sub(r"\W", "_", name)
    if not ident or ident[0].isdigit() or keyword.iskeyword(ident):
        ident = "_" + ident
    return ident


def _scalar_doc(ctype):
    try:
        return str(np.dtype(ctype.dtype))
    except (TypeError, AttributeError, ValueError):
        return ctype.cname


def _docstring(name, signature, prototype, params, returns, notes):
    out = [f"{name}{signature}", "", f"Call the C function ``{prototype}``.", ""]
    if params:
        out += ["Parameters", "----------"]
        for pname, ptype, text in params:
            out += [f"{pname} : {ptype}", f"    {text}"]
        out.append("")
    out += ["Returns", "-------"]
    if returns:
        for rname, rtype, text in returns:
            out += [f"{rname} : {rtype}", f"    {text}"]
    else:
        out += ["None"]
    if notes:
        out += ["", "Notes", "-----"] + notes
    return "\n".join(out) + "\n"
