// ndffi.Pointer: a typed C address, indexable like C; and the Value of ndffi.cast.
#include <algorithm>
#include <cstring>

#include "common.h"
#include "fastpath.h"

namespace ndffi::py {

// Zeroed memory of `size` bytes aligned to `align`, which may exceed what the allocator
// guarantees (aligned(64) records); the block's own address is kept just before the
// data, for free_aligned.  nullptr (no error set) when out of memory or size overflows.
char *alloc_aligned(size_t size, size_t align) {
  align = std::max<size_t>(align, alignof(void *));
  if (size > PY_SSIZE_T_MAX - align - sizeof(void *)) return nullptr;
  char *raw = (char *)PyMem_Calloc(size + align + sizeof(void *), 1);
  if (!raw) return nullptr;
  uintptr_t at = (uintptr_t(raw) + sizeof(void *) + align - 1) / align * align;
  char *data = (char *)at;
  memcpy(data - sizeof(void *), &raw, sizeof(void *));
  return data;
}

void free_aligned(void *data) {
  if (!data) return;
  char *raw;
  memcpy(&raw, (char *)data - sizeof(void *), sizeof(void *));
  PyMem_Free(raw);
}

static size_t elem_size(const CType *ptype) {
  const CType *t = ptype->target;
  size_t es = t && t->is_complete() && t->kind != Kind::Func ? t->byte_size() : 0;
  return es ? es : 1;
}

// A Pointer is made by every call that returns one: a few freed ones are kept for reuse,
// as CPython keeps tuples and lists, sparing the allocator and the GC's bookkeeping (of
// `double *get(void)`'s ~470 instructions a call, ~140 went there).  Used with the GIL held.
#ifndef Py_GIL_DISABLED
constexpr int kFreePointers = 16;
static PointerObject *free_pointers[kFreePointers];
static int n_free_pointers = 0;
#endif

PyObject *make_pointer_in(void *addr, const CType *ptype, PyObject *owner, const Span &span) {
  PointerObject *p;
#ifndef Py_GIL_DISABLED
  if (n_free_pointers > 0) {
    p = free_pointers[--n_free_pointers];
    revive((PyObject *)p, &PointerType);
  } else
#endif
  {
    p = PyObject_GC_New(PointerObject, &PointerType);
    if (!p) return nullptr;
  }
  p->addr = addr;
  p->type = ptype;
  p->owner = owner;
  Py_XINCREF(owner);
  p->span = span;
  p->owns_memory = false;
  p->keeps = nullptr;
  p->weakrefs = nullptr;
  p->call = nullptr;
  PyObject_GC_Track(p);
  return (PyObject *)p;
}

PyObject *make_pointer(void *addr, const CType *ptype, PyObject *owner, Py_ssize_t length) {
  Span span = length >= 0 ? Span::of(addr, size_t(length) * elem_size(ptype)) : Span();
  return make_pointer_in(addr, ptype, owner, span);
}

static int pointer_traverse(PyObject *self, visitproc visit, void *arg) {
  auto *p = (PointerObject *)self;
  Py_VISIT(p->owner);
  Py_VISIT(p->call);
  return traverse_keeps(p->keeps, visit, arg);
}

// Breaking a cycle: what the pointer keeps goes; a pointer into memory it no longer
// keeps becomes NULL, so that nothing can reach that memory through it.
static int pointer_clear(PyObject *self) {
  auto *p = (PointerObject *)self;
  Keeps *k = p->keeps;
  p->keeps = nullptr;
  free_keeps(k);
  Py_CLEAR(p->call);
  if (p->owner) {
    p->addr = nullptr;
    p->span = Span::of(nullptr, 0);
    Py_CLEAR(p->owner);
  }
  return 0;
}

static void pointer_dealloc(PyObject *self) {
  auto *p = (PointerObject *)self;
  PyObject_GC_UnTrack(self);
  if (p->weakrefs) PyObject_ClearWeakRefs(self);
  Keeps *k = p->keeps;
  p->keeps = nullptr;
  free_keeps(k);
  Py_XDECREF(p->call);
  Py_XDECREF(p->owner);
  if (p->owns_memory) free_aligned(p->addr);
#ifndef Py_GIL_DISABLED
  if (Py_TYPE(self) == &PointerType && n_free_pointers < kFreePointers) {
    free_pointers[n_free_pointers++] = p;
    return;
  }
#endif
  PyObject_GC_Del(self);
}

static PyObject *pointer_repr(PyObject *self) {
  auto *p = (PointerObject *)self;
  if (!p->addr) return PyUnicode_FromFormat("<ndffi.Pointer '%s' NULL>", p->type->str().c_str());
  return PyUnicode_FromFormat("<ndffi.Pointer '%s' %p>", p->type->str().c_str(), p->addr);
}

static int pointer_bool(PyObject *self) { return ((PointerObject *)self)->addr != nullptr; }

static PyObject *pointer_int(PyObject *self) { return PyLong_FromVoidPtr(((PointerObject *)self)->addr); }

static Py_hash_t pointer_hash(PyObject *self) {
  Py_hash_t h = Py_hash_t(uintptr_t(((PointerObject *)self)->addr) >> 3);
  return h == -1 ? -2 : h;
}

static PyObject *pointer_richcompare(PyObject *a, PyObject *b, int op) {
  if (!is_pointer(b) || (op != Py_EQ && op != Py_NE)) Py_RETURN_NOTIMPLEMENTED;
  bool eq = ((PointerObject *)a)->addr == ((PointerObject *)b)->addr;
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

// ---- bounds ---------------------------------------------------------------------------

// "its memory (a float64 array, 16 bytes) holds 2 elements of 'double', indices 0 to 1"
static std::string bound_text(PointerObject *p) {
  const Span &s = p->span;
  size_t es = elem_size(p->type);
  const char *a = (const char *)p->addr;
  Py_ssize_t first = a >= s.lo ? -Py_ssize_t(size_t(a - s.lo) / es) : 0;
  Py_ssize_t end = a <= s.hi ? Py_ssize_t(size_t(s.hi - a) / es) : 0;
  Py_ssize_t count = end - first;
  std::string text = "its memory (" + describe_memory(p->owns_memory ? (PyObject *)p : p->owner, s) + ", " +
                     std::to_string(s.hi - s.lo) + " bytes) holds ";
  if (count <= 0) return text + "no whole element of '" + p->type->target->str() + "'";
  text += std::to_string(count) + " element" + (count == 1 ? "" : "s") + " of '" + p->type->target->str() + "'";
  return text + ", indices " + std::to_string(first) + " to " + std::to_string(end - 1);
}

// Do `nbytes` at byte offset `off` from p's address lie in its known memory?
static bool in_bounds(PointerObject *p, Py_ssize_t off, size_t nbytes) {
  if (!p->span.bounded) return true;
  const char *a = (const char *)p->addr;
  Py_ssize_t lo = -(Py_ssize_t)(a - p->span.lo), hi = Py_ssize_t(p->span.hi - a);
  return off >= lo && off <= hi && nbytes <= size_t(hi - off);
}

// Address of element i, after checking that it can be read or written.
static char *element(PointerObject *p, Py_ssize_t i) {
  const CType *t = p->type->target;
  if (!p->addr) {
    PyErr_SetString(PyExc_ValueError, "cannot index a NULL pointer");
    return nullptr;
  }
  if (t->kind == Kind::Void || t->kind == Kind::Func || !t->is_complete()) {
    PyErr_Format(PyExc_TypeError, "cannot index a pointer to incomplete type '%s'", t->str().c_str());
    return nullptr;
  }
  Py_ssize_t off;
  size_t es = t->byte_size();
  if (__builtin_mul_overflow(i, Py_ssize_t(es), &off) || !in_bounds(p, off, es)) {
    if (!p->span.bounded) {
      PyErr_Format(PyExc_IndexError, "index %zd overflows the address space", i);
      return nullptr;
    }
    PyErr_Format(PyExc_IndexError, "index %zd out of range for pointer '%s': %s", i, p->type->str().c_str(),
                 bound_text(p).c_str());
    return nullptr;
  }
  return (char *)p->addr + off;
}

static PyObject *pointer_getitem(PyObject *self, Py_ssize_t i) {
  auto *p = (PointerObject *)self;
  char *e = element(p, i);
  // a view into this memory keeps what keeps the memory (the Pointer itself if it owns it)
  return e ? load_c(p->type->target, e, home_of(self), p->span) : nullptr;
}

// Why writing through p is refused, or nullptr if it is not.
static std::string read_only_reason(PointerObject *p) {
  if (p->type->target->is_const()) return "it is a pointer to const ('" + p->type->str() + "')";
  if (p->span.readonly) return "it points into read-only memory (" + describe_memory(p->owner, p->span) + ")";
  return "";
}

static int pointer_setitem(PyObject *self, Py_ssize_t i, PyObject *v) {
  auto *p = (PointerObject *)self;
  if (!v) {
    PyErr_SetString(PyExc_TypeError, "pointer elements cannot be deleted");
    return -1;
  }
  std::string ro = read_only_reason(p);
  if (!ro.empty()) {
    PyErr_Format(PyExc_TypeError, "cannot write through pointer '%s': %s", p->type->str().c_str(), ro.c_str());
    return -1;
  }
  char *e = element(p, i);
  if (!e) return -1;
  Where w{nullptr, -1, "pointer element"};
  w.home = home_of(self);
  return store_c(p->type->target, e, v, w) ? 0 : -1;
}

// p[i] with C's meaning of i: no wrapping of negative indices (the sequence protocol
// would add the length), so p[-1] is the element before p's address.
static PyObject *pointer_subscript(PyObject *self, PyObject *key) {
  // The commonest read first: an int or double element at an index that is an exact
  // small int, in bounds, of a pointer that is not NULL.
  auto *p = (PointerObject *)self;
  const CType *t = p->type->target;
  int64_t k;
  if (((t->kind == Kind::Int && t->size <= 8) || (t->kind == Kind::Float && t->size == 8)) && p->addr &&
      compact_int(key, &k) && in_bounds(p, Py_ssize_t(k) * Py_ssize_t(t->size), t->size)) {
    // load_c reads these kinds without looking at an owner
    return load_c(t, (const char *)p->addr + k * Py_ssize_t(t->size), nullptr, p->span);
  }
  // An exact int is read without the index protocol.
  if (PyLong_CheckExact(key)) {
    Py_ssize_t i = PyLong_AsSsize_t(key);
    if (i != -1 || !PyErr_Occurred()) return pointer_getitem(self, i);
    PyErr_Clear();  // too large: the general path raises IndexError
  }
  Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
  if (i == -1 && PyErr_Occurred()) return nullptr;
  return pointer_getitem(self, i);
}

static int pointer_ass_subscript(PyObject *self, PyObject *key, PyObject *v) {
  Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
  if (i == -1 && PyErr_Occurred()) return -1;
  return pointer_setitem(self, i, v);
}

// Elements from p's address to the end of its known memory; -1 if it is not known.
static Py_ssize_t known_length(PointerObject *p) {
  if (!p->span.bounded || !p->addr) return -1;
  const char *a = (const char *)p->addr;
  return a > p->span.hi ? 0 : Py_ssize_t(size_t(p->span.hi - a) / elem_size(p->type));
}

// Iteration only over memory of known length: iterating an unknown-length pointer would
// read past its end.
static PyObject *pointer_iter(PyObject *self) {
  auto *p = (PointerObject *)self;
  if (known_length(p) < 0) {
    PyErr_Format(PyExc_TypeError, "cannot iterate over pointer '%s' of unknown length (use as_array(n))",
                 p->type->str().c_str());
    return nullptr;
  }
  return PySeqIter_New(self);
}

static Py_ssize_t pointer_len(PyObject *self) {
  Py_ssize_t n = known_length((PointerObject *)self);
  if (n < 0) PyErr_SetString(PyExc_TypeError, "the length of this pointer's memory is not known");
  return n;
}

// p + i, i + p, p - i: the address i elements on, in the same memory (or one past its
// end, as in C); p - q: the elements between two pointers of one type.
static PyObject *pointer_offset(PyObject *ptr, PyObject *n, int sign) {
  auto *p = (PointerObject *)ptr;
  const CType *t = p->type->target;
  if (t->kind == Kind::Void || t->kind == Kind::Func || !t->is_complete()) {
    PyErr_Format(PyExc_TypeError, "no pointer arithmetic on '%s': its element size is unknown", p->type->str().c_str());
    return nullptr;
  }
  Py_ssize_t i = PyNumber_AsSsize_t(n, PyExc_OverflowError);
  if (i == -1 && PyErr_Occurred()) return nullptr;
  Py_ssize_t off;
  if (__builtin_mul_overflow(i, Py_ssize_t(t->byte_size()) * sign, &off) || !in_bounds(p, off, 0)) {
    PyErr_Format(PyExc_IndexError, "pointer '%s' %c %zd leaves its memory: %s", p->type->str().c_str(),
                 sign > 0 ? '+' : '-', i, p->span.bounded ? bound_text(p).c_str() : "address overflow");
    return nullptr;
  }
  if (!p->addr && i) {
    PyErr_SetString(PyExc_ValueError, "pointer arithmetic on a NULL pointer");
    return nullptr;
  }
  PyObject *r = make_pointer_in((char *)p->addr + off, p->type, home_of(ptr), p->span);
  return r;
}

static PyObject *pointer_add(PyObject *a, PyObject *b) {
  if (is_pointer(a) && PyIndex_Check(b)) return pointer_offset(a, b, 1);
  if (is_pointer(b) && PyIndex_Check(a)) return pointer_offset(b, a, 1);
  Py_RETURN_NOTIMPLEMENTED;
}

static PyObject *pointer_sub(PyObject *a, PyObject *b) {
  if (!is_pointer(a)) Py_RETURN_NOTIMPLEMENTED;
  if (PyIndex_Check(b)) return pointer_offset(a, b, -1);
  if (!is_pointer(b)) Py_RETURN_NOTIMPLEMENTED;
  auto *p = (PointerObject *)a, *q = (PointerObject *)b;
  const CType *t = p->type->target;
  if (TypeTable::get().unqualified(t) != TypeTable::get().unqualified(q->type->target) || t->kind == Kind::Void ||
      !t->is_complete()) {
    PyErr_Format(PyExc_TypeError, "cannot subtract pointer '%s' from pointer '%s'", q->type->str().c_str(),
                 p->type->str().c_str());
    return nullptr;
  }
  return PyLong_FromSsize_t(((const char *)p->addr - (const char *)q->addr) / Py_ssize_t(t->byte_size()));
}

static PyObject *pointer_string(PyObject *self, PyObject *args, PyObject *kw) {
  auto *p = (PointerObject *)self;
  static const char *names[] = {"length", nullptr};
  PyObject *length_obj = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:string", (char **)names, &length_obj)) return nullptr;
  Py_ssize_t length = -1;  // up to the NUL
  if (length_obj != Py_None) {
    length = PyNumber_AsSsize_t(length_obj, PyExc_OverflowError);
    if (length == -1 && PyErr_Occurred()) return nullptr;
    if (length < 0) {
      PyErr_Format(PyExc_ValueError, "string(): length must be >= 0 (or None: up to the NUL), got %zd", length);
      return nullptr;
    }
  }
  const CType *t = p->type->target;
  if (!(t->kind == Kind::Void || (t->kind == Kind::Int && t->size == 1))) {
    PyErr_Format(PyExc_TypeError, "string() needs a 'char *', got '%s'", p->type->str().c_str());
    return nullptr;
  }
  if (!p->addr) {
    PyErr_SetString(PyExc_ValueError, "string() of a NULL pointer");
    return nullptr;
  }
  Py_ssize_t avail = p->span.bounded ? Py_ssize_t(p->span.hi - (const char *)p->addr) : -1;
  if (length < 0) {
    if (t->kind == Kind::Void) {
      PyErr_SetString(PyExc_TypeError, "string() of a 'void *' needs a length");
      return nullptr;
    }
    length = Py_ssize_t(avail >= 0 ? strnlen((const char *)p->addr, size_t(avail)) : strlen((const char *)p->addr));
    if (length == avail) {  // C would read on past the memory: not a string of it
      PyErr_Format(PyExc_IndexError,
                   "string(): no NUL within the memory of pointer '%s' (%s); read it with string(%zd)",
                   p->type->str().c_str(), bound_text(p).c_str(), avail);
      return nullptr;
    }
  } else if (avail >= 0 && length > avail) {
    PyErr_Format(PyExc_IndexError, "string(): length %zd exceeds pointer '%s': %s", length, p->type->str().c_str(),
                 bound_text(p).c_str());
    return nullptr;
  }
  return PyBytes_FromStringAndSize((const char *)p->addr, length);
}

static PyObject *pointer_as_array(PyObject *self, PyObject *args, PyObject *kw) {
  auto *p = (PointerObject *)self;
  static const char *names[] = {"shape", "dtype", nullptr};
  PyObject *shape_obj, *dtype_obj = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:as_array", (char **)names, &shape_obj, &dtype_obj)) return nullptr;
  std::vector<npy_intp> dims;
  if (PyIndex_Check(shape_obj)) {
    dims.push_back(PyNumber_AsSsize_t(shape_obj, PyExc_OverflowError));
  } else {
    PyObject *seq = snapshot(shape_obj);  // an item's __index__ may change the list
    if (!seq) {
      if (PyErr_ExceptionMatches(PyExc_TypeError))
        PyErr_SetString(PyExc_TypeError, "as_array(): shape must be an int or a tuple of ints");
      return nullptr;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(seq) && !PyErr_Occurred(); i++)
      dims.push_back(PyNumber_AsSsize_t(PyTuple_GET_ITEM(seq, i), PyExc_OverflowError));
    Py_DECREF(seq);
  }
  if (PyErr_Occurred()) return nullptr;
  for (npy_intp d : dims)
    if (d < 0) {
      PyErr_SetString(PyExc_ValueError, "as_array(): negative dimension");
      return nullptr;
    }
  PyArray_Descr *descr = nullptr;
  if (dtype_obj != Py_None) {
    if (!PyArray_DescrConverter(dtype_obj, &descr)) return nullptr;
    if (!plain_data(descr)) {
      Py_DECREF(descr);
      PyErr_Format(PyExc_TypeError,
                   "as_array(): dtype %R holds Python objects (or pointers NumPy manages), which C "
                   "memory cannot hold; view it as plain data (numbers, bytes, records of them)",
                   dtype_obj);
      return nullptr;
    }
  } else {
    descr = dtype_of(p->type->target);
    if (!descr) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "as_array() of '%s' needs a dtype", p->type->str().c_str());
      return nullptr;
    }
  }
  // The bytes asked for, without overflow.
  npy_intp nbytes = PyDataType_ELSIZE(descr);
  bool overflow = false;
  for (npy_intp d : dims) overflow |= __builtin_mul_overflow(nbytes, d, &nbytes);
  if (overflow) {
    Py_DECREF(descr);
    if (p->span.bounded)
      PyErr_Format(PyExc_IndexError, "as_array(): the shape asks more bytes than pointer '%s' has: %s",
                   p->type->str().c_str(), bound_text(p).c_str());
    else PyErr_SetString(PyExc_ValueError, "as_array(): the shape's size overflows the address space");
    return nullptr;
  }
  if (!p->addr && nbytes > 0) {
    Py_DECREF(descr);
    PyErr_SetString(PyExc_ValueError, "as_array() of a NULL pointer");
    return nullptr;
  }
  if (p->addr && !in_bounds(p, 0, size_t(nbytes))) {
    Py_DECREF(descr);
    PyErr_Format(PyExc_IndexError, "as_array(): %zd bytes asked of pointer '%s': %s", Py_ssize_t(nbytes),
                 p->type->str().c_str(), bound_text(p).c_str());
    return nullptr;
  }
  int flags = NPY_ARRAY_CARRAY;
  if (p->type->target->is_const() || p->span.readonly) flags &= ~NPY_ARRAY_WRITEABLE;
  PyObject *arr =
      PyArray_NewFromDescr(&PyArray_Type, descr, int(dims.size()), dims.data(), nullptr, p->addr, flags, nullptr);
  if (!arr) return nullptr;
  Py_INCREF(self);  // the view keeps this pointer (and whatever owns its memory) alive
  if (PyArray_SetBaseObject((PyArrayObject *)arr, self) < 0) {
    Py_DECREF(arr);
    return nullptr;
  }
  return arr;
}

// Calling a pointer to a function: C's (*fp)(args), through a Function made on the first
// call with the pointer's declared signature (checked like any call) and kept.  The
// Function keeps what keeps the code (the library the pointer was read from) alive.
static PyObject *pointer_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  auto *p = (PointerObject *)self;
  const CType *ft = p->type->target;
  if (ft->kind != Kind::Func) {
    PyErr_Format(PyExc_TypeError,
                 "a Pointer '%s' is not a function pointer and cannot be called "
                 "(a pointer to a function type can: ndffi.cast(\"int (*)(int)\", p))",
                 p->type->str().c_str());
    return nullptr;
  }
  if (!p->addr) {
    PyErr_Format(PyExc_ValueError, "call through a NULL function pointer '%s'", p->type->str().c_str());
    return nullptr;
  }
  if (!p->call) {
    Decl d{Decl::Function, "(*fp)", ft, std::vector<std::string>(ft->params.size()), {}, {}};
    PyObject *f = make_function(d, p->addr, p->owner, /*release_gil=*/true, /*use_errno=*/false);
    if (!f) return nullptr;
    if (p->call) Py_DECREF(f);  // made meanwhile by a nested call
    else p->call = f;
  }
  return PyObject_Call(p->call, args, kwargs);
}

static PyObject *pointer_get_address(PyObject *self, void *) { return pointer_int(self); }
static PyObject *pointer_get_type(PyObject *self, void *) { return ctype_object(((PointerObject *)self)->type); }

static PyMethodDef pointer_methods[] = {
    {"string", (PyCFunction)(void (*)(void))pointer_string, METH_VARARGS | METH_KEYWORDS,
     "string(length=None) -> bytes: the C string at this address (up to its NUL, or length bytes; IndexError past the "
     "memory it points into)."},
    {"as_array", (PyCFunction)(void (*)(void))pointer_as_array, METH_VARARGS | METH_KEYWORDS,
     "as_array(shape, dtype=None) -> numpy.ndarray: a zero-copy view of the memory, typed by the "
     "pointee unless dtype is given. The view keeps this pointer alive; it does not keep C memory "
     "alive that C frees."},
    {nullptr}};

static PyGetSetDef pointer_getset[] = {{"address", pointer_get_address, nullptr, "the address as an int", nullptr},
                                       {"type", pointer_get_type, nullptr, "the C type (a CType)", nullptr},
                                       {nullptr}};

static PyNumberMethods pointer_as_number = [] {
  PyNumberMethods m{};
  m.nb_bool = pointer_bool;
  m.nb_int = pointer_int;
  m.nb_add = pointer_add;
  m.nb_subtract = pointer_sub;
  return m;
}();

static PySequenceMethods pointer_as_sequence = [] {
  PySequenceMethods m{};
  m.sq_length = pointer_len;
  m.sq_item = pointer_getitem;
  m.sq_ass_item = pointer_setitem;
  return m;
}();

static PyMappingMethods pointer_as_mapping = [] {
  PyMappingMethods m{};
  m.mp_subscript = pointer_subscript;
  m.mp_ass_subscript = pointer_ass_subscript;
  return m;
}();

PyTypeObject PointerType = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "ndffi.Pointer";
  t.tp_basicsize = sizeof(PointerObject);
  t.tp_dealloc = pointer_dealloc;
  t.tp_repr = pointer_repr;
  t.tp_hash = pointer_hash;
  t.tp_richcompare = pointer_richcompare;
  t.tp_as_number = &pointer_as_number;
  t.tp_as_sequence = &pointer_as_sequence;
  t.tp_as_mapping = &pointer_as_mapping;
  t.tp_iter = pointer_iter;
  t.tp_call = pointer_call;
  t.tp_methods = pointer_methods;
  t.tp_getset = pointer_getset;
  t.tp_traverse = pointer_traverse;
  t.tp_clear = pointer_clear;
  t.tp_weaklistoffset = offsetof(PointerObject, weakrefs);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
  t.tp_doc =
      "A typed C address. p[i] reads and p[i] = v writes element i of the pointee type; "
      "NULL is falsy.";
  return t;
}();

// ---- Value ----------------------------------------------------------------------

static void value_dealloc(PyObject *self) {
  Py_XDECREF(((ValueObject *)self)->value);
  PyObject_Free(self);
}

static PyObject *value_repr(PyObject *self) {
  auto *v = (ValueObject *)self;
  return PyUnicode_FromFormat("<ndffi.Value '%s' %R>", v->type->str().c_str(), v->value);
}

static PyObject *value_int(PyObject *self) { return PyNumber_Long(((ValueObject *)self)->value); }
static PyObject *value_float(PyObject *self) { return PyNumber_Float(((ValueObject *)self)->value); }
static PyObject *value_index(PyObject *self) {
  PyObject *v = ((ValueObject *)self)->value;
  if (!PyLong_Check(v)) {
    PyErr_SetString(PyExc_TypeError, "a floating-point Value is not an integer");
    return nullptr;
  }
  Py_INCREF(v);
  return v;
}

static PyObject *value_richcompare(PyObject *a, PyObject *b, int op) {
  PyObject *x = is_value(a) ? ((ValueObject *)a)->value : a;
  PyObject *y = is_value(b) ? ((ValueObject *)b)->value : b;
  return PyObject_RichCompare(x, y, op);
}

static PyObject *value_get_value(PyObject *self, void *) {
  PyObject *v = ((ValueObject *)self)->value;
  Py_INCREF(v);
  return v;
}
static PyObject *value_get_type(PyObject *self, void *) { return ctype_object(((ValueObject *)self)->type); }

static PyGetSetDef value_getset[] = {{"value", value_get_value, nullptr, "the Python value", nullptr},
                                     {"type", value_get_type, nullptr, "the C type", nullptr},
                                     {nullptr}};

static PyNumberMethods value_as_number = [] {
  PyNumberMethods m{};
  m.nb_int = value_int;
  m.nb_float = value_float;
  m.nb_index = value_index;
  return m;
}();

PyTypeObject ValueType = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "ndffi.Value";
  t.tp_basicsize = sizeof(ValueObject);
  t.tp_dealloc = value_dealloc;
  t.tp_repr = value_repr;
  t.tp_richcompare = value_richcompare;
  t.tp_as_number = &value_as_number;
  t.tp_getset = value_getset;
  t.tp_flags = Py_TPFLAGS_DEFAULT;
  t.tp_doc = "A C scalar of an explicit type, made by ndffi.cast (for variadic arguments).";
  return t;
}();

}  // namespace ndffi::py
