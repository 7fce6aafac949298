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

// The class's own attribute `name` (what it or a base defines; never the instance's),
// as a new reference, or nullptr without an exception.
static PyObject *class_attribute(PyTypeObject *type, PyObject *name) {
#if PY_VERSION_HEX < 0x030E0000
  return Py_XNewRef(_PyType_Lookup(type, name));
#else
  PyObject *mro = type->tp_mro;
  for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro); i++) {
    PyObject *dict = PyType_GetDict((PyTypeObject *)PyTuple_GET_ITEM(mro, i));
    PyObject *found = nullptr;
    int r = dict ? PyDict_GetItemRef(dict, name, &found) : 0;
    Py_XDECREF(dict);
    if (r < 0) PyErr_Clear();
    if (r > 0) return found;
  }
  return nullptr;
#endif
}

static PyObject *library_getattro(PyObject *self, PyObject *name) {
  PyObject *r = generic_lookup(self, name);
  if (r || PyErr_Occurred()) return r;
  // "__x__", and a name no C identifier can be (not UTF-8: a lone surrogate)
  if (!PyUnicode_Check(name) || is_dunder(name) || !PyUnicode_AsUTF8AndSize(name, nullptr)) {
    PyErr_Clear();
    PyErr_SetObject(PyExc_AttributeError, name);
    return nullptr;
  }
  static PyObject *resolve = PyUnicode_InternFromString("_resolve");
  if (!resolve) return nullptr;
  // The class's _resolve, found on the class: looking it up through this very getattro
  // would make (and drop) a bound method on every miss, and recurse without end where
  // the class has none.  It is held for the call (the class could drop it meanwhile).
  PyObject *func = class_attribute(Py_TYPE(self), resolve);
  if (!func) {
    PyErr_SetObject(PyExc_AttributeError, name);
    return nullptr;
  }
  if (PyFunction_Check(func)) {  // the plain function it is: no bound method made
    PyObject *args[] = {self, name};
    r = PyObject_Vectorcall(func, args, 2, nullptr);
  } else {  // a staticmethod, a property, a callable object: as a method lookup binds it
    descrgetfunc get = Py_TYPE(func)->tp_descr_get;
    PyObject *bound = get ? get(func, self, (PyObject *)Py_TYPE(self)) : Py_NewRef(func);
    r = bound ? PyObject_CallOneArg(bound, name) : nullptr;
    Py_XDECREF(bound);
  }
  Py_DECREF(func);
  return r;
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
