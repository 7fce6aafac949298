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

static PyObject *library_getattro(PyObject *self, PyObject *name) {
  PyObject *r = generic_lookup(self, name);
  if (r || PyErr_Occurred()) return r;
  static PyObject *resolve = PyUnicode_InternFromString("_resolve");
  if (!resolve) return nullptr;
  PyObject *args[] = {self, name};
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
