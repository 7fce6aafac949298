// ndffi.Pointer: a typed C address, indexable like C; and the Value of ndffi.cast.
#include <algorithm>
#include <cstring>

#include "common.h"

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

PyObject *make_pointer(void *addr, const CType *ptype, PyObject *owner, Py_ssize_t length) {
  auto *p = PyObject_New(PointerObject, &PointerType);
  if (!p) return nullptr;
  p->addr = addr;
  p->type = ptype;
  p->owner = owner;
  Py_XINCREF(owner);
  p->length = length;
  p->owns_memory = false;
  p->call = nullptr;
  return (PyObject *)p;
}

static void pointer_dealloc(PyObject *self) {
  auto *p = (PointerObject *)self;
  Py_XDECREF(p->call);
  Py_XDECREF(p->owner);
  if (p->owns_memory) free_aligned(p->addr);
  PyObject_Free(self);
}

static PyObject *pointer_repr(PyObject *self) {
  auto *p = (PointerObject *)self;
  if (!p->addr) return PyUnicode_FromFormat("<ndffi.Pointer '%s' NULL>", p->type->str().c_str());
  return PyUnicode_FromFormat("<ndffi.Pointer '%s' %p>", p->type->str().c_str(), p->addr);
}

static int pointer_bool(PyObject *self) { return ((PointerObject *)self)->addr != nullptr; }

static PyObject *pointer_int(PyObject *self) {
  return PyLong_FromVoidPtr(((PointerObject *)self)->addr);
}

static Py_hash_t pointer_hash(PyObject *self) {
  Py_hash_t h = Py_hash_t(uintptr_t(((PointerObject *)self)->addr) >> 3);
  return h == -1 ? -2 : h;
}

static PyObject *pointer_richcompare(PyObject *a, PyObject *b, int op) {
  if (!is_pointer(b) || (op != Py_EQ && op != Py_NE)) Py_RETURN_NOTIMPLEMENTED;
  bool eq = ((PointerObject *)a)->addr == ((PointerObject *)b)->addr;
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
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
  if (p->length >= 0 && (i < 0 || i >= p->length)) {
    PyErr_Format(PyExc_IndexError, "index %zd out of range for a pointer to %zd element%s", i,
                 p->length, p->length == 1 ? "" : "s");
    return nullptr;
  }
  return (char *)p->addr + i * Py_ssize_t(t->byte_size());
}

static PyObject *pointer_getitem(PyObject *self, Py_ssize_t i) {
  auto *p = (PointerObject *)self;
  char *e = element(p, i);
  // a view into memory this Pointer owns must keep the Pointer alive
  return e ? load_c(p->type->target, e, p->owns_memory ? self : p->owner) : nullptr;
}

static int pointer_setitem(PyObject *self, Py_ssize_t i, PyObject *v) {
  auto *p = (PointerObject *)self;
  if (!v) {
    PyErr_SetString(PyExc_TypeError, "pointer elements cannot be deleted");
    return -1;
  }
  if (p->type->target->is_const()) {
    PyErr_Format(PyExc_TypeError, "cannot assign through a pointer to const ('%s')", p->type->str().c_str());
    return -1;
  }
  char *e = element(p, i);
  if (!e) return -1;
  Where w{nullptr, -1, "pointer element"};
  return store_c(p->type->target, e, v, w) ? 0 : -1;
}

// p[i] with C's meaning of i: no wrapping of negative indices (the sequence protocol
// would add the length), so p[-1] of known-length memory is an IndexError.
static PyObject *pointer_subscript(PyObject *self, PyObject *key) {
  Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
  if (i == -1 && PyErr_Occurred()) return nullptr;
  return pointer_getitem(self, i);
}

static int pointer_ass_subscript(PyObject *self, PyObject *key, PyObject *v) {
  Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
  if (i == -1 && PyErr_Occurred()) return -1;
  return pointer_setitem(self, i, v);
}

// Iteration only over memory of known length: iterating an unknown-length pointer would
// read past its end.
static PyObject *pointer_iter(PyObject *self) {
  auto *p = (PointerObject *)self;
  if (p->length < 0 || !p->addr) {
    PyErr_Format(PyExc_TypeError, "cannot iterate over pointer '%s' of unknown length (use as_array(n))",
                 p->type->str().c_str());
    return nullptr;
  }
  return PySeqIter_New(self);
}

static Py_ssize_t pointer_len(PyObject *self) {
  auto *p = (PointerObject *)self;
  if (p->length < 0) {
    PyErr_SetString(PyExc_TypeError, "the length of this pointer's memory is not known");
    return -1;
  }
  return p->length;
}

static PyObject *pointer_string(PyObject *self, PyObject *args, PyObject *kw) {
  auto *p = (PointerObject *)self;
  static const char *names[] = {"length", nullptr};
  Py_ssize_t length = -1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|n:string", (char **)names, &length)) return nullptr;
  const CType *t = p->type->target;
  if (!(t->kind == Kind::Void || (t->kind == Kind::Int && t->size == 1))) {
    PyErr_Format(PyExc_TypeError, "string() needs a 'char *', got '%s'", p->type->str().c_str());
    return nullptr;
  }
  if (!p->addr) {
    PyErr_SetString(PyExc_ValueError, "string() of a NULL pointer");
    return nullptr;
  }
  if (length < 0) {
    if (t->kind == Kind::Void) {
      PyErr_SetString(PyExc_TypeError, "string() of a 'void *' needs a length");
      return nullptr;
    }
    length = Py_ssize_t(p->length >= 0 ? strnlen((const char *)p->addr, size_t(p->length))
                                       : strlen((const char *)p->addr));
  } else if (p->length >= 0 && length > p->length) {
    PyErr_Format(PyExc_IndexError, "length %zd exceeds the pointer's %zd bytes", length, p->length);
    return nullptr;
  }
  return PyBytes_FromStringAndSize((const char *)p->addr, length);
}

static PyObject *pointer_as_array(PyObject *self, PyObject *args, PyObject *kw) {
  auto *p = (PointerObject *)self;
  static const char *names[] = {"shape", "dtype", nullptr};
  PyObject *shape_obj, *dtype_obj = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:as_array", (char **)names, &shape_obj, &dtype_obj))
    return nullptr;
  std::vector<npy_intp> dims;
  if (PyIndex_Check(shape_obj)) {
    dims.push_back(PyNumber_AsSsize_t(shape_obj, PyExc_OverflowError));
  } else {
    PyObject *seq = snapshot(shape_obj);   // an item's __index__ may change the list
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
  npy_intp count = 1;
  for (npy_intp d : dims) {
    if (d < 0) {
      PyErr_SetString(PyExc_ValueError, "as_array(): negative dimension");
      return nullptr;
    }
    count *= d;
  }
  PyArray_Descr *descr = nullptr;
  if (dtype_obj != Py_None) {
    if (!PyArray_DescrConverter(dtype_obj, &descr)) return nullptr;
  } else {
    descr = dtype_of(p->type->target);
    if (!descr) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "as_array() of '%s' needs a dtype", p->type->str().c_str());
      return nullptr;
    }
  }
  npy_intp nbytes = count * PyDataType_ELSIZE(descr);
  if (!p->addr && count > 0) {
    Py_DECREF(descr);
    PyErr_SetString(PyExc_ValueError, "as_array() of a NULL pointer");
    return nullptr;
  }
  if (p->length >= 0) {
    size_t es = p->type->target->byte_size();
    npy_intp avail = p->length * npy_intp(es ? es : 1);
    if (nbytes > avail) {
      Py_DECREF(descr);
      PyErr_Format(PyExc_ValueError, "as_array(): %zd bytes requested, the pointer has %zd",
                   Py_ssize_t(nbytes), Py_ssize_t(avail));
      return nullptr;
    }
  }
  int flags = NPY_ARRAY_CARRAY;
  if (p->type->target->is_const()) flags &= ~NPY_ARRAY_WRITEABLE;
  PyObject *arr = PyArray_NewFromDescr(&PyArray_Type, descr, int(dims.size()), dims.data(), nullptr,
                                       p->addr, flags, nullptr);
  if (!arr) return nullptr;
  Py_INCREF(self);   // the view keeps this pointer (and whatever owns its memory) alive
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
    PyErr_Format(PyExc_TypeError, "a Pointer '%s' is not a function pointer and cannot be called "
                 "(a pointer to a function type can: ndffi.cast(\"int (*)(int)\", p))", p->type->str().c_str());
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
    if (p->call) Py_DECREF(f);   // made meanwhile by a nested call
    else p->call = f;
  }
  return PyObject_Call(p->call, args, kwargs);
}

static PyObject *pointer_get_address(PyObject *self, void *) { return pointer_int(self); }
static PyObject *pointer_get_type(PyObject *self, void *) {
  return ctype_object(((PointerObject *)self)->type);
}

static PyMethodDef pointer_methods[] = {
    {"string", (PyCFunction)(void (*)(void))pointer_string, METH_VARARGS | METH_KEYWORDS,
     "string(length=None) -> bytes: the C string at this address (up to its NUL, or length bytes)."},
    {"as_array", (PyCFunction)(void (*)(void))pointer_as_array, METH_VARARGS | METH_KEYWORDS,
     "as_array(shape, dtype=None) -> numpy.ndarray: a zero-copy view of the memory, typed by the "
     "pointee unless dtype is given. The view keeps this pointer alive; it does not keep C memory "
     "alive that C frees."},
    {nullptr}};

static PyGetSetDef pointer_getset[] = {
    {"address", pointer_get_address, nullptr, "the address as an int", nullptr},
    {"type", pointer_get_type, nullptr, "the C type (a CType)", nullptr},
    {nullptr}};

static PyNumberMethods pointer_as_number = [] {
  PyNumberMethods m{};
  m.nb_bool = pointer_bool;
  m.nb_int = pointer_int;
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
  t.tp_flags = Py_TPFLAGS_DEFAULT;
  t.tp_doc = "A typed C address. p[i] reads and p[i] = v writes element i of the pointee type; "
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

static PyGetSetDef value_getset[] = {
    {"value", value_get_value, nullptr, "the Python value", nullptr},
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
