// Callbacks: Python callables behind C function pointers, and the per-thread state that
// carries an exception raised in a callback back to the Python caller of the C call.
#pragma once

#include "common.h"
#include "nd_ccallback.h"

#if defined(__GNUC__) && defined(__ELF__)
#define ND_TLS __thread __attribute__((tls_model("initial-exec")))
#elif defined(__GNUC__)
#define ND_TLS __thread
#else
#define ND_TLS thread_local
#endif

namespace ndffi::py {

// Per thread, plain data so that a call touches it without any function call.
//
// gil: while an ndffi call's C code runs on this thread, how a callback C makes here gets
// the GIL: the thread state the call saved when it released the GIL, ND_GIL_HELD when
// the call kept it, or ND_GIL_ENSURE in an ndffi ufunc's loop (NumPy may have released
// it, with a thread state of its own), where the callback uses PyGILState_Ensure; null
// otherwise (no ndffi call below: a thread C started, or C that ndffi did not call),
// where the callback uses PyGILState_Ensure and reports its exceptions through
// sys.unraisablehook.  A call stores it before and after C runs; a callback clears it
// while its Python code runs.
//
// pending: the first exception a callback raised during the ndffi call now running C
// code on this thread (one reference), and how many more it raised; the call raises it
// when C returns, after one load of `pending`.  A callback sets both aside while its own
// Python code runs, so a nested call only ever sees its own callbacks' exceptions.
//
// depth: how many callbacks are running Python code on this thread (one inside another).
// With the thread, it tells the ndffi call whose C code is running now from the calls
// below it: a callback made for one call serves that call only (see CallbackObject::bound).
struct CallState {
  PyThreadState *gil;
  PyObject *pending;
  long dropped;
  long depth;
};
extern ND_TLS CallState call_state;
#define ND_GIL_HELD ((PyThreadState *)1)
#define ND_GIL_ENSURE ((PyThreadState *)2)

// After a call returned with call_state.pending set: raise the callback's exception
// instead of returning `result` (which is stolen); returns nullptr.
PyObject *take_pending(PyObject *result);

// ---- ndffi.Callback ----
struct CallbackObject {
  PyObject_HEAD vectorcallfunc vectorcall;  // calling it from Python calls fn
  PyObject *fn;
  PyObject *on_error;  // as given (kept alive: it may own a returned pointer's memory)
  PyObject *weakrefs;
  Closure *closure;
  const CType *ptype;          // pointer-to-function type
  const PyArgInfo *ret_info;   // shared by the callbacks of one signature
  unsigned char *error_value;  // plan->ret_bytes bytes returned after an exception
  std::string *where;          // "callback 'cmp' result", made when a message needs it
  bool temporary;              // made for one call: the closure is recycled with it
  // A temporary serves the call it was made for: C calls on that call's thread at that
  // callback depth, or on a thread with no ndffi call below (C's own).  Any other call
  // comes from a pointer C kept from an earlier use of the recycled closure.
  const CallState *bound;
  long bound_depth;
  bool released;                               // release() ran: C's calls report and return 0
  bool guarded;                                // temporary, or fn cleared: the entry checks both
  bool ret_int;                                // the result is a signed integer of 4 bytes or more
  bool ret_void;                               // there is no result
  uint32_t int_args;                           // bit i: argument i is an int (signed, 4 bytes)
  vectorcallfunc fn_vectorcall;                // fn's when it cannot change (a Python function), else vectorcall_any
  alignas(16) unsigned char error_inline[16];  // error_value when it fits
  PyObject *num_cache[4];                      // int and double argument objects reused from call to call
  // Data pointer arguments (Conv::Pointer) among the first kCachedPointers: bit i set for
  // argument i, the unqualified pointer type it arrives as, and the Pointer object the
  // last call got at that position, given the new address when nothing else holds it.
  uint32_t ptr_args;
  const CType *ptr_type[4];
  PyObject *ptr_cache[4];
};
constexpr size_t kCachedNumbers = 4;
constexpr size_t kCachedPointers = 4;
extern PyTypeObject CallbackType;
inline bool is_callback(PyObject *o) { return Py_TYPE(o) == &CallbackType; }

// fn's qualified name, for messages; an exception already set is left as it was.
std::string callable_name(PyObject *fn);

// The closure C calls for `cb`, entering the trampoline of callback_entry.cpp (through
// libffi, or the ABI file's frame or register entry where the plan has one).  Throws
// std::bad_alloc or std::runtime_error when no closure can be had.
Closure *new_callback_closure(const CallbackPlan &plan, CallbackObject *cb, bool temporary);
void init_callback_entry();  // once, at module init (callback_entry.cpp)
// fn(*args) through fn's vectorcall slot, looked up now, or PyObject_Vectorcall.
PyObject *vectorcall_any(PyObject *fn, PyObject *const *args, size_t nargsf, PyObject *kwnames);

// A new Callback for function type `ftype` (or a pointer to one).  nullptr with a
// Python exception on failure.
PyObject *make_callback(const CType *ftype, PyObject *fn, PyObject *on_error, bool temporary, bool allow_direct = true);

// A function-pointer parameter given a Callback, an ndffi.Function, an object with
// _ndffi_callback_(ctype) (ndffi.Allocator), or a plain callable (wrapped for the call,
// kept in holds).  Returns 1 when converted, 0 on error (exception set), -1 when `o` is
// none of these.
int funcptr_from_python(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w);
// A plain callable would need a wrapper that lives only for a call: not storable in memory.
bool needs_temporary_callback(PyObject *o);
// Objects of class `cls` (a compiled C function of another tool: numba.cfunc) are passed
// for function-pointer parameters through `conv(obj, ptype)` -> address or reason.
int register_funcptr_source(PyObject *cls, PyObject *conv);

}  // namespace ndffi::py
