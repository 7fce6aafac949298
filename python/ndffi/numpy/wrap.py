"""NumPy-shaped Python functions from C functions: ``wrap()`` (ufuncs: :mod:`.ufunc`).

``Function.wrap(**params)`` says what each C parameter is and returns a Python function
that converts inputs, allocates outputs, fills in lengths and calls the C function once:

    fibseries = lib.fibseries.wrap(a=ndffi.In, elements=ndffi.len_of("a"),
                                   series=ndffi.Out(like="a"))
    fibseries([1, 2, 3])      # array([0, 1, 1], dtype=int32)
"""

import inspect
import keyword
import re

import numpy as np

__all__ = ["In", "InOut", "Out", "StatusError", "Wrapped", "len_of", "negative_raises",
           "nonzero_raises", "shape_of"]


# ---- parameter specifications ----------------------------------------------------

class _Spec:
    """Base of the parameter specifications; compares and hashes by value."""

    _fields = ()

    def _key(self):
        return (type(self).__name__,) + tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other):
        return isinstance(other, _Spec) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields
                         if getattr(self, f) is not None)
        return f"ndffi.{type(self).__name__}({args})"


class In(_Spec):
    """An input array for a ``T *`` parameter.

    Anything ``numpy.asarray`` accepts is converted to a C-contiguous array of the
    C element type (copied when needed; NumPy's 'same_kind' rule, and integers must
    fit).  ``ndim=`` requires that many dimensions.  The C function must not write
    through this pointer: a copy may have been passed.
    """

    _fields = ("ndim",)

    def __init__(self, ndim=None):
        self.ndim = ndim


class InOut(_Spec):
    """An array the C function reads and writes in place.  Never copied: it must be an
    ndarray of exactly the C element type, C-contiguous and writeable, else TypeError."""

    _fields = ("ndim",)

    def __init__(self, ndim=None):
        self.ndim = ndim


class Out(_Spec):
    """An output array the wrapper allocates (zeroed) and returns.

    The shape is ``like=`` another array argument's, or ``shape=``: an int, the name of
    an integer argument, ``len_of``/``shape_of``, or a tuple of these.  The dtype is
    the C element type (``dtype=`` only for ``void *``).  The caller may pass its own
    buffer as a keyword argument of the same name (checked like ``InOut``).
    """

    _fields = ("like", "shape", "dtype")

    def __init__(self, like=None, shape=None, dtype=None):
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

    def __init__(self, name):
        self.name = name


class shape_of(_Spec):
    """An integer parameter receiving ``name.shape[axis]``."""

    _fields = ("name", "axis")

    def __init__(self, name, axis):
        self.name = name
        self.axis = int(axis)


def _spec(value):
    if isinstance(value, type) and issubclass(value, (In, InOut)):
        return value()
    if value is Out:
        raise TypeError("Out needs a shape: Out(like='a') or Out(shape=...)")
    return value


# ---- status checks ---------------------------------------------------------------

class StatusError(RuntimeError):
    """A C function reported failure through its status result (``check=``)."""

    def __init__(self, message, status=None, function=None):
        super().__init__(message)
        self.status = status
        self.function = function


def nonzero_raises(status, function=None):
    """``check=`` for C functions returning 0 on success: any other value raises
    :class:`StatusError` carrying it."""
    if status:
        raise StatusError(f"{function or 'C function'}() failed with status {status}", status, function)


def negative_raises(status, function=None):
    """``check=`` for C functions returning a negative value on failure."""
    if status < 0:
        raise StatusError(f"{function or 'C function'}() failed with status {status}", status, function)


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


# ---- what the generated wrappers call ---------------------------------------------

def _item_dtype(ctype):
    """The NumPy dtype of a pointer parameter's element type, or None (void *, ...)."""
    item = ctype.item
    if item is None or item.kind == "void":
        return None
    try:
        return np.dtype(item.dtype)
    except (TypeError, AttributeError, ValueError):
        return None


def _make_in(fname, pname, dtype, ndim, writeable):
    where = f"{fname}() argument '{pname}'"

    def convert(x):
        if type(x) is np.ndarray and (dtype is None or x.dtype == dtype):
            flags = x.flags
            if flags.c_contiguous and flags.aligned and (flags.writeable or not writeable):
                arr = x
            else:
                arr = np.array(x, order="C", copy=True)   # aligned, contiguous, ours
        else:
            arr = np.asarray(x)
            if dtype is not None and arr.dtype != dtype:
                if not np.can_cast(arr.dtype, dtype, "same_kind"):
                    raise TypeError(f"{where}: expected values convertible to {dtype} "
                                    f"(NumPy's 'same_kind' rule), got {arr.dtype}")
                conv = np.ascontiguousarray(arr, dtype=dtype)
                if (dtype.kind in "iub" and arr.dtype.kind in "iub"
                        and not np.can_cast(arr.dtype, dtype, "safe")
                        and arr.size and not np.array_equal(conv, arr)):
                    info = np.iinfo(dtype)
                    raise OverflowError(f"{where}: values out of range for {dtype} "
                                        f"[{info.min}, {info.max}]")
                arr = conv
            elif not (arr.flags.c_contiguous and arr.flags.aligned
                      and (arr.flags.writeable or not writeable)):
                arr = np.array(arr, order="C", copy=True)   # aligned, contiguous, ours
        if ndim is not None and arr.ndim != ndim:
            raise ValueError(f"{where}: expected a {ndim}-dimensional array, got {arr.ndim} "
                             f"dimension{'s' if arr.ndim != 1 else ''} (shape {arr.shape})")
        return arr

    return convert


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"{x.dtype} array"
    return type(x).__name__


def _make_inout(fname, pname, dtype, ndim, what="InOut"):
    where = f"{fname}() argument '{pname}' ({what})"
    expected = f"a C-contiguous writeable {dtype if dtype is not None else ''} ndarray".replace("  ", " ")

    def check(x, shape=None):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{where}: expected {expected}, got {_describe(x)} (never copied)")
        if dtype is not None and x.dtype != dtype:
            raise TypeError(f"{where}: expected {expected}, got {x.dtype} array (never copied)")
        if not x.flags.c_contiguous:
            raise TypeError(f"{where}: expected {expected}, got a non-contiguous array (never copied)")
        if not x.flags.writeable:
            raise TypeError(f"{where}: expected {expected}, got a read-only array")
        if not x.flags.aligned:
            raise TypeError(f"{where}: expected {expected}, got an unaligned array")
        if ndim is not None and x.ndim != ndim:
            raise ValueError(f"{where}: expected a {ndim}-dimensional array, got shape {x.shape}")
        if shape is not None and x.shape != shape:
            raise ValueError(f"{where}: expected shape {shape}, got {x.shape}")
        return x

    return check


def _make_dim(fname, pname, target, axis):
    where = f"{fname}() argument '{target}'"

    def dim(arr):
        if axis >= arr.ndim or axis < -arr.ndim:
            raise ValueError(f"{where}: needs at least {axis + 1 if axis >= 0 else -axis} "
                             f"dimensions for '{pname}' (shape_of), got shape {arr.shape}")
        return arr.shape[axis]

    return dim


def _index(fname, pname):
    import operator

    def index(v):
        try:
            return operator.index(v)
        except TypeError:
            raise TypeError(f"{fname}() argument '{pname}': expected an int (it sets an output's "
                            f"shape), got {type(v).__name__}") from None

    return index


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


def wrap(function, params=None, /, *, check=None, name=None, **more):
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
    wname = name or fname
    kind_of_result = function.ctype.item.kind
    by_name = {}
    taken = set()
    pnames = []
    for i, (cname, ctype) in enumerate(cparams):
        py = _pyname(cname, i, taken)
        pnames.append(py)
        by_name[cname or f"arg{i + 1}"] = i
    unknown = [k for k in params if k not in by_name]
    if unknown:
        listed = ", ".join(cname or f"arg{i + 1}" for i, (cname, _) in enumerate(cparams))
        raise TypeError(f"wrap() of {fname}(): no parameter named {', '.join(map(repr, unknown))}; "
                        f"the parameters are: {listed}")
    specs = [None] * len(cparams)
    for k, v in params.items():
        specs[by_name[k]] = _spec(v)
    wrap_kwargs = (tuple(sorted(((k, _spec(v)) for k, v in params.items()), key=lambda kv: kv[0])),
                   (("check", check), ("name", name)))

    def pyref(ref, what):
        if ref not in by_name:
            raise TypeError(f"wrap() of {fname}(): {what} refers to {ref!r}, which is not a parameter")
        return by_name[ref]

    ns = {"_nd_np": np, "_nd_f": function}
    arrays = {}     # parameter index -> kind ("in", "inout", "out")
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
                        raise TypeError(f"{label}: the dtype comes from the C type ({dtype}); "
                                        f"dtype={np.dtype(spec.dtype)} does not match")
                    dtype = np.dtype(spec.dtype)
                if dtype is None:
                    raise TypeError(f"{label}: Out needs dtype= for this element type")
                if ctype.item.is_const:
                    raise TypeError(f"{label} points to const, so it cannot be an output")
            if isinstance(spec, InOut) and ctype.item is not None and ctype.item.is_const:
                raise TypeError(f"{label} points to const, so C cannot write it: use In")
            arrays[i] = type(spec).__name__.lower()
            ns[f"_nd_dt{i}"] = dtype
        elif isinstance(spec, (len_of, shape_of)):
            if ctype.kind not in ("int", "enum"):
                raise TypeError(f"{label} is not an integer, so it cannot be {type(spec).__name__}")
    for i, spec in enumerate(specs):
        what = f"{type(spec).__name__} of '{cparams[i][0]}'"
        array_refs, int_refs = [], []
        if isinstance(spec, (len_of, shape_of)):
            array_refs.append(spec.name)
        elif isinstance(spec, Out):
            if spec.like is not None:
                array_refs.append(spec.like)
            for s in (spec.shape if isinstance(spec.shape, tuple) else (spec.shape,)):
                if isinstance(s, (len_of, shape_of)):
                    array_refs.append(s.name)
                elif isinstance(s, str):
                    int_refs.append(s)
                elif s is not None and not isinstance(s, (int, np.integer)):
                    raise TypeError(f"wrap() of {fname}(): the shape of '{cparams[i][0]}' has {s!r}; "
                                    f"expected ints, argument names, len_of or shape_of")
        for ref in array_refs:
            if pyref(ref, what) not in arrays:
                raise TypeError(f"wrap() of {fname}(): {spec!r} refers to '{ref}', which is not "
                                f"an In, InOut or Out array")
        for ref in int_refs:
            j = pyref(ref, what)
            if specs[j] is not None or cparams[j][1].kind not in ("int", "enum"):
                raise TypeError(f"wrap() of {fname}(): the shape of '{cparams[i][0]}' refers to "
                                f"'{ref}', which is not an integer argument of the wrapper")

    # The wrapper's signature: array and plain arguments in C order, then the output
    # buffers as optional keywords.
    sig_params, lines = [], []
    doc_params, doc_returns, notes = [], [], []
    for i, spec in enumerate(specs):
        cname, ctype = cparams[i]
        py = pnames[i]
        decl = ctype.cname
        if spec is None:
            sig_params.append(inspect.Parameter(py, inspect.Parameter.POSITIONAL_OR_KEYWORD))
            doc_params.append((py, _scalar_doc(ctype), f"C ``{decl}``, passed as it is."))
        elif isinstance(spec, In):
            sig_params.append(inspect.Parameter(py, inspect.Parameter.POSITIONAL_OR_KEYWORD))
            dt = ns[f"_nd_dt{i}"]
            ns[f"_nd_in{i}"] = _make_in(wname, py, dt, spec.ndim, not ctype.item.is_const)
            lines.append(f"{py} = _nd_in{i}({py})")
            dims = f"{spec.ndim}-d " if spec.ndim is not None else ""
            doc_params.append((py, f"array_like of {dt if dt is not None else 'any dtype'}",
                               f"C ``{decl}``: a {dims}C-contiguous array, converted (and copied) "
                               f"when needed."))
        elif isinstance(spec, InOut):
            sig_params.append(inspect.Parameter(py, inspect.Parameter.POSITIONAL_OR_KEYWORD))
            dt = ns[f"_nd_dt{i}"]
            ns[f"_nd_io{i}"] = _make_inout(wname, py, dt, spec.ndim)
            lines.append(f"_nd_io{i}({py})")
            doc_params.append((py, f"ndarray of {dt if dt is not None else 'any dtype'}",
                               f"C ``{decl}``: modified in place; must be C-contiguous, writeable "
                               f"and of exactly this dtype (never copied)."))
        elif isinstance(spec, (len_of, shape_of)):
            pass
        elif not isinstance(spec, Out):
            ns[f"_nd_c{i}"] = spec
            notes.append(f"``{py}`` is always ``{spec!r}``.")
    # An integer argument that sets an output's shape is read once, as an int, so that C
    # gets the size the output was allocated with (an __index__ may answer anything next).
    sizes = sorted({by_name[r] for s in specs if isinstance(s, Out) for r in _refs(s)
                    if specs[by_name[r]] is None})
    for j in sizes:
        ns[f"_nd_ix{j}"] = _index(wname, pnames[j])
        lines.append(f"{pnames[j]} = _nd_ix{j}({pnames[j]})")
    # Outputs: allocated after the inputs, in dependency order (Out(like=another Out)).
    pending = [i for i, s in enumerate(specs) if isinstance(s, Out)]
    done = set(i for i in arrays if arrays[i] != "out")
    while pending:
        progressed = False
        for i in list(pending):
            spec = specs[i]
            deps = [by_name[r] for r in _refs(spec) if by_name[r] in arrays]
            if not all(d in done for d in deps):
                continue
            py = pnames[i]
            shape = _shape_expr(spec, pnames, by_name, specs, ns, wname, i)
            ns[f"_nd_ob{i}"] = _make_inout(wname, py, ns[f"_nd_dt{i}"], None, "Out")
            lines.append(f"if {py} is None:")
            lines.append(f"    {py} = _nd_np.zeros({shape}, _nd_dt{i})")
            lines.append("else:")
            lines.append(f"    _nd_ob{i}({py}, {shape})")
            sig_params.append(inspect.Parameter(py, inspect.Parameter.KEYWORD_ONLY, default=None))
            where = (f"shape of ``{spec.like}``" if spec.like is not None
                     else f"shape ``{_shape_text(spec.shape)}``")
            doc_params.append((py, f"ndarray of {ns[f'_nd_dt{i}']}, optional",
                               f"Output buffer for C ``{cparams[i][1].cname}``; allocated with the "
                               f"{where} when not given."))
            doc_returns.append((py, f"ndarray of {ns[f'_nd_dt{i}']}",
                                f"Written by the C function ({where})."))
            done.add(i)
            pending.remove(i)
            progressed = True
        if not progressed:
            raise TypeError(f"wrap() of {fname}(): the output shapes refer to each other in a cycle")
    # The call.
    call_args = []
    for i, spec in enumerate(specs):
        py = pnames[i]
        if isinstance(spec, len_of):
            call_args.append(f"{pnames[by_name[spec.name]]}.size")
            notes.append(f"``{py}`` is passed as ``{spec.name}.size``.")
        elif isinstance(spec, shape_of):
            tgt = pnames[by_name[spec.name]]
            ndim = getattr(specs[by_name[spec.name]], "ndim", None)
            if ndim is not None and -ndim <= spec.axis < ndim:   # the rank was checked
                call_args.append(f"{tgt}.shape[{spec.axis}]")
            else:
                ns[f"_nd_d{i}"] = _make_dim(wname, py, tgt, spec.axis)
                call_args.append(f"_nd_d{i}({tgt})")
            notes.append(f"``{py}`` is passed as ``{spec.name}.shape[{spec.axis}]``.")
        elif spec is None or isinstance(spec, (In, InOut, Out)):
            call_args.append(py)
        else:
            call_args.append(f"_nd_c{i}")
    lines.append(f"_nd_r = _nd_f({', '.join(call_args)})")
    results = []
    if check is not None:
        ns["_nd_check"] = check
        if _check_arity(check):
            lines.append(f"_nd_check(_nd_r, {wname!r})")
        else:
            lines.append("_nd_check(_nd_r)")
        notes.append(f"The C result is a status, checked by ``{getattr(check, '__name__', check)}``.")
    elif kind_of_result != "void":
        results.append("_nd_r")
        doc_returns.insert(0, ("result", _scalar_doc(function.ctype.item),
                               f"The C result (``{function.ctype.item.cname}``)."))
    results += [pnames[i] for i in range(len(specs)) if isinstance(specs[i], Out)]
    if not results:
        lines.append("return None")
    elif len(results) == 1:
        lines.append(f"return {results[0]}")
    else:
        lines.append(f"return ({', '.join(results)})")

    signature = inspect.Signature(sig_params)
    src = f"def {_identifier(wname)}{signature}:\n" + "".join(f"    {ln}\n" for ln in lines)
    exec(compile(src, f"<ndffi.wrap {wname}>", "exec"), ns)
    impl = ns[_identifier(wname)]
    doc = _docstring(wname, signature, function.prototype, doc_params, doc_returns, notes)
    impl.__doc__ = doc
    impl.__qualname__ = wname
    cls = type(wname, (Wrapped,), {
        "__call__": staticmethod(impl),
        "__doc__": doc,
        "__signature__": signature,
        "__module__": "ndffi",
    })
    w = cls()
    w.__name__ = wname
    w.__qualname__ = wname
    w.function = function
    w.prototype = function.prototype
    w._wrap_kwargs = wrap_kwargs
    w._source = src
    return w


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


def _shape_expr(spec, pnames, by_name, specs, ns, fname, i):
    if spec.like is not None:
        return f"{pnames[by_name[spec.like]]}.shape"
    parts = []
    shape = spec.shape if isinstance(spec.shape, tuple) else (spec.shape,)
    for k, s in enumerate(shape):
        if isinstance(s, str):
            parts.append(pnames[by_name[s]])   # already an int (see wrap)
        elif isinstance(s, len_of):
            parts.append(f"{pnames[by_name[s.name]]}.size")
        elif isinstance(s, shape_of):
            ns[f"_nd_sd{i}_{k}"] = _make_dim(fname, pnames[i], pnames[by_name[s.name]], s.axis)
            parts.append(f"_nd_sd{i}_{k}({pnames[by_name[s.name]]})")
        else:
            parts.append(str(int(s)))
    return "(" + "".join(p + ", " for p in parts) + ")"


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
