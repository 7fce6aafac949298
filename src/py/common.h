// Shared declarations of the CPython/NumPy binding of the core.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL ndffi_ARRAY_API
#ifndef NDFFI_IMPORT_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include <memory>
#include <string>
#include <vector>

#include "nd_ccall.h"
#include "nd_cparse.h"
#include "nd_ctype.h"

namespace ndffi::py {

// ---- exceptions (set by module init) ----
extern PyObject *CDefErrorType;
[[noreturn]] void raise_cdef(const CDefError &e);   // as ndffi.CDefError (a Python error)

// ---- a library's namespace, shared by its functions ----
struct Namespace {
  Scope scope{&Scope::builtins()};
};

// ---- CType: the Python face of a core type (a nanobind class) ----
struct CTypeRef {
  const CType *type;
};
PyObject *ctype_object(const CType *t);      // new reference
const CType *ctype_of(PyObject *o);          // nullptr (no error set) if not a CType

// ---- Pointer ----
struct PointerObject {
  PyObject_HEAD
  void *addr;
  const CType *type;       // a pointer type
  PyObject *owner;         // keeps the memory alive, or nullptr
  Py_ssize_t length;       // elements known to be valid at addr, -1 if unknown
  bool owns_memory;        // addr was allocated by ndffi.new and is freed with the object
  PyObject *call;          // a pointer to a function: the Function calls go through, made once
};
extern PyTypeObject PointerType;
inline bool is_pointer(PyObject *o) { return Py_TYPE(o) == &PointerType; }
PyObject *make_pointer(void *addr, const CType *ptype, PyObject *owner, Py_ssize_t length = -1);
// memory of ndffi.new and of struct values: zeroed, aligned beyond the allocator's guarantee
char *alloc_aligned(size_t size, size_t align);
void free_aligned(void *data);

// ---- Value: a C scalar of an explicit type, made by ndffi.cast ----
struct ValueObject {
  PyObject_HEAD
  const CType *type;
  PyObject *value;   // int or float, already converted as C converts it
};
extern PyTypeObject ValueType;
inline bool is_value(PyObject *o) { return Py_TYPE(o) == &ValueType; }

// ---- StructValue: a struct or union value, owning its memory or viewing another's ----
struct RecordObject {
  PyObject_HEAD
  const CType *type;       // the record type, unqualified
  char *data;
  PyObject *owner;         // for a view: what keeps `data` alive
  bool owns;               // data was allocated for this value
};
extern PyTypeObject RecordType;
inline bool is_record(PyObject *o) { return Py_TYPE(o) == &RecordType; }
PyObject *make_record(const CType *t, const void *src);          // a copy (zeroed if src null)
PyObject *make_record_view(const CType *t, void *data, PyObject *owner);
PyObject *new_record_value(const CType *t, PyObject *args, PyObject *kwargs);
PyArray_Descr *record_dtype(const CType *t);
bool record_congruent(const CType *t, PyArray_Descr *d, std::string *why);
struct Where;
bool set_record(const CType *t, char *p, PyObject *v, const Where &w);

// ---- Function ----
struct PyArgInfo;
struct FunctionObject {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  CallPlan *plan;
  PyArgInfo *info;          // one per fixed parameter
  PyObject *name;           // str
  PyObject *keepalive;      // the library handle the code lives in
  PyObject *weakrefs;
  Decl *decl;               // the prototype, with parameter names
  Py_ssize_t nfast;          // argument count of the fast path; -1: always the general path
  bool release_gil;
  bool use_errno;
};
extern PyTypeObject FunctionType;
PyObject *make_function(const Decl &decl, void *fn, PyObject *keepalive, bool release_gil,
                        bool use_errno, bool allow_direct = true);

// ---- conversions ----

// What a call has to release once C returns: buffers it acquired and objects it made.
// Costs one pointer test on the common path, where nothing is held.
class Holds {
 public:
  Holds() = default;
  Holds(const Holds &) = delete;
  ~Holds() { release(); }
  void keep(PyObject *o);              // steals a reference
  Py_buffer *new_view();               // an empty view that release() will PyBuffer_Release
  void release() {
    if (held_) release_held();
  }

 private:
  struct Held {
    std::vector<PyObject *> refs;
    std::vector<std::unique_ptr<Py_buffer>> views;
  };
  Held *held_ = nullptr;
  void release_held();
};

// Where a conversion happens, for error messages: "dsum() argument 1 'x'".
struct Where {
  const FunctionObject *func;   // nullptr outside a call
  int index;                    // 0-based; -1 for a result or a standalone conversion
  const char *what = nullptr;   // used when func is null: "pointer element", ...
  std::string str() const;
};

// Per-parameter facts precomputed when a function is made.
struct PyArgInfo {
  PyArgInfo() = default;
  PyArgInfo(const PyArgInfo &) = delete;
  ~PyArgInfo() { Py_XDECREF(congruent); }
  int typenum[3] = {-1, -1, -1};   // NumPy type numbers an array may have (pointer params)
  const CType *record = nullptr;   // pointer to a struct/union: its type
  PyArray_Descr *congruent = nullptr;   // the last structured dtype found congruent with it
  bool any_dtype = false;          // void * takes any element type
  bool writable = false;           // non-const pointee: the array must be writeable
  bool is_char = false;            // char *: bytes and str (when const) accepted
  std::string expected;            // "float64", for messages
};
void fill_arg_info(PyArgInfo &info, const CType *param);

// Convert a Python value to C storage at dst (8 bytes for integers, sign- or
// zero-extended; the value's own size otherwise).  On failure sets a Python exception
// that names `where`, and returns false.
bool to_c(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst, Holds &holds,
          const Where &where);

// Convert a raw C result (an integer register, or floating-point bits) to Python.
PyObject *from_c(const ArgSpec &a, uint64_t raw);
// Convert a C value in memory to Python (pointer indexing, globals).
PyObject *load_c(const CType *t, const void *p, PyObject *owner);
// Store a Python value into C memory of type t.
bool store_c(const CType *t, void *p, PyObject *o, const Where &where);

// Floating values: a Python real number as a long double (np.longdouble exactly; wide:
// the target is a long double, so ints keep more than a double's digits), and
// a long double stored as a float (size 4), double (8) or long double (16) with range
// checks (OverflowError for a finite value beyond the type's range).  `for_what` names
// the expected type in messages ("'double'").
bool real_value(PyObject *o, long double *out, bool wide, const std::string &for_what,
                const Where &where);
bool store_real(long double v, unsigned size, unsigned char *dst, const Where &where);
PyObject *longdouble_object(long double v);   // a new np.longdouble

// The NumPy dtype of a C scalar type (new reference), or nullptr with TypeError set.
PyArray_Descr *dtype_of(const CType *t);

// Variadic arguments: the C type a Python value is passed as (C's default promotions).
const CType *variadic_type(PyObject *o, const Where &where);

std::string describe(PyObject *o);   // "float64 array", "str", ...

// ---- snapshots of the user's containers ---------------------------------------------

// Converting the items of a user's list runs user code (__index__, __float__,
// __array_interface__; another thread, while a call has released the GIL) that may clear
// or resize the list and drop the last reference to an item, under the loop or under C.
// So a loop over a user's sequence runs over its snapshot: a new tuple holding each item
// (a tuple, whose items cannot change, is its own).  No user code runs to take it from a
// list or tuple; other sequences are iterated once.  nullptr with an exception set if
// `seq` is not iterable.
inline PyObject *snapshot(PyObject *seq) {
  if (PyTuple_Check(seq)) {
    Py_INCREF(seq);
    return seq;
  }
  if (PyList_Check(seq)) return PyList_AsTuple(seq);
  return PySequence_Tuple(seq);
}

// The same for a dict: a new list of its (key, value) pairs.
inline PyObject *snapshot_items(PyObject *dict) { return PyDict_Items(dict); }

}  // namespace ndffi::py
