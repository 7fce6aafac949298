// Platforms without a direct-call file of their own: libffi makes every call.
#if !(defined(__x86_64__) && !defined(_WIN32))
#include "nd_abi.h"

namespace ndffi::abi {

DirectStub plan_direct(const CType *, std::vector<ArgSpec> &, const ArgSpec &, uint32_t *) {
  return nullptr;
}

ffi_type *aggregate_ffi_type(const Record *) { return nullptr; }

ffi_type *result_ffi_type(const CType *) { return nullptr; }

bool ffi_pieces(const CType *, const std::vector<const CType *> &args, std::vector<FfiPiece> *out) {
  out->clear();
  for (size_t i = 0; i < args.size(); i++) {
    ffi_type *t = ffi_type_of(args[i]);
    if (!t) return false;
    out->push_back({t, uint32_t(i), 0});
  }
  return true;
}

bool plan_closure(const CType *, const std::vector<ArgSpec> &, const ArgSpec &, std::vector<uint8_t> *,
                  uint8_t *, int *reg_args, bool *) {
  *reg_args = -1;
  return false;
}

void *new_closure_thunk(Closure *) { return nullptr; }

}  // namespace ndffi::abi
#endif
