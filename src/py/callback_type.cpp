// ndffi.Callback's Python face (its slots, attributes, release() and type object) and
// function-pointer parameters: what a call accepts for one (a Callback, an
// ndffi.Function, a compiled function of a registered class such as numba.cfunc, an
// object with _ndffi_callback_, a plain callable wrapped for the call) and how it becomes
// the address C calls.  The trampoline C enters is in callback.cpp.
#include <cstring>

#include "callback.h"
#include "convert.h"
#include "messages.h"

namespace ndffi::py {

static int callback_traverse(PyObject *self, visitproc visit, void *arg) {
  Py_VISIT(((CallbackObject *)self)->fn);
  Py_VISIT(((CallbackObject *)self)->on_error);
  for (PyObject *o : ((CallbackObject *)self)->ptr_cache) Py_VISIT(o);
  return 0;
}

static int callback_clear(PyObject *self) {
  ((CallbackObject *)self)->guarded = true;
  Py_CLEAR(((CallbackObject *)self)->fn);
  Py_CLEAR(((CallbackObject *)self)->on_error);
  for (PyObject *&o : ((CallbackObject *)self)->num_cache) Py_CLEAR(o);
  for (PyObject *&o : ((CallbackObject *)self)->ptr_cache) Py_CLEAR(o);
  return 0;
}

static void callback_dealloc(PyObject *self) {
  auto *cb = (CallbackObject *)self;
  PyObject_GC_UnTrack(self);
  if (cb->weakrefs) PyObject_ClearWeakRefs(self);
  if (cb->closure && !cb->released) closure_release(cb->closure, cb->temporary);
  callback_clear(self);
  delete cb->where;
  if (cb->error_value != cb->error_inline) PyMem_Free(cb->error_value);
  PyObject_GC_Del(self);
}

static PyObject *callback_repr(PyObject *self) {
  auto *cb = (CallbackObject *)self;
  std::string name = cb->fn ? callable_name(cb->fn) : "<cleared>";
  return PyUnicode_FromFormat("<ndffi.Callback '%s' %s>", cb->ptype->str().c_str(), name.c_str());
}

static PyObject *cb_get_fn(PyObject *self, void *) {
  PyObject *f = ((CallbackObject *)self)->fn;
  if (!f) Py_RETURN_NONE;
  Py_INCREF(f);
  return f;
}
static PyObject *cb_get_name(PyObject *self, void *) {
  auto *cb = (CallbackObject *)self;
  return PyUnicode_FromString(cb->fn ? callable_name(cb->fn).c_str() : "<cleared>");
}
static PyObject *cb_get_doc(PyObject *self, void *) {
  auto *cb = (CallbackObject *)self;
  PyObject *d = cb->fn ? PyObject_GetAttrString(cb->fn, "__doc__") : nullptr;
  if (!d) {
    PyErr_Clear();
    Py_RETURN_NONE;
  }
  return d;
}
static PyObject *cb_get_ctype(PyObject *self, void *) { return ctype_object(((CallbackObject *)self)->ptype); }
static PyObject *cb_get_prototype(PyObject *self, void *) {
  auto *cb = (CallbackObject *)self;
  return PyUnicode_FromString(cb->ptype->target->str().c_str());
}
// After release() the address must not reach C again: what would use it raises.
static bool not_released(const CallbackObject *cb, const char *what) {
  if (!cb->released) return true;
  PyErr_Format(PyExc_ValueError, "%s of a released callback ('%s'): C must not call it any more", what,
               cb->ptype->str().c_str());
  return false;
}

static PyObject *cb_get_address(PyObject *self, void *) {
  if (!not_released((CallbackObject *)self, "the address")) return nullptr;
  return PyLong_FromVoidPtr(((CallbackObject *)self)->closure->code);
}
static PyObject *cb_get_pointer(PyObject *self, void *) {
  auto *cb = (CallbackObject *)self;
  if (!not_released(cb, "the pointer")) return nullptr;
  return make_pointer(cb->closure->code, cb->ptype, self);
}
static PyObject *cb_get_released(PyObject *self, void *) { return PyBool_FromLong(((CallbackObject *)self)->released); }

// release(): from now on a call from C is reported through sys.unraisablehook and
// returns 0, and the Python callable is let go; the closure's code stays mapped (as
// for a collected Callback) so that a stale pointer in C cannot crash.
static PyObject *cb_release(PyObject *self, PyObject *) {
  auto *cb = (CallbackObject *)self;
  if (!cb->released && cb->closure && !cb->temporary) {
    closure_release(cb->closure, false);
    cb->released = true;
    callback_clear(self);
  }
  Py_RETURN_NONE;
}
static PyObject *cb_enter(PyObject *self, PyObject *) {
  if (!not_released((CallbackObject *)self, "a with block")) return nullptr;
  Py_INCREF(self);
  return self;
}
static PyObject *cb_exit(PyObject *self, PyObject *) { return cb_release(self, nullptr); }

static PyMethodDef callback_methods[] = {
    {"release", cb_release, METH_NOARGS,
     "release()\n\nStop serving C now rather than when garbage-collected: a later call from C is "
     "reported through sys.unraisablehook and returns 0, and the Python callable is let go. "
     "A with block releases the callback at its end."},
    {"__enter__", cb_enter, METH_NOARGS, nullptr},
    {"__exit__", cb_exit, METH_VARARGS, nullptr},
    {nullptr}};
static PyObject *cb_get_on_error(PyObject *self, void *) {
  PyObject *v = ((CallbackObject *)self)->on_error;
  if (!v) v = Py_None;
  Py_INCREF(v);
  return v;
}
static PyObject *cb_get_direct(PyObject *self, void *) {
  return PyBool_FromLong(((CallbackObject *)self)->closure->ffi == nullptr);
}

static PyGetSetDef callback_getset[] = {
    {"fn", cb_get_fn, nullptr, "the Python callable", nullptr},
    {"__wrapped__", cb_get_fn, nullptr, nullptr, nullptr},
    {"__name__", cb_get_name, nullptr, nullptr, nullptr},
    {"__qualname__", cb_get_name, nullptr, nullptr, nullptr},
    {"__doc__", cb_get_doc, nullptr, nullptr, nullptr},
    {"ctype", cb_get_ctype, nullptr, "the function pointer type (a CType)", nullptr},
    {"prototype", cb_get_prototype, nullptr, "the C function type, as text", nullptr},
    {"address", cb_get_address, nullptr, "the address C calls, as an int", nullptr},
    {"pointer", cb_get_pointer, nullptr,
     "the address as an ndffi.Pointer of the function pointer type (it keeps this Callback alive)", nullptr},
    {"on_error", cb_get_on_error, nullptr, "what the callback returns to C after an exception", nullptr},
    {"direct", cb_get_direct, nullptr, "whether C enters it without libffi", nullptr},
    {"released", cb_get_released, nullptr, "whether release() ran", nullptr},
    {nullptr}};

PyTypeObject CallbackType = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "ndffi.Callback";
  t.tp_basicsize = sizeof(CallbackObject);
  t.tp_dealloc = callback_dealloc;
  t.tp_vectorcall_offset = offsetof(CallbackObject, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_repr = callback_repr;
  t.tp_getset = callback_getset;
  t.tp_methods = callback_methods;
  t.tp_traverse = callback_traverse;
  t.tp_clear = callback_clear;
  t.tp_weaklistoffset = offsetof(CallbackObject, weakrefs);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_doc =
      "A Python callable behind a C function pointer; made by ndffi.callback(signature, fn).\n\n"
      "Pass it wherever a function pointer of its type is declared. Keep it alive for as long "
      "as C may call it: a call after it was garbage-collected is reported through "
      "sys.unraisablehook and returns 0.";
  return t;
}();

// ---- function-pointer parameters ------------------------------------------------------

static bool same_function_type(const CType *want, const CType *have) {
  if (want == have) return true;
  TypeTable &T = TypeTable::get();
  if (want->variadic != have->variadic || want->params.size() != have->params.size()) return false;
  if (T.unqualified(want->target) != T.unqualified(have->target)) return false;
  for (size_t i = 0; i < want->params.size(); i++)
    if (T.unqualified(want->params[i]) != T.unqualified(have->params[i])) return false;
  return true;
}

static PyObject *adapter_name() {
  static PyObject *s = PyUnicode_InternFromString("_ndffi_callback_");
  return s;
}

static int lookup_adapter(PyObject *o, PyObject **method) {
#if PY_VERSION_HEX >= 0x030D0000
  return PyObject_GetOptionalAttr(o, adapter_name(), method);
#else
  return _PyObject_LookupAttr(o, adapter_name(), method);
#endif
}

static int set_funcptr(unsigned char *dst, void *fn) {
  uint64_t p = uint64_t(uintptr_t(fn));
  memcpy(dst, &p, 8);
  return 1;
}

// Classes of compiled C functions made elsewhere (numba.cfunc), each with a converter
// `conv(obj, ptype)` that returns the address to pass for function pointer type `ptype`
// (an int), or a str describing obj's signature when it does not fit.  Registered at
// start-up by the Python layer and never removed; looked up only for objects that are
// neither a Callback nor a Function.
struct FuncptrSource {
  PyObject *cls;
  PyObject *conv;
};
static std::vector<FuncptrSource> funcptr_sources;

int register_funcptr_source(PyObject *cls, PyObject *conv) {
  if (!PyType_Check(cls) || !PyCallable_Check(conv)) {
    PyErr_SetString(PyExc_TypeError, "_register_function_pointer_source(cls, converter): a class and a callable");
    return -1;
  }
  for (FuncptrSource &s : funcptr_sources)
    if (s.cls == cls) {
      Py_INCREF(conv);
      Py_SETREF(s.conv, conv);
      return 0;
    }
  Py_INCREF(cls);
  Py_INCREF(conv);
  funcptr_sources.push_back({cls, conv});
  return 0;
}

static PyObject *funcptr_source_of(PyObject *o) {
  for (const FuncptrSource &s : funcptr_sources)
    if (PyObject_TypeCheck(o, (PyTypeObject *)s.cls)) return s.conv;
  return nullptr;
}

// The address the converter gives for `o`, or a TypeError naming the parameter, the
// expected type and `o`'s signature.
static int funcptr_from_source(const ArgSpec &a, PyObject *o, PyObject *conv, unsigned char *dst, const Where &w) {
  PyObject *ct = ctype_object(a.type);
  PyObject *r = ct ? PyObject_CallFunctionObjArgs(conv, o, ct, nullptr) : nullptr;
  Py_XDECREF(ct);
  if (!r) return 0;
  int ok = 0;
  if (PyLong_Check(r)) {
    void *p = PyLong_AsVoidPtr(r);
    if (p || !PyErr_Occurred()) ok = set_funcptr(dst, p);
  } else if (PyUnicode_Check(r)) {
    PyErr_Format(PyExc_TypeError, "%s: expected a function pointer '%s', got %U", w.str().c_str(),
                 a.type->str().c_str(), r);
  } else {
    PyErr_Format(PyExc_TypeError, "%s: the converter of %s returned %s, not an address", w.str().c_str(),
                 Py_TYPE(o)->tp_name, describe(r).c_str());
  }
  Py_DECREF(r);
  return ok;
}

bool needs_temporary_callback(PyObject *o) {
  if (o == Py_None || is_pointer(o) || is_callback(o) || as_function(o)) return false;
  if (funcptr_source_of(o)) return false;
  if (!PyCallable_Check(o)) return false;
  PyObject *m = nullptr;
  int r = lookup_adapter(o, &m);
  Py_XDECREF(m);
  if (r < 0) PyErr_Clear();
  return r == 0;
}

int funcptr_from_python(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w) {
  const CType *want = a.type->target;
  PyObject *cbobj = nullptr;
  std::string given;
  if (is_callback(o)) {
    cbobj = o;
  } else if (FunctionObject *f = as_function(o)) {
    if (!same_function_type(want, f->decl->type)) {
      PyErr_Format(PyExc_TypeError, "%s: expected a function pointer '%s', got C function %s", w.str().c_str(),
                   a.type->str().c_str(), f->decl->str().c_str());
      return 0;
    }
    uint64_t p = uint64_t(uintptr_t(f->plan->fn));
    memcpy(dst, &p, 8);
    return 1;
  } else if (PyObject *conv = funcptr_source_of(o)) {
    return funcptr_from_source(a, o, conv, dst, w);
  } else {
    PyObject *method = nullptr;
    int found = lookup_adapter(o, &method);
    if (found < 0) return 0;
    if (found) {
      PyObject *ct = ctype_object(a.type);
      PyObject *r = ct ? PyObject_CallOneArg(method, ct) : nullptr;
      Py_XDECREF(ct);
      Py_DECREF(method);
      if (!r) return 0;
      if (!is_callback(r)) {
        PyErr_Format(PyExc_TypeError, "%s: %s._ndffi_callback_() returned %s, not an ndffi.Callback", w.str().c_str(),
                     Py_TYPE(o)->tp_name, describe(r).c_str());
        Py_DECREF(r);
        return 0;
      }
      holds.keep(r);
      cbobj = r;
    } else if (PyCallable_Check(o)) {
      if (!check_arity(o, want, w.str(), type_str(w, a))) return 0;
      PyObject *r = make_callback(want, o, nullptr, true);
      if (!r) return 0;
      holds.keep(r);
      cbobj = r;
    } else {
      return -1;
    }
  }
  auto *cb = (CallbackObject *)cbobj;
  if (cb->released) {
    PyErr_Format(PyExc_ValueError, "%s: the callback '%s' was released; C must not call it any more", w.str().c_str(),
                 cb->ptype->str().c_str());
    return 0;
  }
  if (!same_function_type(want, cb->closure->plan->type)) {
    PyErr_Format(PyExc_TypeError, "%s: expected a function pointer '%s', got a callback '%s'%s", w.str().c_str(),
                 a.type->str().c_str(), cb->ptype->str().c_str(), same_spelling_hint(a.type, cb->ptype).c_str());
    return 0;
  }
  uint64_t p = uint64_t(uintptr_t(cb->closure->code));
  memcpy(dst, &p, 8);
  return 1;
}

}  // namespace ndffi::py
