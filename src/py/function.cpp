// ndffi.Function: a C function with its call plan, called through vectorcall.
//
// The hot path (positional arguments, no varargs) converts each argument with the
// converter its plan chose into stack storage, calls the ABI stub or libffi, and
// converts the result: no allocation, no dictionary look-up, no parsing.
#include <alloca.h>
#include <cerrno>
#include <cstring>

#include "callback.h"
#include "common.h"
#include "fastpath.h"
#include "messages.h"

namespace ndffi::py {

// Argument storage on the stack for the fast path; larger calls take the general one.
constexpr uint32_t kFastStorage = 256;
constexpr uint32_t kFastResult = 32;  // bytes of the result buffer of the fast path

static thread_local int saved_errno = 0;
int get_saved_errno() { return saved_errno; }
void set_saved_errno(int v) { saved_errno = v; }

// The call, with the errno of ndffi.errno() around it when the function asked for it.
static inline void invoke(const FunctionObject *f, unsigned char *storage, uint64_t *ret) {
  if (f->use_errno) errno = saved_errno;
  call(*f->plan, storage, ret);
  if (f->use_errno) saved_errno = errno;
}

// The raw result as Python: a long double comes back in memory (libffi), not a register.
static inline PyObject *result(const CallPlan &p, const uint64_t *ret) {
  if (p.ret.conv == Conv::LongDouble) {
    long double ld;
    memcpy(&ld, ret, sizeof ld);
    return longdouble_object(ld);
  }
  if (p.ret.conv == Conv::Record) return make_record(p.ret.type, ret);
  return from_c(p.ret, ret[0]);
}

// A function pointer a C function returns keeps the function's library, where the code
// it points to most likely lives, so that calling it stays safe after the library goes.
static inline void keep_library(PyObject *r, const FunctionObject *f) {
  auto *p = (PointerObject *)r;
  if (p->owner || !f->keepalive) return;
  Py_INCREF(f->keepalive);
  p->owner = f->keepalive;
}

// What every call does with its result: memory that came back pointing into an
// argument's is adopted, a function pointer keeps the library, and an exception a
// callback raised during the call is raised (one thread-local load when none).
__attribute__((always_inline)) static inline PyObject *finish_call(const FunctionObject *f, PyObject *r,
                                                                   PyObject *const *args, Py_ssize_t n) {
  if (__builtin_expect(f->adopts, 0) && r) adopt_argument_memory(r, args, n);
  if (__builtin_expect(f->plan->ret.conv == Conv::FuncPtr, 0) && r) keep_library(r, f);
  return __builtin_expect(call_state.pending != nullptr, 0) ? take_pending(r) : r;
}

// A variadic call: args[0..nargs) are the fixed arguments, then the variadic ones; the
// plan for their C types comes from the function's cache (variadic.cpp).
static PyObject *call_variadic(FunctionObject *f, PyObject *const *args, Py_ssize_t nargs) {
  Py_ssize_t nfixed = Py_ssize_t(f->plan->args.size());
  VarPlan *vp = variadic_plan(f, args + nfixed, nargs - nfixed);
  if (!vp) return nullptr;
  struct Use {  // the plan lives while the call uses it, though the cache may drop it
    VarPlan *vp;
    ~Use() { release_plan(vp); }
  } use{vp};
  const CallPlan &p = vp->plan;
  alignas(16) unsigned char small[256];
  std::vector<uint64_t> big;
  unsigned char *storage =
      p.storage <= sizeof small ? small : (big.resize(p.storage / 8 + 2), (unsigned char *)big.data());
  memset(storage, 0, p.storage);
  Holds holds;
  for (Py_ssize_t i = 0; i < nargs; i++) {
    const ArgSpec &a = p.args[size_t(i)];
    const PyArgInfo &info = i < nfixed ? f->info[i] : vp->info[i - nfixed];
    PyObject *o = args[i];
    if (i >= nfixed && is_value(o)) o = ((ValueObject *)o)->value;
    unsigned char *dst = storage + a.offset;
    if (!fast_arg(a, info, o, dst) && !to_c(a, info, o, dst, holds, Where{f, int(i)})) return nullptr;
  }
  alignas(16) uint64_t small_ret[4] = {0, 0, 0, 0};
  std::vector<uint64_t> big_ret;
  uint64_t *ret = p.ret.size <= kFastResult ? small_ret : (big_ret.resize(p.ret.size / 8 + 2), big_ret.data());
  if (f->release_gil) {
    Py_BEGIN_ALLOW_THREADS call_state.gil = _save;
    if (f->use_errno) errno = saved_errno;
    call(p, storage, ret);
    if (f->use_errno) saved_errno = errno;
    call_state.gil = nullptr;
    Py_END_ALLOW_THREADS
  } else {
    call_state.gil = ND_GIL_HELD;
    if (f->use_errno) errno = saved_errno;
    call(p, storage, ret);
    if (f->use_errno) saved_errno = errno;
    call_state.gil = nullptr;
  }
  holds.release();
  PyObject *r = result(p, ret);
  return finish_call(f, r, args, nargs);
}

// Keyword arguments and variadic calls: gather into one positional list and extra
// arguments; slower, but each step still checked.  Nothing is formatted unless an error
// is raised.
__attribute__((noinline)) static PyObject *call_general(FunctionObject *f, PyObject *const *args, Py_ssize_t nargs,
                                                        PyObject *kwnames) {
  const CallPlan &p = *f->plan;
  Py_ssize_t nfixed = Py_ssize_t(p.args.size());
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (!nkw && p.type->variadic && nargs >= nfixed) return call_variadic(f, args, nargs);
  auto fname = [f] { return f->decl->name.c_str(); };
  if (nargs > nfixed && !p.type->variadic) return wrong_argument_count(f, nargs + nkw, -1);
  std::vector<PyObject *> all(size_t(std::max(nargs, nfixed)), nullptr);  // the fixed ones, then the extra
  for (Py_ssize_t i = 0; i < nargs; i++) all[size_t(i)] = args[i];
  for (Py_ssize_t k = 0; k < nkw; k++) {
    PyObject *name = PyTuple_GET_ITEM(kwnames, k);
    Py_ssize_t len;
    const char *kw = PyUnicode_AsUTF8AndSize(name, &len);
    if (!kw) return nullptr;
    Py_ssize_t i = 0;
    while (i < nfixed && f->decl->param_names[size_t(i)].compare(0, std::string::npos, kw, size_t(len)) != 0) i++;
    if (i == nfixed) return unexpected_keyword(f, name);
    if (all[size_t(i)]) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname(), kw);
      return nullptr;
    }
    all[size_t(i)] = args[nargs + k];
  }
  for (Py_ssize_t i = 0; i < nfixed; i++)
    if (!all[size_t(i)]) return wrong_argument_count(f, nargs + nkw, i);
  if (p.type->variadic) return call_variadic(f, all.data(), Py_ssize_t(all.size()));

  std::vector<uint64_t> storage_words(p.storage / 8 + 2, 0);
  auto *storage = (unsigned char *)storage_words.data();
  Holds holds;
  for (Py_ssize_t i = 0; i < nfixed; i++) {
    unsigned char *dst = storage + p.args[size_t(i)].offset;
    if (!fast_arg(p.args[size_t(i)], f->info[i], all[size_t(i)], dst) &&
        !to_c(p.args[size_t(i)], f->info[i], all[size_t(i)], dst, holds, Where{f, int(i)}))
      return nullptr;
  }
  std::vector<uint64_t> retbuf(std::max<size_t>(4, p.ret.size / 8 + 2), 0);  // 16-aligned
  uint64_t *ret = retbuf.data();
  if (f->release_gil) {
    Py_BEGIN_ALLOW_THREADS call_state.gil = _save;
    invoke(f, storage, ret);
    call_state.gil = nullptr;
    Py_END_ALLOW_THREADS
  } else {
    call_state.gil = ND_GIL_HELD;
    invoke(f, storage, ret);
    call_state.gil = nullptr;
  }
  holds.release();
  PyObject *r = result(p, ret);
  if (r && f->adopts) adopt_argument_memory(r, all.data(), nfixed);
  if (r && p.ret.conv == Conv::FuncPtr) keep_library(r, f);
  return __builtin_expect(call_state.pending != nullptr, 0) ? take_pending(r) : r;
}

// How a call is made, chosen once when the function is made: a direct stub holding the
// GIL, anything releasing the GIL, or anything else (libffi, errno) holding it.
enum CallMode { kDirectHold, kRelease, kHold };

// The fast path for N positional arguments (N < 0: any count, from f->nfast).
template <int N, int Mode>
static PyObject *vectorcall_fast(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  auto *f = (FunctionObject *)self;
  Py_ssize_t n = PyVectorcall_NARGS(nargsf);
  if (kwnames || n != (N >= 0 ? N : f->nfast)) return call_general(f, args, n, kwnames);
  if constexpr (N >= 0) n = N;
  const CallPlan &p = *f->plan;
  const ArgSpec *specs = p.args.data();
  alignas(16) unsigned char storage[kFastStorage];
  Holds holds;
  for (Py_ssize_t i = 0; i < n; i++) {
    unsigned char *dst = storage + specs[i].offset;
    if (!fast_arg(specs[i], f->info[i], args[i], dst) &&
        !to_c(specs[i], f->info[i], args[i], dst, holds, Where{f, int(i)}))
      return nullptr;
  }
  alignas(16) uint64_t ret[4];  // libffi may write a long double result
  // call_state.gil tells a callback C makes on this thread how to get the GIL back.
  if constexpr (Mode == kRelease) {
    Py_BEGIN_ALLOW_THREADS call_state.gil = _save;
    invoke(f, storage, ret);
    call_state.gil = nullptr;
    Py_END_ALLOW_THREADS
  } else {
    call_state.gil = ND_GIL_HELD;
    if constexpr (Mode == kDirectHold) ret[0] = p.direct(p.fn, storage);
    else invoke(f, storage, ret);
    call_state.gil = nullptr;
  }
  holds.release();
  PyObject *r = f->ret_inline ? make_record_inline(f->ret_ptype, ret)
                : p.ret.conv == Conv::LongDouble || p.ret.conv == Conv::Record
                    ? result(p, ret)
                    : fast_result(p.ret, f->ret_ptype, ret[0]);
  return finish_call(f, r, args, n);
}

// No argument, the GIL held, a direct stub and a scalar or pointer result: nothing to
// convert, hold or adopt, in a function of its own (no frame for what it does not do).
static PyObject *vectorcall_none(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  auto *f = (FunctionObject *)self;
  if (__builtin_expect(kwnames || PyVectorcall_NARGS(nargsf), 0))
    return call_general(f, args, PyVectorcall_NARGS(nargsf), kwnames);
  const CallPlan &p = *f->plan;
  alignas(16) unsigned char none[16];  // no argument is read from it
  call_state.gil = ND_GIL_HELD;
  uint64_t raw = p.direct(p.fn, none);
  call_state.gil = nullptr;
  PyObject *r = fast_result(p.ret, f->ret_ptype, raw);
  return __builtin_expect(call_state.pending != nullptr, 0) ? take_pending(r) : r;
}

// The N arguments into `storage` by the fast converters; false if one is not theirs.
template <int N>
__attribute__((always_inline)) static inline bool fast_args(const FunctionObject *f, PyObject *const *args,
                                                            unsigned char *storage) {
  const ArgSpec *specs = f->plan->args.data();
  for (int i = 0; i < N; i++)
    if (!fast_arg(specs[i], f->info[i], args[i], storage + specs[i].offset)) return false;
  return true;
}

// N arguments, the GIL held, a direct stub and a scalar or pointer result: the
// arguments the fast converters take, in a small frame; anything else (a conversion that
// needs the general converter, which may hold buffers) starts over in vectorcall_fast.
template <int N>
static PyObject *vectorcall_direct(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  auto *f = (FunctionObject *)self;
  if (__builtin_expect(kwnames || PyVectorcall_NARGS(nargsf) != N, 0))
    return call_general(f, args, PyVectorcall_NARGS(nargsf), kwnames);
  const CallPlan &p = *f->plan;
  alignas(16) unsigned char storage[kFastStorage];
  if (!fast_args<N>(f, args, storage)) return vectorcall_fast<N, kDirectHold>(self, args, nargsf, kwnames);
  call_state.gil = ND_GIL_HELD;
  uint64_t raw = p.direct(p.fn, storage);
  call_state.gil = nullptr;
  PyObject *r = fast_result(p.ret, f->ret_ptype, raw);
  return finish_call(f, r, args, N);
}

// N arguments, the GIL held, the ABI file's engine (structs by value) and a result that
// is not a long double: as vectorcall_direct, through the engine.
template <int N>
static PyObject *vectorcall_engine(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  auto *f = (FunctionObject *)self;
  if (__builtin_expect(kwnames || PyVectorcall_NARGS(nargsf) != N, 0))
    return call_general(f, args, PyVectorcall_NARGS(nargsf), kwnames);
  const CallPlan &p = *f->plan;
  alignas(16) unsigned char storage[kFastStorage];
  if (!fast_args<N>(f, args, storage)) return vectorcall_fast<N, kHold>(self, args, nargsf, kwnames);
  alignas(16) uint64_t ret[4];  // what the engine leaves: the result's eightbytes, or its bytes
  call_state.gil = ND_GIL_HELD;
  p.engine(p, storage, ret);
  call_state.gil = nullptr;
  PyObject *r = f->ret_inline ? make_record_inline(f->ret_ptype, ret) : result(p, ret);
  return finish_call(f, r, args, N);
}

// Up to two arguments, the GIL held, a direct stub: the arguments' and the result's kinds
// are template parameters, chosen once when the function is made, so that a call tests
// nothing about its own signature.  An argument no fast converter takes starts over in
// vectorcall_fast.
enum class ArgKind { None, Int, Float, Pointer };
enum class RetKind { Void, Int64, Int, Double, Pointer };

template <ArgKind K>
__attribute__((always_inline)) static inline bool typed_arg(const ArgSpec &a, const PyArgInfo &info, PyObject *o,
                                                            unsigned char *dst) {
  if constexpr (K == ArgKind::Int) return fast_int(a, o, dst);
  else if constexpr (K == ArgKind::Float) return fast_float(a, o, dst);
  else return fast_bytes(info, o, dst) || fast_array(info, o, dst);
}

template <RetKind R>
__attribute__((always_inline)) static inline PyObject *typed_result(const FunctionObject *f, uint64_t raw) {
  if constexpr (R == RetKind::Void) Py_RETURN_NONE;
  else if constexpr (R == RetKind::Int64) return PyLong_FromLongLong(int64_t(raw));
  else if constexpr (R == RetKind::Int) return PyLong_FromLongLong(extend_signed(raw, f->plan->ret.size));
  else if constexpr (R == RetKind::Double) {
    double d;
    memcpy(&d, &raw, 8);
    return PyFloat_FromDouble(d);
  } else return make_pointer_in((void *)uintptr_t(raw), f->ret_ptype, nullptr, Span());
}

// The argument of slot i (8 bytes at 8 * i: typed_vectorcall checks the plan's offsets).
// Release: the GIL is released over the call, as vectorcall_fast<N, kRelease> does (the
// arguments the fast converters take hold nothing: the caller's references keep them).
template <RetKind R, ArgKind K0, ArgKind K1, bool Adopts, bool Release>
static PyObject *vectorcall_typed(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  constexpr int N = (K0 != ArgKind::None) + (K1 != ArgKind::None);
  constexpr int kFallback = Release ? kRelease : kDirectHold;
  auto *f = (FunctionObject *)self;
  if (__builtin_expect(kwnames || PyVectorcall_NARGS(nargsf) != N, 0))
    return call_general(f, args, PyVectorcall_NARGS(nargsf), kwnames);
  const CallPlan &p = *f->plan;
  uint64_t storage[2];
  if constexpr (N >= 1)
    if (!typed_arg<K0>(p.args[0], f->info[0], args[0], reinterpret_cast<unsigned char *>(&storage[0])))
      return vectorcall_fast<N, kFallback>(self, args, nargsf, kwnames);
  if constexpr (N >= 2)
    if (!typed_arg<K1>(p.args[1], f->info[1], args[1], reinterpret_cast<unsigned char *>(&storage[1])))
      return vectorcall_fast<N, kFallback>(self, args, nargsf, kwnames);
  uint64_t raw;
  if constexpr (Release) {
    Py_BEGIN_ALLOW_THREADS call_state.gil = _save;
    raw = p.direct(p.fn, reinterpret_cast<unsigned char *>(storage));
    call_state.gil = nullptr;
    Py_END_ALLOW_THREADS
  } else {
    call_state.gil = ND_GIL_HELD;
    raw = p.direct(p.fn, reinterpret_cast<unsigned char *>(storage));
    call_state.gil = nullptr;
  }
  PyObject *r = typed_result<R>(f, raw);
  // only a pointer argument or result can bring back memory to adopt
  if constexpr (Adopts)
    if (r) adopt_argument_memory(r, args, N);
  return __builtin_expect(call_state.pending != nullptr, 0) ? take_pending(r) : r;
}

static ArgKind arg_kind(Conv c) {
  switch (c) {
    case Conv::SInt:
    case Conv::UInt: return ArgKind::Int;
    case Conv::Double:
    case Conv::Float: return ArgKind::Float;
    case Conv::Pointer: return ArgKind::Pointer;
    default: return ArgKind::None;
  }
}

// The typed vectorcall for R and the kinds of args[from..n), after the kinds before.
template <RetKind R, bool Release, ArgKind... Before>
static vectorcallfunc pick_typed(const ArgKind *kinds, int from, int n, bool adopts) {
  if constexpr (sizeof...(Before) == 2) {
    if constexpr (R == RetKind::Pointer || ((Before == ArgKind::Pointer) || ...))
      if (adopts) return vectorcall_typed<R, Before..., true, Release>;
    return vectorcall_typed<R, Before..., false, Release>;
  } else {
    if (from == n) return pick_typed<R, Release, Before..., ArgKind::None>(kinds, from, n, adopts);
    switch (kinds[from]) {
      case ArgKind::Int: return pick_typed<R, Release, Before..., ArgKind::Int>(kinds, from + 1, n, adopts);
      case ArgKind::Float: return pick_typed<R, Release, Before..., ArgKind::Float>(kinds, from + 1, n, adopts);
      case ArgKind::Pointer: return pick_typed<R, Release, Before..., ArgKind::Pointer>(kinds, from + 1, n, adopts);
      default: return nullptr;
    }
  }
}

template <bool Release>
static vectorcallfunc pick_typed_result(Conv rc, size_t rsize, const ArgKind *kinds, int n, bool adopts) {
  switch (rc) {
    case Conv::Void: return pick_typed<RetKind::Void, Release>(kinds, 0, n, adopts);
    case Conv::SInt:
      return rsize == 8 ? pick_typed<RetKind::Int64, Release>(kinds, 0, n, adopts)
                        : pick_typed<RetKind::Int, Release>(kinds, 0, n, adopts);
    case Conv::Double: return pick_typed<RetKind::Double, Release>(kinds, 0, n, adopts);
    case Conv::Pointer: return pick_typed<RetKind::Pointer, Release>(kinds, 0, n, adopts);
    default: return nullptr;
  }
}

// A typed vectorcall for a direct function (holding the GIL or releasing it, as it was
// declared) of at most two arguments of the kinds above and a result of the kinds above,
// else nullptr.
static vectorcallfunc typed_vectorcall(const FunctionObject *f) {
  const CallPlan &p = *f->plan;
  int n = int(f->nfast);
  if (n < 0 || n > 2 || p.storage > 16) return nullptr;
  ArgKind kinds[2] = {ArgKind::None, ArgKind::None};
  for (int i = 0; i < n; i++) {
    if ((kinds[i] = arg_kind(p.args[size_t(i)].conv)) == ArgKind::None) return nullptr;
    if (p.args[size_t(i)].offset != 8 * size_t(i)) return nullptr;  // the slots vectorcall_typed fills
  }
  return f->release_gil ? pick_typed_result<true>(p.ret.conv, p.ret.size, kinds, n, f->adopts)
                        : pick_typed_result<false>(p.ret.conv, p.ret.size, kinds, n, f->adopts);
}

template <int N>
static vectorcallfunc pick_mode(int mode) {
  return mode == kDirectHold ? vectorcall_fast<N, kDirectHold>
         : mode == kRelease  ? vectorcall_fast<N, kRelease>
                             : vectorcall_fast<N, kHold>;
}

static vectorcallfunc pick_vectorcall(const FunctionObject *f) {
  const bool direct = f->plan->direct && !f->use_errno;
  int mode = f->release_gil ? kRelease : direct ? kDirectHold : kHold;
  Conv rc = f->plan->ret.conv;
  if (direct)
    if (vectorcallfunc typed = typed_vectorcall(f)) return typed;  // either GIL mode
  if (mode == kDirectHold && rc != Conv::LongDouble && rc != Conv::Record) {
    if (f->nfast == 0 && rc != Conv::FuncPtr) return vectorcall_none;
    if (f->nfast == 1) return vectorcall_direct<1>;
    if (f->nfast == 2) return vectorcall_direct<2>;
    if (f->nfast == 3) return vectorcall_direct<3>;
    if (f->nfast == 4) return vectorcall_direct<4>;
  }
  if (mode == kHold && f->plan->engine && !f->use_errno && rc != Conv::LongDouble) {  // nfast > 0: not variadic
    if (f->nfast == 1) return vectorcall_engine<1>;
    if (f->nfast == 2) return vectorcall_engine<2>;
    if (f->nfast == 3) return vectorcall_engine<3>;
  }
  switch (f->nfast) {
    case 0: return pick_mode<0>(mode);
    case 1: return pick_mode<1>(mode);
    case 2: return pick_mode<2>(mode);
    case 3: return pick_mode<3>(mode);
    case 4: return pick_mode<4>(mode);
    default: return pick_mode<-1>(mode);
  }
}

// The docstring, made once: the face's own (its PyMethodDef's), which pydoc reads
// without going through attribute look-up.
static std::string *make_doc(const FunctionObject *f) {
  auto *doc = new std::string(f->decl->str());
  *doc += f->plan->direct || f->plan->engine ? "\n\nA C function (called directly)"
                                             : "\n\nA C function (called through libffi)";
  *doc += f->release_gil ? "; the GIL is released during the call." : "; the GIL is held.";
  return doc;
}

PyObject *make_function(const Decl &decl, void *fn, PyObject *keepalive, bool release_gil, bool use_errno,
                        bool allow_direct) {
  auto plan = std::make_unique<CallPlan>();
  try {
    make_plan(*plan, decl.type, fn, allow_direct);
  } catch (const std::exception &e) {
    PyErr_Format(PyExc_TypeError, "cannot call '%s': %s", decl.str().c_str(), e.what());
    return nullptr;
  }
  auto *f = PyObject_GC_New(FunctionObject, &FunctionType);
  if (!f) return nullptr;
  f->plan = plan.release();
  f->decl = new Decl(decl);
  f->varplans = nullptr;  // made by the first variadic call
  f->info = new PyArgInfo[f->plan->args.size() + 1];
  for (size_t i = 0; i < f->plan->args.size(); i++) fill_arg_info(f->info[i], decl.type->params[i]);
  f->keepalive = keepalive;
  Py_XINCREF(keepalive);
  f->weakrefs = nullptr;
  f->release_gil = release_gil;
  f->use_errno = use_errno;
  // a pointer result, a struct result holding pointers, or ndffi memory holding pointers
  // that C may write to: what comes back pointing into an argument keeps it
  f->adopts = f->plan->ret.conv == Conv::Pointer || holds_pointers(decl.type->target) || decl.type->variadic;
  for (const CType *param : decl.type->params)
    f->adopts |= param->kind == Kind::Pointer && !param->target->is_const() &&
                 (param->target->kind == Kind::Void || holds_pointers(param->target));
  f->adopts &= !decl.type->params.empty() || decl.type->variadic;  // no argument, nothing to adopt
  bool fast = !decl.type->variadic && f->plan->storage <= kFastStorage && f->plan->ret.size <= kFastResult;
  f->nfast = fast ? Py_ssize_t(f->plan->args.size()) : -1;
  f->ret_ptype = TypeTable::get().unqualified(f->plan->ret.type);
  f->ret_inline = f->plan->ret.conv == Conv::Record && f->ret_ptype->kind == Kind::Record &&
                  f->plan->ret.size <= RecordObject::kInlineRecord &&
                  f->ret_ptype->alignment() <= alignof(RecordObject);
  f->vectorcall = pick_vectorcall(f);
  // The face calls the same fast path: a METH_FASTCALL nargs is a vectorcall's without flags.
  f->def = {f->decl->name.c_str(), (PyCFunction)(void (*)(void))f->vectorcall, METH_FASTCALL | METH_KEYWORDS, nullptr};
  f->face = nullptr;
  f->signature = nullptr;
  f->home = nullptr;
  f->doc = make_doc(f);
  f->def.ml_doc = f->doc->c_str();
  PyObject_GC_Track(f);
  PyObject *face = face_of(f);
  Py_DECREF(f);
  return face;
}

static int function_traverse(PyObject *self, visitproc visit, void *arg) {
  Py_VISIT(((FunctionObject *)self)->keepalive);
  Py_VISIT(((FunctionObject *)self)->signature);
  Py_VISIT(((FunctionObject *)self)->home);
  return 0;
}

static int function_clear(PyObject *self) {
  Py_CLEAR(((FunctionObject *)self)->keepalive);
  Py_CLEAR(((FunctionObject *)self)->signature);
  Py_CLEAR(((FunctionObject *)self)->home);
  return 0;
}

static void function_dealloc(PyObject *self) {
  auto *f = (FunctionObject *)self;
  PyObject_GC_UnTrack(self);
  if (f->weakrefs) PyObject_ClearWeakRefs(self);
  function_clear(self);
  Py_XDECREF(f->face);
  delete f->doc;
  free_variadic_plans(f->varplans);
  delete f->plan;
  delete[] f->info;
  delete f->decl;
  PyObject_GC_Del(self);
}

static PyObject *function_repr(PyObject *self) {
  auto *f = (FunctionObject *)self;
  return PyUnicode_FromFormat("<ndffi.Function %s>", f->decl->str().c_str());
}

static PyObject *function_get_doc(PyObject *self, void *) {
  return PyUnicode_FromString(((FunctionObject *)self)->doc->c_str());
}

// A face is a function, not a method of its Function (pydoc, inspect): no __self__.
static PyObject *function_get_self(PyObject *, void *) { Py_RETURN_NONE; }

static PyObject *function_get_name(PyObject *self, void *) {
  return PyUnicode_FromString(((FunctionObject *)self)->decl->name.c_str());
}

static PyObject *function_get_prototype(PyObject *self, void *) {
  return PyUnicode_FromString(((FunctionObject *)self)->decl->str().c_str());
}

static PyObject *function_get_ctype(PyObject *self, void *) {
  return ctype_object(((FunctionObject *)self)->decl->type);
}

static PyObject *function_get_address(PyObject *self, void *) {
  return PyLong_FromVoidPtr(((FunctionObject *)self)->plan->fn);
}

static PyObject *function_get_params(PyObject *self, void *) {
  auto *f = (FunctionObject *)self;
  size_t n = f->decl->type->params.size();
  PyObject *t = PyTuple_New(Py_ssize_t(n));
  for (size_t i = 0; t && i < n; i++) {
    PyObject *item = Py_BuildValue("(sN)", f->decl->param_names[i].c_str(), ctype_object(f->decl->type->params[i]));
    if (!item) {
      Py_DECREF(t);
      return nullptr;
    }
    PyTuple_SET_ITEM(t, Py_ssize_t(i), item);
  }
  return t;
}

static PyObject *function_get_flag(PyObject *self, void *which) {
  auto *f = (FunctionObject *)self;
  const char *w = (const char *)which;
  bool v = w[0] == 'r' ? f->release_gil : w[0] == 'u' ? f->use_errno : f->plan->direct || f->plan->engine;
  return PyBool_FromLong(v);
}

static PyObject *function_get_variadic_plans(PyObject *self, void *) {
  return variadic_plan_types((FunctionObject *)self);
}

static PyObject *function_get_signature(PyObject *self, void *);  // below, with forward()

static PyGetSetDef function_getset[] = {
    {"__doc__", function_get_doc, nullptr, nullptr, nullptr},
    {"__self__", function_get_self, nullptr, nullptr, nullptr},
    {"__name__", function_get_name, nullptr, nullptr, nullptr},
    {"__qualname__", function_get_name, nullptr, nullptr, nullptr},
    {"__signature__", function_get_signature, nullptr, nullptr, nullptr},
    {"prototype", function_get_prototype, nullptr, "the C prototype", nullptr},
    {"ctype", function_get_ctype, nullptr, "the C function type", nullptr},
    {"address", function_get_address, nullptr, "the function's address", nullptr},
    {"params", function_get_params, nullptr, "((name, CType), ...) of the fixed parameters", nullptr},
    {"release_gil", function_get_flag, nullptr, "whether calls release the GIL", (void *)"r"},
    {"use_errno", function_get_flag, nullptr, "whether errno is saved for ndffi.errno()", (void *)"u"},
    {"direct", function_get_flag, nullptr, "whether calls bypass libffi", (void *)"d"},
    {"_variadic_plans", function_get_variadic_plans, nullptr,
     "the types of the variadic arguments of the call plans kept, oldest first", nullptr},
    {nullptr}};

// wrap(), ufunc() and gufunc() are written in Python (ndffi.wrap and friends, from
// ndffi/numpy/), assume_const() too (ndffi/library.py); these forward to it with the
// Function as the first argument.
static PyObject *forward(PyObject *self, PyObject *args, PyObject *kwargs, const char *name,
                         const char *module = "ndffi") {
  PyObject *mod = PyImport_ImportModule(module);
  if (!mod) return nullptr;
  PyObject *fn = PyObject_GetAttrString(mod, name);
  Py_DECREF(mod);
  if (!fn) return nullptr;
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  PyObject *full = PyTuple_New(n + 1);
  if (!full) {
    Py_DECREF(fn);
    return nullptr;
  }
  PyObject *face = face_of((FunctionObject *)self);
  if (!face) {
    Py_DECREF(full);
    Py_DECREF(fn);
    return nullptr;
  }
  PyTuple_SET_ITEM(full, 0, face);
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *a = PyTuple_GET_ITEM(args, i);
    Py_INCREF(a);
    PyTuple_SET_ITEM(full, i + 1, a);
  }
  PyObject *r = PyObject_Call(fn, full, kwargs);
  Py_DECREF(full);
  Py_DECREF(fn);
  return r;
}

static PyObject *function_wrap(PyObject *self, PyObject *args, PyObject *kwargs) {
  return forward(self, args, kwargs, "wrap");
}
static PyObject *function_ufunc(PyObject *self, PyObject *args, PyObject *kwargs) {
  return forward(self, args, kwargs, "ufunc");
}
static PyObject *function_gufunc(PyObject *self, PyObject *args, PyObject *kwargs) {
  return forward(self, args, kwargs, "gufunc");
}

static PyObject *function_assume_const(PyObject *self, PyObject *args, PyObject *kwargs) {
  return forward(self, args, kwargs, "assume_const", "ndffi.library");
}

// Pickled by its library and name (ndffi.pickling): a face answers __reduce_ex__ here.
static PyObject *function_reduce(PyObject *self, PyObject *) {
  PyObject *args = PyTuple_New(0);
  if (!args) return nullptr;
  PyObject *r = forward(self, args, nullptr, "_reduce_function", "ndffi.pickling");
  Py_DECREF(args);
  return r;
}

// inspect.Signature from the prototype (ndffi.numpy.signature), made once.
static PyObject *function_get_signature(PyObject *self, void *) {
  auto *f = (FunctionObject *)self;
  if (!f->signature) {
    PyObject *args = PyTuple_New(0);
    if (!args) return nullptr;
    PyObject *sig = forward(self, args, nullptr, "signature_of", "ndffi.numpy.signature");
    Py_DECREF(args);
    if (!sig) return nullptr;
    if (f->signature) Py_DECREF(sig);  // made meanwhile
    else f->signature = sig;
  }
  Py_INCREF(f->signature);
  return f->signature;
}

static PyMethodDef function_methods[] = {
    {"wrap", (PyCFunction)(void (*)(void))function_wrap, METH_VARARGS | METH_KEYWORDS,
     "wrap($self, params=None, /, *, check=None, name=None, **more)\n--\n\n"
     "A NumPy-shaped Python function around this C function: ndffi.In, ndffi.Out, ndffi.InOut,\n"
     "ndffi.len_of and ndffi.shape_of say what each parameter is (see ndffi.wrap)."},
    {"ufunc", (PyCFunction)(void (*)(void))function_ufunc, METH_VARARGS | METH_KEYWORDS,
     "ufunc($self, name=None, *, outputs=None, threads=1, min_chunk=32768, doc=None)\n--\n\n"
     "A numpy.ufunc whose loop calls this C function for each element (see ndffi.ufunc)."},
    {"gufunc", (PyCFunction)(void (*)(void))function_gufunc, METH_VARARGS | METH_KEYWORDS,
     "gufunc($self, signature, params=None, /, *, name=None, threads=1, min_chunk=32768, doc=None, **more)\n--\n\n"
     "A generalized numpy.ufunc with core dimensions, e.g. '(n)->()' (see ndffi.gufunc)."},
    {"assume_const", (PyCFunction)(void (*)(void))function_assume_const, METH_VARARGS | METH_KEYWORDS,
     "assume_const($self, *params)\n--\n\n"
     "This function with the named pointer parameters declared as pointers to const: the\n"
     "promise, which the header does not make, that C only reads through them (so read-only\n"
     "buffers are accepted there).  The promise shows in its prototype and repr."},
    {"__reduce__", function_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

PyTypeObject FunctionType = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "ndffi.Function";
  t.tp_basicsize = sizeof(FunctionObject);
  t.tp_dealloc = function_dealloc;
  t.tp_vectorcall_offset = offsetof(FunctionObject, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_repr = function_repr;
  t.tp_getset = function_getset;
  t.tp_methods = function_methods;
  t.tp_traverse = function_traverse;
  t.tp_clear = function_clear;
  t.tp_weaklistoffset = offsetof(FunctionObject, weakrefs);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  // The class's own documentation (each Function's __doc__ is its prototype).
  t.tp_doc =
      "A declared C function of a Library (lib.name): called with Python and NumPy values, "
      "each argument checked against its C parameter type.  .prototype, .params and .ctype "
      "describe it; .wrap(), .ufunc() and .gufunc() make NumPy-shaped functions of it.";
  return t;
}();

}  // namespace ndffi::py
