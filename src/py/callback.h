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

// Per thread: how deep this thread is in ndffi calls, and the exception a callback
// raised during the call at depth pending_depth (one reference), with how many more it
// raised before that call returned.  Plain data, so a call touches it without any
// function call: ++depth before, --depth after, and one load of `pending`.
struct CallState {
  long depth;
  PyObject *pending;
  long pending_depth;
  long dropped;
};
extern ND_TLS CallState call_state;

// After a call returned with call_state.pending set: raise the callback's exception
// (if it belongs to this depth) instead of returning `result` (which is stolen).
PyObject *take_pending(PyObject *result);

// ---- ndffi.Callback ----
struct CallbackObject {
  PyObject_HEAD
  vectorcallfunc vectorcall;     // calling it from Python calls fn
  PyObject *fn;
  PyObject *on_error;            // as given (kept alive: it may own a returned pointer's memory)
  PyObject *weakrefs;
  Closure *closure;
  const CType *ptype;            // pointer-to-function type
  PyArgInfo *ret_info;
  unsigned char *error_value;    // plan->ret_bytes bytes returned after an exception
  std::string *where;            // "callback 'cmp' result", for messages
  bool temporary;                // made for one call: the closure is recycled with it
};
extern PyTypeObject CallbackType;
inline bool is_callback(PyObject *o) { return Py_TYPE(o) == &CallbackType; }

// A new Callback for function type `ftype` (or a pointer to one).  nullptr with a
// Python exception on failure.
PyObject *make_callback(const CType *ftype, PyObject *fn, PyObject *on_error, bool temporary,
                        bool allow_direct = true);

// A function-pointer parameter given a Callback, an ndffi.Function, an object with
// _ndffi_callback_(ctype) (ndffi.Allocator), or a plain callable (wrapped for the call,
// kept in holds).  Returns 1 when converted, 0 on error (exception set), -1 when `o` is
// none of these.
int funcptr_from_python(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds,
                        const Where &w);
// A plain callable would need a wrapper that lives only for a call: not storable in memory.
bool needs_temporary_callback(PyObject *o);

// Pointer-to-pointer parameters (T **, const T *const *): a 2-D array or a sequence of
// 1-D arrays becomes a table of row pointers kept in holds.  Returns 1, 0 or -1 as above.
int rows_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w);

}  // namespace ndffi::py
