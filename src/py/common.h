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
[[noreturn]] void raise_cdef(const CDefError &e);  // as ndffi.CDefError (a Python error)
// The type `text` names in scope; a CDefError (raised as ndffi.CDefError) if it names none.
const CType *parse_or_raise(const Scope &scope, const std::string &text);

// ---- a library's namespace, shared by its functions ----
struct Namespace {
  Scope scope{&Scope::builtins()};
};

// ---- CType: the Python face of a core type (a nanobind class) ----
struct CTypeRef {
  const CType *type;
};
PyObject *ctype_object(const CType *t);  // new reference
const CType *ctype_of(PyObject *o);      // nullptr (no error set) if not a CType

// ---- what ndffi knows about the memory a Pointer or struct value reaches ----

// The extent an address is known to lie in, and whether the memory may be written.
// Unbounded: a raw address (an int cast, or a pointer C returned into memory ndffi does
// not know), whose indexing is unchecked.
struct Span {
  char *lo = nullptr, *hi = nullptr;  // when bounded: the valid bytes [lo, hi)
  bool bounded = false;
  bool readonly = false;  // bytes, read-only arrays and buffers, str
  // May n bytes at p be read or written?
  bool holds(const char *p, size_t n) const { return !bounded || (p >= lo && p <= hi && n <= size_t(hi - p)); }
  static Span of(const void *p, size_t n, bool readonly = false) {
    return Span{(char *)p, (char *)p + n, true, readonly};
  }
};

// The owners of the pointers stored into a block of memory, by slot address: a pointer
// stored from Python keeps what its memory belongs to alive for as long as the block's
// holder lives, until the slot is overwritten.  Held by ndffi-owned memory (a struct
// value, ndffi.new) and by a Pointer into C's memory.
struct Kept {
  void *addr;       // the address stored at the slot
  PyObject *owner;  // a reference
  Span span;
};
struct Keeps;
void free_keeps(Keeps *k);
void unpin_keeps(Keeps *k);
int traverse_keeps(Keeps *k, visitproc visit, void *arg);

// ---- Pointer ----
struct PointerObject {
  PyObject_HEAD void *addr;
  const CType *type;  // a pointer type
  PyObject *owner;    // keeps the memory alive, or nullptr (C's memory, or owns_memory)
  Span span;          // what is known of the memory around addr
  bool owns_memory;   // addr was allocated by ndffi.new and is freed with the object
  Keeps *keeps;       // owners of pointers stored through it, or nullptr
  PyObject *weakrefs;
  PyObject *call;  // a pointer to a function: the Function calls go through, made once
};
extern PyTypeObject PointerType;
// An object of a static type taken back from a free list, where its dealloc left it
// (its type unchanged): alive again with one reference.  What PyObject_Init does, without
// its call and checks (~20 instructions a call) and without telling tracemalloc, which
// then shows the object's first allocation as where it was made.  Debug builds that count
// or list references get PyObject_Init.
inline void revive(PyObject *o, PyTypeObject *type) {
#if defined(Py_TRACE_REFS) || defined(Py_REF_DEBUG)
  PyObject_Init(o, type);
#else
  (void)type;
  Py_SET_REFCNT(o, 1);
#endif
}

inline bool is_pointer(PyObject *o) { return Py_TYPE(o) == &PointerType; }
// A Pointer of `length` elements at addr (-1: unbounded), writable.
PyObject *make_pointer(void *addr, const CType *ptype, PyObject *owner, Py_ssize_t length = -1);
// A Pointer into memory `owner` keeps alive, with what is known of it.
PyObject *make_pointer_in(void *addr, const CType *ptype, PyObject *owner, const Span &span);
// memory of ndffi.new and of struct values: zeroed, aligned beyond the allocator's guarantee
char *alloc_aligned(size_t size, size_t align);
void free_aligned(void *data);

// ---- Value: a C scalar of an explicit type, made by ndffi.cast ----
struct ValueObject {
  PyObject_HEAD const CType *type;
  PyObject *value;  // int or float, already converted as C converts it
};
extern PyTypeObject ValueType;
inline bool is_value(PyObject *o) { return Py_TYPE(o) == &ValueType; }

// ---- StructValue: a struct or union value, owning its memory or viewing another's ----
struct RecordObject {
  PyObject_HEAD const CType *type;  // the record type, unqualified
  char *data;
  PyObject *owner;  // for a view: what keeps `data` alive
  Span span;        // the memory `data` lies in (the value itself when it owns it)
  bool owns;        // data was allocated for this value
  Keeps *keeps;     // owners of the pointers stored into owned memory, or nullptr
  PyObject *weakrefs;
  // An owned value of at most kInlineRecord bytes lives here (one allocation per value).
  static constexpr size_t kInlineRecord = 32;
  alignas(16) char inline_data[kInlineRecord];
};
extern PyTypeObject RecordType;
inline bool is_record(PyObject *o) { return Py_TYPE(o) == &RecordType; }
PyObject *make_record(const CType *t, const void *src);  // a copy (zeroed if src null)
// A copy of a call's record result of the unqualified type `t`, which fits in
// inline_data (FunctionObject::ret_inline): its bytes are the first of the 32 at `src`.
PyObject *make_record_inline(const CType *t, const uint64_t *src);
PyObject *make_record_view(const CType *t, void *data, PyObject *owner, const Span &span = Span());
PyObject *new_record_value(const CType *t, PyObject *args, PyObject *kwargs);
// The walks of a record's members recurse once per level of records held by value, at
// most about kMaxTypeDepth deep (the parser refuses deeper types); on a thread whose
// stack runs low before that, a walk stops with this TypeError instead of overflowing it.
bool stack_runs_low(const CType *t);
// t unqualified (no call for an unqualified scalar or record).
inline const CType *strip(const CType *t) {
  return t->quals || t->kind == Kind::Array ? TypeTable::get().unqualified(t) : t;
}
PyArray_Descr *record_dtype(const CType *t);
bool record_congruent(const CType *t, PyArray_Descr *d, std::string *why);
struct Where;
bool set_record(const CType *t, char *p, PyObject *v, const Where &w);
// A C array of type t at p from bytes, a list of its elements or an array.
bool set_array(const CType *t, char *p, PyObject *v, const Where &w);

// ---- the ownership of memory (memory.cpp) ----

// The object that keeps the memory of a Pointer or struct value alive, and holds what
// is stored into it: the owning struct value or Pointer, an array or buffer export,
// or a Pointer into C's memory (borrowed).
PyObject *home_of(PyObject *pointer_or_record);
// What keeps the memory of `o` (an array, a buffer, bytes, str, a Pointer or struct
// value) alive, and its extent: `*owner` a new reference (an export of a buffer,
// holding it against resizing and closing, for objects that are neither arrays, bytes
// nor ndffi's own).  False with an exception set when `o` exposes no memory.
bool memory_of(PyObject *o, PyObject **owner, Span *span);
// The owner of a pointer stored at `slot` of memory held by `home` is kept (nullptr
// owner: nothing is); false, with TypeError naming `where`, when `home` cannot keep it.
bool keeps_owners(PyObject *home);
bool keep_stored(PyObject *home, char *slot, void *addr, PyObject *owner, const Span &span, const Where &w,
                 PyObject *value);
// Slots in [lo, hi) were overwritten: what they kept may go.
void forget_stored(PyObject *home, char *lo, char *hi);
// A copy of n bytes from src (memory held by src_home) into memory written with `w`:
// can its destination keep what the bytes' pointers keep (else TypeError)?  After the
// copy, take_stored moves those owners to w.home, or holds them for w's call.
bool can_take_stored(PyObject *src_home, const char *src, size_t n, const Where &w, PyObject *value);
void take_stored(PyObject *src_home, const char *src, char *dst, size_t n, const Where &w);
// Does a value of type t contain pointers (fields, elements, members)?
bool holds_pointers(const CType *t);
// What is known of the pointer stored at slot (its owner, a new reference, and span);
// false when it was not stored from Python or C changed it since.
bool find_stored(PyObject *home, const char *slot, PyObject **owner, Span *span);
// After a call: a pointer result, a struct result's pointers and pointers C stored into
// ndffi memory an argument gave it, that point into an argument's memory, keep that
// memory's owner and take its bound and read-only-ness.
void adopt_argument_memory(PyObject *result, PyObject *const *args, Py_ssize_t n);
// "a float64 array", "bytes", "ndffi.new memory", for messages.
std::string describe_memory(PyObject *owner, const Span &span);

// ---- Function ----
struct PyArgInfo;
struct VarPlans;
struct FunctionObject {
  PyObject_HEAD vectorcallfunc vectorcall;
  CallPlan *plan;
  PyArgInfo *info;      // one per fixed parameter
  PyObject *keepalive;  // the library handle the code lives in
  PyObject *weakrefs;
  Decl *decl;          // the prototype, with parameter names
  VarPlans *varplans;  // a variadic function's plans by the types of its variadic arguments, or nullptr
  Py_ssize_t nfast;    // argument count of the fast path; -1: always the general path
  bool release_gil;
  bool use_errno;
  bool adopts;             // pointers may come back into arguments' memory: adopt_argument_memory
  const CType *ret_ptype;  // a pointer or record result's type, unqualified (made once, not per call)
  bool ret_inline;         // a record result that make_record_inline makes
  PyMethodDef def;         // of its face: METH_FASTCALL | METH_KEYWORDS over the fast path
  PyObject *face;          // a weak reference to its face, or nullptr
  PyObject *signature;     // inspect.Signature, made when first asked, or nullptr
  std::string *doc;        // __doc__, and its face's ml_doc (a str made when asked)
  PyObject *home;          // what its maker gave (a Library's (record, weak reference)), or nullptr
};
extern PyTypeObject FunctionType;
extern PyTypeObject LibraryBaseType;  // library_base.cpp: the base of ndffi.Library
// A declared function as Python sees it: its face, an exact builtin function over its
// Function (function_face.cpp; what make_function returns).
PyObject *make_function(const Decl &decl, void *fn, PyObject *keepalive, bool release_gil, bool use_errno,
                        bool allow_direct = true);
FunctionObject *as_function(PyObject *o);  // of a face or a Function; nullptr for anything else
PyObject *face_of(FunctionObject *f);      // new reference: the live face, or a new one
void install_face();                       // once, at module init

// ---- conversions ----

// What a call has to release once C returns: buffers it acquired and objects it made.
// Costs one pointer test on the common path, where nothing is held.
class Holds {
 public:
  Holds() = default;
  Holds(const Holds &) = delete;
  ~Holds() { release(); }
  void keep(PyObject *o);  // steals a reference
  Py_buffer *new_view();   // an empty view that release() will PyBuffer_Release
  // Memory passed to C whose stored pointers keep owners: while the call runs, an owner
  // replaced from another thread is released only after it (and so are the owners
  // reachable from it).
  void pin(PyObject *home);
  void release() {
    if (held_) release_held();
  }

 private:
  struct Held {
    std::vector<PyObject *> refs;
    std::vector<std::unique_ptr<Py_buffer>> views;
    std::vector<Keeps *> pins;
    bool first_view = false;  // first_view_ is in use
  };
  // nullptr: nothing held; only_first_view(): only first_view_, so that a call passing
  // one buffer allocates nothing to hold it; else what is held besides.
  Held *held_ = nullptr;
  Py_buffer first_view_;
  static Held *only_first_view() { return reinterpret_cast<Held *>(alignof(Held)); }
  Held &held();  // held_, made a Held
  void release_held();
};

// Where a conversion happens, for error messages: "dsum() argument 1 'x'".
struct Where {
  const FunctionObject *func;  // nullptr outside a call
  int index;                   // 0-based; -1 for a result or a standalone conversion
  const char *what = nullptr;  // used when func is null: "pointer element", ...
  // A store into memory: home_of what it is written through, which keeps the owners of
  // the pointers stored (nullptr: memory that keeps nothing); or a call's argument
  // storage, whose owners `holds` keeps for the call.
  PyObject *home = nullptr;
  Holds *holds = nullptr;
  // A part of a location, named only when str() is called (an error is raised): field
  // `field` of `outer`, or its element `element` when field is null.
  const Where *outer = nullptr;
  const char *field = nullptr;
  Py_ssize_t element = -1;
  std::string str() const;
  Where inner(const char *what_) const {  // a part of the same store, for messages
    Where w{nullptr, -1, what_};
    w.home = home, w.holds = holds;
    return w;
  }
  // A part of the same store at field `field_` (or element `element_`) of `of`'s location.
  Where part(const Where &of, const char *field_, Py_ssize_t element_ = -1) const {
    Where w = inner(nullptr);
    w.outer = &of, w.field = field_, w.element = element_;
    return w;
  }
};

// Per-parameter facts precomputed when a function is made.
struct PyArgInfo {
  PyArgInfo() = default;
  PyArgInfo(const PyArgInfo &) = delete;
  ~PyArgInfo() { Py_XDECREF(congruent); }
  int typenum[3] = {-1, -1, -1};       // NumPy type numbers an array may have (pointer params)
  const CType *record = nullptr;       // pointer to a struct/union: its type
  PyArray_Descr *congruent = nullptr;  // the last structured dtype found congruent with it
  bool any_dtype = false;              // void * takes any element type
  bool writable = false;               // non-const pointee: the array must be writeable
  bool is_char = false;                // char *: bytes and str (when const) accepted
  bool takes_bytes = false;            // const char * or const void *: bytes passed as their buffer
  bool plain_record = false;           // a record by value holding no pointers: copied from a value of its type
  const CType *pointee = nullptr;      // pointer params: the type pointed to
  std::string expected() const;        // "float64", for messages (made only for one)
};
// How a parameter of type `param` converts; any_memory: a pointer that takes any memory
// whatever its pointee (a variadic argument's).
void fill_arg_info(PyArgInfo &info, const CType *param, bool any_memory = false);

// Convert a Python value to C storage at dst (8 bytes for integers, sign- or
// zero-extended; the value's own size otherwise).  On failure sets a Python exception
// that names `where`, and returns false.
bool to_c(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst, Holds &holds, const Where &where);

// Convert a raw C result (an integer register, or floating-point bits) to Python.
PyObject *from_c(const ArgSpec &a, uint64_t raw);
// Convert a C value in memory to Python (pointer indexing, globals, fields): records and
// arrays as views that `owner` (home_of what p was read through; nullptr: a copy of a
// record) keeps alive, with `span` known of their memory; pointers with what their
// store kept (find_stored), else as C's raw addresses.
PyObject *load_c(const CType *t, const void *p, PyObject *owner, const Span &span = Span());
// An object that is an array by protocol (__array_interface__, DLPack) as a NumPy view
// (a new reference); nullptr without an error when it speaks none, with the protocol's
// when it fails, which protocol_failed leads by `where`.
PyArrayObject *as_array_view(PyObject *o);
// A dtype whose items are plain bytes: no Python objects, no pointers NumPy manages
// (object, StringDType, a struct dtype with such a field).  Only such memory goes to C.
inline bool plain_data(PyArray_Descr *d) { return !(PyDataType_FLAGS(d) & (NPY_ITEM_REFCOUNT | NPY_ITEM_IS_POINTER)); }
void protocol_failed(const std::string &where, PyObject *o);
// A protocol's array over a buffer object, checked to lie in it and held through an
// export of it (memory.cpp); nullptr with an error.
PyArrayObject *hold_buffer_base(PyArrayObject *arr);
// The current TypeError, ValueError or BufferError, its message led by `where`.
void name_failure(const std::string &where);
// Store a Python value into C memory of type t.
bool store_c(const CType *t, void *p, PyObject *o, const Where &where);

// Floating values: a Python real number as a long double (np.longdouble exactly; wide:
// the target is a long double, so ints keep more than a double's digits), and
// a long double stored as a float (size 4), double (8) or long double (16) with range
// checks (OverflowError for a finite value beyond the type's range).  `for_what` names
// the expected type in messages ("'double'").
bool real_value(PyObject *o, long double *out, bool wide, const std::string &for_what, const Where &where);
bool store_real(long double v, unsigned size, unsigned char *dst, const Where &where);
PyObject *longdouble_object(long double v);  // a new np.longdouble
// C's `T _Complex` (Record::complex_of, a record in the type model): a Python complex
// from its bytes at p, and any Python number (complex, real, NumPy's, __complex__) into
// them at dst with float's and double's range checks.
inline bool is_complex(const CType *t) { return t->kind == Kind::Record && t->record->complex_of; }
PyObject *complex_object(const CType *t, const void *p);
bool complex_value(const CType *t, PyObject *o, unsigned char *dst, const Where &where);
bool store_complex(const CType *t, char *p, PyObject *o, const Where &where);  // complex_value into C memory
bool complex_congruent(const CType *t, PyArray_Descr *d, std::string *why);    // an array's dtype is t's

// The NumPy dtype of a C scalar type (new reference), or nullptr with TypeError set.
PyArray_Descr *dtype_of(const CType *t);

// ---- variadic calls (variadic.cpp) ----

// The plan of a variadic function's calls with one list of C types of the arguments past
// the fixed ones (make_variadic_plan), and how each of those is converted.  Shared by the
// function's cache and the calls running with it; `refs` changes only with the GIL held.
struct VarPlan {
  CallPlan plan;
  std::vector<const CType *> key;     // what variadic_plan looks it up by, one per argument
  std::unique_ptr<PyArgInfo[]> info;  // one per variadic argument
  Py_ssize_t refs = 1;
};
// The plan for a call of f whose arguments past the fixed ones are extra[0..n), from f's
// cache (a new reference), made and cached on a miss; nullptr with an exception (naming
// the function and the argument) when an argument cannot be passed through `...`.
VarPlan *variadic_plan(FunctionObject *f, PyObject *const *extra, Py_ssize_t n);
inline void release_plan(VarPlan *vp) {
  if (--vp->refs == 0) delete vp;
}
void free_variadic_plans(VarPlans *c);
// The cached lists of variadic argument types, most recent last: a tuple of tuples of
// their C spellings (Function._variadic_plans).
PyObject *variadic_plan_types(const FunctionObject *f);

std::string describe(PyObject *o);  // "float64 array", "str", ...

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

// The same for a dict: its (key, value) pairs, each held by the snapshot (no list or
// tuples are made, nor any allocation for a few pairs; taking them runs no Python code).
class DictSnapshot {
 public:
  using Pair = std::pair<PyObject *, PyObject *>;
  explicit DictSnapshot(PyObject *dict) {
    size_t n = size_t(PyDict_GET_SIZE(dict));
    if (n > kSmall) big_.resize(n);
    Pair *out = n > kSmall ? big_.data() : small_;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (n_ < n && PyDict_Next(dict, &pos, &key, &value)) {
      Py_INCREF(key), Py_INCREF(value);
      out[n_++] = {key, value};
    }
  }
  DictSnapshot(const DictSnapshot &) = delete;
  ~DictSnapshot() {
    for (auto &[key, value] : *this) Py_DECREF(key), Py_DECREF(value);
  }
  const Pair *begin() const { return big_.empty() ? small_ : big_.data(); }
  const Pair *end() const { return begin() + n_; }

 private:
  static constexpr size_t kSmall = 8;
  Pair small_[kSmall];
  std::vector<Pair> big_;
  size_t n_ = 0;
};

}  // namespace ndffi::py
