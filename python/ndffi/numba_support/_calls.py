"""Declared C functions, ndffi Pointers and Libraries inside Numba's nopython code.

A function (``lib.gauss``, a global bound to it, or an argument) is typed with its C
signature and compiles to a direct call through its address: scalars are converted as
C converts them, arrays pass their data pointer (element type, contiguity, alignment
and writeability checked when Numba compiles the call), ``None`` passes NULL.  An
``ndffi.Pointer`` is a raw pointer (``p[i]`` reads element i when it points to
numbers).  A Library is a module of constants to Numba, so ``lib.gauss(x)`` works too.
"""

import weakref

from llvmlite import ir
from numba.core import cgutils, types
from numba.core.errors import TypingError
from numba.core.imputils import lower_constant  # numba.extending does not re-export it
from numba.core.typing.templates import signature
from numba.extending import NativeValue, lower_builtin, models, register_model, typeof_impl, unbox
from numba.np import numpy_support

import ndffi

from ._signature import (
    Record,
    Refused,
    Scalar,
    Unsupported,
    bare,
    param_spec,
    record_mismatch,
    result_spec,
    scalar_type,
)

# ---- types ----------------------------------------------------------------------


class FunctionType(types.Callable):
    """A declared C function: its parameters' specs and its result's Numba type."""

    def __init__(self, fname, prototype, params, result, refused):
        self.fname = fname
        self.prototype = prototype
        self.params = params  # ((parameter name, spec), ...)
        self.result = result  # a Numba type, or Refused
        self.refused = refused  # why no call can be made (variadic), or None
        super().__init__(name=f"ndffi.Function({prototype})")

    @property
    def key(self):
        return self.prototype, self.params, self.result, self.refused

    def get_call_type(self, context, args, kws):
        return call_signature(self, args, kws)

    def get_call_signatures(self):
        return [], True

    def get_impl_key(self, sig):
        return FunctionType


class PointerType(types.CPointer):
    """An ndffi.Pointer to numbers: Numba's CPointer, which indexes."""

    def __init__(self, dtype, const, cname):
        self.const = const
        self.cname = cname
        super().__init__(dtype)
        self.name = f"ndffi.Pointer('{cname}')"

    @property
    def key(self):
        return self.dtype, self.const, self.cname


class OpaquePointerType(types.RawPointer):
    """An ndffi.Pointer to anything else (void, structs, pointers, functions): an
    untyped pointer that goes to C where its pointee (or void) is declared."""

    def __init__(self, pointee, const, cname):
        self.pointee = pointee  # the pointee's spelling without const
        self.const = const
        self.cname = cname
        super().__init__(f"ndffi.Pointer('{cname}')")

    @property
    def key(self):
        return self.pointee, self.const, self.cname


register_model(FunctionType)(models.OpaqueModel)
register_model(PointerType)(models.PointerModel)
register_model(OpaquePointerType)(models.OpaqueModel)


_function_types: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def function_type(func):
    """The FunctionType of ndffi.Function ``func`` (made once per function)."""
    t = _function_types.get(func)
    if t is None:
        params = tuple((name or "", param_spec(ct)) for name, ct in func.params)
        refused = None
        if func.ctype.cname.rstrip().endswith("...)"):
            refused = "variadic functions (...) cannot be called from Numba"
        t = FunctionType(func.__name__, func.prototype, params, result_spec(func.ctype.item), refused)
        _function_types[func] = t
    return t


def pointer_type(ct):
    """The Numba type of an ndffi.Pointer of C type ``ct`` (a pointer or an array)."""
    item = ct.item
    if item.kind in ("int", "bool", "float", "enum"):
        try:
            return PointerType(scalar_type(item), item.is_const, ct.cname)
        except Unsupported:
            pass
    return OpaquePointerType(bare(item.cname), item.is_const, ct.cname)


@typeof_impl.register(ndffi.Function)
def _typeof_function(val, c):
    return function_type(val)


@typeof_impl.register(ndffi.Pointer)
def _typeof_pointer(val, c):
    return pointer_type(val.type)


@typeof_impl.register(ndffi.Library)
def _typeof_library(val, c):
    # Its functions and constants are attributes that do not change: a module's.
    return types.Module(val)


# ---- typing a call --------------------------------------------------------------


def _where(fnty, i):
    name = fnty.params[i][0]
    return f"{fnty.fname}() argument {i + 1}" + (f" '{name}'" if name else "")


def call_signature(fnty, args, kws):
    """The signature of a call of ``fnty`` with Numba types ``args`` (the formal types
    the arguments are converted to), or a TypingError naming the parameter."""
    if fnty.refused:
        raise TypingError(f"{fnty.fname}(): {fnty.refused} ('{fnty.prototype}')")
    if kws:
        raise TypingError(f"{fnty.fname}() takes no keyword arguments ('{fnty.prototype}')")
    if len(args) != len(fnty.params):
        raise TypingError(f"{fnty.fname}() takes {len(fnty.params)} arguments, {len(args)} given ('{fnty.prototype}')")
    formals = [
        _formal(_where(fnty, i), spec, arg) for i, ((_, spec), arg) in enumerate(zip(fnty.params, args, strict=False))
    ]
    if isinstance(fnty.result, Refused):
        raise TypingError(f"{fnty.fname}() result: {fnty.result.reason} ('{fnty.prototype}')")
    return signature(fnty.result, *formals, recvr=fnty)


def _formal(where, spec, arg):
    if isinstance(spec, Refused):
        raise TypingError(f"{where}: {spec.reason}")
    if isinstance(spec, Scalar):
        to_int = isinstance(spec.nbtype, (types.Integer, types.Boolean))
        if to_int and isinstance(arg, types.Float):
            raise TypingError(
                f"{where}: expected an integer for '{spec.cname}', got {arg} (a float is not truncated; "
                "pass int(x) to truncate it)"
            )
        if isinstance(spec.nbtype, types.Integer) and isinstance(arg, types.Integer) and arg != spec.nbtype:
            return arg  # range-checked where the call is compiled (_range_checked)
        if isinstance(arg, (types.Integer, types.Float, types.Boolean, types.IntEnumMember)):
            return spec.nbtype
        raise TypingError(f"{where}: expected a number for '{spec.cname}', got {arg}")
    reason = _pointer_refusal(spec, arg)
    if reason:
        raise TypingError(f"{where}: {reason}")
    return arg


def _expected(spec):
    elem = spec.elem
    if elem is None:
        return "an array of any type"
    if isinstance(elem, Record):
        return f"a C-contiguous array of '{elem.cname}' records"
    if isinstance(elem, str):
        return "an ndffi.Pointer"
    return f"a C-contiguous {'int8/uint8' if spec.char else elem} array"


def _elem_refusal(spec, dtype):
    """Why elements of Numba type ``dtype`` are not what ``spec`` points to (or None)."""
    elem = spec.elem
    if elem is None:
        return None
    if isinstance(elem, Record):
        if not isinstance(dtype, types.Record):
            return f"a plain {dtype} array, not a structured array"
        return record_mismatch(elem, numpy_support.as_dtype(dtype))
    if isinstance(elem, str):
        return f"'{elem}' elements have no array form"
    if dtype == elem or (spec.char and dtype in (types.int8, types.uint8)):
        return None
    return f"{dtype} elements"


def _pointer_refusal(spec, arg):
    want = f"{_expected(spec)}, ndffi.Pointer, raw pointer or None for '{spec.cname}'"
    if isinstance(arg, types.NoneType):
        return None
    if isinstance(arg, types.Array):
        if arg.ndim == 0:  # as from Python: a 0-d array is a number, not memory
            return (
                f"expected {want}, got a 0-d {arg.dtype} array: a number is not a pointer; "
                "pass np.array([x]) for a pointer to one value"
            )
        why = _elem_refusal(spec, arg.dtype)
        if why is None and not arg.mutable and not spec.const:
            return (
                f"expected a writeable array for '{spec.cname}' (C may write through it; "
                f"a parameter C only reads is declared 'const'), got {arg}"
            )
        if why is None and arg.layout == "F" and arg.ndim > 1:
            why = "a Fortran-ordered array; pass np.ascontiguousarray(a)"
        return None if why is None else f"expected {want}, got {arg}: {why}"
    if isinstance(arg, types.Record):
        if isinstance(spec.elem, Record) or spec.elem is None:
            why = _elem_refusal(spec, arg)
            return None if why is None else f"expected {want}, got {arg}: {why}"
        return f"expected {want}, got a record {arg}"
    if isinstance(arg, (PointerType, OpaquePointerType)) and arg.const and not spec.const:
        return f"expected {want}, got {arg}: a pointer to const for a non-const pointer"
    if isinstance(arg, OpaquePointerType):
        if spec.elem is None or arg.pointee == "void" or arg.pointee == _pointee_name(spec):
            return None
        return f"expected {want}, got {arg}"
    if isinstance(arg, types.CPointer):
        why = _elem_refusal(spec, arg.dtype)
        return None if why is None else f"expected {want}, got {arg}: {why}"
    if isinstance(arg, types.RawPointer):
        return None
    return f"expected {want}, got {arg}"


def _pointee_name(spec):
    text = spec.cname.rstrip()
    return bare(text[:-1].rstrip()) if text.endswith("*") else text


# ---- lowering -------------------------------------------------------------------


@lower_constant(FunctionType)
def _constant_function(context, builder, ty, pyval):
    # The address of a loaded library's code: libraries are never closed.  A dynamic
    # address keeps Numba from caching the compiled code for another process.
    return context.add_dynamic_addr(builder, pyval.address, info=ty.prototype)


def _unbox_address(typ, obj, c):
    slot = cgutils.alloca_once_value(c.builder, cgutils.voidptr_t(None))
    addr = c.pyapi.object_getattr_string(obj, "address")
    with cgutils.if_likely(c.builder, cgutils.is_not_null(c.builder, addr)):
        c.builder.store(c.pyapi.long_as_voidptr(addr), slot)
        c.pyapi.decref(addr)
    value = c.builder.bitcast(c.builder.load(slot), c.context.get_value_type(typ))
    return NativeValue(value, is_error=c.pyapi.c_api_error())


unbox(FunctionType)(_unbox_address)
unbox(PointerType)(_unbox_address)
unbox(OpaquePointerType)(_unbox_address)


def _check_contiguous(context, builder, aryty, ary, where):
    """Raise TypeError unless array ``ary`` (layout 'A') is C-contiguous."""
    ndim = aryty.ndim
    shape = cgutils.unpack_tuple(builder, ary.shape, ndim)
    strides = cgutils.unpack_tuple(builder, ary.strides, ndim)
    intp = context.get_value_type(types.intp)
    expect = ir.Constant(intp, context.get_abi_sizeof(context.get_data_type(aryty.dtype)))
    ok = cgutils.true_bit
    empty = cgutils.false_bit
    for k in reversed(range(ndim)):
        one = builder.icmp_signed("==", shape[k], ir.Constant(intp, 1))
        same = builder.icmp_signed("==", strides[k], expect)
        ok = builder.and_(ok, builder.or_(one, same))
        empty = builder.or_(empty, builder.icmp_signed("==", shape[k], ir.Constant(intp, 0)))
        expect = builder.mul(expect, shape[k])
    with cgutils.if_unlikely(builder, builder.not_(builder.or_(ok, empty))):
        context.call_conv.return_user_exc(
            builder,
            TypeError,
            (f"{where}: expected a C-contiguous array, got a non-contiguous {aryty}; pass np.ascontiguousarray(a)",),
        )


def _check_aligned(context, builder, aryty, data, where):
    """Raise TypeError unless the array's data is aligned for its elements (Numba's
    array types do not say: a view of a packed record's field is not)."""
    dtype = aryty.dtype
    if isinstance(dtype, types.Record):
        align = numpy_support.as_dtype(dtype).alignment
    else:
        align = context.get_abi_alignment(context.get_data_type(dtype))
    if align <= 1:
        return
    intp = context.get_value_type(types.intp)
    low = builder.and_(builder.ptrtoint(data, intp), ir.Constant(intp, align - 1))
    with cgutils.if_unlikely(builder, builder.icmp_unsigned("!=", low, ir.Constant(intp, 0))):
        context.call_conv.return_user_exc(
            builder,
            TypeError,
            (f"{where}: expected an aligned array, got a {aryty} whose data is not aligned to {align} bytes",),
        )


def _pointer_value(context, builder, fnty, i, formal, val):
    if isinstance(formal, types.NoneType):
        return cgutils.voidptr_t(None)
    if isinstance(formal, types.Array):
        ary = context.make_array(formal)(context, builder, val)
        if formal.layout == "A":
            _check_contiguous(context, builder, formal, ary, _where(fnty, i))
        _check_aligned(context, builder, formal, ary.data, _where(fnty, i))
        val = ary.data
    return builder.bitcast(val, cgutils.voidptr_t)


def _int_range(t):
    return (-(1 << (t.bitwidth - 1)), (1 << (t.bitwidth - 1)) - 1) if t.signed else (0, (1 << t.bitwidth) - 1)


def _range_checked(context, builder, formal, to, val, where, cname):
    """``val`` of integer type ``formal`` as integer type ``to``, raising OverflowError
    (as a call from Python does) when it is out of ``to``'s range."""
    (flo, fhi), (tlo, thi) = _int_range(formal), _int_range(to)
    lo, hi = max(flo, tlo), min(fhi, thi)
    llty = context.get_value_type(formal)
    cmp = builder.icmp_signed if formal.signed else builder.icmp_unsigned
    bad = cgutils.false_bit
    if lo > flo:
        bad = builder.or_(bad, cmp("<", val, ir.Constant(llty, lo)))
    if hi < fhi:
        bad = builder.or_(bad, cmp(">", val, ir.Constant(llty, hi)))
    with cgutils.if_unlikely(builder, bad):
        context.call_conv.return_user_exc(
            builder, OverflowError, (f"{where}: expected an int in [{tlo}, {thi}] for '{cname}', got one outside",)
        )
    return context.cast(builder, val, formal, to)


def _scalar_value(context, builder, nbtype, val):
    """The LLVM value and argument attributes C's ABI expects for a scalar."""
    if isinstance(nbtype, types.Boolean):
        return builder.zext(val, ir.IntType(8)), ("zeroext",)
    if isinstance(nbtype, types.Integer) and nbtype.bitwidth < 32:
        return val, ("signext" if nbtype.signed else "zeroext",)
    return val, ()


def _ll_result(context, result):
    if result == types.void:
        return ir.VoidType()
    if isinstance(result, types.Boolean):
        return ir.IntType(8)
    if isinstance(result, (types.CPointer, types.RawPointer)):
        return cgutils.voidptr_t
    return context.get_value_type(result)


@lower_builtin(FunctionType, FunctionType, types.VarArg(types.Any))
def _lower_call(context, builder, sig, args):
    fnty = sig.args[0]
    values, lltypes, attrs = [], [], {}
    for i, ((_, spec), formal, val) in enumerate(zip(fnty.params, sig.args[1:], args[1:], strict=False)):
        if isinstance(spec, Scalar):
            if formal != spec.nbtype:  # an integer of another type (see _formal)
                val = _range_checked(context, builder, formal, spec.nbtype, val, _where(fnty, i), spec.cname)
            val, arg_attrs = _scalar_value(context, builder, spec.nbtype, val)
            if arg_attrs:
                attrs[i] = arg_attrs
        else:
            val = _pointer_value(context, builder, fnty, i, formal, val)
        values.append(val)
        lltypes.append(val.type)
    llfn = ir.FunctionType(_ll_result(context, fnty.result), lltypes)
    fnptr = builder.bitcast(args[0], llfn.as_pointer())
    try:
        res = builder.call(fnptr, values, arg_attrs=attrs or None)
    except TypeError:  # an llvmlite without argument attributes: what GCC's callees need
        res = builder.call(fnptr, values)
    result = fnty.result
    if result == types.void:
        return context.get_dummy_value()
    if isinstance(result, types.Boolean):
        return builder.icmp_unsigned("!=", res, ir.Constant(res.type, 0))
    if isinstance(result, (types.CPointer, types.RawPointer)):
        return builder.bitcast(res, context.get_value_type(result))
    return res


__all__ = ["FunctionType", "OpaquePointerType", "PointerType", "function_type", "pointer_type"]
