// What the convert_*.cpp files share (not used elsewhere: common.h has the conversions'
// interface).
#pragma once

#include <string>

#include "common.h"

namespace ndffi::py {

// The text of `s`, a new reference to a str that PyObject_Str or PyObject_Repr made
// (released here), or "?" when it failed.
std::string text_of(PyObject *s);
std::string dtype_name(PyArray_Descr *d);
// Sets `exc` with "<where>: expected <expected>, got <given>"; returns false.
bool fail(const Where &w, PyObject *exc, const std::string &expected, const std::string &given);
// The parameter's (or result's) type as its declaration wrote it, for messages.
std::string type_str(const Where &w, const ArgSpec &a);

// The converters to_c dispatches to, by Conv (convert_scalar.cpp, convert_pointer.cpp).
// A number (Bool, SInt, UInt, Float, Double or LongDouble) for `a`, as to_c converts it.
bool number_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w);
bool int_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w);
bool bool_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w);
bool float_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w);
bool pointer_arg(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst, Holds &holds,
                 const Where &w);
bool funcptr_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w);
bool record_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w);

// An integer as C holds one: signed (s), or unsigned (u) when is_unsigned.
struct IntValue {
  bool is_unsigned;
  int64_t s;
  uint64_t u;
};
// A scalar of one of NumPy's own integer types (np.int32(5), arr[i]; not a subclass),
// its value read in place: no int is made for it.  False for anything else.
bool numpy_int(PyObject *o, IntValue *n);
// The same for np.float64 and np.float32.
bool numpy_real(PyObject *o, double *d);

}  // namespace ndffi::py
