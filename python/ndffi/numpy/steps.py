"""The steps a ``wrap()`` wrapper runs on each call, made once per wrapper: converting
and checking its arrays, copying an input apart from what C writes, and reading sizes
and shapes into the argument list ``v`` (see :class:`ndffi.numpy.wrap._Plan`)."""

import operator

import numpy as np

from ..errors import contiguity_fix, layout_problem


def _item_dtype(ctype):
    """The NumPy dtype of a pointer parameter's element type, or None (void *, ...)."""
    item = ctype.item
    if item is None or item.kind == "void":
        return None
    try:
        return np.dtype(item.dtype)
    except (TypeError, AttributeError, ValueError):
        return None


def _make_in(fname, pname, dtype, ndim, writeable, k):
    """The step that converts argument slot ``k`` of a wrapper to the array C gets."""
    where = f"{fname}() argument '{pname}'"

    def convert(v):
        x = v[k]
        if type(x) is np.ndarray and (dtype is None or x.dtype == dtype):
            flags = x.flags
            if flags.c_contiguous and flags.aligned and (flags.writeable or not writeable):
                arr = x
            else:
                arr = np.array(x, order="C", copy=True)  # aligned, contiguous, ours
        else:
            arr = np.asarray(x)
            if dtype is not None and arr.dtype != dtype:
                if dtype.names is not None or arr.dtype.names is not None:  # NumPy casts records by position
                    raise TypeError(
                        f"{where}: expected records of the struct's dtype {dtype}, got an array of {arr.dtype}; "
                        "records are never converted (NumPy would match their fields by position, not by name)"
                    )
                if not np.can_cast(arr.dtype, dtype, "same_kind"):
                    raise TypeError(
                        f"{where}: expected values convertible to {dtype} (NumPy's 'same_kind' rule), got {arr.dtype}"
                    )
                with np.errstate(over="ignore"):  # an overflow is raised below, not warned
                    conv = np.ascontiguousarray(arr, dtype=dtype)
                if (
                    dtype.kind in "iub"
                    and arr.dtype.kind in "iub"
                    and not np.can_cast(arr.dtype, dtype, "safe")
                    and arr.size
                    and not np.array_equal(conv, arr)
                ):
                    info = np.iinfo(dtype)
                    raise OverflowError(f"{where}: values out of range for {dtype} [{info.min}, {info.max}]")
                if dtype.kind == "f" and arr.dtype.kind in "fiu" and np.isinf(conv).sum() != np.isinf(arr).sum():
                    finfo = np.finfo(dtype)
                    raise OverflowError(f"{where}: values out of range for {dtype} (largest {finfo.max})")
                arr = conv
            elif not (arr.flags.c_contiguous and arr.flags.aligned and (arr.flags.writeable or not writeable)):
                arr = np.array(arr, order="C", copy=True)  # aligned, contiguous, ours
        if ndim is not None and arr.ndim != ndim:
            raise ValueError(
                f"{where}: expected a {ndim}-dimensional array, got {arr.ndim} "
                f"dimension{'s' if arr.ndim != 1 else ''} (shape {arr.shape})"
            )
        v[k] = arr

    return convert


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"{x.dtype} array"
    return type(x).__name__


def _apart(reads, writes):
    """The step that copies an In array sharing memory with an array C writes (as
    NumPy's ufuncs do), so that C reads what was given, not what it wrote."""

    def apart(v):
        for r in reads:
            x = v[r]
            if any(np.may_share_memory(x, v[w]) for w in writes):
                v[r] = x.copy()

    return apart


def _make_inout(fname, pname, dtype, ndim, what="InOut"):
    where = f"{fname}() argument '{pname}' ({what})"
    expected = f"a C-contiguous writeable {dtype if dtype is not None else ''} ndarray".replace("  ", " ")

    def check(x, shape=None):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{where}: expected {expected}, got {_describe(x)} (never copied)")
        if dtype is not None and x.dtype != dtype:
            raise TypeError(f"{where}: expected {expected}, got {x.dtype} array (never copied)")
        if not x.flags.c_contiguous:
            raise TypeError(
                f"{where}: expected {expected}, got {'an' if x.dtype.name[0] in 'aeiou' else 'a'} {x.dtype} array that is "
                f"{layout_problem(x)} (never copied); " + contiguity_fix(True, x.flags.f_contiguous)
            )
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
            raise ValueError(
                f"{where}: needs at least {axis + 1 if axis >= 0 else -axis} "
                f"dimensions for '{pname}' (shape_of), got shape {arr.shape}"
            )
        return arr.shape[axis]

    return dim


def _index(fname, pname):
    def index(v):
        try:
            return operator.index(v)
        except TypeError:
            raise TypeError(
                f"{fname}() argument '{pname}': expected an int (it sets an output's shape), got {type(v).__name__}"
            ) from None

    return index


def _set_index(k, index):
    def step(v):
        v[k] = index(v[k])

    return step


def _set_size(k, j):
    def step(v):
        v[k] = v[j].size

    return step


def _set_dim(k, j, axis):
    def step(v):
        v[k] = v[j].shape[axis]

    return step


def _set_from(k, compute):
    def step(v):
        v[k] = compute(v)

    return step


def _apply(k, check):
    def step(v):
        check(v[k])

    return step


def _size(k):
    return lambda v: v[k].size


def _call_on(k, fn):
    return lambda v: fn(v[k])


def _constant(value):
    return lambda v: value
