// Python values to C storage and back, one converter per Conv of the call plan.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "callback.h"
#include "common.h"

#include <numpy/arrayscalars.h>

namespace ndffi::py {

// ---- Holds ------------------------------------------------------------------------

void Holds::keep(PyObject *o) {
  if (!held_) held_ = new Held();
  held_->refs.push_back(o);
}

Py_buffer *Holds::new_view() {
  if (!held_) held_ = new Held();
  held_->views.emplace_back(new Py_buffer());
  return held_->views.back().get();
}

void Holds::release_held() {
  for (Keeps *k : held_->pins) unpin_keeps(k);
  for (auto &v : held_->views)
    if (v->obj) PyBuffer_Release(v.get());
  for (PyObject *o : held_->refs) Py_DECREF(o);
  delete held_;
  held_ = nullptr;
}

// ---- messages ---------------------------------------------------------------------

std::string Where::str() const {
  if (!func) return what ? what : "value";
  std::string s = std::string(PyUnicode_AsUTF8(func->name)) + "()";
  if (index < 0) return s + " result";
  s += " argument " + std::to_string(index + 1);
  if (size_t(index) < func->decl->param_names.size() && !func->decl->param_names[index].empty())
    s += " '" + func->decl->param_names[index] + "'";
  return s;
}

// The text of `s`, a new reference to a str that PyObject_Str or PyObject_Repr made
// (released here), or "?" when it failed.
static std::string text_of(PyObject *s) {
  std::string r = s ? PyUnicode_AsUTF8(s) : "?";
  Py_XDECREF(s);
  PyErr_Clear();
  return r;
}

static std::string dtype_name(PyArray_Descr *d) { return text_of(PyObject_Str((PyObject *)d)); }

std::string describe(PyObject *o) {
  if (o == Py_None) return "None";
  if (PyArray_Check(o)) return dtype_name(PyArray_DESCR((PyArrayObject *)o)) + " array";
  if (is_pointer(o)) return "pointer '" + ((PointerObject *)o)->type->str() + "'";
  if (is_value(o)) return "'" + ((ValueObject *)o)->type->str() + "' value";
  if (is_record(o)) return "a '" + ((RecordObject *)o)->type->str() + "' struct value";
  return Py_TYPE(o)->tp_name;
}

static bool fail(const Where &w, PyObject *exc, const std::string &expected, const std::string &given) {
  std::string msg = w.str() + ": expected " + expected + ", got " + given;
  PyErr_SetString(exc, msg.c_str());
  return false;
}

// ---- scalars ----------------------------------------------------------------------

// The parameter's (or result's) type as its declaration wrote it (typedef names kept),
// for messages.
static std::string type_str(const Where &w, const ArgSpec &a) {
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

// Read a Python integer for an integer parameter: exact ints, bool and objects with
// __index__ (NumPy integers); never floats.
static bool int_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w) {
  PyObject *num = o;
  if (is_value(o)) num = ((ValueObject *)o)->value;
  if (!PyLong_Check(num)) {
    if (PyFloat_Check(num) || !PyIndex_Check(num))
      return fail(w, PyExc_TypeError, "int for '" + type_str(w, a) + "'", describe(o));
    num = PyNumber_Index(num);
    if (!num) return name_failure(w.str()), false;   // np.array([7]), a failing __index__
    bool ok = int_value(a, num, dst, w);
    Py_DECREF(num);
    return ok;
  }
  int overflow = 0;
  if (a.conv == Conv::SInt) {
    long long v = PyLong_AsLongLongAndOverflow(num, &overflow);
    if (v == -1 && PyErr_Occurred()) return false;
    if (overflow || v < a.min || (v > 0 && uint64_t(v) > a.max)) {
      return fail(w, PyExc_OverflowError, range_text(a, w), text_of(PyObject_Repr(num)));
    }
    int64_t x = v;
    memcpy(dst, &x, 8);
  } else {
    unsigned long long v = 0;
    bool bad = _PyLong_Sign(num) < 0;
    if (!bad) {
      v = PyLong_AsUnsignedLongLong(num);
      if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return false;
        PyErr_Clear();
        bad = true;
      }
    }
    if (bad || v > a.max) {
      return fail(w, PyExc_OverflowError, range_text(a, w), text_of(PyObject_Repr(num)));
    }
    uint64_t x = v;
    memcpy(dst, &x, 8);
  }
  return true;
}

static bool bool_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w) {
  uint64_t x;
  if (o == Py_True) x = 1;
  else if (o == Py_False) x = 0;
  else if (PyLong_Check(o) || PyArray_IsScalar(o, Bool) || PyArray_IsScalar(o, Integer) || is_value(o)) {
    PyObject *v = is_value(o) ? ((ValueObject *)o)->value : o;
    int t = PyObject_IsTrue(v);
    if (t < 0) return false;
    if (!PyBool_Check(v) && !PyArray_IsScalar(v, Bool) && PyIndex_Check(v)) {
      PyObject *n = PyNumber_Index(v);
      if (!n) return false;
      int overflow;
      long long k = PyLong_AsLongLongAndOverflow(n, &overflow);
      std::string given = text_of(PyObject_Repr(n));
      Py_DECREF(n);
      if (overflow || k < 0 || k > 1) return fail(w, PyExc_OverflowError, "bool or 0 or 1 for '_Bool'", given);
    }
    x = uint64_t(t);
  } else {
    return fail(w, PyExc_TypeError, "bool for '" + type_str(w, a) + "'", describe(o));
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
// conversions: its top 64 bits are the significand, the bits below decide the rounding.
static bool big_int_value(PyObject *num, long double *out) {
  PyObject *mag = PyNumber_Absolute(num);
  if (!mag) return false;
  PyObject *nbits = PyObject_CallMethod(mag, "bit_length", nullptr);
  long long bits = nbits ? PyLong_AsLongLong(nbits) : -1;
  Py_XDECREF(nbits);
  PyObject *shift = bits > 64 ? PyLong_FromLongLong(bits - 64) : nullptr;
  PyObject *top = shift ? PyNumber_Rshift(mag, shift) : nullptr;
  PyObject *back = top ? PyNumber_Lshift(top, shift) : nullptr;
  PyObject *rest = back ? PyNumber_Subtract(mag, back) : nullptr;
  PyObject *one = PyLong_FromLong(1), *sm1 = bits > 64 ? PyLong_FromLongLong(bits - 65) : nullptr;
  PyObject *half = one && sm1 ? PyNumber_Lshift(one, sm1) : nullptr;
  bool ok = rest && half;
  if (ok) {
    unsigned long long t = PyLong_AsUnsignedLongLong(top);
    int cmp = PyObject_RichCompareBool(rest, half, Py_GT) ? 1 : PyObject_RichCompareBool(rest, half, Py_EQ) ? 0 : -1;
    long double sig = (long double)t;
    if (cmp > 0 || (cmp == 0 && (t & 1))) sig += 1;   // exact: 2**64 is a long double
    long double v = ldexpl(sig, int(std::min<long long>(bits - 64, 1 << 20)));
    *out = _PyLong_Sign(num) < 0 ? -v : v;
    ok = !PyErr_Occurred();
  }
  Py_XDECREF(mag), Py_XDECREF(shift), Py_XDECREF(top), Py_XDECREF(back), Py_XDECREF(rest);
  Py_XDECREF(one), Py_XDECREF(sm1), Py_XDECREF(half);
  return ok;
}

// A real number as C's widest floating type: exact for Python floats, NumPy floating
// scalars (np.longdouble included) and ints of up to 64 bits; wider ints rounded to
// the nearest long double when `wide` (the target is a long double), else to double.  False with TypeError (not a
// real number) or OverflowError (an int beyond even long double's range) set.
bool real_value(PyObject *o, long double *out, bool wide, const std::string &for_what, const Where &w) {
  PyObject *num = is_value(o) ? ((ValueObject *)o)->value : o;
  if (PyFloat_CheckExact(num)) {
    *out = PyFloat_AS_DOUBLE(num);
    return true;
  }
  if (PyArray_IsScalar(num, LongDouble)) {
    *out = PyArrayScalar_VAL(num, LongDouble);
    return true;
  }
  if (PyComplex_Check(num) || PyArray_IsScalar(num, ComplexFloating))
    return fail(w, PyExc_TypeError, "a real number for " + for_what, describe(o));
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
    if (!wide) {   // one rounding, straight to double
      double d = PyLong_AsDouble(num);
      if (d == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return false;
        PyErr_Clear();
        return fail(w, PyExc_OverflowError, "a number that fits " + for_what, "an int too large");
      }
      *out = d;
      return true;
    }
    if (!big_int_value(num, out)) return false;
    if (std::isinf(*out))
      return fail(w, PyExc_OverflowError, "a number that fits " + for_what, "an int too large");
    return true;
  }
  if (PyArray_Check(num) && PyArray_NDIM((PyArrayObject *)num) > 0)   // np.array([2.5])
    return fail(w, PyExc_TypeError, "a number for " + for_what + " (an array is not a number: pass a[0])",
                describe(o));
  if (PyFloat_Check(num) || PyArray_IsScalar(num, Number) ||
      (Py_TYPE(num)->tp_as_number && Py_TYPE(num)->tp_as_number->nb_float && !PyUnicode_Check(num) &&
       !PyBytes_Check(num))) {
    double d = PyFloat_AsDouble(num);
    if (d == -1.0 && PyErr_Occurred()) return name_failure(w.str()), false;   // a failing __float__
    *out = d;
    return true;
  }
  return fail(w, PyExc_TypeError, "float for " + for_what, describe(o));
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
                "a value within " + std::string(size == 4 ? "float" : "double") + "'s range (+-" + repr_double(double(max)) + ")",
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

static bool float_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w) {
  std::string what = "'" + type_str(w, a) + "'";
  long double v;
  if (!real_value(o, &v, a.conv == Conv::LongDouble, what, w)) return false;
  return store_real(v, a.size, dst, w);
}

PyObject *longdouble_object(long double v) {
  PyObject *r = PyArrayScalar_New(LongDouble);
  if (r) PyArrayScalar_ASSIGN(r, LongDouble, v);
  return r;
}

// ---- pointers ---------------------------------------------------------------------

static const CType *strip(const CType *t) { return TypeTable::get().unqualified(t); }

// May a pointer of type `have` be passed where `want` is expected?
static bool pointer_compatible(const CType *want, const CType *have, std::string *why) {
  const CType *wt = want->target, *ht = have->target;
  if (ht->is_const() && !wt->is_const()) {
    *why = "pointer '" + have->str() + "' to const (the parameter is not const, so C may write to it): "
           "pass a writeable buffer, such as a bytearray or a writeable array";
    return false;
  }
  if (wt->kind == Kind::Void || ht->kind == Kind::Void) return true;
  if (strip(wt) == strip(ht)) return true;
  // T ** from const T **: compare one level further, qualifiers of the pointee included.
  *why = "pointer '" + have->str() + "'";
  return false;
}

static bool set_pointer(unsigned char *dst, const void *p) {
  uint64_t x = uint64_t(uintptr_t(p));
  memcpy(dst, &x, 8);
  return true;
}

static const char *array_flags_problem(PyArrayObject *arr, bool writable) {
  int f = PyArray_FLAGS(arr);
  if (!(f & NPY_ARRAY_C_CONTIGUOUS)) return "non-contiguous";
  if (!(f & NPY_ARRAY_ALIGNED)) return "misaligned";
  if (writable && !(f & NPY_ARRAY_WRITEABLE)) return "read-only";
  return nullptr;
}

// Whether complex numbers of NumPy type `tn` have the memory of record `rec`: a struct
// of two floating-point members of their precision, or of one array of two (C's complex
// T is T[2] in memory: LAPACKE's and CBLAS's complex types, GSL's gsl_complex).
static bool complex_pairs(const CType *rec, int tn) {
  size_t es = tn == NPY_CDOUBLE ? sizeof(double) : tn == NPY_CFLOAT ? sizeof(float) : 0;
  if (!es || !rec->record || rec->record->is_union || rec->byte_size() != 2 * es) return false;
  auto is_t = [es](const CType *t) { return t->kind == Kind::Float && t->size == es; };
  const auto &f = rec->record->fields;
  if (f.size() == 2)
    return f[0].bit_width < 0 && f[1].bit_width < 0 && is_t(f[0].type) && is_t(f[1].type) &&
           f[0].offset == 0 && f[1].offset == es;
  return f.size() == 1 && f[0].type->kind == Kind::Array && f[0].type->length == 2 &&
         is_t(f[0].type->target);
}

// A structured array for a pointer to a record: its layout must be the C layout.
static bool record_array_arg(const ArgSpec &a, PyArgInfo &info, PyArrayObject *arr,
                             unsigned char *dst, const Where &w) {
  PyArray_Descr *d = PyArray_DESCR(arr);
  std::string expected = "a C-contiguous array of '" + info.record->str() + "' records for '" +
                         type_str(w, a) + "'";
  if (d != info.congruent && !PyArray_ISBYTESWAPPED(arr) && complex_pairs(info.record, PyArray_TYPE(arr))) {
    Py_INCREF(d);
    Py_XSETREF(info.congruent, d);
  }
  if (d != info.congruent) {
    std::string why;
    if (!record_congruent(info.record, d, &why))
      return fail(w, PyExc_TypeError, expected, "an array whose layout differs: " + why);
    Py_INCREF(d);
    Py_XSETREF(info.congruent, d);
  }
  if (const char *problem = array_flags_problem(arr, info.writable)) {
    if (!strcmp(problem, "read-only"))
      return fail(w, PyExc_TypeError, expected + " (the parameter is not const, so C may write to it)",
                  "a read-only array");
    return fail(w, PyExc_TypeError, expected, std::string(problem) + " array");
  }
  return set_pointer(dst, PyArray_DATA(arr));
}

// A number is never a pointer: a NumPy scalar's buffer is a temporary copy of it, and a
// 0-d array is what np.asarray makes of a number.
static bool refuse_number(const ArgSpec &a, PyObject *o, const Where &w) {
  return fail(w, PyExc_TypeError,
              "'" + type_str(w, a) + "' (an array, buffer, ndffi.Pointer or None)",
              (PyArray_Check(o) ? "a 0-d " + describe(o) : "NumPy scalar " + describe(o)) +
                  ": a number is not a pointer; pass np.array([x]) for a pointer to one value");
}

static bool array_arg(const ArgSpec &a, const PyArgInfo &info, PyArrayObject *arr,
                      unsigned char *dst, const Where &w) {
  if (PyArray_NDIM(arr) == 0) return refuse_number(a, (PyObject *)arr, w);
  if (info.record) return record_array_arg(a, const_cast<PyArgInfo &>(info), arr, dst, w);
  int tn = PyArray_TYPE(arr);
  bool type_ok = info.any_dtype ||
                 ((tn == info.typenum[0] || tn == info.typenum[1] || tn == info.typenum[2]) &&
                  !PyArray_ISBYTESWAPPED(arr));
  const char *problem = array_flags_problem(arr, info.writable);
  if (type_ok && !problem) return set_pointer(dst, PyArray_DATA(arr));
  std::string expected = "C-contiguous " + (info.any_dtype ? "" : info.expected + " ") + "array for '" +
                         type_str(w, a) + "'";
  std::string given = describe((PyObject *)arr);
  if (!type_ok) {
    if (PyArray_ISBYTESWAPPED(arr)) given = "byte-swapped " + given;
    return fail(w, PyExc_TypeError, expected, given);
  }
  if (!strcmp(problem, "read-only"))
    return fail(w, PyExc_TypeError, expected + " (the parameter is not const, so C may write to it)",
                "read-only " + given);
  return fail(w, PyExc_TypeError, expected, std::string(problem) + " " + given);
}

// The (kind, size) a struct-module format code stands for; false if not a scalar code.
static bool format_scalar(const char *fmt, char *kind, Py_ssize_t *size) {
  if (!fmt) fmt = "B";
  bool native = true;
  if (*fmt == '@') fmt++;
  else if (*fmt == '=' || *fmt == '<') native = false, fmt++;
  else if (*fmt == '>' || *fmt == '!') return false;   // big-endian: not this machine's order
  if (!fmt[0] || fmt[1]) return false;
  struct Code { char c, kind; Py_ssize_t native, standard; };
  static const Code codes[] = {
      {'b', 'i', 1, 1}, {'B', 'u', 1, 1}, {'c', 'u', 1, 1}, {'h', 'i', sizeof(short), 2},
      {'H', 'u', sizeof(short), 2}, {'i', 'i', sizeof(int), 4}, {'I', 'u', sizeof(int), 4},
      {'l', 'i', sizeof(long), 4}, {'L', 'u', sizeof(long), 4}, {'q', 'i', 8, 8},
      {'Q', 'u', 8, 8}, {'n', 'i', sizeof(Py_ssize_t), 8}, {'N', 'u', sizeof(size_t), 8},
      {'f', 'f', 4, 4}, {'d', 'f', 8, 8}, {'e', 'f', 2, 2}, {'?', 'b', 1, 1}};
  for (const Code &c : codes)
    if (c.c == *fmt) {
      *kind = c.kind;
      *size = native ? c.native : c.standard;
      return true;
    }
  return false;
}

static bool buffer_arg(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst,
                       Holds &holds, const Where &w) {
  Py_buffer *view = holds.new_view();
  if (PyObject_GetBuffer(o, view, PyBUF_RECORDS_RO) < 0) {
    view->obj = nullptr;
    return false;
  }
  std::string expected = "C-contiguous " + (info.any_dtype ? "" : info.expected + " ") + "buffer for '" +
                         type_str(w, a) + "'";
  if (info.writable && view->readonly) {
    std::string hint = PyBytes_Check(o) ? " (bytes is immutable; pass a bytearray or array)" : "";
    return fail(w, PyExc_TypeError, expected + " (the parameter is not const, so C may write to it)",
                "read-only " + describe(o) + hint);
  }
  if (!PyBuffer_IsContiguous(view, 'C'))
    return fail(w, PyExc_TypeError, expected, "non-contiguous " + describe(o));
  if (!info.any_dtype) {
    char kind;
    Py_ssize_t size;
    const CType *t = a.type->target;
    bool ok = format_scalar(view->format, &kind, &size) && size_t(size) == t->byte_size();
    if (ok) {
      if (t->kind == Kind::Float) ok = kind == 'f';
      else if (t->kind == Kind::Bool) ok = kind == 'b';
      else if (info.is_char) ok = kind == 'i' || kind == 'u';
      else if (t->kind == Kind::Int) ok = kind == (t->is_signed ? 'i' : 'u');
      else ok = false;
    }
    if (!ok)
      return fail(w, PyExc_TypeError, expected,
                  describe(o) + " of format '" + (view->format ? view->format : "B") + "'");
  }
  return set_pointer(dst, view->buf);
}

// A failed conversion's TypeError, ValueError or BufferError again, its message led by
// `where` (the function and parameter, the field, the cast): a protocol's own message
// ("PyCapsule_GetPointer called with invalid PyCapsule object") says neither.
void name_failure(const std::string &where) {
  if (!PyErr_ExceptionMatches(PyExc_TypeError) && !PyErr_ExceptionMatches(PyExc_ValueError) &&
      !PyErr_ExceptionMatches(PyExc_BufferError))
    return;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject *text = value ? PyObject_Str(value) : nullptr;
  const char *msg = text ? PyUnicode_AsUTF8(text) : nullptr;
  if (!msg) PyErr_Clear();
  // a subclass may not take a message alone (UnicodeDecodeError): raised as its base
  PyObject *as = PyErr_GivenExceptionMatches(type, PyExc_TypeError)    ? PyExc_TypeError
               : PyErr_GivenExceptionMatches(type, PyExc_ValueError)   ? PyExc_ValueError
                                                                       : PyExc_BufferError;
  PyErr_Format(as, "%s: %s", where.c_str(), msg ? msg : "conversion failed");
  PyObject *t2, *v2, *tb2;   // the original stays as the cause
  PyErr_Fetch(&t2, &v2, &tb2);
  PyErr_NormalizeException(&t2, &v2, &tb2);
  if (v2 && value) PyException_SetCause(v2, value), value = nullptr;
  PyErr_Restore(t2, v2, tb2);
  Py_XDECREF(text), Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
}

// Objects that are arrays by protocol (__array_interface__, __array_struct__, DLPack)
// become a NumPy view of the same memory, kept for the call; nullptr without an error
// when `o` speaks none, with the protocol's when it fails (see protocol_failed).
PyArrayObject *as_array_view(PyObject *o) {
  static PyObject *from_dlpack = nullptr;
  PyArrayObject *arr = nullptr;
  if (PyObject_HasAttrString(o, "__array_interface__") || PyObject_HasAttrString(o, "__array_struct__")) {
    arr = (PyArrayObject *)PyArray_FromAny(o, nullptr, 0, 0, 0, nullptr);
    if (arr) return hold_buffer_base(arr);
  } else if (PyObject_HasAttrString(o, "__dlpack__")) {
    if (!from_dlpack) {
      PyObject *np = PyImport_ImportModule("numpy");
      if (!np) return nullptr;
      from_dlpack = PyObject_GetAttrString(np, "from_dlpack");
      Py_DECREF(np);
      if (!from_dlpack) return nullptr;
    }
    arr = (PyArrayObject *)PyObject_CallOneArg(from_dlpack, o);
    if (arr && !PyArray_Check(arr)) Py_CLEAR(arr);
  } else {
    return nullptr;
  }
  return arr;
}

// as_array_view(o) failed: its error again, led by `where`.
void protocol_failed(const std::string &where, PyObject *o) {
  name_failure(where + ": " + Py_TYPE(o)->tp_name + " is not an array by its protocol");
}

static bool pointer_arg(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst,
                        Holds &holds, const Where &w) {
  if (a.type->target->kind == Kind::Pointer) {   // T **: row-pointer tables (rowptr.cpp)
    int r = rows_arg(a, o, dst, holds, w);
    if (r >= 0) return r;
  }
  if (PyArray_Check(o)) return array_arg(a, info, (PyArrayObject *)o, dst, w);
  if (o == Py_None) return set_pointer(dst, nullptr);
  if (is_record(o) && (info.record || info.any_dtype)) {
    auto *r = (RecordObject *)o;
    if (!info.any_dtype && r->type->record != info.record->record)
      return fail(w, PyExc_TypeError, "'" + type_str(w, a) + "'", "a '" + r->type->str() + "' value");
    if (info.writable && r->span.readonly)
      return fail(w, PyExc_TypeError,
                  "a writeable '" + r->type->str() + "' for '" + type_str(w, a) +
                      "' (the parameter is not const, so C may write to it)",
                  "a value viewing read-only memory (" + describe_memory(r->owner, r->span) +
                      "); pass a struct value of its own");
    holds.pin(home_of(o));   // what its pointers keep lives until C returns
    return set_pointer(dst, r->data);
  }
  if (is_pointer(o)) {
    auto *p = (PointerObject *)o;
    std::string why;
    if (!pointer_compatible(a.type, p->type, &why))
      return fail(w, PyExc_TypeError, "'" + type_str(w, a) + "'", why);
    if (info.writable && p->span.readonly)
      return fail(w, PyExc_TypeError,
                  "a writeable buffer for '" + type_str(w, a) + "' (the parameter is not const, so C may write to it)",
                  "pointer '" + p->type->str() + "' into read-only memory (" +
                      describe_memory(p->owner, p->span) + "); pass a bytearray or a writeable array");
    holds.pin(home_of(o));
    return set_pointer(dst, p->addr);
  }
  if (PyArray_IsScalar(o, Generic)) return refuse_number(a, o, w);
  if (info.is_char && PyUnicode_Check(o)) {
    if (info.writable)
      return fail(w, PyExc_TypeError, "a writable buffer for '" + type_str(w, a) + "'",
                  "str (immutable; pass a bytearray)");
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (!s) return false;
    if (strlen(s) != size_t(n))
      return fail(w, PyExc_ValueError, "a string without NUL characters", "str with an embedded NUL");
    return set_pointer(dst, s);
  }
  if (PyBytes_CheckExact(o) && !info.writable && (info.is_char || info.any_dtype))
    return set_pointer(dst, PyBytes_AS_STRING(o));
  if (PyObject_CheckBuffer(o)) return buffer_arg(a, info, o, dst, holds, w);
  if (PyLong_Check(o))
    return fail(w, PyExc_TypeError,
                "'" + type_str(w, a) + "' (an array, buffer, ndffi.Pointer or None; a plain int is "
                "not a pointer: use ndffi.cast('" + type_str(w, a) + "', address))", "int");
  if (!PyUnicode_Check(o)) {
    PyArrayObject *arr = as_array_view(o);
    if (arr) {
      holds.keep((PyObject *)arr);
      return array_arg(a, info, arr, dst, w);
    }
    if (PyErr_Occurred()) return protocol_failed(w.str(), o), false;
  }
  std::string what = info.any_dtype ? "an array, buffer" : "a C-contiguous " + info.expected + " array";
  return fail(w, PyExc_TypeError, what + ", ndffi.Pointer or None for '" + type_str(w, a) + "'",
              describe(o));
}

static bool funcptr_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds,
                        const Where &w) {
  if (o == Py_None) return set_pointer(dst, nullptr);
  if (is_pointer(o)) {
    auto *p = (PointerObject *)o;
    if (strip(p->type) == strip(a.type) || p->type->target->kind == Kind::Void)
      return set_pointer(dst, p->addr);
  }
  int r = funcptr_from_python(a, o, dst, holds, w);   // callbacks and callables (callback.cpp)
  if (r >= 0) return r;
  return fail(w, PyExc_TypeError, "a function pointer '" + type_str(w, a) + "', a callable or None",
              describe(o));
}

// A struct by value; an argument's pointers' owners are held for the call.
static bool record_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w) {
  if (!w.func || w.index < 0) return set_record(a.type, (char *)dst, o, w);
  Where wa{w.func, w.index};
  wa.holds = &holds;
  return set_record(a.type, (char *)dst, o, wa);
}

bool to_c(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst, Holds &holds,
          const Where &w) {
  switch (a.conv) {
    case Conv::SInt:
    case Conv::UInt: return int_value(a, o, dst, w);
    case Conv::Bool: return bool_value(a, o, dst, w);
    case Conv::Float:
    case Conv::Double:
    case Conv::LongDouble: return float_value(a, o, dst, w);
    case Conv::Pointer: return pointer_arg(a, info, o, dst, holds, w);
    case Conv::FuncPtr: return funcptr_arg(a, o, dst, holds, w);
    case Conv::Record: return record_arg(a, o, dst, holds, w);
    default:
      PyErr_Format(PyExc_TypeError, "%s: type '%s' cannot be passed", w.str().c_str(), type_str(w, a).c_str());
      return false;
  }
}

// ---- results ----------------------------------------------------------------------

PyObject *from_c(const ArgSpec &a, uint64_t raw) {
  switch (a.conv) {
    case Conv::Void: Py_RETURN_NONE;
    case Conv::Bool: return PyBool_FromLong(raw & 0xff);
    case Conv::SInt: return PyLong_FromLongLong(extend_signed(raw, a.size));
    case Conv::UInt: return PyLong_FromUnsignedLongLong(extend_unsigned(raw, a.size));
    case Conv::Float: {
      float f;
      uint32_t b = uint32_t(raw);
      memcpy(&f, &b, 4);
      return PyFloat_FromDouble(f);
    }
    case Conv::Double: {
      double d;
      memcpy(&d, &raw, 8);
      return PyFloat_FromDouble(d);
    }
    case Conv::Pointer:
    case Conv::FuncPtr: return make_pointer((void *)uintptr_t(raw), TypeTable::get().unqualified(a.type), nullptr);
    default:
      PyErr_Format(PyExc_TypeError, "results of type '%s' are not supported", a.type->str().c_str());
      return nullptr;
  }
}

PyObject *load_c(const CType *t, const void *p, PyObject *owner, const Span &span) {
  if (t->kind == Kind::Record)   // nothing keeps the memory (a callback's argument): a copy
    return owner ? make_record_view(t, const_cast<void *>(p), owner, span) : make_record(t, p);
  // an element that is itself an array decays, as in C, to a pointer to its first element
  if (t->kind == Kind::Array && t->length != CType::kUnknownLength) {
    Span row = Span::of(p, t->byte_size(), span.readonly);
    return make_pointer_in(const_cast<void *>(p), TypeTable::get().pointer(t->target), owner, row);
  }
  ArgSpec a;
  try {
    a = arg_spec(t);
  } catch (const std::exception &e) {   // called from C slots: nothing may propagate
    PyErr_SetString(PyExc_TypeError, e.what());
    return nullptr;
  }
  switch (a.conv) {
    case Conv::LongDouble: {
      long double ld;
      memcpy(&ld, p, sizeof ld);
      return longdouble_object(ld);
    }
    case Conv::Pointer: {
      void *q;
      memcpy(&q, p, sizeof q);
      PyObject *kept;
      Span known;
      if (!owner || !find_stored(owner, (const char *)p, &kept, &known))
        return make_pointer(q, strip(t), nullptr);   // C's address: unbounded
      PyObject *r = make_pointer_in(q, strip(t), kept, known);
      Py_DECREF(kept);
      return r;
    }
    case Conv::FuncPtr: {   // keeps what keeps the memory it was read from (a library's global)
      void *q;
      memcpy(&q, p, sizeof q);
      return make_pointer(q, strip(t), owner);
    }
    default: return from_c(a, slot_of(a, p));
  }
}

// A pointer stored into memory (a field, an element, a global): what a parameter of
// its type takes, checked the same way, zero copy.  The memory written to keeps the
// value's owner (an array, a buffer's export, ndffi memory) for as long as it lives
// (w.home), or the call does (w.holds).
static bool store_pointer(const ArgSpec &a, void *p, PyObject *o, const Where &w) {
  PyArgInfo info;
  fill_arg_info(info, a.type);
  alignas(16) unsigned char tmp[16] = {0};
  if (w.holds) {   // a call's argument storage: held as the call holds arguments
    if (!to_c(a, info, o, tmp, *w.holds, w)) return false;
    memcpy(p, tmp, a.size);
    return true;
  }
  PyObject *arr = nullptr;   // an array by protocol (__array_interface__, DLPack), as a view
  if (!PyArray_Check(o) && !is_pointer(o) && !is_record(o) && o != Py_None && !PyUnicode_Check(o) &&
      !PyLong_Check(o) && !PyObject_CheckBuffer(o)) {
    arr = (PyObject *)as_array_view(o);
    if (!arr && PyErr_Occurred()) return protocol_failed(w.str(), o), false;
  }
  PyObject *v = arr ? arr : o;
  Holds holds;
  bool ok = to_c(a, info, v, tmp, holds, w);
  PyObject *owner = nullptr;
  Span span;
  void *addr;
  memcpy(&addr, tmp, sizeof addr);
  if (ok && v != Py_None) ok = memory_of(v, &owner, &span);
  if (ok) ok = keep_stored(w.home, (char *)p, addr, owner, span, w, o);
  if (ok) memcpy(p, tmp, a.size);
  Py_XDECREF(owner);
  Py_XDECREF(arr);
  return ok;
}

// A function pointer stored into memory keeps what it calls: a Callback, a Function
// (and its library), the memory of a Pointer.
static bool store_function_pointer(const ArgSpec &a, const PyArgInfo &info, void *p, PyObject *o,
                                   const Where &w) {
  if (needs_temporary_callback(o))   // a call's wrapper would be gone once the statement ends
    return fail(w, PyExc_TypeError,
                "an ndffi.callback (kept alive while C may call it), ndffi.Pointer or None for '" +
                    a.type->str() + "'", describe(o));
  alignas(16) unsigned char tmp[16] = {0};
  Holds holds;
  if (!to_c(a, info, o, tmp, w.holds ? *w.holds : holds, w)) return false;
  void *addr;
  memcpy(&addr, tmp, sizeof addr);
  // Callbacks and C functions stay callable, kept or not: kept where the memory can.
  PyObject *owner = o == Py_None || !keeps_owners(w.home) ? nullptr : is_pointer(o) ? home_of(o) : o;
  if (!w.holds && !keep_stored(w.home, (char *)p, addr, owner, Span(), w, o)) return false;
  memcpy(p, tmp, a.size);
  return true;
}

bool store_c(const CType *t, void *p, PyObject *o, const Where &w) {
  if (t->kind == Kind::Record) return set_record(t, (char *)p, o, w);
  if (t->kind == Kind::Array && t->length != CType::kUnknownLength) return set_array(t, (char *)p, o, w);
  ArgSpec a;
  try {
    a = arg_spec(t);
  } catch (const std::exception &e) {
    PyErr_SetString(PyExc_TypeError, e.what());
    return false;
  }
  if (a.conv == Conv::Void) {
    PyErr_SetString(PyExc_TypeError, "cannot store into 'void'");
    return false;
  }
  if (a.conv == Conv::Pointer) return store_pointer(a, p, o, w);
  PyArgInfo info;
  fill_arg_info(info, t);
  if (a.conv == Conv::FuncPtr) return store_function_pointer(a, info, p, o, w);
  alignas(16) unsigned char tmp[16] = {0};
  Holds holds;
  if (!to_c(a, info, o, tmp, holds, w)) return false;
  forget_stored(w.home, (char *)p, (char *)p + a.size);
  memcpy(p, tmp, a.size);
  return true;
}

// ---- dtypes -----------------------------------------------------------------------

static int typenum_of(const CType *t) {
  if (t->kind == Kind::Enum && t->record->enum_base) t = t->record->enum_base;
  switch (t->kind) {
    case Kind::Bool: return NPY_BOOL;
    case Kind::Float:
      return t->size == 4 ? NPY_FLOAT : t->size == 8 ? NPY_DOUBLE : NPY_LONGDOUBLE;
    case Kind::Int:
      switch (t->size) {
        case 1: return t->is_signed ? NPY_INT8 : NPY_UINT8;
        case 2: return t->is_signed ? NPY_INT16 : NPY_UINT16;
        case 4: return t->is_signed ? NPY_INT32 : NPY_UINT32;
        case 8: return t->is_signed ? NPY_INT64 : NPY_UINT64;
      }
      return -1;
    default: return -1;
  }
}

PyArray_Descr *dtype_of(const CType *t) {
  if (t->kind == Kind::Record) return record_dtype(t);
  int tn = typenum_of(t);
  if (tn < 0) {
    PyErr_Format(PyExc_TypeError, "'%s' has no NumPy dtype", t->str().c_str());
    return nullptr;
  }
  return PyArray_DescrFromType(tn);
}

void fill_arg_info(PyArgInfo &info, const CType *param) {
  if (param->kind != Kind::Pointer) return;
  const CType *t = param->target;
  info.writable = !t->is_const();
  if (t->kind == Kind::Void) {
    info.any_dtype = true;
    info.expected = "any";
    return;
  }
  if (t->kind == Kind::Record) {
    info.record = strip(t);
    info.expected = "'" + info.record->str() + "' records";
    return;
  }
  if (t->kind == Kind::Array && t->length != CType::kUnknownLength && t->target->is_arith()) {
    // T (*)[n] (FFTW's fftw_complex *, double (*)[2]): arrays of T, or of complex
    // numbers for pairs of floating-point numbers.
    const CType *e = t->target;
    info.writable = !e->is_const();
    info.typenum[0] = typenum_of(e);
    if (e->kind == Kind::Float && t->length == 2)
      info.typenum[1] = e->size == 8 ? NPY_CDOUBLE : e->size == 4 ? NPY_CFLOAT : -1;
    info.expected = "'" + strip(e)->str() + "'" + (info.typenum[1] >= 0 ? " (or complex)" : "");
    return;
  }
  int tn = typenum_of(t);
  info.typenum[0] = tn;
  // The other type number of the same width and kind (long and long long on LP64).
  if (tn == NPY_INT64) info.typenum[1] = NPY_LONGLONG, info.typenum[2] = NPY_LONG;
  if (tn == NPY_UINT64) info.typenum[1] = NPY_ULONGLONG, info.typenum[2] = NPY_ULONG;
  if (tn == NPY_INT32) info.typenum[1] = NPY_INT;
  if (tn == NPY_UINT32) info.typenum[1] = NPY_UINT;
  if (t->kind == Kind::Int && t->size == 1 && t->name == "char") {
    info.is_char = true;
    info.typenum[1] = NPY_UINT8, info.typenum[2] = NPY_STRING;
  }
  if (tn >= 0) {
    PyArray_Descr *d = PyArray_DescrFromType(tn);
    info.expected = d ? dtype_name(d) : "?";
    Py_XDECREF(d);
    if (info.is_char) info.expected = "int8/uint8/bytes";
  } else {
    info.expected = "'" + strip(t)->str() + "'";
  }
}

// ---- variadic arguments -----------------------------------------------------------

const CType *variadic_type(PyObject *o, const Where &w) {
  TypeTable &T = TypeTable::get();
  if (is_value(o)) return strip(((ValueObject *)o)->type);
  if (is_pointer(o)) return strip(((PointerObject *)o)->type);
  if (PyBool_Check(o)) return T.int_type(4, true, "int");
  if (PyLong_Check(o)) {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (!overflow && v >= INT32_MIN && v <= INT32_MAX) return T.int_type(4, true, "int");
    if (!overflow) return T.int_type(sizeof(long), true, "long");
    if (overflow > 0) {
      PyLong_AsUnsignedLongLong(o);
      if (!PyErr_Occurred()) return T.int_type(sizeof(long), false, "unsigned long");
    }
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError, "%s: int too large for any C integer type", w.str().c_str());
    return nullptr;
  }
  // A long double is not promoted: it travels as one, every digit kept.
  if (PyArray_IsScalar(o, LongDouble)) return T.float_type(sizeof(long double), "long double");
  if (PyFloat_Check(o) || PyArray_IsScalar(o, Floating)) return T.float_type(8, "double");
  if (PyArray_IsScalar(o, UnsignedInteger)) return T.int_type(sizeof(long), false, "unsigned long");
  if (PyArray_IsScalar(o, Integer)) return T.int_type(sizeof(long), true, "long");
  if (PyUnicode_Check(o) || PyBytes_Check(o)) return T.pointer(T.qualified(T.char_type(), QConst));
  // A struct or union value travels by value, as C passes one through `...`; its
  // address is ndffi.cast("struct s *", v).
  if (is_record(o)) return ((RecordObject *)o)->type;
  // Function pointers: a Callback, or a C function (lib.twice), of its own C type.
  if (is_callback(o)) return strip(((CallbackObject *)o)->ptype);
  if (Py_TYPE(o) == &FunctionType) return T.pointer(((FunctionObject *)o)->decl->type);
  if (o == Py_None || PyArray_Check(o) || PyObject_CheckBuffer(o)) return T.pointer(T.void_type());
  if (PyCallable_Check(o)) {
    PyErr_Format(PyExc_TypeError,
                 "%s: a Python callable has no C signature to be passed as a variadic argument; "
                 "wrap it in ndffi.callback(\"sig\", f) with the C signature it is called with, "
                 "e.g. ndffi.callback(\"int(int)\", f)",
                 w.str().c_str());
    return nullptr;
  }
  PyErr_Format(PyExc_TypeError,
               "%s: cannot pass %s as a variadic argument (use ndffi.cast to give it a C type)",
               w.str().c_str(), Py_TYPE(o)->tp_name);
  return nullptr;
}

}  // namespace ndffi::py
