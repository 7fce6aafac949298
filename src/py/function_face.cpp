// The face of a declared function: what `lib.name` returns is an exact builtin function
// object (PyCFunctionObject) over the function's own PyMethodDef (METH_FASTCALL |
// METH_KEYWORDS), whose `self` is its ndffi.Function.
//
// Why: CPython specialises a call only of an object whose type is exactly
// builtin_function_or_method (PRECALL_BUILTIN_FAST_WITH_KEYWORDS in 3.11, CALL_BUILTIN_*
// later): measured under callgrind, a call of `void noop(void)` costs 121 instructions
// that way and 213 through a vectorcall object of its own type, whatever its vectorcall
// does.  A subclass of builtin_function_or_method is not specialised either, so the face
// must be the builtin type itself, and that type has no instance attributes.
//
// So, once at module init, PyCFunction_Type's tp_getattro and tp_repr are replaced by
// ones that serve a face as its Function: attributes are looked up on the Function first
// (wrap, ufunc, prototype, __doc__, __signature__, __reduce__, __class__ — so
// isinstance(lib.f, ndffi.Function) holds — ...) and on the builtin for what it lacks
// (__self__, __text_signature__).  Any other builtin pays one test of its `self`'s type
// before the original slot.  The alternatives measured or weighed: a vectorcall type of
// our own (today's, 213 for noop), a subclass of the builtin type (not specialised), a
// Python function whose code calls a builtin (two calls).
#include "common.h"

namespace ndffi::py {

static getattrofunc builtin_getattro = nullptr;
static reprfunc builtin_repr = nullptr;

// The Function of a face, or nullptr for any other builtin (a bound method of a Function
// has it as `self` too, but another PyMethodDef).
static inline FunctionObject *data_of_face(PyObject *o) {
  auto *c = (PyCFunctionObject *)o;
  PyObject *s = c->m_self;
  if (!s || Py_TYPE(s) != &FunctionType) return nullptr;
  auto *f = (FunctionObject *)s;
  return c->m_ml == &f->def ? f : nullptr;
}

FunctionObject *as_function(PyObject *o) {
  if (Py_TYPE(o) == &PyCFunction_Type) return data_of_face(o);
  return Py_TYPE(o) == &FunctionType ? (FunctionObject *)o : nullptr;
}

PyObject *face_of(FunctionObject *f) {
  if (f->face) {
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *o = nullptr;
    if (PyWeakref_GetRef(f->face, &o) > 0) return o;
#else
    PyObject *o = PyWeakref_GetObject(f->face);
    if (o && o != Py_None) {
      Py_INCREF(o);
      return o;
    }
#endif
    Py_CLEAR(f->face);
  }
  PyObject *o = PyCFunction_NewEx(&f->def, (PyObject *)f, nullptr);
  if (!o) return nullptr;
  // The face lives as long as its users hold it (the library's attribute); while it does,
  // every way to the Function gives it back, so it keeps its identity.
  f->face = PyWeakref_NewRef(o, nullptr);
  if (!f->face) PyErr_Clear();  // only identity is lost
  return o;
}

static PyObject *face_getattro(PyObject *o, PyObject *name) {
  FunctionObject *f = data_of_face(o);
  if (!f) return builtin_getattro(o, name);
  PyObject *r = PyObject_GenericGetAttr((PyObject *)f, name);
  if (r || !PyErr_ExceptionMatches(PyExc_AttributeError)) return r;
  PyErr_Clear();
  return builtin_getattro(o, name);
}

static PyObject *face_repr(PyObject *o) {
  FunctionObject *f = data_of_face(o);
  return f ? PyObject_Repr((PyObject *)f) : builtin_repr(o);
}

void install_face() {
  if (PyCFunction_Type.tp_getattro == face_getattro) return;
  builtin_getattro = PyCFunction_Type.tp_getattro;
  builtin_repr = PyCFunction_Type.tp_repr;
  PyCFunction_Type.tp_getattro = face_getattro;
  PyCFunction_Type.tp_repr = face_repr;
  PyType_Modified(&PyCFunction_Type);  // attribute caches specialised on the old slots
}

}  // namespace ndffi::py
