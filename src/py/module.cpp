// The _ndffi extension module: its set-up (NumPy's C API, the types, the exception,
// the constants) and the registration of each part of the binding.
#define NDFFI_IMPORT_ARRAY
#include <cstring>

#include <nanobind/nanobind.h>

#include "callback.h"
#include "common.h"
#include "nd_limits.h"

namespace nb = nanobind;

namespace ndffi::py {

int register_ufunc(PyObject *module);     // ufunc_make.cpp
void register_layout(nb::module_ &m);     // layout.cpp
void register_ctype(nb::module_ &m);      // ctype_obj.cpp
void register_namespace(nb::module_ &m);  // namespace_obj.cpp
PyObject *CDefErrorType = nullptr;
int get_saved_errno();
void set_saved_errno(int v);

}  // namespace ndffi::py

using namespace ndffi;
using namespace ndffi::py;

NB_MODULE(_ndffi, m) {
  if (_import_array() < 0) throw nb::python_error();
  // Namespaces and library handles may live until the interpreter's end (module-level
  // caches); that is not a leak, and leaks are measured by the suite, not at exit.
  nb::set_leak_warnings(false);
  for (PyTypeObject *t : {&PointerType, &ValueType, &FunctionType, &RecordType, &CallbackType, &LibraryBaseType}) {
    if (PyType_Ready(t) < 0) throw nb::python_error();
    Py_INCREF(t);
    const char *dot = strrchr(t->tp_name, '.');
    m.attr(dot + 1) = nb::handle((PyObject *)t);
  }
  install_face();         // declared functions are builtin functions (function_face.cpp)
  init_callback_entry();  // the small ints callback arguments are taken from
  // ndffi.Error, the base of ndffi's own exceptions (the Python ones too: ndffi/errors.py).
  PyObject *error = PyErr_NewExceptionWithDoc("ndffi.Error",
                                              "The base of ndffi's own exceptions: BuildError, HeaderError, "
                                              "LibraryNotFound, CDefError, StatusError.",
                                              nullptr, nullptr);
  if (!error) throw nb::python_error();
  m.attr("Error") = nb::steal(error);
  PyObject *bases = PyTuple_Pack(2, error, PyExc_ValueError);
  if (!bases) throw nb::python_error();
  CDefErrorType = PyErr_NewExceptionWithDoc(
      "ndffi.CDefError",
      "A C declaration could not be parsed; .line, .column and .text say where.  For a "
      "redeclaration that conflicts with an earlier one, .previous is (line, column, cdef call) "
      "of the earlier one (the library's cdef calls count from 1), else None.",
      bases, nullptr);
  Py_DECREF(bases);
  if (!CDefErrorType) throw nb::python_error();
  m.attr("CDefError") = nb::handle(CDefErrorType);
  // How deeply declarations may nest and types may be (nd_limits.h).
  m.attr("MAX_NESTING") = kMaxNesting;
  m.attr("MAX_TYPE_DEPTH") = kMaxTypeDepth;
  register_ctype(m);
  register_namespace(m);

  m.attr("_closure_quarantine") = kQuarantine;  // closures given back before one is reused
  m.def(
      "_register_function_pointer_source",
      [](nb::handle cls, nb::handle conv) {
        if (register_funcptr_source(cls.ptr(), conv.ptr()) < 0) throw nb::python_error();
      },
      "Accept instances of cls for function-pointer parameters: conv(obj, ctype) returns the "
      "address to pass, or a str saying why obj does not fit (ndffi.numba_support uses it).");
  m.def(
      "_closure_stats",
      [] {
        ClosureStats s = closure_stats();
        return nb::make_tuple(s.created_direct, s.created_ffi, s.reused, s.released, s.recycled);
      },
      "(direct, libffi, reused, released, recycled) closure counts, for tests.");
  // NDFFI_FORCE_LIBFFI as the core read it (see nd_ccall.h).
  m.attr("FORCE_LIBFFI") = force_libffi();

  if (register_ufunc(m.ptr()) < 0) throw nb::python_error();
  register_layout(m);
  m.def("errno", &get_saved_errno,
        "The errno saved after the last call (of a library loaded "
        "with use_errno=True) in this thread.");
  m.def("set_errno", &set_saved_errno, "Set the errno the next call in this thread starts with.");
}
