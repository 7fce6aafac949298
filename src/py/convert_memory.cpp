// C memory to Python and back: load_c (pointer indexing, fields, globals), store_c
// (what the memory then keeps alive: memory.cpp), and the NumPy dtypes and per-parameter
// facts of C types.
#include <cstring>

#include "callback.h"
#include "convert.h"

namespace ndffi::py {

PyObject *load_c(const CType *t, const void *p, PyObject *owner, const Span &span) {
  if (t->kind == Kind::Record)  // nothing keeps the memory (a callback's argument): a copy
    return owner ? make_record_view(t, const_cast<void *>(p), owner, span) : make_record(t, p);
  // an element that is itself an array decays, as in C, to a pointer to its first element
  if (t->kind == Kind::Array && t->length != CType::kUnknownLength) {
    Span row = Span::of(p, t->byte_size(), span.readonly);
    return make_pointer_in(const_cast<void *>(p), TypeTable::get().pointer(t->target), owner, row);
  }
  // The commonest elements without a conversion plan: integers and doubles.
  if (t->kind == Kind::Int)
    return t->is_signed ? PyLong_FromLongLong(load_signed(p, unsigned(t->size)))
                        : PyLong_FromUnsignedLongLong(load_unsigned(p, unsigned(t->size)));
  if (t->kind == Kind::Float && t->size == 8) {
    double d;
    memcpy(&d, p, 8);
    return PyFloat_FromDouble(d);
  }
  ArgSpec a;
  try {
    a = arg_spec(t);
  } catch (const std::exception &e) {  // called from C slots: nothing may propagate
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
        return make_pointer(q, strip(t), nullptr);  // C's address: unbounded
      PyObject *r = make_pointer_in(q, strip(t), kept, known);
      Py_DECREF(kept);
      return r;
    }
    case Conv::FuncPtr: {  // keeps what keeps the memory it was read from (a library's global)
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
  if (w.holds) {  // a call's argument storage: held as the call holds arguments
    if (!to_c(a, info, o, tmp, *w.holds, w)) return false;
    memcpy(p, tmp, a.size);
    return true;
  }
  PyObject *arr = nullptr;  // an array by protocol (__array_interface__, DLPack), as a view
  if (!PyArray_Check(o) && !is_pointer(o) && !is_record(o) && o != Py_None && !PyUnicode_Check(o) && !PyLong_Check(o) &&
      !PyObject_CheckBuffer(o)) {
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
static bool store_function_pointer(const ArgSpec &a, const PyArgInfo &info, void *p, PyObject *o, const Where &w) {
  if (needs_temporary_callback(o))  // a call's wrapper would be gone once the statement ends
    return fail(w, PyExc_TypeError,
                "an ndffi.callback (kept alive while C may call it), ndffi.Pointer or None for '" + a.type->str() + "'",
                describe(o));
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
  if (a.conv == Conv::FuncPtr) {
    PyArgInfo info;
    fill_arg_info(info, t);
    return store_function_pointer(a, info, p, o, w);
  }
  alignas(16) unsigned char tmp[16] = {0};
  if (!number_value(a, o, tmp, w)) return false;  // what is left: a number
  forget_stored(w.home, (char *)p, (char *)p + a.size);
  memcpy(p, tmp, a.size);
  return true;
}

// ---- dtypes -----------------------------------------------------------------------

static int typenum_of(const CType *t) {
  if (t->kind == Kind::Enum && t->record->enum_base) t = t->record->enum_base;
  switch (t->kind) {
    case Kind::Bool: return NPY_BOOL;
    case Kind::Float: return t->size == 4 ? NPY_FLOAT : t->size == 8 ? NPY_DOUBLE : NPY_LONGDOUBLE;
    case Kind::Int:
      switch (t->size) {
        case 1: return t->is_signed ? NPY_INT8 : NPY_UINT8;
        case 2: return t->is_signed ? NPY_INT16 : NPY_UINT16;
        case 4: return t->is_signed ? NPY_INT32 : NPY_UINT32;
        case 8: return t->is_signed ? NPY_INT64 : NPY_UINT64;
      }
      return -1;
    case Kind::Record:
      if (is_complex(t)) return t->record->complex_of->size == 4 ? NPY_CFLOAT : NPY_CDOUBLE;
      return -1;
    default: return -1;
  }
}

PyArray_Descr *dtype_of(const CType *t) {
  if (t->kind == Kind::Record && !is_complex(t)) return record_dtype(t);
  int tn = typenum_of(t);
  if (tn < 0) {
    PyErr_Format(PyExc_TypeError, "'%s' has no NumPy dtype", t->str().c_str());
    return nullptr;
  }
  return PyArray_DescrFromType(tn);
}

// A pointer to arrays of n arithmetic T: T (*)[n] (FFTW's fftw_complex *, double (*)[2]).
static bool is_array_of_arith(const CType *t) {
  return t->kind == Kind::Array && t->length != CType::kUnknownLength && t->target->is_arith();
}

static void fill_arg_kinds(PyArgInfo &info, const CType *param);

void fill_arg_info(PyArgInfo &info, const CType *param, bool any_memory) {
  fill_arg_kinds(info, param);
  if (any_memory) info.any_dtype = true;
  info.takes_bytes = !info.writable && (info.is_char || info.any_dtype);
}

static void fill_arg_kinds(PyArgInfo &info, const CType *param) {
  if (param->kind == Kind::Record) info.plain_record = !holds_pointers(param);
  if (param->kind != Kind::Pointer) return;
  const CType *t = param->target;
  info.pointee = t;
  info.writable = !t->is_const();
  if (t->kind == Kind::Void) {
    info.any_dtype = true;
    return;
  }
  if (t->kind == Kind::Record && !is_complex(t)) {
    info.record = strip(t);
    return;
  }
  if (is_array_of_arith(t)) {
    // arrays of T, or of complex numbers for pairs of floating-point numbers
    const CType *e = t->target;
    info.writable = !e->is_const();
    info.typenum[0] = typenum_of(e);
    if (e->kind == Kind::Float && t->length == 2)
      info.typenum[1] = e->size == 8 ? NPY_CDOUBLE : e->size == 4 ? NPY_CFLOAT : -1;
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
}

std::string PyArgInfo::expected() const {
  const CType *t = pointee;
  if (!t) return "?";
  if (t->kind == Kind::Void) return "any";
  if (t->kind == Kind::Record && !is_complex(t)) return "'" + record->str() + "' records";
  if (is_array_of_arith(t)) return "'" + strip(t->target)->str() + "'" + (typenum[1] >= 0 ? " (or complex)" : "");
  if (is_char) return "int8/uint8/bytes";
  if (typenum[0] < 0) return "'" + strip(t)->str() + "'";
  PyArray_Descr *d = PyArray_DescrFromType(typenum[0]);
  std::string r = d ? dtype_name(d) : "?";
  Py_XDECREF(d);
  return r;
}

}  // namespace ndffi::py
