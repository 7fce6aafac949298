// Inline converters for the most common argument and result kinds, tried before the
// general converters of convert.cpp.  Each returns false when the value is not the
// simple case it handles (the general converter then accepts it or raises).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstring>

#include "common.h"
#include <numpy/arrayscalars.h>

namespace ndffi::py {

// The value of an exact int small enough to be stored inline (|v| < 2**30).
__attribute__((always_inline)) static inline bool compact_int(PyObject *o, int64_t *v) {
  if (!PyLong_CheckExact(o)) return false;
#if PY_VERSION_HEX < 0x030C0000
  Py_ssize_t size = Py_SIZE(o);
  if (size < -1 || size > 1) return false;
  *v = int64_t(size) * int64_t(((PyLongObject *)o)->ob_digit[0]);
#else
  if (!PyUnstable_Long_IsCompact((PyLongObject *)o)) return false;
  *v = PyUnstable_Long_CompactValue((PyLongObject *)o);
#endif
  return true;
}

// An exact int small enough to be stored inline, within the range.
__attribute__((always_inline)) static inline bool fast_int(const ArgSpec &a, PyObject *o, unsigned char *dst) {
  int64_t v;
  if (!compact_int(o, &v)) return false;
  if (v < a.min || (v > 0 && uint64_t(v) > a.max)) return false;
  memcpy(dst, &v, 8);
  return true;
}

__attribute__((always_inline)) static inline bool fast_float(const ArgSpec &a, PyObject *o, unsigned char *dst) {
  if (!PyFloat_CheckExact(o)) return false;
  double d = PyFloat_AS_DOUBLE(o);
  if (a.conv == Conv::Double) {
    memcpy(dst, &d, 8);
    return true;
  }
  if (std::fabs(d) > FLT_MAX && std::isfinite(d)) return false;
  float f = float(d);
  uint64_t bits = 0;
  memcpy(&bits, &f, 4);
  memcpy(dst, &bits, 8);
  return true;
}

// A long double from a float or an np.longdouble, as the general converter takes them.
__attribute__((always_inline)) static inline bool fast_longdouble(const ArgSpec &a, PyObject *o, unsigned char *dst) {
  long double v;
  if (PyFloat_CheckExact(o)) v = PyFloat_AS_DOUBLE(o);
  else if (Py_TYPE(o) == &PyLongDoubleArrType_Type) v = PyArrayScalar_VAL(o, LongDouble);
  else return false;
  if (a.size != sizeof v) return false;
  memcpy(dst, &v, sizeof v);
  return true;
}

// An exact ndarray of an accepted type, C-contiguous, aligned, writeable if it must be.
__attribute__((always_inline)) static inline bool fast_array(const PyArgInfo &info, PyObject *o, unsigned char *dst) {
  if (!PyArray_CheckExact(o)) return false;
  auto *arr = (PyArrayObject *)o;
  int tn = PyArray_TYPE(arr);
  // void *: NumPy's numbers, inline (plain_data is a call, whose saved registers every
  // typed call would pay); other dtypes go to the general converter, which refuses references
  if (info.any_dtype ? !(tn < NPY_OBJECT || (tn >= NPY_DATETIME && tn <= NPY_HALF))
                     : tn != info.typenum[0] && tn != info.typenum[1] && tn != info.typenum[2])
    return false;
  int need = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | (info.writable ? NPY_ARRAY_WRITEABLE : 0);
  if ((PyArray_FLAGS(arr) & need) != need || PyArray_ISBYTESWAPPED(arr) || PyArray_NDIM(arr) == 0)
    return false;  // a 0-d array is a number: the general converter refuses it
  uint64_t p = uint64_t(uintptr_t(PyArray_DATA(arr)));
  memcpy(dst, &p, 8);
  return true;
}

// A struct value of the parameter's record type holding no pointers: its bytes.
__attribute__((always_inline)) static inline bool fast_record(const ArgSpec &a, const PyArgInfo &info, PyObject *o,
                                                              unsigned char *dst) {
  if (!info.plain_record || !is_record(o)) return false;
  auto *r = (RecordObject *)o;
  if (r->type->record != a.type->record) return false;
  if (a.size == 16) memcpy(dst, r->data, 16);  // the common sizes as fixed moves
  else if (a.size == 8) memcpy(dst, r->data, 8);
  else memcpy(dst, r->data, a.size);
  return true;
}

// Exact bytes for a `const char *` (or `const void *`): its own buffer, immutable and
// NUL-terminated, held by the call's arguments for the call; no copy.
__attribute__((always_inline)) static inline bool fast_bytes(const PyArgInfo &info, PyObject *o, unsigned char *dst) {
  if (!PyBytes_CheckExact(o) || !info.takes_bytes) return false;
  uint64_t p = uint64_t(uintptr_t(PyBytes_AS_STRING(o)));
  memcpy(dst, &p, 8);
  return true;
}

__attribute__((always_inline)) static inline bool fast_arg(const ArgSpec &a, const PyArgInfo &info, PyObject *o,
                                                           unsigned char *dst) {
  switch (a.conv) {
    case Conv::SInt:
    case Conv::UInt: return fast_int(a, o, dst);
    case Conv::Double:
    case Conv::Float: return fast_float(a, o, dst);
    case Conv::LongDouble: return fast_longdouble(a, o, dst);
    case Conv::Pointer: return fast_array(info, o, dst) || fast_bytes(info, o, dst);
    case Conv::Record: return fast_record(a, info, o, dst);
    default: return false;
  }
}

// `ptype`: a pointer result's type, unqualified (FunctionObject::ret_ptype).
__attribute__((always_inline)) static inline PyObject *fast_result(const ArgSpec &r, const CType *ptype, uint64_t raw) {
  switch (r.conv) {
    case Conv::Void: Py_RETURN_NONE;
    case Conv::Pointer:
    case Conv::FuncPtr: return make_pointer_in((void *)uintptr_t(raw), ptype, nullptr, Span());
    case Conv::SInt: return PyLong_FromLongLong(extend_signed(raw, r.size));
    case Conv::Double: {
      double d;
      memcpy(&d, &raw, 8);
      return PyFloat_FromDouble(d);
    }
    default: return from_c(r, raw);
  }
}

}  // namespace ndffi::py
