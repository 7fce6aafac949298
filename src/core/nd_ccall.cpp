#include "nd_ccall.h"

#include <alloca.h>

#include <algorithm>

#include "nd_abi.h"

namespace ndffi {

void call_ffi(const CallPlan &plan, unsigned char *storage, void *ret) {
  size_t n = plan.ffi_offsets.size();
  void **values = static_cast<void **>(alloca(sizeof(void *) * (n ? n : 1)));
  for (size_t i = 0; i < n; i++) values[i] = storage + plan.ffi_offsets[i];
  ffi_call(const_cast<ffi_cif *>(&plan.cif), FFI_FN(plan.fn), ret, values);
}

}  // namespace ndffi
