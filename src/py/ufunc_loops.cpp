// The inner loops of ndffi's ufuncs (ufunc.h): the generic loop over the call plan, the
// loops compiled for plain int32/int64/float/double signatures, and the split of a long
// loop across threads.
#include <algorithm>
#include <cfenv>
#include <cstring>
#include <thread>
#include <type_traits>
#include <utility>

#include "callback.h"
#include "ufunc.h"

namespace ndffi::py {

// ---- call storage --------------------------------------------------------------

inline void store_int_slot(int64_t v, unsigned char *dst) { memcpy(dst, &v, 8); }

inline void set_ptr(unsigned char *dst, const void *p) {
  uint64_t v = uint64_t(uintptr_t(p));
  memcpy(dst, &v, 8);
}

// ---- strided copies of a core block to and from contiguous memory ---------------

// Copies a core block of nd dimensions, element by element in C order, between
// contiguous memory (`flat`) and array memory (`strided`, with the operand's strides):
// Gather from the array into `flat`, Scatter from `flat` back into the array.
enum class Copy { Gather, Scatter };

template <Copy C>
void copy_core(std::conditional_t<C == Copy::Gather, char *, const char *> flat,
               std::conditional_t<C == Copy::Gather, const char *, char *> strided, int nd, const npy_intp *shape,
               const npy_intp *strides, size_t elsize) {
  if (nd == 0) {
    if constexpr (C == Copy::Gather) memcpy(flat, strided, elsize);
    else memcpy(strided, flat, elsize);
    return;
  }
  npy_intp inner = 1;
  for (int j = 1; j < nd; j++) inner *= shape[j];
  for (npy_intp i = 0; i < shape[0]; i++)
    copy_core<C>(flat + size_t(i * inner) * elsize, strided + i * strides[0], nd - 1, shape + 1, strides + 1, elsize);
}

static bool c_contiguous(int nd, const npy_intp *shape, const npy_intp *strides, size_t elsize) {
  npy_intp expect = npy_intp(elsize);
  for (int j = nd - 1; j >= 0; j--) {
    if (shape[j] != 1 && strides[j] != expect) return false;
    expect *= shape[j];
  }
  return true;
}

// ---- the generic loop: any signature the call plan can call ---------------------

void generic_body(char **args, npy_intp n, const npy_intp *dims, const npy_intp *steps, const UfuncData *d) {
  const CallPlan &p = *d->plan;
  const size_t np = d->params.size();
  // Storage in the plan's layout (16-byte aligned), and a temporary per pointer
  // parameter: a scalar pointee, or a contiguous copy of a core block.
  std::vector<long double> storage_mem(p.storage / sizeof(long double) + 2);
  auto *storage = reinterpret_cast<unsigned char *>(storage_mem.data());
  struct Core {
    int nd = 0;
    npy_intp shape[NPY_MAXDIMS];
    const npy_intp *strides = nullptr;
    size_t bytes = 0;
    bool contiguous = true;
  };
  std::vector<Core> core(np);
  std::vector<std::vector<long double>> tmp(np);
  for (size_t k = 0; k < np; k++) {
    const UParam &u = d->params[k];
    if (u.role == Role::Dim) {
      store_int_slot(int64_t(dims[1 + u.index]), storage + u.spec.offset);
      continue;
    }
    if (u.role == Role::Value) continue;
    Core &c = core[k];
    size_t count = 1;
    if (d->core) {
      const std::vector<int> &od = d->op_dims[size_t(u.index)];
      c.nd = int(od.size());
      for (int j = 0; j < c.nd; j++) {
        c.shape[j] = dims[1 + od[size_t(j)]];
        count *= size_t(c.shape[j]);
      }
    }
    c.bytes = count * u.elsize;
    tmp[k].resize(c.bytes / sizeof(long double) + 2);
    set_ptr(storage + u.spec.offset, tmp[k].data());
  }
  if (d->core) {
    // Core strides follow the outer ones, operand by operand.
    npy_intp off = d->nargs;
    std::vector<npy_intp> op_off(size_t(d->nargs));
    for (int op = 0; op < d->nargs; op++) {
      op_off[size_t(op)] = off;
      off += npy_intp(d->op_dims[size_t(op)].size());
    }
    for (size_t k = 0; k < np; k++) {
      const UParam &u = d->params[k];
      if (u.role != Role::InPtr && u.role != Role::OutPtr) continue;
      Core &c = core[k];
      c.strides = steps + op_off[size_t(u.index)];
      c.contiguous = c_contiguous(c.nd, c.shape, c.strides, u.elsize);
    }
  }
  const int ret_op = d->ret_op;
  std::vector<uint64_t> ret_mem(std::max<size_t>(4, (p.ret.size + 15) / 16 * 2));  // a struct result
  uint64_t *ret = ret_mem.data();
  // Whether an output block C writes in place overlaps [lo, hi) (NumPy passes an out=
  // that is an input itself as that input's memory).
  auto written_in_place = [&](npy_intp i, const char *lo, const char *hi) {
    for (size_t k = 0; k < np; k++) {
      const UParam &u = d->params[k];
      if (u.role != Role::OutPtr) continue;
      const Core &c = core[k];
      const char *dst = args[u.index] + i * steps[u.index];
      if (c.contiguous && c.nd > 0 && uintptr_t(dst) % u.elsize == 0 && dst < hi && lo < dst + c.bytes) return true;
    }
    return false;
  };
  for (npy_intp i = 0; i < n; i++) {
    for (size_t k = 0; k < np; k++) {
      const UParam &u = d->params[k];
      switch (u.role) {
        case Role::Value: load_slot(u.spec, args[u.index] + i * steps[u.index], storage + u.spec.offset); break;
        case Role::InPtr: {
          const Core &c = core[k];
          const char *src = args[u.index] + i * steps[u.index];
          // A contiguous block behind a const pointer is passed in place, unless C writes
          // an output over it; anything C could write to, or that is strided, goes
          // through the temporary.
          if (c.contiguous && c.nd > 0 && u.spec.type->target->is_const() && uintptr_t(src) % u.elsize == 0 &&
              !written_in_place(i, src, src + c.bytes))
            set_ptr(storage + u.spec.offset, src);
          else
            copy_core<Copy::Gather>((char *)tmp[k].data(), src, c.nd, c.shape, c.strides, u.elsize),
                set_ptr(storage + u.spec.offset, tmp[k].data());
          break;
        }
        case Role::OutPtr: {
          const Core &c = core[k];
          char *dst = args[u.index] + i * steps[u.index];
          if (c.contiguous && c.nd > 0 && uintptr_t(dst) % u.elsize == 0) {
            set_ptr(storage + u.spec.offset, dst);
          } else {
            memset(tmp[k].data(), 0, c.bytes);
            set_ptr(storage + u.spec.offset, tmp[k].data());
          }
          break;
        }
        case Role::Dim: break;
      }
    }
    call(p, storage, ret);
    if (ret_op >= 0) store_slot(p.ret, ret, args[ret_op] + i * steps[ret_op]);
    for (size_t k = 0; k < np; k++) {
      const UParam &u = d->params[k];
      if (u.role != Role::OutPtr) continue;
      const Core &c = core[k];
      char *dst = args[u.index] + i * steps[u.index];
      if (!(c.contiguous && c.nd > 0 && uintptr_t(dst) % u.elsize == 0))
        copy_core<Copy::Scatter>((const char *)tmp[k].data(), dst, c.nd, c.shape, c.strides, u.elsize);
    }
  }
}

// ---- loops compiled for a signature: R f(A...) over int32/int64/float/double ------

template <class T>
inline T load(const char *p) {
  T v;
  memcpy(&v, p, sizeof v);
  return v;
}

template <class R, class... A, size_t... I>
inline void typed_loop(char **args, npy_intp n, const npy_intp *steps, void *fn, std::index_sequence<I...>) {
  constexpr size_t N = sizeof...(A);
  auto f = reinterpret_cast<R (*)(A...)>(fn);
  char *out = args[N];
  const npy_intp os = steps[N];
  if (((steps[I] == npy_intp(sizeof(A))) && ...) && os == npy_intp(sizeof(R))) {
    const char *in[N > 0 ? N : 1] = {args[I]...};
    (void)in;
    for (npy_intp i = 0; i < n; i++) {
      R r = f(load<A>(in[I] + i * npy_intp(sizeof(A)))...);
      memcpy(out + i * npy_intp(sizeof(R)), &r, sizeof r);
    }
  } else {
    for (npy_intp i = 0; i < n; i++) {
      R r = f(load<A>(args[I] + i * steps[I])...);
      memcpy(out + i * os, &r, sizeof r);
    }
  }
}

template <class R, class... A>
void typed_body(char **args, npy_intp n, const npy_intp *, const npy_intp *steps, const UfuncData *d) {
  typed_loop<R, A...>(args, n, steps, d->plan->fn, std::index_sequence_for<A...>());
}

TCode tcode(const ArgSpec &a) {
  if (a.conv == Conv::SInt && a.size == 4) return TCode::I32;
  if (a.conv == Conv::SInt && a.size == 8) return TCode::I64;
  if (a.conv == Conv::Float) return TCode::F32;
  if (a.conv == Conv::Double) return TCode::F64;
  return TCode::None;
}

template <class R, class... A>
Body pick(const std::vector<TCode> &codes, size_t k) {
  if (k == codes.size()) return &typed_body<R, A...>;
  if constexpr (sizeof...(A) < 2) {
    switch (codes[k]) {
      case TCode::I32: return pick<R, A..., int32_t>(codes, k + 1);
      case TCode::I64: return pick<R, A..., int64_t>(codes, k + 1);
      case TCode::F32: return pick<R, A..., float>(codes, k + 1);
      case TCode::F64: return pick<R, A..., double>(codes, k + 1);
      default: return nullptr;
    }
  } else if constexpr (sizeof...(A) == 2) {
    // Three arguments: only the all-float and all-double signatures.
    if (k == 2 && std::is_same_v<R, double> && (std::is_same_v<A, double> && ...) && codes[k] == TCode::F64)
      return &typed_body<double, double, double, double>;
    if (k == 2 && std::is_same_v<R, float> && (std::is_same_v<A, float> && ...) && codes[k] == TCode::F32)
      return &typed_body<float, float, float, float>;
    return nullptr;
  } else {
    return nullptr;
  }
}

Body typed_body_for(const std::vector<TCode> &codes, TCode ret) {
  if (codes.empty() || codes.size() > 3) return nullptr;
  switch (ret) {
    case TCode::I32: return pick<int32_t>(codes, 0);
    case TCode::I64: return pick<int64_t>(codes, 0);
    case TCode::F32: return pick<float>(codes, 0);
    case TCode::F64: return pick<double>(codes, 0);
    default: return nullptr;
  }
}

// ---- the inner loop NumPy calls: split across threads when asked ----------------

static void run_chunk(const UfuncData *d, char **args, npy_intp begin, npy_intp end, const npy_intp *dims,
                      const npy_intp *steps) {
  char *a[NPY_MAXARGS];
  for (int j = 0; j < d->nargs; j++) a[j] = args[j] + begin * steps[j];
  d->body(a, end - begin, dims, steps, d);
}

// Whether the iterations are independent, so that chunks may run at once: no output
// may overlap an input other than exactly (same address and strides: in place).  A
// reduction (output stride 0) or an accumulation (output one element behind an input)
// carries a dependency from one iteration to the next and stays on one thread.
static bool independent(const UfuncData *d, char **args, npy_intp n, const npy_intp *dims, const npy_intp *steps) {
  auto extent = [&](int op, uintptr_t &lo, uintptr_t &hi, npy_intp &core_off) {
    intptr_t a = 0, b = 0;
    auto span = [&](npy_intp stride, npy_intp count) {
      if (count <= 0) return;
      intptr_t e = intptr_t(stride) * intptr_t(count - 1);
      (e < 0 ? a : b) += e;
    };
    span(steps[op], n);
    if (d->core) {
      const std::vector<int> &od = d->op_dims[size_t(op)];
      for (size_t j = 0; j < od.size(); j++) span(steps[core_off + npy_intp(j)], dims[1 + od[j]]);
      core_off += npy_intp(od.size());
    }
    size_t elsize = op == d->ret_op ? std::max<size_t>(16, d->ret_elsize) : 0;
    for (const UParam &u : d->params)
      if (u.role != Role::Dim && u.index == op) elsize = u.elsize;
    if (!elsize) elsize = 16;
    lo = uintptr_t(args[op]) + uintptr_t(a);
    hi = uintptr_t(args[op]) + uintptr_t(b) + elsize;
  };
  std::vector<uintptr_t> lo(size_t(d->nargs)), hi(size_t(d -> nargs));
  npy_intp core_off = d->nargs;
  for (int op = 0; op < d->nargs; op++) extent(op, lo[size_t(op)], hi[size_t(op)], core_off);
  for (int o = d->nin; o < d->nargs; o++) {
    if (steps[o] == 0) return false;
    for (int i = 0; i < d->nargs; i++) {
      if (i == o || hi[size_t(i)] <= lo[size_t(o)] || hi[size_t(o)] <= lo[size_t(i)]) continue;
      bool same = args[i] == args[o] && steps[i] == steps[o] && !d->core;
      if (!same) return false;
    }
  }
  return true;
}

// ---- callbacks C makes from the loop ---------------------------------------------
//
// A callback the C function calls (an ndffi.callback it keeps) runs inside the loop as in
// a call of the function itself: its exception waits in call_state and is raised when the
// loop ends, instead of going to sys.unraisablehook while the ufunc returns the
// callback's on_error values.  NumPy may have released the GIL for the loop, with a
// thread state ndffi does not know, so the callbacks take it with PyGILState_Ensure
// (ND_GIL_ENSURE).  Each of the loop's threads keeps its own; the first exception is
// raised and the others are counted in its note.
struct Pending {
  PyObject *value = nullptr;
  long dropped = 0;
};

struct LoopCalls {
  CallState outer;
  LoopCalls() : outer(call_state) { call_state = {ND_GIL_ENSURE, nullptr, 0, outer.depth}; }
  ~LoopCalls() { call_state = outer; }
  // what this thread's callbacks left, taken
  static Pending take() {
    Pending p{call_state.pending, call_state.dropped};
    call_state.pending = nullptr;
    return p;
  }
  LoopCalls(const LoopCalls &) = delete;
  LoopCalls &operator=(const LoopCalls &) = delete;
};

// The first exception, the loop's own thread's (`own`) then the workers' in order, set
// as the error, with the GIL: the ufunc's caller raises it.
__attribute__((cold)) static void raise_pending(Pending own, const std::vector<Pending> &workers) {
  PyGILState_STATE g = PyGILState_Ensure();
  CallState &cs = call_state;
  cs.pending = own.value;
  cs.dropped = own.dropped;
  for (const Pending &p : workers) {
    if (!p.value) continue;
    if (!cs.pending) {
      cs.pending = p.value;
      cs.dropped = p.dropped;
    } else {
      cs.dropped += 1 + p.dropped;
      Py_DECREF(p.value);
    }
  }
  take_pending(nullptr);
  PyGILState_Release(g);
}

// A worker thread's chunk, in a call state of its own: what its callbacks left.
static Pending run_chunk_calls(const UfuncData *d, char **args, npy_intp begin, npy_intp end, const npy_intp *dims,
                               const npy_intp *steps) {
  LoopCalls calls;
  run_chunk(d, args, begin, end, dims, steps);
  return LoopCalls::take();
}

// The loop, split across threads when it is long enough; what the workers' callbacks
// left into *pending, one per thread started.
static void run_loop(char **args, npy_intp const *dims, npy_intp const *steps, const UfuncData *d,
                     std::vector<Pending> *pending) {
  npy_intp n = dims[0];
  int t = d->threads;
  npy_intp min_chunk = d->min_chunk;
  if (d->core && t > 1) {
    // A generalized ufunc's unit of work is one core block.
    npy_intp core = 1;
    for (size_t k = 0; k < d->dim_max.size(); k++) core *= std::max<npy_intp>(1, dims[1 + k]);
    min_chunk = std::max<npy_intp>(1, min_chunk / core);
  }
  if (t > 1 && n >= 2 * min_chunk && independent(d, args, n, dims, steps)) {
    t = int(std::min<npy_intp>(t, n / min_chunk));
    npy_intp chunk = (n + t - 1) / t;
    std::vector<std::thread> pool;
    std::vector<int> flags(size_t(t), 0);
    pending->resize(size_t(t));
    int started = 1;
    try {
      for (int k = 1; k < t; k++) {
        npy_intp b = k * chunk, e = std::min(n, b + chunk);
        if (b >= e) break;
        pool.emplace_back([=, &flags] {
          feclearexcept(FE_ALL_EXCEPT);
          (*pending)[size_t(k)] = run_chunk_calls(d, args, b, e, dims, steps);
          flags[size_t(k)] = fetestexcept(FE_ALL_EXCEPT);
        });
        started = k + 1;
      }
    } catch (...) {
      // No thread could be started: the rest runs here.
    }
    npy_intp b0_end = std::min(n, chunk);
    run_chunk(d, args, 0, b0_end, dims, steps);
    for (auto &th : pool) th.join();
    if (started * chunk < n) run_chunk(d, args, started * chunk, n, dims, steps);
    // Floating-point exceptions raised in the workers, for NumPy's errstate checks.
    int all = 0;
    for (int f : flags) all |= f;
    if (all) feraiseexcept(all);
    return;
  }
  d->body(const_cast<char **>(args), n, dims, steps, d);
}

void ufunc_loop(char **args, npy_intp const *dims, npy_intp const *steps, void *data) {
  LoopCalls calls;
  std::vector<Pending> workers;  // allocated only when the loop is split
  run_loop(args, dims, steps, static_cast<const UfuncData *>(data), &workers);
  Pending own = LoopCalls::take();
  bool raised = own.value;
  for (const Pending &p : workers) raised |= p.value != nullptr;
  if (__builtin_expect(raised, 0)) raise_pending(own, workers);
}

}  // namespace ndffi::py
