// Python objects to C pointers: ndffi Pointers, NumPy arrays (dtype, contiguity,
// alignment and writeability checked), buffers, bytes and str, arrays by protocol
// (__array_interface__, DLPack), function pointers and structs by value.
#include <cstring>

#include "callback.h"
#include "convert.h"
#include "messages.h"
#include "rowptr.h"

#include <numpy/arrayscalars.h>

namespace ndffi::py {

// ---- pointers ---------------------------------------------------------------------

// May a pointer of type `have` be passed where `want` is expected?
static bool pointer_compatible(const CType *want, const CType *have, std::string *why) {
  const CType *wt = want->target, *ht = have->target;
  if (ht->is_const() && !wt->is_const()) {
    *why = "pointer '" + have->str() +
           "' to const (the parameter is not const, so C may write to it): "
           "pass a writeable buffer, such as a bytearray or a writeable array";
    return false;
  }
  if (wt == ht || wt->kind == Kind::Void || ht->kind == Kind::Void) return true;
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

// The refusal of an array that is not C-contiguous: how it is laid out, and the fix.
static bool refuse_layout(const Where &w, const std::string &expected, const std::string &given, PyArrayObject *arr,
                          bool writable) {
  bool fortran = PyArray_FLAGS(arr) & NPY_ARRAY_F_CONTIGUOUS;
  return fail(w, PyExc_TypeError, expected,
              with_article(given) + " that is " + layout_problem(arr) + "; " + contiguity_fix(writable, fortran));
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
    return f[0].bit_width < 0 && f[1].bit_width < 0 && is_t(f[0].type) && is_t(f[1].type) && f[0].offset == 0 &&
           f[1].offset == es;
  return f.size() == 1 && f[0].type->kind == Kind::Array && f[0].type->length == 2 && is_t(f[0].type->target);
}

// A structured array for a pointer to a record: its layout must be the C layout.
static bool record_array_arg(const ArgSpec &a, PyArgInfo &info, PyArrayObject *arr, unsigned char *dst,
                             const Where &w) {
  PyArray_Descr *d = PyArray_DESCR(arr);
  auto expected = [&] {
    return "a C-contiguous array of '" + info.record->str() + "' records for '" + type_str(w, a) + "'";
  };
  if (d != info.congruent && !PyArray_ISBYTESWAPPED(arr) && complex_pairs(info.record, PyArray_TYPE(arr))) {
    Py_INCREF(d);
    Py_XSETREF(info.congruent, d);
  }
  if (d != info.congruent) {
    std::string why;
    if (!record_congruent(info.record, d, &why))
      return fail(w, PyExc_TypeError, expected(), "an array whose layout differs: " + why);
    Py_INCREF(d);
    Py_XSETREF(info.congruent, d);
  }
  if (const char *problem = array_flags_problem(arr, info.writable)) {
    if (!strcmp(problem, "read-only"))
      return fail(w, PyExc_TypeError, expected() + " (the parameter is not const, so C may write to it)",
                  "a read-only array");
    if (!strcmp(problem, "non-contiguous")) return refuse_layout(w, expected(), "record array", arr, info.writable);
    return fail(w, PyExc_TypeError, expected(), std::string(problem) + " array");
  }
  return set_pointer(dst, PyArray_DATA(arr));
}

// A number is never a pointer: a NumPy scalar's buffer is a temporary copy of it, and a
// 0-d array is what np.asarray makes of a number.
static bool refuse_number(const ArgSpec &a, PyObject *o, const Where &w) {
  return fail(w, PyExc_TypeError, "'" + type_str(w, a) + "' (an array, buffer, ndffi.Pointer or None)",
              (PyArray_Check(o) ? "a 0-d " + describe(o) : "NumPy scalar " + describe(o)) +
                  ": a number is not a pointer; pass np.array([x]) for a pointer to one value");
}

static bool array_arg(const ArgSpec &a, const PyArgInfo &info, PyArrayObject *arr, unsigned char *dst, const Where &w) {
  if (PyArray_NDIM(arr) == 0) return refuse_number(a, (PyObject *)arr, w);
  if (info.record) return record_array_arg(a, const_cast<PyArgInfo &>(info), arr, dst, w);
  if (!plain_data(PyArray_DESCR(arr)))  // C would read or overwrite references as raw pointers
    return fail(w, PyExc_TypeError, "an array of data for '" + type_str(w, a) + "'",
                describe((PyObject *)arr) + " of Python objects or pointers NumPy manages: " + kObjectArrayFix);
  int tn = PyArray_TYPE(arr);
  bool type_ok = info.any_dtype || ((tn == info.typenum[0] || tn == info.typenum[1] || tn == info.typenum[2]) &&
                                    !PyArray_ISBYTESWAPPED(arr));
  const char *problem = array_flags_problem(arr, info.writable);
  if (type_ok && !problem) return set_pointer(dst, PyArray_DATA(arr));
  std::string expected =
      "C-contiguous " + (info.any_dtype ? "" : info.expected() + " ") + "array for '" + type_str(w, a) + "'";
  std::string given = describe((PyObject *)arr);
  if (!type_ok) {
    if (PyArray_ISBYTESWAPPED(arr)) given = "byte-swapped " + given;
    return fail(w, PyExc_TypeError, expected, given);
  }
  if (!strcmp(problem, "read-only"))
    return fail(w, PyExc_TypeError, expected + " (the parameter is not const, so C may write to it)",
                "read-only " + given);
  if (!strcmp(problem, "non-contiguous")) return refuse_layout(w, expected, given, arr, info.writable);
  return fail(w, PyExc_TypeError, expected, std::string(problem) + " " + given);
}

// The (kind, size) a struct-module format code stands for; false if not a scalar code.
static bool format_scalar(const char *fmt, char *kind, Py_ssize_t *size) {
  if (!fmt) fmt = "B";
  bool native = true;
  if (*fmt == '@') fmt++;
  else if (*fmt == '=' || *fmt == '<') native = false, fmt++;
  else if (*fmt == '>' || *fmt == '!') return false;  // big-endian: not this machine's order
  if (!fmt[0] || fmt[1]) return false;
  struct Code {
    char c, kind;
    Py_ssize_t native, standard;
  };
  static const Code codes[] = {{'b', 'i', 1, 1},
                               {'B', 'u', 1, 1},
                               {'c', 'u', 1, 1},
                               {'h', 'i', sizeof(short), 2},
                               {'H', 'u', sizeof(short), 2},
                               {'i', 'i', sizeof(int), 4},
                               {'I', 'u', sizeof(int), 4},
                               {'l', 'i', sizeof(long), 4},
                               {'L', 'u', sizeof(long), 4},
                               {'q', 'i', 8, 8},
                               {'Q', 'u', 8, 8},
                               {'n', 'i', sizeof(Py_ssize_t), 8},
                               {'N', 'u', sizeof(size_t), 8},
                               {'f', 'f', 4, 4},
                               {'d', 'f', 8, 8},
                               {'e', 'f', 2, 2},
                               {'?', 'b', 1, 1}};
  for (const Code &c : codes)
    if (c.c == *fmt) {
      *kind = c.kind;
      *size = native ? c.native : c.standard;
      return true;
    }
  return false;
}

static bool buffer_arg(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst, Holds &holds,
                       const Where &w) {
  Py_buffer *view = holds.new_view();
  if (PyObject_GetBuffer(o, view, PyBUF_RECORDS_RO) < 0) {
    view->obj = nullptr;
    return false;
  }
  auto expected = [&] {
    return "C-contiguous " + (info.any_dtype ? "" : info.expected() + " ") + "buffer for '" + type_str(w, a) + "'";
  };
  if (info.writable && view->readonly) {
    std::string hint = PyBytes_Check(o) ? " (bytes is immutable; pass a bytearray or array)" : "";
    return fail(w, PyExc_TypeError, expected() + " (the parameter is not const, so C may write to it)",
                "read-only " + describe(o) + hint);
  }
  if (!PyBuffer_IsContiguous(view, 'C'))
    return fail(w, PyExc_TypeError, expected(),
                with_article(describe(o)) + " that is " + layout_problem(*view) + "; " +
                    contiguity_fix(info.writable, PyBuffer_IsContiguous(view, 'F')));
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
      return fail(w, PyExc_TypeError, expected(),
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
                 : PyErr_GivenExceptionMatches(type, PyExc_ValueError) ? PyExc_ValueError
                                                                       : PyExc_BufferError;
  PyErr_Format(as, "%s: %s", where.c_str(), msg ? msg : "conversion failed");
  PyObject *t2, *v2, *tb2;  // the original stays as the cause
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

bool pointer_arg(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst, Holds &holds,
                 const Where &w) {
  if (a.type->target->kind == Kind::Pointer) {  // T **: row-pointer tables (rowptr.cpp)
    int r = rows_arg(a, o, dst, holds, w);
    if (r >= 0) return r;
  }
  // bytes for a const char * (a format, a name): first, being none of the others
  if (PyBytes_CheckExact(o) && info.takes_bytes) return set_pointer(dst, PyBytes_AS_STRING(o));
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
    holds.pin(home_of(o));  // what its pointers keep lives until C returns
    return set_pointer(dst, r->data);
  }
  if (is_pointer(o)) {
    auto *p = (PointerObject *)o;
    std::string why;
    if (!pointer_compatible(a.type, p->type, &why)) return fail(w, PyExc_TypeError, "'" + type_str(w, a) + "'", why);
    if (info.writable && p->span.readonly && p->span.lo != p->span.hi)  // (code has no bytes C may write)
      return fail(w, PyExc_TypeError,
                  "a writeable buffer for '" + type_str(w, a) + "' (the parameter is not const, so C may write to it)",
                  "pointer '" + p->type->str() + "' into read-only memory (" + describe_memory(p->owner, p->span) +
                      "); pass a bytearray or a writeable array");
    holds.pin(home_of(o));
    return set_pointer(dst, p->addr);
  }
  if (PyArray_IsScalar(o, Generic) && !PyUnicode_Check(o) && !PyBytes_Check(o)) return refuse_number(a, o, w);
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
  if (PyObject_CheckBuffer(o)) return buffer_arg(a, info, o, dst, holds, w);
  if (PyLong_Check(o))
    return fail(w, PyExc_TypeError,
                "'" + type_str(w, a) +
                    "' (an array, buffer, ndffi.Pointer or None; a plain int is "
                    "not a pointer: use ndffi.cast('" +
                    type_str(w, a) + "', address))",
                "int");
  if (!PyUnicode_Check(o)) {
    PyArrayObject *arr = as_array_view(o);
    if (arr) {
      holds.keep((PyObject *)arr);
      return array_arg(a, info, arr, dst, w);
    }
    if (PyErr_Occurred()) return protocol_failed(w.str(), o), false;
  }
  std::string what = info.any_dtype ? "an array, buffer" : "a C-contiguous " + info.expected() + " array";
  return fail(w, PyExc_TypeError, what + ", ndffi.Pointer or None for '" + type_str(w, a) + "'", describe(o));
}

bool funcptr_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w) {
  if (o == Py_None) return set_pointer(dst, nullptr);
  if (is_pointer(o)) {
    auto *p = (PointerObject *)o;
    if (strip(p->type) == strip(a.type) || p->type->target->kind == Kind::Void) return set_pointer(dst, p->addr);
  }
  int r = funcptr_from_python(a, o, dst, holds, w);  // callbacks and callables (callback.cpp)
  if (r >= 0) return r;
  return fail(w, PyExc_TypeError, "a function pointer '" + type_str(w, a) + "', a callable or None", describe(o));
}

// A struct by value; an argument's pointers' owners are held for the call.
bool record_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w) {
  if (!w.func || w.index < 0) return set_record(a.type, (char *)dst, o, w);
  Where wa{w.func, w.index};
  wa.holds = &holds;
  return set_record(a.type, (char *)dst, o, wa);
}

}  // namespace ndffi::py
