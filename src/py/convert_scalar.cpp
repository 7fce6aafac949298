// Python numbers to C integers, bools and floating-point values, with C's range
// checks (OverflowError beyond the type), and np.longdouble.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "callback.h"
#include "convert.h"
#include "messages.h"

#include <numpy/arrayscalars.h>

namespace ndffi::py {

// ---- scalars ----------------------------------------------------------------------

// The parameter's (or result's) type as its declaration wrote it (typedef names kept),
// for messages.
std::string type_str(const Where &w, const ArgSpec &a) {
  if (w.func && w.func->decl) {
    const Decl *d = w.func->decl;
    if (w.index < 0 && d->type->target == a.type) return d->result_str();
    if (w.index >= 0 && size_t(w.index) < d->type->params.size() && d->type->params[size_t(w.index)] == a.type)
      return d->param_str(size_t(w.index));
  }
  return a.type->str();
}

static std::string range_text(const ArgSpec &a, const Where &w) {
  std::string lo = a.conv == Conv::SInt ? std::to_string(a.min) : "0";
  return "int in [" + lo + ", " + std::to_string(a.max) + "] for '" + type_str(w, a) + "'";
}

// A value that is not a number of the kind a scalar parameter takes ("int", "float",
// "bool"): what it is (an array's shape too) and what to pass instead.
static std::string refused_number(PyObject *o) {
  std::string given = describe(o);
  if (PyArray_Check(o)) {
    auto *arr = (PyArrayObject *)o;
    given += " of shape (";
    for (int i = 0; i < PyArray_NDIM(arr); i++) given += (i ? ", " : "") + std::to_string(PyArray_DIM(arr, i));
    given += PyArray_NDIM(arr) == 1 ? ",)" : ")";
  }
  return given + not_a_number_hint(o);
}

static bool refuse_scalar(const Where &w, const ArgSpec &a, const char *kind, PyObject *o) {
  return fail(w, PyExc_TypeError, std::string(kind) + " for '" + type_str(w, a) + "'", refused_number(o));
}

bool numpy_int(PyObject *o, IntValue *n) {
  PyTypeObject *t = Py_TYPE(o);
#define ND_SIGNED(Name) \
  if (t == &Py##Name##ArrType_Type) return *n = {false, int64_t(PyArrayScalar_VAL(o, Name)), 0}, true;
#define ND_UNSIGNED(Name) \
  if (t == &Py##Name##ArrType_Type) return *n = {true, 0, uint64_t(PyArrayScalar_VAL(o, Name))}, true;
  ND_SIGNED(Long) ND_SIGNED(Int) ND_SIGNED(LongLong) ND_SIGNED(Short) ND_SIGNED(Byte);
  ND_UNSIGNED(ULong) ND_UNSIGNED(UInt) ND_UNSIGNED(ULongLong) ND_UNSIGNED(UShort) ND_UNSIGNED(UByte);
#undef ND_SIGNED
#undef ND_UNSIGNED
  return false;
}

bool numpy_real(PyObject *o, double *d) {
  PyTypeObject *t = Py_TYPE(o);
  if (t == &PyDoubleArrType_Type) return *d = PyArrayScalar_VAL(o, Double), true;
  if (t == &PyFloatArrType_Type) return *d = double(PyArrayScalar_VAL(o, Float)), true;
  return false;
}

// n stored for the integer parameter a, 8 bytes sign- or zero-extended, when in its
// range; else false, and nothing is stored.
static bool store_in_range(const ArgSpec &a, const IntValue &n, unsigned char *dst) {
  if (a.conv == Conv::SInt) {
    if (n.is_unsigned ? n.u > a.max : (n.s < a.min || (n.s > 0 && uint64_t(n.s) > a.max))) return false;
    int64_t x = n.is_unsigned ? int64_t(n.u) : n.s;
    memcpy(dst, &x, 8);
    return true;
  }
  if (!n.is_unsigned && n.s < 0) return false;
  uint64_t x = n.is_unsigned ? n.u : uint64_t(n.s);
  if (x > a.max) return false;
  memcpy(dst, &x, 8);
  return true;
}

// Read a Python integer for an integer parameter: exact ints, bool and objects with
// __index__ (NumPy integers, 0-d integer arrays); never floats, nor arrays of more
// dimensions (whose __index__ would say neither the function nor the parameter).
bool int_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w) {
  PyObject *num = o;
  if (is_value(o)) num = ((ValueObject *)o)->value;
  if (!PyLong_Check(num)) {
    IntValue n;
    if (numpy_int(num, &n) && store_in_range(a, n, dst)) return true;  // else its int says why
    bool not_int_array =
        PyArray_Check(num) && (PyArray_NDIM((PyArrayObject *)num) > 0 || !PyArray_ISINTEGER((PyArrayObject *)num));
    if (PyFloat_Check(num) || !PyIndex_Check(num) || not_int_array) return refuse_scalar(w, a, "int", num);
    num = PyNumber_Index(num);
    if (!num) return name_failure(w.str()), false;  // np.array([7]), a failing __index__
    bool ok = int_value(a, num, dst, w);
    Py_DECREF(num);
    return ok;
  }
  // num as C holds an integer: signed, unless it is above LLONG_MAX
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(num, &overflow);
  if (v == -1 && PyErr_Occurred()) return false;
  IntValue n{false, v, 0};
  if (overflow > 0) {
    unsigned long long u = PyLong_AsUnsignedLongLong(num);
    if (u != (unsigned long long)-1 || !PyErr_Occurred()) n = {true, 0, u}, overflow = 0;
    else if (PyErr_ExceptionMatches(PyExc_OverflowError)) PyErr_Clear();
    else return false;
  }
  if (overflow || !store_in_range(a, n, dst))
    return fail(w, PyExc_OverflowError, range_text(a, w), text_of(PyObject_Repr(num)));
  return true;
}

bool bool_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w) {
  uint64_t x;
  if (o == Py_True) x = 1;
  else if (o == Py_False) x = 0;
  else if (PyArray_IsScalar(o, Timedelta)) return refuse_scalar(w, a, "bool", o);  // an Integer with no __index__
  else if (PyLong_Check(o) || PyArray_IsScalar(o, Bool) || PyArray_IsScalar(o, Integer) || is_value(o)) {
    PyObject *v = is_value(o) ? ((ValueObject *)o)->value : o;
    int t = PyObject_IsTrue(v);
    if (t < 0) return false;
    if (!PyBool_Check(v) && !PyArray_IsScalar(v, Bool) && PyIndex_Check(v)) {
      PyObject *n = PyNumber_Index(v);
      if (!n) return false;
      int overflow;
      long long k = PyLong_AsLongLongAndOverflow(n, &overflow);
      bool bad = overflow || k < 0 || k > 1;
      std::string given = bad ? text_of(PyObject_Repr(n)) : std::string();
      Py_DECREF(n);
      if (bad) return fail(w, PyExc_OverflowError, "bool or 0 or 1 for '_Bool'", given);
    }
    x = uint64_t(t);
  } else {
    return refuse_scalar(w, a, "bool", o);
  }
  memcpy(dst, &x, 8);
  return true;
}

static std::string repr_double(double d) {
  char *s = PyOS_double_to_string(d, 'r', 0, 0, nullptr);
  std::string r = s ? s : "?";
  PyMem_Free(s);
  return r;
}

// An int of more than 64 bits as a long double, rounded to nearest-even like C's
// conversions: its top LDBL_MANT_DIG bits (64 for x87's format, 113 for IEEE quad) are
// the significand, the bits below decide the rounding.
static bool big_int_value(PyObject *num, long double *out) {
  constexpr long long kSig = LDBL_MANT_DIG;
  PyObject *mag = PyNumber_Absolute(num);
  if (!mag) return false;
  PyObject *nbits = PyObject_CallMethod(mag, "bit_length", nullptr);
  long long bits = nbits ? PyLong_AsLongLong(nbits) : -1;
  Py_XDECREF(nbits);
  long long below = std::max<long long>(bits - kSig, 0);  // bits under the significand
  PyObject *shift = bits >= 0 ? PyLong_FromLongLong(below) : nullptr;
  PyObject *top = shift ? PyNumber_Rshift(mag, shift) : nullptr;
  PyObject *back = top ? PyNumber_Lshift(top, shift) : nullptr;
  PyObject *rest = back ? PyNumber_Subtract(mag, back) : nullptr;
  PyObject *one = PyLong_FromLong(1), *sm1 = PyLong_FromLongLong(std::max<long long>(below - 1, 0));
  PyObject *half = rest && one && sm1 ? PyNumber_Lshift(one, sm1) : nullptr;  // 1 if none: rest is 0
  PyObject *s64 = PyLong_FromLong(64);
  PyObject *high = half && s64 ? PyNumber_Rshift(top, s64) : nullptr;  // bits 64 and up of top
  bool ok = high != nullptr;
  if (ok) {
    unsigned long long lo = PyLong_AsUnsignedLongLongMask(top), hi = PyLong_AsUnsignedLongLong(high);
    int cmp = PyObject_RichCompareBool(rest, half, Py_GT) ? 1 : PyObject_RichCompareBool(rest, half, Py_EQ) ? 0 : -1;
    long double sig = ldexpl((long double)hi, 64) + (long double)lo;  // exact: under 2**kSig
    if (cmp > 0 || (cmp == 0 && (lo & 1))) sig += 1;                  // exact: 2**kSig is a long double
    long double v = ldexpl(sig, int(std::min<long long>(below, 1 << 20)));
    *out = _PyLong_Sign(num) < 0 ? -v : v;
    ok = !PyErr_Occurred();
  }
  Py_XDECREF(mag), Py_XDECREF(shift), Py_XDECREF(top), Py_XDECREF(back), Py_XDECREF(rest);
  Py_XDECREF(one), Py_XDECREF(sm1), Py_XDECREF(half), Py_XDECREF(s64), Py_XDECREF(high);
  return ok;
}

// A real number as C's widest floating type: exact for Python floats, NumPy floating
// scalars (np.longdouble included) and ints of up to 64 bits; wider ints rounded to
// the nearest long double when `wide` (the target is a long double), else to double.  False with TypeError (not a
// real number) or OverflowError (an int beyond even long double's range) set.
// for_what() is called only to raise.
template <class ForWhat>
static bool real_value_for(PyObject *o, long double *out, bool wide, ForWhat for_what, const Where &w) {
  PyObject *num = is_value(o) ? ((ValueObject *)o)->value : o;
  if (PyFloat_CheckExact(num)) {
    *out = PyFloat_AS_DOUBLE(num);
    return true;
  }
  double d;
  IntValue n;
  if (numpy_real(num, &d)) {
    *out = d;
    return true;
  }
  if (numpy_int(num, &n)) {  // exact in a long double
    *out = n.is_unsigned ? (long double)n.u : (long double)n.s;
    return true;
  }
  if (PyArray_IsScalar(num, LongDouble)) {
    *out = PyArrayScalar_VAL(num, LongDouble);
    return true;
  }
  if (PyComplex_Check(num) || PyArray_IsScalar(num, ComplexFloating))
    return fail(w, PyExc_TypeError, "a real number for " + for_what(), describe(o));
  // A NumPy integer as the int it is, and a number in a 0-d array as its scalar: exact in
  // a long double, as Python's ints and np.longdouble are (not through a double first).
  auto *arr = (PyArrayObject *)num;
  bool zero_d = PyArray_Check(num) && PyArray_NDIM(arr) == 0 && PyArray_ISNUMBER(arr);
  if (PyArray_IsScalar(num, Integer) || zero_d) {
    PyObject *exact = zero_d ? PyArray_ToScalar(PyArray_DATA(arr), arr) : PyNumber_Index(num);
    if (!exact) return false;
    bool ok = real_value_for(exact, out, wide, for_what, w);
    Py_DECREF(exact);
    return ok;
  }
  if (PyLong_Check(num)) {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(num, &overflow);
    if (v == -1 && PyErr_Occurred()) return false;
    if (!overflow) {
      *out = (long double)v;
      return true;
    }
    if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(num);
      if (!PyErr_Occurred()) {
        *out = (long double)u;
        return true;
      }
      PyErr_Clear();
    }
    if (!wide) {  // one rounding, straight to double
      double d = PyLong_AsDouble(num);
      if (d == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return false;
        PyErr_Clear();
        return fail(w, PyExc_OverflowError, "a number that fits " + for_what(), "an int too large");
      }
      *out = d;
      return true;
    }
    if (!big_int_value(num, out)) return false;
    if (std::isinf(*out)) return fail(w, PyExc_OverflowError, "a number that fits " + for_what(), "an int too large");
    return true;
  }
  if (PyArray_Check(num) && PyArray_NDIM((PyArrayObject *)num) > 0)  // np.array([2.5])
    return fail(w, PyExc_TypeError, "float for " + for_what(), refused_number(num));
  if (PyFloat_Check(num) || PyArray_IsScalar(num, Number) ||
      (Py_TYPE(num)->tp_as_number && Py_TYPE(num)->tp_as_number->nb_float && !PyUnicode_Check(num) &&
       !PyBytes_Check(num))) {
    double d = PyFloat_AsDouble(num);
    if (d == -1.0 && PyErr_Occurred()) return name_failure(w.str()), false;  // a failing __float__
    *out = d;
    return true;
  }
  return fail(w, PyExc_TypeError, "float for " + for_what(), refused_number(num));
}

bool real_value(PyObject *o, long double *out, bool wide, const std::string &for_what, const Where &w) {
  return real_value_for(o, out, wide, [&] { return for_what; }, w);
}

// The shortest text that reads back as v (NumPy's repr of np.longdouble).
static std::string repr_long_double(long double v) {
  PyObject *o = longdouble_object(v);
  std::string s = text_of(o ? PyObject_Str(o) : nullptr);
  Py_XDECREF(o);
  return s;
}

// A real value converted to a floating type of `size` bytes, into dst (float: its bits in
// the low 4 bytes of 8; double: 8 bytes; long double: its 16 bytes).  A finite value
// beyond the type's range is an OverflowError, never infinity.
bool store_real(long double v, unsigned size, unsigned char *dst, const Where &w) {
  if (size == sizeof(long double) && size > 8) {
    memcpy(dst, &v, sizeof v);
    return true;
  }
  long double max = size == 4 ? (long double)FLT_MAX : (long double)DBL_MAX;
  if (std::isfinite(v) && std::fabs(v) > max)
    return fail(w, PyExc_OverflowError,
                "a value within " + std::string(size == 4 ? "float" : "double") + "'s range (+-" +
                    repr_double(double(max)) + ")",
                repr_long_double(v));
  if (size == 4) {
    float f = float(v);
    uint64_t bits = 0;
    memcpy(&bits, &f, 4);
    memcpy(dst, &bits, 8);
  } else {
    double d = double(v);
    memcpy(dst, &d, 8);
  }
  return true;
}

bool float_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w) {
  double d;  // the common cases: no range to check, one rounding at most
  if (a.conv == Conv::Double && (PyFloat_CheckExact(o) ? (d = PyFloat_AS_DOUBLE(o), true) : numpy_real(o, &d))) {
    memcpy(dst, &d, 8);
    return true;
  }
  if (a.conv == Conv::Double && PyLong_CheckExact(o)) {
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (!overflow) {  // rounded once, as real_value_for rounds it through a long double
      d = double(x);
      memcpy(dst, &d, 8);
      return true;
    }
  }
  long double v;
  if (!real_value_for(o, &v, a.conv == Conv::LongDouble, [&] { return "'" + type_str(w, a) + "'"; }, w)) return false;
  return store_real(v, a.size, dst, w);
}

PyObject *complex_object(const CType *t, const void *p) {
  if (t->record->complex_of->size == 4) {
    float f[2];
    memcpy(f, p, sizeof f);
    return PyComplex_FromDoubles(f[0], f[1]);
  }
  double d[2];
  memcpy(d, p, sizeof d);
  return PyComplex_FromDoubles(d[0], d[1]);
}

bool complex_value(const CType *t, PyObject *o, unsigned char *dst, const Where &w) {
  unsigned size = unsigned(t->record->complex_of->size);
  PyObject *num = is_value(o) ? ((ValueObject *)o)->value : o;
  auto for_what = [&] { return "'" + t->str() + "'"; };
  long double re = 0, im = 0;
  if (PyArray_Check(num) && PyArray_NDIM((PyArrayObject *)num) > 0)  // np.array([1j])
    return fail(w, PyExc_TypeError, "a complex number for " + for_what(), refused_number(num));
  if (PyArray_IsScalar(num, CLongDouble)) {  // its parts as they are: rounded once, below
    long double parts[2];                    // npy_clongdouble: the two parts in order
    memcpy(parts, &PyArrayScalar_VAL(num, CLongDouble), sizeof parts);
    re = parts[0], im = parts[1];
  } else if (PyComplex_Check(num) || PyArray_IsScalar(num, ComplexFloating) ||
             (PyArray_Check(num) && PyArray_ISCOMPLEX((PyArrayObject *)num)) ||
             (!PyLong_Check(num) && !PyFloat_Check(num) && !PyArray_Check(num) && !PyArray_IsScalar(num, Number) &&
              PyObject_HasAttrString(num, "__complex__"))) {
    Py_complex c = PyComplex_AsCComplex(num);
    if (c.real == -1.0 && PyErr_Occurred()) return name_failure(w.str()), false;  // a failing __complex__
    re = c.real, im = c.imag;
  } else {
    PyNumberMethods *nm = Py_TYPE(num)->tp_as_number;
    bool real = PyLong_Check(num) || PyFloat_Check(num) || PyArray_IsScalar(num, Number) || PyArray_Check(num) ||
                (nm && (nm->nb_float || nm->nb_index) && !PyUnicode_Check(num) && !PyBytes_Check(num));
    if (!real) return fail(w, PyExc_TypeError, "a complex number for " + for_what(), refused_number(num));
    if (!real_value_for(num, &re, false, for_what, w)) return false;
  }
  unsigned char parts[2][16];
  if (!store_real(re, size, parts[0], w) || !store_real(im, size, parts[1], w)) return false;
  memcpy(dst, parts[0], size);
  memcpy(dst + size, parts[1], size);
  return true;
}

bool store_complex(const CType *t, char *p, PyObject *o, const Where &w) {
  unsigned char tmp[16];
  if (!complex_value(t, o, tmp, w)) return false;
  forget_stored(w.home, p, p + t->byte_size());
  memcpy(p, tmp, t->byte_size());
  return true;
}

bool complex_congruent(const CType *t, PyArray_Descr *d, std::string *why) {
  size_t size = t->byte_size();
  if (d->kind == 'c' && PyArray_ISNBO(d->byteorder) && size_t(PyDataType_ELSIZE(d)) == size) return true;
  *why = "C has '" + t->str() + "' (" + (size == 8 ? "complex64" : "complex128") + "), the array " + dtype_name(d);
  return false;
}

PyObject *longdouble_object(long double v) {
  PyObject *r = PyArrayScalar_New(LongDouble);
  if (r) PyArrayScalar_ASSIGN(r, LongDouble, v);
  return r;
}

}  // namespace ndffi::py
