// Calling through a plan (nd_cplan.h): one call() that takes the plan's direct stub, the
// ABI file's engine or libffi.  A variadic call goes through the plan made for its
// argument types (make_variadic_plan).
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

}  // namespace ndffi
