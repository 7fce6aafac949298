// ndffi.new and ndffi.cast: what they accept, check and produce.  Who then owns the
// memory, and what it keeps alive, is memory.cpp's.
#include <cstring>

#include "callback.h"
#include "new_cast.h"

namespace nb = nanobind;

namespace ndffi::py {

// ---- new and cast -------------------------------------------------------------------

nb::object new_memory(const Scope &scope, const std::string &text, nb::handle init) {
  const CType *t = parse_or_raise(scope, text);
  const CType *elem;
  Py_ssize_t n = 1;
  if (t->kind == Kind::Pointer) {
    elem = t->target;
  } else if (t->kind == Kind::Array) {
    elem = t->target;
    if (t->length != CType::kUnknownLength) {
      n = Py_ssize_t(t->length);
    } else if (PyLong_Check(init.ptr())) {
      n = PyLong_AsSsize_t(init.ptr());
      if (n < 0) throw nb::value_error("new(): the array length must be >= 0");
      init = nb::none();
    } else if (init.is_valid() && !init.is_none() && PySequence_Check(init.ptr())) {
      n = PySequence_Size(init.ptr()) + (PyBytes_Check(init.ptr()) ? 1 : 0);
    } else {
      throw nb::type_error(("new('" + text + "') needs a length or an initializer").c_str());
    }
  } else {
    throw nb::type_error(
        ("new() takes a pointer or array type such as 'int *' or 'double[16]', got '" + text + "'").c_str());
  }
  if (elem->kind == Kind::Void || elem->kind == Kind::Func || !elem->is_complete())
    throw nb::type_error(("new(): '" + elem->str() + "' is incomplete; its size is unknown").c_str());
  size_t size = elem->byte_size();
  if (size && size_t(n) > size_t(PY_SSIZE_T_MAX) / size)
    throw nb::value_error(("new('" + text + "'): " + std::to_string(n) + " elements of " + std::to_string(size) +
                           " bytes overflow the address space")
                              .c_str());
  void *mem = alloc_aligned(n ? size_t(n) * size : size, elem->alignment());
  if (!mem) throw std::bad_alloc();
  const CType *ptype = TypeTable::get().pointer(elem);
  nb::object p = nb::steal(make_pointer(mem, ptype, nullptr, n));
  if (!p.is_valid()) {
    free_aligned(mem);
    throw nb::python_error();
  }
  ((PointerObject *)p.ptr())->owns_memory = true;
  if (!init.is_valid() || init.is_none()) return p;
  bool is_char = elem->kind == Kind::Int && elem->size == 1;
  if (is_char && PyBytes_Check(init.ptr())) {
    Py_ssize_t len = PyBytes_GET_SIZE(init.ptr());
    if (len > n) throw nb::index_error("new(): the initializer is longer than the array");
    memcpy(mem, PyBytes_AS_STRING(init.ptr()), size_t(len));
    return p;
  }
  Where w{nullptr, -1, "new() initializer"};
  w.home = p.ptr();  // the new memory keeps what the pointers stored into it point to
  if (t->kind == Kind::Array && (PyBytes_Check(init.ptr()) || PyByteArray_Check(init.ptr())) && !is_char)
    throw nb::type_error(("new() initializer: expected a list of values for '" + t->str() + "', got " +
                          Py_TYPE(init.ptr())->tp_name + " (bytes initialize arrays of 1-byte integers)")
                             .c_str());
  if (t->kind == Kind::Array && PySequence_Check(init.ptr()) && !PyUnicode_Check(init.ptr())) {
    // A snapshot: an item's __index__ may change the list.
    nb::object items = nb::steal(snapshot(init.ptr()));
    if (!items.is_valid()) throw nb::python_error();
    Py_ssize_t len = PyTuple_GET_SIZE(items.ptr());
    if (len > n)
      throw nb::index_error(
          ("new(): " + std::to_string(len) + " initializers for " + std::to_string(n) + " elements").c_str());
    for (Py_ssize_t i = 0; i < len; i++)
      if (!store_c(elem, (char *)mem + size_t(i) * size, PyTuple_GET_ITEM(items.ptr(), i), w)) throw nb::python_error();
    return p;
  }
  if (!store_c(elem, mem, init.ptr(), w)) throw nb::python_error();
  return p;
}

// A Callback or a C function as a pointer to a function of its type (checked as a
// function-pointer argument is) or as 'void *'; the Pointer keeps the object alive.
static nb::object cast_function(const CType *t, const std::string &text, PyObject *o) {
  Where w{nullptr, -1, "cast()"};
  alignas(8) unsigned char bits[8] = {0};
  if (t->target->kind == Kind::Func) {
    Holds holds;
    if (funcptr_from_python(arg_spec(t), o, bits, holds, w) != 1) throw nb::python_error();
  } else if (t->target->kind == Kind::Void) {
    if (FunctionObject *f = as_function(o)) {
      memcpy(bits, &f->plan->fn, 8);
    } else {
      auto *cb = (CallbackObject *)o;
      if (cb->released) throw nb::value_error("cast(): the callback was released; C must not call it any more");
      memcpy(bits, &cb->closure->code, 8);
    }
  } else {
    throw nb::type_error(("cast('" + text + "', ...): a " + describe(o) +
                          " is code, castable to a "
                          "function pointer type or 'void *'")
                             .c_str());
  }
  void *addr;
  memcpy(&addr, bits, 8);
  // code, not data: nothing to index or write through it
  return nb::steal(make_pointer_in(addr, t, o, Span{(char *)addr, (char *)addr, true, true}));
}

// cast() to a pointer type.  A Pointer made from an object of known memory keeps the
// object (a buffer through an export of it, which it then cannot resize or close), its
// bound and its read-only-ness; an int is a raw address, unbounded.
static PyObject *cast_pointer(const CType *t, const std::string &text, PyObject *o) {
  if (o == Py_None) return make_pointer(nullptr, t, nullptr);
  if (PyLong_Check(o)) {
    void *addr = PyLong_AsVoidPtr(o);
    if (!addr && PyErr_Occurred()) return nullptr;
    return make_pointer(addr, t, nullptr);
  }
  if (PyArray_IsScalar(o, Generic) || (PyArray_Check(o) && PyArray_NDIM((PyArrayObject *)o) == 0)) {
    PyErr_Format(PyExc_TypeError,
                 "cast('%s', ...): expected an int address, a Pointer, an array or None, got %s: a "
                 "number is not a pointer; pass np.array([x]) for a pointer to one value (int(x) "
                 "for an address)",
                 text.c_str(), describe(o).c_str());
    return nullptr;
  }
  if (is_pointer(o) && ((PointerObject *)o)->type->target->kind == Kind::Func) {
    auto *p = (PointerObject *)o;  // code, not data: nothing to index or write
    return make_pointer_in(p->addr, t, home_of(o), Span{(char *)p->addr, (char *)p->addr, true, true});
  }
  if (is_callback(o) || as_function(o)) return cast_function(t, text, o).release().ptr();
  std::string where = "cast('" + text + "', ...)";
  nb::object view;  // an array by protocol, as a NumPy view of its memory
  if (!is_pointer(o) && !is_record(o) && !PyArray_Check(o) && !PyObject_CheckBuffer(o)) {
    view = nb::steal((PyObject *)as_array_view(o));
    if (!view.is_valid()) {
      if (PyErr_Occurred()) return protocol_failed(where, o), nullptr;
      const char *hint = PyCallable_Check(o) ? " (a Python function is not C code: make it one with "
                                               "ndffi.callback(\"sig\", f) and cast that)"
                                             : "";
      PyErr_Format(PyExc_TypeError,
                   "%s: expected an int address, a Pointer, an array, a Callback or "
                   "None, got %s%s",
                   where.c_str(), describe(o).c_str(), hint);
      return nullptr;
    }
    o = view.ptr();
  }
  PyObject *owner;
  Span span;
  if (!memory_of(o, &owner, &span) && PyErr_ExceptionMatches(PyExc_BufferError) && !PyArray_Check(o)) {
    // A strided buffer (memoryview(b)[::2]) has no simple buffer: as a NumPy view of it,
    // its Pointer is a strided array's, which C indexes with the strides it is told.
    PyErr_Clear();
    view = nb::steal(PyArray_FromAny(o, nullptr, 0, 0, 0, nullptr));
    if (view.is_valid()) o = view.ptr();
    if (!view.is_valid() || !memory_of(o, &owner, &span)) return name_failure(where), nullptr;
  } else if (PyErr_Occurred()) {
    return name_failure(where), nullptr;
  }
  void *addr = is_pointer(o)      ? ((PointerObject *)o)->addr
               : is_record(o)     ? (void *)((RecordObject *)o)->data
               : PyArray_Check(o) ? PyArray_DATA((PyArrayObject *)o)
                                  : span.lo;
  PyObject *r = make_pointer_in(addr, t, owner, span);
  Py_DECREF(owner);
  return r;
}

nb::object cast_value(const Scope &scope, const std::string &text, nb::handle v) {
  const CType *t = parse_or_raise(scope, text);
  PyObject *o = v.ptr();
  if (is_value(o)) o = ((ValueObject *)o)->value;
  if (t->kind == Kind::Pointer) return nb::steal(cast_pointer(t, text, o));
  if (!t->is_arith()) throw nb::type_error(("cast(): cannot cast to '" + text + "'").c_str());
  auto *val = PyObject_New(ValueObject, &ValueType);
  if (!val) throw nb::python_error();
  val->type = t;
  val->value = nullptr;
  nb::object result = nb::steal((PyObject *)val);
  if (t->kind == Kind::Float) {
    // Out of the type's range is an OverflowError; a long double keeps all its digits.
    Where w{nullptr, -1, "cast()"};
    long double v;
    alignas(16) unsigned char bits[16] = {0};
    if (!real_value(o, &v, t->size > 8, "'" + text + "'", w) || !store_real(v, unsigned(t->size), bits, w))
      throw nb::python_error();
    if (t->size == 4) {
      float f;
      memcpy(&f, bits, 4);
      val->value = PyFloat_FromDouble(f);
    } else if (t->size == 8) {
      double d;
      memcpy(&d, bits, 8);
      val->value = PyFloat_FromDouble(d);
    } else {
      val->value = longdouble_object(v);
    }
  } else {
    // C semantics: the value modulo 2**bits, reinterpreted as the target's signedness.
    PyObject *n = is_pointer(o) ? PyLong_FromVoidPtr(((PointerObject *)o)->addr) : PyNumber_Index(o);
    if (!n) throw nb::python_error();
    unsigned long long bits = PyLong_AsUnsignedLongLongMask(n);
    Py_DECREF(n);
    if (bits == (unsigned long long)-1 && PyErr_Occurred()) throw nb::python_error();
    ArgSpec a;
    try {
      a = arg_spec(t);  // an incomplete enum has no integer type to convert to
    } catch (const UnsupportedType &e) { throw nb::type_error(("cast(): " + std::string(e.what())).c_str()); }
    val->value = a.conv == Conv::Bool   ? PyBool_FromLong(bits != 0)
                 : a.conv == Conv::SInt ? PyLong_FromLongLong(extend_signed(bits, a.size))
                                        : PyLong_FromUnsignedLongLong(extend_unsigned(bits, a.size));
  }
  if (!val->value) throw nb::python_error();
  return result;
}

}  // namespace ndffi::py
