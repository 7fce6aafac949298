// ndffi.Callback: a Python callable behind a C function pointer.
//
// C calls the closure's code; the closure engine (nd_ccallback) hands the arguments to
// the trampoline of callback_entry.cpp, which takes the GIL (PyGILState_Ensure: the calling thread may
// have released it, or be a thread C started), converts each argument with the call
// converters' C -> Python half (from_c/load_c), calls the Python function and stores
// its result with to_c, the same checks as for an argument of a call.
//
// An exception raised by the callable makes the callback return its on_error value.
// Inside an ndffi call on the same thread, the exception waits in call_state.pending and
// the call raises it when C returns (take_pending); anywhere else (a thread C started, a
// handler C keeps and calls later from code ndffi did not call) it goes to
// sys.unraisablehook.  The same per-thread state tells the trampoline how to retake the
// GIL: with the thread state the ndffi call below saved (no PyGILState look-ups).
//
// Lifetime: a Callback owns its closure.  When the Callback is freed, the closure's
// owner becomes null but the closure itself is never freed, so a late call from C finds
// the trampoline, which reports it through sys.unraisablehook and returns zero.  The
// cost is one closure (about 100 bytes) per freed Callback, kept for the process's life.
// A Callback made for a single call (a plain callable passed for a function-pointer
// parameter) gives its closure back to a free list of its signature when the call
// returns, for other such Callbacks only (nd_ccallback.h), since C may not keep such a
// pointer.  If C does, its late call must reach no one else's code: it is reported when
// it finds the closure ownerless, or serving a different call (CallbackObject::bound),
// and the closure is retired from then on.
#include <cstring>
#include <memory>
#include <unordered_map>

#include "callback.h"

namespace ndffi::py {

// fn's qualified name; an exception already set is left as it was.
std::string callable_name(PyObject *fn) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  std::string r = "?";
  PyObject *n = PyObject_GetAttrString(fn, "__qualname__");
  if (!n) {
    PyErr_Clear();
    n = PyObject_GetAttrString(fn, "__name__");
  }
  if (!n || !PyUnicode_Check(n)) {
    PyErr_Clear();
    Py_XDECREF(n);
    n = PyObject_Repr(fn);
  }
  if (n) {
    const char *s = PyUnicode_AsUTF8(n);
    if (s) r = s;
    Py_DECREF(n);
  }
  PyErr_Clear();
  PyErr_Restore(type, value, tb);
  return r;
}

PyObject *take_pending(PyObject *result) {
  CallState &cs = call_state;
  PyObject *value = cs.pending;
  long dropped = cs.dropped;
  cs.pending = nullptr;
  cs.dropped = 0;
  Py_XDECREF(result);
  PyErr_Clear();
  if (dropped) {
    std::string note = "(the callback raised " + std::to_string(dropped) + " more exception" +
                       (dropped == 1 ? "" : "s") + " before the C function returned)";
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *r = PyObject_CallMethod(value, "add_note", "s", note.c_str());
#else
    // Python 3.10 has no add_note (and prints no notes): the list it would have made.
    PyObject *r = nullptr, *notes = PyObject_GetAttrString(value, "__notes__");
    if (!notes) {
      PyErr_Clear();
      notes = PyList_New(0);
      if (notes && PyObject_SetAttrString(value, "__notes__", notes) < 0) Py_CLEAR(notes);
    }
    if (notes && PyList_Check(notes)) {
      PyObject *text = PyUnicode_FromString(note.c_str());
      if (text && PyList_Append(notes, text) == 0) r = Py_NewRef(Py_None);
      Py_XDECREF(text);
    }
    Py_XDECREF(notes);
#endif
    if (r) Py_DECREF(r);
    else PyErr_Clear();
  }
  PyObject *tb = PyException_GetTraceback(value);
  PyObject *type = (PyObject *)Py_TYPE(value);
  Py_INCREF(type);
  PyErr_Restore(type, value, tb);
  return nullptr;
}

// ---- the Callback type ----------------------------------------------------------------

// How a result of the plan's type is converted (fill_arg_info), made once per signature;
// callbacks are made with the GIL held, which guards the table.
static const PyArgInfo *ret_info_of(const CallbackPlan &plan) {
  static std::unordered_map<const CallbackPlan *, std::unique_ptr<PyArgInfo>> table;
  auto &info = table[&plan];
  if (!info) {
    info = std::make_unique<PyArgInfo>();
    fill_arg_info(*info, plan.ret.type);
  }
  return info.get();
}

PyObject *make_callback(const CType *t, PyObject *fn, PyObject *on_error, bool temporary, bool allow_direct) {
  if (t->kind == Kind::Pointer && t->target->kind == Kind::Func) t = t->target;
  if (t->kind != Kind::Func) {
    PyErr_Format(PyExc_TypeError, "callback(): expected a function type such as 'int(int)' or 'int (*)(int)', got '%s'",
                 t->str().c_str());
    return nullptr;
  }
  if (!PyCallable_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "callback(): expected a callable, got %s", describe(fn).c_str());
    return nullptr;
  }
  const CallbackPlan *plan;
  try {
    plan = &callback_plan(t, allow_direct);
  } catch (const std::exception &e) {
    PyErr_Format(PyExc_TypeError, "cannot make a callback of type '%s': %s", t->str().c_str(), e.what());
    return nullptr;
  }
  auto *cb = PyObject_GC_New(CallbackObject, &CallbackType);
  if (!cb) return nullptr;
  cb->vectorcall = nullptr;
  cb->fn = fn;
  Py_INCREF(fn);
  cb->on_error = on_error;
  Py_XINCREF(on_error);
  cb->weakrefs = nullptr;
  cb->closure = nullptr;
  cb->ptype = plan->pointer_type;
  cb->ret_info = ret_info_of(*plan);
  memset(cb->error_inline, 0, sizeof cb->error_inline);
  cb->error_value =
      plan->ret_bytes <= sizeof cb->error_inline ? cb->error_inline : (unsigned char *)PyMem_Calloc(1, plan->ret_bytes);
  cb->where = nullptr;
  cb->temporary = temporary;
  cb->guarded = temporary;
  cb->bound = &call_state;
  cb->bound_depth = call_state.depth;
  cb->released = false;
  cb->ret_int = plan->ret.conv == Conv::SInt && plan->ret.size >= 4;
  cb->ret_void = plan->ret.conv == Conv::Void;
  cb->int_args = 0;
  for (size_t i = 0; i < plan->args.size() && i < 32; i++)
    if (plan->args[i].conv == Conv::SInt && plan->args[i].size == 4) cb->int_args |= uint32_t(1) << i;
  // A Python function's vectorcall is set when it is made (3.12 lets C code replace it);
  // any other callable's is looked up on each call.
#if PY_VERSION_HEX < 0x030C0000
  cb->fn_vectorcall = PyFunction_Check(fn) ? PyVectorcall_Function(fn) : vectorcall_any;
#else
  cb->fn_vectorcall = vectorcall_any;
#endif
  if (!cb->fn_vectorcall) cb->fn_vectorcall = vectorcall_any;
  for (PyObject *&o : cb->num_cache) o = nullptr;
  cb->ptr_args = 0;
  for (size_t i = 0; i < kCachedPointers; i++) {
    cb->ptr_cache[i] = nullptr;
    cb->ptr_type[i] = nullptr;
    if (i < plan->args.size() && plan->args[i].conv == Conv::Pointer) {
      cb->ptr_args |= uint32_t(1) << i;
      cb->ptr_type[i] = TypeTable::get().unqualified(plan->args[i].type);
    }
  }
  PyObject *self = (PyObject *)cb;
  if (!cb->error_value) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  // (an int too large for a long is not zero: no OverflowError may be left to to_c)
  int overflow = 0;
  bool zero = !on_error || (PyLong_CheckExact(on_error) && PyLong_AsLongAndOverflow(on_error, &overflow) == 0 &&
                            !overflow && !PyErr_Occurred());
  if (!zero && plan->ret.conv != Conv::Void) {
    Holds holds;
    std::string what = "callback " + callable_name(fn) + " on_error";
    if (!to_c(plan->ret, *cb->ret_info, on_error, cb->error_value, holds, Where{nullptr, -1, what.c_str()})) {
      Py_DECREF(self);
      return nullptr;
    }
  }
  try {
    cb->closure = new_callback_closure(*plan, cb, temporary);
  } catch (const std::exception &e) {
    Py_DECREF(self);
    PyErr_SetString(PyExc_MemoryError, e.what());
    return nullptr;
  }
  cb->vectorcall = [](PyObject *s, PyObject *const *a, size_t n, PyObject *kw) -> PyObject * {
    PyObject *f = ((CallbackObject *)s)->fn;
    if (!f) {
      PyErr_SetString(PyExc_RuntimeError, ((CallbackObject *)s)->released ? "this callback has been released"
                                                                          : "this callback has been cleared");
      return nullptr;
    }
    return PyObject_Vectorcall(f, a, n, kw);
  };
  PyObject_GC_Track(self);
  return self;
}

}  // namespace ndffi::py
