// C functions as real numpy.ufunc and generalized ufunc objects.
//
// A ufunc made here has one loop, for the exact NumPy types of the C signature; NumPy's
// casting rules (through a promoter that maps any operand types to the loop's) convert
// the rest.  The loop calls the C function pointer for each element:
//
//   - signatures of up to three int32/int64/float/double values returning one of them
//     get a loop compiled for exactly that C type, calling the function through a
//     typed function pointer (what a hand-written C loop does);
//   - every other signature (pointer outputs, generalized ufuncs, other scalar types)
//     goes through one generic loop that fills the call plan's argument storage per
//     element and calls the plan's direct stub, or libffi.
//
// With threads > 1 an inner loop long enough is split across native threads.  NumPy
// runs these loops without the GIL; the split is only sound for functions that are
// thread safe, which the user asserts by asking for threads.
//
// The ufunc owns a UfuncData through a capsule in its `obj` slot (NumPy releases `obj`
// with the ufunc); the UfuncData holds a reference to the Function, which holds the
// library, so neither can go away while the ufunc exists.
#include <algorithm>
#include <cfenv>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

// This file uses the NumPy 2.0 C API (promoters); the rest of the module builds for
// the default, older target.
#define NPY_TARGET_VERSION 0x00000012   // NPY_2_0_API_VERSION
#include "common.h"

#include <numpy/dtype_api.h>
#include <numpy/ufuncobject.h>

namespace ndffi::py {
namespace {

constexpr const char *kCapsuleName = "ndffi.ufunc";

enum class Role : uint8_t { Value, InPtr, OutPtr, Dim };

struct UParam {
  Role role;
  int index;         // operand (Value, InPtr, OutPtr) or core dimension (Dim)
  ArgSpec spec;      // from the call plan: conversion and storage offset
  size_t elsize = 0; // bytes of one element of the operand
};

struct UfuncData;
using Body = void (*)(char **args, npy_intp n, const npy_intp *dims, const npy_intp *steps,
                      const UfuncData *d);

struct UfuncData {
  PyObject *function = nullptr;   // the ndffi.Function (strong)
  PyObject *spec = nullptr;       // how the ufunc was made, for pickling (strong)
  const CallPlan *plan = nullptr;
  std::vector<UParam> params;
  int nin = 0, nout = 0, nargs = 0;
  int ret_op = -1;                // operand receiving the C result, -1 for none
  size_t ret_elsize = 0;
  std::vector<char> types;
  // Per operand: the struct or union type of a record operand (its dtype is the C
  // layout), else null; such ufuncs resolve their dtypes themselves (record_resolver).
  std::vector<const CType *> records;
  std::string name, doc, signature;
  PyUFuncGenericFunction functions[1];
  void *data[1];
  Body body = nullptr;
  int threads = 1;
  npy_intp min_chunk = 1 << 15;   // elements per thread, at least
  bool core = false;              // generalized ufunc
  // Generalized ufuncs: per operand, the indices of its core dimensions.
  std::vector<std::vector<int>> op_dims;
  std::vector<size_t> op_elsize;
  std::vector<int64_t> dim_max;   // per core dimension: the largest size the C type holds
  std::vector<std::string> dim_param;

  ~UfuncData() {
    Py_XDECREF(function);
    Py_XDECREF(spec);
  }
};

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
               std::conditional_t<C == Copy::Gather, const char *, char *> strided, int nd,
               const npy_intp *shape, const npy_intp *strides, size_t elsize) {
  if (nd == 0) {
    if constexpr (C == Copy::Gather) memcpy(flat, strided, elsize);
    else memcpy(strided, flat, elsize);
    return;
  }
  npy_intp inner = 1;
  for (int j = 1; j < nd; j++) inner *= shape[j];
  for (npy_intp i = 0; i < shape[0]; i++)
    copy_core<C>(flat + size_t(i * inner) * elsize, strided + i * strides[0], nd - 1, shape + 1,
                 strides + 1, elsize);
}

bool c_contiguous(int nd, const npy_intp *shape, const npy_intp *strides, size_t elsize) {
  npy_intp expect = npy_intp(elsize);
  for (int j = nd - 1; j >= 0; j--) {
    if (shape[j] != 1 && strides[j] != expect) return false;
    expect *= shape[j];
  }
  return true;
}

// ---- the generic loop: any signature the call plan can call ---------------------

void generic_body(char **args, npy_intp n, const npy_intp *dims, const npy_intp *steps,
                  const UfuncData *d) {
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
  std::vector<uint64_t> ret_mem(std::max<size_t>(4, (p.ret.size + 15) / 16 * 2));   // a struct result
  uint64_t *ret = ret_mem.data();
  for (npy_intp i = 0; i < n; i++) {
    for (size_t k = 0; k < np; k++) {
      const UParam &u = d->params[k];
      switch (u.role) {
        case Role::Value:
          load_slot(u.spec, args[u.index] + i * steps[u.index], storage + u.spec.offset);
          break;
        case Role::InPtr: {
          const Core &c = core[k];
          const char *src = args[u.index] + i * steps[u.index];
          // A contiguous block behind a const pointer is passed in place; anything
          // C could write to, or that is strided, goes through the temporary.
          if (c.contiguous && c.nd > 0 && u.spec.type->target->is_const() &&
              uintptr_t(src) % u.elsize == 0)
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
inline void typed_loop(char **args, npy_intp n, const npy_intp *steps, void *fn,
                       std::index_sequence<I...>) {
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

enum class TCode : uint8_t { None, I32, I64, F32, F64 };

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

void run_chunk(const UfuncData *d, char **args, npy_intp begin, npy_intp end, const npy_intp *dims,
               const npy_intp *steps) {
  char *a[NPY_MAXARGS];
  for (int j = 0; j < d->nargs; j++) a[j] = args[j] + begin * steps[j];
  d->body(a, end - begin, dims, steps, d);
}

// Whether the iterations are independent, so that chunks may run at once: no output
// may overlap an input other than exactly (same address and strides: in place).  A
// reduction (output stride 0) or an accumulation (output one element behind an input)
// carries a dependency from one iteration to the next and stays on one thread.
bool independent(const UfuncData *d, char **args, npy_intp n, const npy_intp *dims, const npy_intp *steps) {
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
  std::vector<uintptr_t> lo(size_t(d->nargs)), hi(size_t(d->nargs));
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

void ufunc_loop(char **args, npy_intp const *dims, npy_intp const *steps, void *data) {
  const auto *d = static_cast<const UfuncData *>(data);
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
    int started = 1;
    try {
      for (int k = 1; k < t; k++) {
        npy_intp b = k * chunk, e = std::min(n, b + chunk);
        if (b >= e) break;
        pool.emplace_back([=, &flags] {
          feclearexcept(FE_ALL_EXCEPT);
          run_chunk(d, args, b, e, dims, steps);
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

// ---- promotion: any operand types go to the one loop, by NumPy's casting rules ---

int promote_to_loop(PyObject *ufunc, PyArray_DTypeMeta *const op_dtypes[],
                    PyArray_DTypeMeta *const signature[], PyArray_DTypeMeta *new_op_dtypes[]) {
  auto *uf = (PyUFuncObject *)ufunc;
  (void)op_dtypes;
  for (int i = 0; i < uf->nargs; i++) {
    if (signature[i]) {
      Py_INCREF(signature[i]);
      new_op_dtypes[i] = signature[i];
      continue;
    }
    PyArray_Descr *descr = PyArray_DescrFromType(uf->types[i]);
    if (!descr) {
      for (int j = 0; j < i; j++) Py_CLEAR(new_op_dtypes[j]);
      return -1;
    }
    new_op_dtypes[i] = NPY_DTYPE(descr);
    Py_INCREF(new_op_dtypes[i]);
    Py_DECREF(descr);
  }
  return 0;
}

// Core dimensions that a C integer parameter receives must fit its type.
int check_core_dims(PyUFuncObject *ufunc, npy_intp *sizes) {
  const auto *d = static_cast<const UfuncData *>(ufunc->data[0]);
  for (size_t k = 0; k < d->dim_max.size(); k++) {
    if (sizes[k] >= 0 && int64_t(sizes[k]) > d->dim_max[k]) {
      PyErr_Format(PyExc_OverflowError, "%s: core dimension %zd of size %zd does not fit parameter '%s'",
                   d->name.c_str(), Py_ssize_t(k), Py_ssize_t(sizes[k]), d->dim_param[k].c_str());
      return -1;
    }
  }
  return 0;
}

void capsule_free(PyObject *cap) {
  delete static_cast<UfuncData *>(PyCapsule_GetPointer(cap, kCapsuleName));
}

int type_number(const CType *t, const char *what, const std::string &fname) {
  PyArray_Descr *descr = dtype_of(t);
  if (!descr) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "cannot make a ufunc of %s(): %s '%s' has no NumPy dtype",
                 fname.c_str(), what, t->str().c_str());
    return -1;
  }
  int tn = descr->type_num;
  bool whole = size_t(PyDataType_ELSIZE(descr)) == t->byte_size();
  Py_DECREF(descr);
  if (!whole) {   // bit-fields are not in a struct's dtype: its bytes would not all be copied
    PyErr_Format(PyExc_TypeError, "cannot make a ufunc of %s(): %s '%s' has no dtype of its size "
                 "(bit-fields)", fname.c_str(), what, t->str().c_str());
    return -1;
  }
  return tn;
}

// ---- record operands: their dtype is the C layout --------------------------------

// The dtypes of a ufunc with struct or union operands (NumPy's legacy resolution, which
// it uses for loops with a structured type): the operand's own dtype where it has the C
// layout, the type's dtype for outputs NumPy allocates; a record array of another
// layout, or a non-record array, is a TypeError naming the operand.  Numbers as usual.
int record_resolver(PyUFuncObject *ufunc, NPY_CASTING casting, PyArrayObject **operands,
                    PyObject *type_tup, PyArray_Descr **out_dtypes) {
  (void)type_tup;
  const auto *d = static_cast<const UfuncData *>(ufunc->data[0]);
  for (int i = 0; i < d->nargs; i++) {
    const CType *rec = d->records[size_t(i)];
    PyArray_Descr *have = operands[i] ? PyArray_DESCR(operands[i]) : nullptr;
    std::string why;
    if (rec && have && !record_congruent(rec, have, &why)) {
      for (int j = 0; j < i; j++) Py_CLEAR(out_dtypes[j]);
      PyObject *s = PyObject_Str((PyObject *)have);
      PyErr_Format(PyExc_TypeError, "%s: operand %d must be an array of '%s' records (dtype %s), got %s%s%s",
                   d->name.c_str(), i, rec->str().c_str(), "of the C layout", s ? PyUnicode_AsUTF8(s) : "?",
                   why.empty() ? "" : ": ", why.c_str());
      Py_XDECREF(s);
      return -1;
    }
    out_dtypes[i] = rec && have ? have : rec ? dtype_of(rec) : PyArray_DescrFromType(d->types[size_t(i)]);
    if (rec && have) Py_INCREF(have);
    if (!out_dtypes[i]) {
      for (int j = 0; j < i; j++) Py_CLEAR(out_dtypes[j]);
      return -1;
    }
  }
  if (PyUFunc_ValidateCasting(ufunc, casting, operands, out_dtypes) < 0) {
    for (int j = 0; j < d->nargs; j++) Py_CLEAR(out_dtypes[j]);
    return -1;
  }
  return 0;
}

// make_ufunc(function, name, doc, roles, ret_op, nin, nout, signature, threads,
//            min_chunk, spec) -> numpy.ufunc
//   roles: one (role, index) per C parameter; role is "in" (a value operand), "inptr"
//   (a pointer to an input operand), "out" (a pointer to an output operand) or "dim"
//   (the size of core dimension `index`).
PyObject *make_ufunc(PyObject *, PyObject *args) {
  PyObject *func, *roles, *spec;
  const char *name, *doc;
  PyObject *sig_obj;
  int ret_op, nin, nout, threads;
  Py_ssize_t min_chunk;
  if (!PyArg_ParseTuple(args, "O!ssOiiiOinO:make_ufunc", &FunctionType, &func, &name, &doc, &roles,
                        &ret_op, &nin, &nout, &sig_obj, &threads, &min_chunk, &spec))
    return nullptr;
  auto *f = (FunctionObject *)func;
  const CallPlan &plan = *f->plan;
  const std::string fname = f->decl->name;
  auto d = std::make_unique<UfuncData>();
  d->plan = &plan;
  d->nin = nin, d->nout = nout, d->nargs = nin + nout;
  d->ret_op = ret_op;
  d->name = name;
  d->doc = doc;
  d->threads = std::max(1, threads);
  d->min_chunk = std::max<npy_intp>(1, npy_intp(min_chunk));
  d->core = sig_obj != Py_None;
  if (d->core) {
    const char *s = PyUnicode_AsUTF8(sig_obj);
    if (!s) return nullptr;
    d->signature = s;
  }
  if (nin < 1 || nout < 1 || d->nargs > NPY_MAXARGS) {
    PyErr_Format(PyExc_ValueError, "cannot make a ufunc of %s(): needs at least one input and one output",
                 fname.c_str());
    return nullptr;
  }
  if (f->decl->type->variadic) {
    PyErr_Format(PyExc_TypeError, "cannot make a ufunc of variadic %s()", fname.c_str());
    return nullptr;
  }
  PyObject *seq = snapshot(roles);   // an index's __index__ may change the list
  if (!seq) return nullptr;
  Py_ssize_t nroles = PyTuple_GET_SIZE(seq);
  if (size_t(nroles) != plan.args.size()) {
    Py_DECREF(seq);
    PyErr_SetString(PyExc_ValueError, "one role per C parameter is needed");
    return nullptr;
  }
  d->types.assign(size_t(d->nargs), char(-1));
  d->records.assign(size_t(d->nargs), nullptr);
  int max_dim = -1;
  for (Py_ssize_t k = 0; k < nroles; k++) {
    const char *role;
    int index;
    if (!PyArg_ParseTuple(PyTuple_GET_ITEM(seq, k), "si", &role, &index)) {
      Py_DECREF(seq);
      return nullptr;
    }
    UParam u{Role::Value, index, plan.args[size_t(k)]};
    const CType *pt = f->decl->type->params[size_t(k)];
    const CType *elem = pt;
    if (!strcmp(role, "in")) u.role = Role::Value;
    else if (!strcmp(role, "inptr")) u.role = Role::InPtr;
    else if (!strcmp(role, "out")) u.role = Role::OutPtr;
    else if (!strcmp(role, "dim")) u.role = Role::Dim;
    else {
      Py_DECREF(seq);
      PyErr_Format(PyExc_ValueError, "unknown role '%s'", role);
      return nullptr;
    }
    if (u.role == Role::Dim) {
      if (!(u.spec.conv == Conv::SInt || u.spec.conv == Conv::UInt) || index < 0) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_TypeError, "cannot make a ufunc of %s(): parameter %zd takes a core "
                     "dimension but is '%s', not an integer", fname.c_str(), k + 1, pt->str().c_str());
        return nullptr;
      }
      max_dim = std::max(max_dim, index);
      d->params.push_back(u);
      continue;
    }
    if (index < 0 || index >= d->nargs || (u.role == Role::OutPtr) != (index >= nin)) {
      Py_DECREF(seq);
      PyErr_Format(PyExc_ValueError, "bad operand %d for parameter %zd", index, k + 1);
      return nullptr;
    }
    if (u.role != Role::Value) {
      if (u.spec.conv != Conv::Pointer) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_TypeError, "cannot make a ufunc of %s(): parameter %zd is '%s', not a pointer",
                     fname.c_str(), k + 1, pt->str().c_str());
        return nullptr;
      }
      elem = pt->target;
    } else if (!(pt->is_arith() || pt->kind == Kind::Record)) {
      Py_DECREF(seq);
      PyErr_Format(PyExc_TypeError, "cannot make a ufunc of %s(): parameter %zd '%s' is not a number "
                   "(pointer parameters are outputs or arrays of a generalized ufunc)",
                   fname.c_str(), k + 1, pt->str().c_str());
      return nullptr;
    }
    int tn = type_number(elem, "parameter type", fname);
    if (tn < 0) {
      Py_DECREF(seq);
      return nullptr;
    }
    if (d->types[size_t(index)] != char(-1)) {
      Py_DECREF(seq);
      PyErr_Format(PyExc_ValueError, "operand %d is used twice", index);
      return nullptr;
    }
    d->types[size_t(index)] = char(tn);
    if (elem->kind == Kind::Record) d->records[size_t(index)] = TypeTable::get().unqualified(elem);
    u.elsize = elem->byte_size();
    d->params.push_back(u);
  }
  Py_DECREF(seq);
  if (ret_op >= 0) {
    if (plan.ret.conv == Conv::Void || ret_op < nin || ret_op >= d->nargs ||
        d->types[size_t(ret_op)] != char(-1)) {
      PyErr_SetString(PyExc_ValueError, "bad operand for the result");
      return nullptr;
    }
    const CType *rt = f->decl->type->target;
    int tn = type_number(rt, "result type", fname);
    if (tn < 0) return nullptr;
    d->types[size_t(ret_op)] = char(tn);
    if (rt->kind == Kind::Record) d->records[size_t(ret_op)] = TypeTable::get().unqualified(rt);
    d->ret_elsize = rt->byte_size();
  }
  for (int i = 0; i < d->nargs; i++)
    if (d->types[size_t(i)] == char(-1)) {
      PyErr_Format(PyExc_ValueError, "operand %d has no C parameter", i);
      return nullptr;
    }

  // The loop: a typed one for plain value signatures, else the generic one.
  if (!d->core && ret_op == nin && nout == 1) {
    std::vector<TCode> codes;
    bool plain = true;
    for (size_t k = 0; k < d->params.size(); k++) {
      const UParam &u = d->params[k];
      if (u.role != Role::Value || u.index != int(k)) plain = false;
      codes.push_back(tcode(u.spec));
    }
    if (plain) d->body = typed_body_for(codes, tcode(plan.ret));
  }
  if (!d->body) d->body = generic_body;

  d->functions[0] = ufunc_loop;
  d->data[0] = d.get();
  PyObject *uf = PyUFunc_FromFuncAndDataAndSignature(
      d->functions, d->data, d->types.data(), 1, nin, nout, PyUFunc_None, d->name.c_str(),
      d->doc.c_str(), 0, d->core ? d->signature.c_str() : nullptr);
  if (!uf) return nullptr;
  auto *u = (PyUFuncObject *)uf;
  for (const CType *rec : d->records)
    if (rec) u->type_resolver = record_resolver;
  if (d->core) {
    if (max_dim >= u->core_num_dim_ix) {
      Py_DECREF(uf);
      PyErr_SetString(PyExc_ValueError, "a parameter takes a core dimension the signature lacks");
      return nullptr;
    }
    d->op_dims.resize(size_t(d->nargs));
    for (int op = 0; op < d->nargs; op++)
      for (int j = 0; j < u->core_num_dims[op]; j++)
        d->op_dims[size_t(op)].push_back(u->core_dim_ixs[u->core_offsets[op] + j]);
    d->dim_max.assign(size_t(u->core_num_dim_ix), INT64_MAX);
    d->dim_param.assign(size_t(u->core_num_dim_ix), "");
    for (size_t k = 0; k < d->params.size(); k++) {
      const UParam &p = d->params[k];
      if (p.role == Role::Dim) {
        int64_t mx = int64_t(std::min<uint64_t>(p.spec.max, uint64_t(INT64_MAX)));
        if (mx < d->dim_max[size_t(p.index)]) d->dim_max[size_t(p.index)] = mx;
        d->dim_param[size_t(p.index)] = f->decl->param_names[k];
      }
      if (p.role == Role::Value && !d->op_dims[size_t(p.index)].empty()) {
        Py_DECREF(uf);
        PyErr_Format(PyExc_ValueError, "cannot make a gufunc of %s(): parameter '%s' is a value, so its "
                     "operand must have no core dimensions ()", fname.c_str(),
                     f->decl->param_names[k].c_str());
        return nullptr;
      }
    }
    if (ret_op >= 0 && !d->op_dims[size_t(ret_op)].empty()) {
      Py_DECREF(uf);
      PyErr_Format(PyExc_ValueError, "cannot make a gufunc of %s(): the C result is a scalar, so its "
                   "output must have no core dimensions ()", fname.c_str());
      return nullptr;
    }
    // NumPy >= 2.1 lets a gufunc check its core dimensions before the loop runs; the
    // hook is the field after _loops (the struct only grows across versions).
    if (PyArray_RUNTIME_VERSION >= 0x00000013) {
      auto **hook = reinterpret_cast<PyUFunc_ProcessCoreDimsFunc **>(
          reinterpret_cast<char *>(&u->_loops) + sizeof(PyObject *));
      *hook = check_core_dims;
    }
  }
  // Keep the data (and through it the Function and its library) with the ufunc.
  Py_INCREF(func);
  d->function = func;
  Py_INCREF(spec);
  d->spec = spec;
  UfuncData *raw = d.release();
  PyObject *cap = PyCapsule_New(raw, kCapsuleName, capsule_free);
  if (!cap) {
    delete raw;
    Py_DECREF(uf);
    return nullptr;
  }
  u->obj = cap;

  // Any operand types reach the one loop by NumPy's casting rules.
  PyObject *promoter = PyCapsule_New((void *)&promote_to_loop, "numpy._ufunc_promoter", nullptr);
  PyObject *any = PyTuple_New(raw->nargs);
  if (!promoter || !any) {
    Py_XDECREF(promoter);
    Py_XDECREF(any);
    Py_DECREF(uf);
    return nullptr;
  }
  for (int i = 0; i < raw->nargs; i++) {
    Py_INCREF(Py_None);
    PyTuple_SET_ITEM(any, i, Py_None);
  }
  int rc = PyUFunc_AddPromoter(uf, any, promoter);
  Py_DECREF(any);
  Py_DECREF(promoter);
  if (rc < 0) {
    Py_DECREF(uf);
    return nullptr;
  }
  return uf;
}

UfuncData *data_of(PyObject *o) {
  if (!PyObject_TypeCheck(o, &PyUFunc_Type)) return nullptr;
  PyObject *cap = ((PyUFuncObject *)o)->obj;
  if (!cap || !PyCapsule_IsValid(cap, kCapsuleName)) return nullptr;
  return static_cast<UfuncData *>(PyCapsule_GetPointer(cap, kCapsuleName));
}

PyObject *ufunc_spec(PyObject *, PyObject *o) {
  UfuncData *d = data_of(o);
  if (!d) Py_RETURN_NONE;
  Py_INCREF(d->spec);
  return d->spec;
}

PyObject *ufunc_info(PyObject *, PyObject *o) {
  UfuncData *d = data_of(o);
  if (!d) {
    PyErr_SetString(PyExc_TypeError, "not a ufunc made by ndffi");
    return nullptr;
  }
  return Py_BuildValue("{s:O,s:i,s:s,s:n}", "function", d->function, "threads", d->threads, "loop",
                       d->body == generic_body ? (d->plan->direct ? "generic (direct stub)" : "generic (libffi)")
                                               : "typed",
                       "min_chunk", Py_ssize_t(d->min_chunk));
}

PyMethodDef methods[] = {
    {"make_ufunc", make_ufunc, METH_VARARGS, "Make a numpy.ufunc calling a Function (see ndffi._wrap)."},
    {"ufunc_spec", ufunc_spec, METH_O, "How an ndffi ufunc was made (None for other ufuncs)."},
    {"ufunc_info", ufunc_info, METH_O, "The Function, loop kind and threads of an ndffi ufunc."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int register_ufunc(PyObject *module) {
  if (_import_umath() < 0) return -1;
  return PyModule_AddFunctions(module, methods);
}

}  // namespace ndffi::py
