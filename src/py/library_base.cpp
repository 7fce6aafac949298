// ndffi._ndffi.LibraryBase, the base of ndffi.Library: attribute lookup that, when the
// usual lookup finds nothing, asks the library's _resolve(name) without an
// AttributeError made and discarded first (a Python __getattr__ costs one exception per
// first use of every declared name, a third of declaring and calling a new function).
#include "common.h"

namespace ndffi::py {

// The usual lookup (type descriptors, then the instance dict), or nullptr without an
// exception when it finds nothing.
static PyObject *generic_lookup(PyObject *self, PyObject *name) {
#if PY_VERSION_HEX < 0x030E0000
  return _PyObject_GenericGetAttrWithDict(self, name, nullptr, 1);
#else
  PyObject *r = PyObject_GenericGetAttr(self, name);
  if (!r && PyErr_ExceptionMatches(PyExc_AttributeError)) PyErr_Clear();
  return r;
#endif
}

// "__x__": a name Python's protocols probe for (copy, pickle, NumPy), never a C name.
static bool is_dunder(PyObject *name) {
  Py_ssize_t n = PyUnicode_GET_LENGTH(name);
  int kind = PyUnicode_KIND(name);
  const void *s = PyUnicode_DATA(name);
  auto at = [&](Py_ssize_t i) { return PyUnicode_READ(kind, s, i) == '_'; };
  return n >= 4 && at(0) && at(1) && at(n - 2) && at(n - 1);
}

static PyObject *library_getattro(PyObject *self, PyObject *name) {
  PyObject *r = generic_lookup(self, name);
  if (r || PyErr_Occurred()) return r;
  if (!PyUnicode_Check(name) || is_dunder(name)) {
    PyErr_SetObject(PyExc_AttributeError, name);
    return nullptr;
  }
  static PyObject *resolve = PyUnicode_InternFromString("_resolve");
  if (!resolve) return nullptr;
  PyObject *args[] = {self, name};
#if PY_VERSION_HEX < 0x030E0000
  // The class's _resolve called as the plain function it is: a method lookup through
  // this very getattro would make (and drop) a bound method on every miss.
  PyObject *func = _PyType_Lookup(Py_TYPE(self), resolve);  // borrowed: held for the call
  if (func && PyFunction_Check(func)) {
    Py_INCREF(func);
    PyObject *resolved = PyObject_Vectorcall(func, args, 2, nullptr);
    Py_DECREF(func);
    return resolved;
  }
#endif
  return PyObject_VectorcallMethod(resolve, args, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
}

PyTypeObject LibraryBaseType = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "ndffi._ndffi.LibraryBase";
  t.tp_basicsize = sizeof(PyObject);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
  t.tp_doc = "The base of ndffi.Library: a name the usual lookup does not find is given to _resolve(name).";
  t.tp_getattro = library_getattro;
  t.tp_new = PyType_GenericNew;
  return t;
}();

}  // namespace ndffi::py
