// C functions as real numpy.ufunc and generalized ufunc objects: what ufunc_make.cpp
// (making them) and ufunc_loops.cpp (the loops NumPy runs) share.
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
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace ndffi::py {

// NumPy's inner-loop type (PyUFuncGenericFunction).
using LoopFn = void (*)(char **args, npy_intp const *dims, npy_intp const *steps, void *data);

enum class Role : uint8_t { Value, InPtr, OutPtr, Dim };

struct UParam {
  Role role;
  int index;          // operand (Value, InPtr, OutPtr) or core dimension (Dim)
  ArgSpec spec;       // from the call plan: conversion and storage offset
  size_t elsize = 0;  // bytes of one element of the operand
};

struct UfuncData;
using Body = void (*)(char **args, npy_intp n, const npy_intp *dims, const npy_intp *steps, const UfuncData *d);

struct UfuncData {
  PyObject *function = nullptr;  // the ndffi.Function (strong)
  PyObject *spec = nullptr;      // how the ufunc was made, for pickling (strong)
  const CallPlan *plan = nullptr;
  std::vector<UParam> params;
  int nin = 0, nout = 0, nargs = 0;
  int ret_op = -1;  // operand receiving the C result, -1 for none
  size_t ret_elsize = 0;
  std::vector<char> types;
  // Per operand: the struct or union type of a record operand (its dtype is the C
  // layout), else null; such ufuncs resolve their dtypes themselves (record_resolver).
  std::vector<const CType *> records;
  std::string name, doc, signature;
  LoopFn functions[1];
  void *data[1];
  Body body = nullptr;
  int threads = 1;
  npy_intp min_chunk = 1 << 15;  // elements per thread, at least
  bool core = false;             // generalized ufunc
  // Generalized ufuncs: per operand, the indices of its core dimensions.
  std::vector<std::vector<int>> op_dims;
  std::vector<size_t> op_elsize;
  std::vector<int64_t> dim_max;  // per core dimension: the largest size the C type holds
  std::vector<std::string> dim_param;

  ~UfuncData() {
    Py_XDECREF(function);
    Py_XDECREF(spec);
  }
};

// The loop any signature the call plan can call takes: fills the plan's storage per
// element, calls it (call()), stores the result.
void generic_body(char **args, npy_intp n, const npy_intp *dims, const npy_intp *steps, const UfuncData *d);

// The C types a typed loop is compiled for.
enum class TCode : uint8_t { None, I32, I64, F32, F64 };
TCode tcode(const ArgSpec &a);
// The loop compiled for R f(A...) of these codes, or nullptr if there is none.
Body typed_body_for(const std::vector<TCode> &codes, TCode ret);

// The inner loop NumPy calls (data: the UfuncData): d->body, split across threads when
// the ufunc asked for them and the iterations are independent.
void ufunc_loop(char **args, npy_intp const *dims, npy_intp const *steps, void *data);

}  // namespace ndffi::py
