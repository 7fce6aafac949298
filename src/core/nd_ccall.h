// Calling through a plan (nd_cplan.h): one call() that takes the plan's direct stub, the
// ABI file's engine or libffi, and variadic calls, whose arguments past the fixed ones are planned per call
// after C's default argument promotions.
#pragma once

#include "nd_cplan.h"
#include "nd_cslot.h"

namespace ndffi {

// Call through libffi.  `ret` must hold at least max(8, result size) bytes.
void call_ffi(const CallPlan &plan, unsigned char *storage, void *ret);

// Call the plan's function with its arguments stored in `storage` in the plan's layout:
// through the direct stub or the engine when the ABI file has one for the signature, else
// libffi.  The
// raw result (the integer or pointer register, or the bits of the floating-point
// register; a long double or record in memory) is at `ret`, which must hold at least
// max(32, result size) bytes, 16-byte aligned.
inline void call(const CallPlan &plan, unsigned char *storage, uint64_t *ret) {
  if (plan.direct) ret[0] = plan.direct(plan.fn, storage);
  else if (plan.engine) plan.engine(plan, storage, ret);
  else call_ffi(plan, storage, ret);
}

// The conversion of an argument passed through `...` of C type `t`, after C's default
// argument promotions (float to double, integers narrower than int, bool included, to
// int), placed at `*storage` in 16-byte slots, as libffi reads them; *storage advances
// past it.  Throws UnsupportedType for a value libffi cannot pass.
ArgSpec variadic_arg(const CType *t, uint32_t *storage);

// A call of a variadic function: the fixed arguments as planned, then `extra` (each
// with its offset into storage already set, by variadic_arg), through a cif prepared for
// this call; or by the ABI file's engine, planned for this call, where it has one.
struct VariadicCall {
  std::shared_ptr<const EnginePlan> engine;
  const unsigned char *storage = nullptr;
  ffi_cif cif;
  std::vector<const CType *> ctypes;
  std::vector<ffi_type *> types;
  std::vector<void *> values;
  bool prepare(const CallPlan &plan, const std::vector<ArgSpec> &extra, unsigned char *storage);
  void call(const CallPlan &plan, void *ret);
};

}  // namespace ndffi
