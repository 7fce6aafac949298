// The trampoline C enters when it calls an ndffi.Callback (callback.cpp has the type):
// it takes the GIL (with the thread state the ndffi call below saved, or
// PyGILState_Ensure on a thread C started), converts each argument with the C -> Python
// half of the converters, calls the Python function and stores its result with the same
// checks as an argument of a call.  An exception becomes the callback's on_error value
// and waits in call_state.pending for the ndffi call below, or goes to
// sys.unraisablehook when there is none.  This is the callback's hot path: everything it
// runs on a successful call is inline here.
#ifndef _WIN32
#include <pthread.h>
#endif

#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "callback.h"
#include "fastpath.h"

namespace ndffi::py {

ND_TLS CallState call_state;

// ---- reporting ----------------------------------------------------------------------

static void write_unraisable(const std::string &msg, PyObject *obj) {
#if PY_VERSION_HEX >= 0x030D0000
  if (obj) PyErr_FormatUnraisable("Exception ignored %s: %R", msg.c_str(), obj);
  else PyErr_FormatUnraisable("Exception ignored %s", msg.c_str());
#else
  _PyErr_WriteUnraisableMsg(msg.c_str(), obj);
#endif
}

// The callback's exception (set) becomes the pending exception of the ndffi call below
// (`outer`: the trampoline set the thread's pending state aside), or is reported if
// there is no ndffi call below.
static void keep_or_report(CallbackObject *cb, bool in_call, CallState &outer) {
  if (in_call) {
    if (outer.pending) {
      outer.dropped++;
      PyErr_Clear();
      return;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb) PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    outer.pending = value;
    outer.dropped = 0;
    return;
  }
  std::string msg = "in ndffi callback " + callable_name(cb->fn) + " ('" + cb->ptype->str() +
                    "'), called by C outside any ndffi call; it returned its on_error value";
  write_unraisable(msg, cb->fn);
}

// ---- the trampoline -----------------------------------------------------------------

// The shared small ints (-5 to 256), found once: an int argument in that range is taken
// from here (PyLong_FromLongLong would find the same object, through a call and checks).
static PyObject *small_ints[262];

void init_callback_entry() {
  for (int v = -5; v <= 256; v++) small_ints[v + 5] = PyLong_FromLong(v);
}

// An int argument.  Outside the shared small ints, each would be a new object freed
// right after the call (~110 instructions of allocation); instead the object the last
// call of this callback got at this position is given the new value, when nothing but
// the callback holds it any more (so no one can see the change), on CPython versions
// whose int layout is known here.
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#define ND_REUSE_INTS 1
#endif

static inline __attribute__((always_inline)) PyObject *int_arg(CallbackObject *cb, size_t i, int64_t v) {
  if (uint64_t(v) + 5 < 262) return Py_NewRef(small_ints[v + 5]);
#ifdef ND_REUSE_INTS
  if (v > -(int64_t(1) << PyLong_SHIFT) && v < (int64_t(1) << PyLong_SHIFT) && i < kCachedNumbers) {
    PyObject *o = cb->num_cache[i];
    if (__builtin_expect(o && Py_REFCNT(o) == 1, 1)) {
      ((PyLongObject *)o)->ob_digit[0] = digit(v < 0 ? -v : v);
      Py_SET_SIZE(o, v < 0 ? -1 : 1);
      Py_INCREF(o);
      return o;
    }
    PyObject *n = PyLong_FromLongLong(v);  // one digit: it can take any value of this range
    if (!n) return nullptr;
    Py_INCREF(n);
    Py_XSETREF(cb->num_cache[i], n);
    return n;
  }
#else
  (void)cb, (void)i;
#endif
  return PyLong_FromLongLong(v);
}

// A double, float or long double argument: like an int, the number the last call got at
// this position (a float; an np.longdouble) is given the new value when nothing but the
// callback holds it.  Both layouts are public, and neither type has weak references or
// attributes that could see the change.
inline void set_float(PyObject *o, double v) { ((PyFloatObject *)o)->ob_fval = v; }
inline void set_longdouble(PyObject *o, long double v) { PyArrayScalar_ASSIGN(o, LongDouble, v); }

template <class T, PyObject *(*Make)(T), void (*Set)(PyObject *, T)>
static inline __attribute__((always_inline)) PyObject *number_arg(CallbackObject *cb, size_t i, T v,
                                                                  PyTypeObject *type) {
  if (i >= kCachedNumbers) return Make(v);
  PyObject *o = cb->num_cache[i];
  if (o && Py_REFCNT(o) == 1 && Py_TYPE(o) == type) {
    Set(o, v);
    Py_INCREF(o);
    return o;
  }
  PyObject *n = Make(v);
  if (!n) return nullptr;
  Py_INCREF(n);
  Py_XSETREF(cb->num_cache[i], n);
  return n;
}

static inline __attribute__((always_inline)) PyObject *double_arg(CallbackObject *cb, size_t i, double v) {
  return number_arg<double, PyFloat_FromDouble, set_float>(cb, i, v, &PyFloat_Type);
}

static inline __attribute__((always_inline)) PyObject *longdouble_arg(CallbackObject *cb, size_t i, const void *p) {
  long double v;
  memcpy(&v, p, sizeof v);
  return number_arg<long double, longdouble_object, set_longdouble>(cb, i, v, &PyLongDoubleArrType_Type);
}

// A data pointer argument: a Pointer of C's memory, unbounded, as from_c makes it, of the
// type found when the callback was made.  Like an int, the object the last call of this
// callback got at this position is given the new address when nothing but the callback
// holds it and nothing was attached to it (stored pointers' owners, weak references).
static inline __attribute__((always_inline)) PyObject *pointer_arg(CallbackObject *cb, size_t i, void *addr) {
  PyObject *o = cb->ptr_cache[i];
  if (o && Py_REFCNT(o) == 1) {
    auto *p = (PointerObject *)o;
    if (!(uintptr_t(p->keeps) | uintptr_t(p->weakrefs) | uintptr_t(p->owner) | uintptr_t(p->call))) {
      p->addr = addr;
      p->span = Span();
      Py_INCREF(o);
      return o;
    }
  }
  PyObject *n = make_pointer_in(addr, cb->ptr_type[i], nullptr, Span());
  if (!n) return nullptr;
  Py_INCREF(n);
  Py_XSETREF(cb->ptr_cache[i], n);
  return n;
}

// Argument i, from C to Python.  An int (the commonest) and a data pointer are told by
// one bit of the callback each, set when it was made.
static inline __attribute__((always_inline)) PyObject *arg_to_python(CallbackObject *cb, size_t i,
                                                                     const CallbackPlan &plan, const void *p) {
  if (i < 32 && (cb->int_args >> i & 1)) return int_arg(cb, i, *(const int32_t *)p);
  if (i < kCachedPointers && (cb->ptr_args >> i & 1)) return pointer_arg(cb, i, *(void *const *)p);
  const ArgSpec &a = plan.args[i];
  switch (a.conv) {
    case Conv::SInt: return int_arg(cb, i, load_signed(p, a.size));
    case Conv::UInt:
      if (a.size < 8) return int_arg(cb, i, int64_t(load_unsigned(p, a.size)));
      return PyLong_FromUnsignedLongLong(load_unsigned(p, a.size));
    case Conv::Float: return double_arg(cb, i, *(const float *)p);
    case Conv::Double: return double_arg(cb, i, *(const double *)p);
    case Conv::LongDouble:
      if (a.size == sizeof(long double)) return longdouble_arg(cb, i, p);
      return load_c(a.type, p, nullptr);
    case Conv::Record: return load_c(a.type, p, nullptr);
    default: return from_c(a, slot_of(a, p));
  }
}

// Would the memory behind a pointer result be freed as soon as the callback's result is
// released?  True when nothing but the result holds the object that owns the memory.
// Asked once the conversion has let go of what it held (a buffer export holds its
// exporter, an array made from __array_interface__ its object), so that only the
// references that outlive the callback count.
static bool freed_with_result(PyObject *o) {
  for (;;) {
    if (Py_REFCNT(o) > 1) return false;
    if (as_function(o)) return false;  // code in a library, never unloaded
    if (is_pointer(o)) {
      auto *p = (PointerObject *)o;
      if (p->owns_memory) return true;
      if (!p->owner) return false;  // C's memory
      o = p->owner;
    } else if (is_record(o)) {
      auto *r = (RecordObject *)o;
      if (r->owns) return true;
      if (!r->owner) return false;  // a view of C's memory
      o = r->owner;
    } else if (PyArray_Check(o)) {
      PyObject *base = PyArray_BASE((PyArrayObject *)o);
      if (!base) return PyArray_FLAGS((PyArrayObject *)o) & NPY_ARRAY_OWNDATA;
      o = base;
    } else if (PyMemoryView_Check(o)) {
      PyObject *base = PyMemoryView_GET_BASE(o);
      if (!base) return true;
      o = base;
    } else {
      return true;
    }
  }
}

// "callback cmp result", for messages (made on first use: only errors need it).
static const char *where_text(CallbackObject *cb) {
  if (!cb->where) cb->where = new std::string("callback " + callable_name(cb->fn) + " result");
  return cb->where->c_str();
}

// The general conversion of a result (pointers, and whatever the inline cases refuse).
__attribute__((noinline)) static bool result_to_c_general(CallbackObject *cb, const ArgSpec &r, PyObject *res,
                                                          unsigned char *dst) {
  Holds holds;
  Where w{nullptr, -1, where_text(cb)};
  if ((r.conv == Conv::Pointer || r.conv == Conv::FuncPtr) && res != Py_None) {
    if (r.conv == Conv::FuncPtr && needs_temporary_callback(res)) {
      PyErr_Format(PyExc_TypeError,
                   "%s: a plain callable cannot be returned as '%s' (C would call it after it is "
                   "gone): return an ndffi.callback that you keep alive",
                   where_text(cb), r.type->str().c_str());
      return false;
    }
    if (!to_c(r, *cb->ret_info, res, dst, holds, w)) return false;
    holds.release();
    if (freed_with_result(res)) {
      PyErr_Format(PyExc_ValueError,
                   "%s: the %s returned for '%s' would be freed when the callback returns, leaving "
                   "C a dangling pointer; keep a reference to it (as ndffi.Allocator does) for as "
                   "long as C uses the memory",
                   where_text(cb), describe(res).c_str(), r.type->str().c_str());
      return false;
    }
    return true;
  }
  return to_c(r, *cb->ret_info, res, dst, holds, w);
}

static inline __attribute__((always_inline)) bool result_to_c(CallbackObject *cb, const ArgSpec &r, PyObject *res,
                                                              unsigned char *dst) {
  // The common case first: an int result of a signed type of 4 bytes or more takes any
  // int of one digit (|v| < 2**30) without a range check.
  if (cb->ret_void) return true;  // whatever the function returned: C reads nothing
  int64_t v;
  if (cb->ret_int && compact_int(res, &v)) {
    memcpy(dst, &v, 8);
    return true;
  }
  switch (r.conv) {
    case Conv::SInt:
    case Conv::UInt:
      if (fast_int(r, res, dst)) return true;
      break;
    case Conv::Float:
    case Conv::Double:
      if (fast_float(r, res, dst)) return true;
      break;
    case Conv::LongDouble:
      if (fast_longdouble(r, res, dst)) return true;
      break;
    default: break;
  }
  return result_to_c_general(cb, r, res, dst);
}

constexpr size_t kMaxStackArgs = 16;

#if PY_VERSION_HEX >= 0x030D0000
#define ND_CURRENT_TSTATE() PyThreadState_GetUnchecked()
#define ND_IS_FINALIZING() Py_IsFinalizing()
#else
#define ND_CURRENT_TSTATE() _PyThreadState_UncheckedGet()
#define ND_IS_FINALIZING() _Py_IsFinalizing()
#endif

// A call through a closure whose owner has gone (a freed or released Callback, or the
// callback of a plain callable after its call returned), or, for `late`, through a
// recycled closure now serving another call: C kept the address.  It never reaches any
// Python code; the closure is retired so that it serves nothing else again.
__attribute__((noinline, cold)) static void report_dead(Closure *c, void *ret, bool late) {
  const CallbackPlan &plan = *c->plan;
  closure_escaped(c);
  memset(ret, 0, plan.ret_bytes);
  const std::string type = TypeTable::get().pointer(plan.type)->str();
  if (late)
    PyErr_Format(PyExc_RuntimeError,
                 "C called a callback of type '%s' made for a plain callable passed to another "
                 "call (C kept the pointer from an earlier call, or passed it to another ndffi call "
                 "or thread); it returned 0. For a function pointer C keeps or shares, pass an "
                 "ndffi.callback and keep it alive for as long as C may call it.",
                 type.c_str());
  else
    PyErr_Format(PyExc_RuntimeError,
                 "C called a callback of type '%s' after its ndffi.Callback was garbage-collected "
                 "or released (or, for a plain callable, after the call it was passed to "
                 "returned); it returned 0. Keep a reference to the Callback, unreleased, for as "
                 "long as C may call it.",
                 type.c_str());
  write_unraisable("in an ndffi callback", nullptr);
}

// The callback raised: C gets on_error, the exception goes to the state set aside.
__attribute__((noinline, cold)) static void callback_failed(CallbackObject *cb, void *ret, PyThreadState *outer_gil,
                                                            PyObject *&outer_pending, long &outer_dropped) {
  memcpy(ret, cb->error_value, cb->closure->plan->ret_bytes);
  if (!outer_pending) outer_dropped = 0;
  CallState outer{outer_gil, outer_pending, outer_dropped};
  keep_or_report(cb, outer_gil != nullptr, outer);
  outer_pending = outer.pending;
  outer_dropped = outer.dropped;
}

// Py_DECREF, kept inline.
static inline __attribute__((always_inline)) void decref(PyObject *o) {
#if PY_VERSION_HEX >= 0x030C0000
  Py_DECREF(o);
#else
  if (--o->ob_refcnt == 0) _Py_Dealloc(o);
#endif
}

// fn(*args), through the vectorcall function found when the callback was made, without
// PyObject_Vectorcall's result check, which only matters for a result without an
// exception or the reverse.
static inline __attribute__((always_inline)) PyObject *call_python(CallbackObject *cb, PyObject **args, size_t n) {
  PyObject *r = cb->fn_vectorcall(cb->fn, args, n | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  if (__builtin_expect(!r, 0) && !PyErr_Occurred())
    PyErr_Format(PyExc_SystemError, "%R returned NULL without setting an exception", cb->fn);
  return r;
}

PyObject *vectorcall_any(PyObject *fn, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  PyTypeObject *tp = Py_TYPE(fn);  // PyVectorcall_Function, which 3.11 does not inline
  if (PyType_HasFeature(tp, Py_TPFLAGS_HAVE_VECTORCALL)) {
    if (vectorcallfunc vc = *(vectorcallfunc *)((char *)fn + tp->tp_vectorcall_offset))
      return vc(fn, args, nargsf, kwnames);
  }
  return PyObject_Vectorcall(fn, args, nargsf, kwnames);
}

// A thread C started has no Python thread state: PyGILState_Ensure makes one and the
// matching Release destroys it, which costs a data-stack mmap/munmap and page faults
// (~20 us) per callback.  So the first callback on such a thread keeps one more
// PyGILState count, for as long as the thread lives: one thread state per thread that
// calls back.  When the thread exits, the GIL may be held by a thread waiting for it
// (pthread_join under a call that keeps the GIL), so the exiting thread does not take
// it: its thread state is handed to the interpreter, which deletes it at its next
// pending call, on the main thread.
namespace {
std::mutex exited_mu;
std::vector<PyThreadState *> exited;  // thread states of finished threads, to delete

int delete_exited(void *) {
  std::vector<PyThreadState *> done;
  {
    std::lock_guard<std::mutex> lock(exited_mu);
    done.swap(exited);
  }
  for (PyThreadState *ts : done) {
#if PY_VERSION_HEX >= 0x030C0000
    // 3.12+ unbinds a thread state PyGILState knows by clearing the PyGILState slot of the
    // thread deleting it (here: the main thread's own); the slot of the thread that has
    // finished is gone with it.
    ts->_status.bound_gilstate = 0;
#endif
    PyThreadState_Clear(ts);
    PyThreadState_Delete(ts);
  }
  return 0;
}

struct KeptThreadState {
  bool kept = false;
  ~KeptThreadState() {
    if (!kept || !Py_IsInitialized() || ND_IS_FINALIZING()) return;
    PyThreadState *ts = PyGILState_GetThisThreadState();
    if (!ts) return;
    bool first;
    {
      std::lock_guard<std::mutex> lock(exited_mu);
      first = exited.empty();
      exited.push_back(ts);
    }
    // The queue of pending calls holds 32: when it is full, the next exit asks again.
    if (first && Py_AddPendingCall(delete_exited, nullptr) < 0) {
      std::lock_guard<std::mutex> lock(exited_mu);
      exited.pop_back();  // left to the interpreter's end (it deletes every thread state)
    }
  }
};
thread_local KeptThreadState kept_thread_state;
}  // namespace

static inline PyGILState_STATE ensure_gil() {
  bool foreign = PyGILState_GetThisThreadState() == nullptr;
  PyGILState_STATE s = PyGILState_Ensure();
  if (foreign) {
    PyGILState_Ensure();
    kept_thread_state.kept = true;
  }
  return s;
}

// The identifier CPython gives this thread (PyThreadState.thread_id), cheaply.
static inline unsigned long this_thread_id() {
#ifndef _WIN32
  return (unsigned long)pthread_self();
#else
  return PyThread_get_thread_ident();
#endif
}

// This thread's thread state, once a callback has seen it current; until then a value
// no thread state has, so that an equal current one is never null.
#define ND_NO_TSTATE ((PyThreadState *)2)
static ND_TLS PyThreadState *my_tstate = ND_NO_TSTATE;

// How the trampoline got the GIL, to give it back the same way: held already, with
// PyEval_RestoreThread, or with PyGILState_Ensure, which returned LOCKED or UNLOCKED.
enum class Gil { Held, Restored, EnsuredUnlocked, EnsuredLocked };

// Where the arguments are: pointers from libffi, the slots of a direct entry's frame, or
// the values a register entry passed (count, and whether C reads a result, known at
// compile time).
struct ArgPointers {
  static constexpr bool void_result = false;  // known only from the callback
  void **p;
  size_t n;
  size_t count() const { return n; }
  void *operator[](size_t i) const { return p[i]; }
};
struct FrameSlots {
  static constexpr bool void_result = false;
  uint64_t *frame;
  const uint8_t *slot;
  size_t n;
  size_t count() const { return n; }
  void *operator[](size_t i) const { return frame + slot[i]; }
};
template <size_t NI, size_t NF, bool VoidResult>
struct RegValues {
  static constexpr bool void_result = VoidResult;
  uint64_t *v;
  const uint8_t *index;  // plan.reg_index: needed only where floating arguments come after the integers
  static constexpr size_t count() { return NI + NF; }
  void *operator[](size_t i) const { return v + (NF ? index[i] : i); }
};

template <class Args>
static inline __attribute__((always_inline)) void trampoline(Closure *c, void *ret, Args args) {
  const CallbackPlan &plan = *c->plan;
  // The GIL: retaken with the thread state the ndffi call below saved, already held when
  // that call kept it, and PyGILState_Ensure otherwise.  The checks against the current
  // thread state guard against C in between that took or released the GIL itself.
  CallState &cs = call_state;
  PyThreadState *const outer_gil = cs.gil;
  Gil how;
  if (outer_gil == ND_GIL_HELD) {
    PyThreadState *cur = ND_CURRENT_TSTATE();
    bool mine = cur == my_tstate || (cur && cur->thread_id == this_thread_id() && (my_tstate = cur));
    how = mine ? Gil::Held : Gil::EnsuredUnlocked;
  } else if (outer_gil && outer_gil != ND_GIL_ENSURE) {
    how = ND_CURRENT_TSTATE() == outer_gil ? Gil::Held : Gil::Restored;
  } else {
    how = Gil::EnsuredUnlocked;
  }
  if (how == Gil::Restored) {
    PyEval_RestoreThread(outer_gil);
  } else if (how == Gil::EnsuredUnlocked) {
    if (!Py_IsInitialized() || ND_IS_FINALIZING()) {
      memset(ret, 0, plan.ret_bytes);
      return;
    }
    if (ensure_gil() == PyGILState_LOCKED) how = Gil::EnsuredLocked;
  }
  // The state of the ndffi call below is set aside while Python code runs.  `pending`
  // is null then and `dropped` zero, unless an earlier callback of the same call raised;
  // and both are so again when the Python code returns (a nested ndffi call raises the
  // exceptions of its own callbacks).
  PyObject *outer_pending = cs.pending;
  long outer_dropped;  // read only while outer_pending is set
  const long depth = cs.depth++;
  cs.gil = nullptr;
  if (__builtin_expect(outer_pending != nullptr, 0)) {
    outer_dropped = cs.dropped;
    cs.pending = nullptr;
    cs.dropped = 0;
  }

  auto *cb = (CallbackObject *)c->user.load(std::memory_order_acquire);
  if (__builtin_expect(!cb || (cb->guarded && !cb->fn), 0)) {
    report_dead(c, ret, false);
  } else if (__builtin_expect(cb->guarded, 0) && cb->temporary && outer_gil &&
             (cb->bound != &cs || cb->bound_depth != depth)) {
    report_dead(c, ret, true);  // from an ndffi call other than the one cb was made for
  } else {
    Py_INCREF(cb);
    const size_t n = args.count();
    PyObject *stack[kMaxStackArgs + 1];
    PyObject **argv = n <= kMaxStackArgs ? stack : (PyObject **)PyMem_Malloc((n + 1) * sizeof(PyObject *));
    PyObject *res = nullptr;
    size_t made = 0;
    if (argv) {
      for (; made < n; made++) {
        PyObject *v = arg_to_python(cb, made, plan, args[made]);
        if (!v) break;
        argv[made + 1] = v;
      }
      if (made == n) res = call_python(cb, argv + 1, n);
      for (size_t i = 0; i < made; i++) decref(argv[i + 1]);
      if (argv != stack) PyMem_Free(argv);
    } else {
      PyErr_NoMemory();
    }
    if (__builtin_expect(!res || !(Args::void_result || result_to_c(cb, plan.ret, res, (unsigned char *)ret)), 0))
      callback_failed(cb, ret, outer_gil, outer_pending, outer_dropped);
    if (res) decref(res);
    decref((PyObject *)cb);
  }

  cs.depth = depth;
  cs.gil = outer_gil;
  cs.pending = outer_pending;
  if (__builtin_expect(outer_pending != nullptr, 0)) cs.dropped = outer_dropped;
  if (__builtin_expect(how != Gil::Held, 0)) {
    if (how == Gil::Restored) PyEval_SaveThread();
    else PyGILState_Release(how == Gil::EnsuredLocked ? PyGILState_LOCKED : PyGILState_UNLOCKED);
  }
}

static void trampoline_ffi(Closure *c, void *ret, void **args) {
  trampoline(c, ret, ArgPointers{args, c->plan->args.size()});
}

static void trampoline_frame(Closure *c, uint64_t *frame) {
  const CallbackPlan &plan = *c->plan;
  trampoline(c, frame + plan.ret_slot, FrameSlots{frame, plan.slot.data(), plan.args.size()});
}

// Register entries (see RegHandler): C's arguments arrive as the handler's, the result
// is returned in the register C reads it from.
struct TrampolineRegs {
  template <size_t NI, size_t NF, bool VoidResult>
  static inline __attribute__((always_inline)) void run(Closure *c, uint64_t *args, uint64_t *ret) {
    trampoline(c, ret, RegValues<NI, NF, VoidResult>{args, NF ? c->plan->reg_index.data() : nullptr});
  }
};

Closure *new_callback_closure(const CallbackPlan &plan, CallbackObject *cb, bool temporary) {
  return closure_new(plan, trampoline_ffi, cb, trampoline_frame, reg_handler_for<TrampolineRegs>(plan), temporary);
}

}  // namespace ndffi::py
