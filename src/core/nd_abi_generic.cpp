// Re-verify when this file changes: the suite with NDFFI_FORCE_LIBFFI=1 (the engine this file stands for), and
// `make test-aarch64` when what it shares with nd_abi_aarch64.cpp changes.
//
// Platforms without a file of their own (nd_abi_x64_sysv.cpp, nd_abi_aarch64.cpp): libffi
// makes every call and describes every struct by its members.
#if !(defined(__x86_64__) && !defined(_WIN32)) && !(defined(__aarch64__) && defined(__linux__))
#include "nd_abi.h"

namespace ndffi::abi {

DirectStub plan_direct(const CType *, std::vector<ArgSpec> &, const ArgSpec &, uint32_t *) { return nullptr; }

EngineCall plan_engine(const CType *, std::vector<ArgSpec> &, const ArgSpec &, uint32_t *,
                       std::shared_ptr<const EnginePlan> *) {
  return nullptr;
}
std::shared_ptr<const EnginePlan> plan_variadic(const CallPlan &, const std::vector<ArgSpec> &) { return nullptr; }
void call_variadic(const EnginePlan &, void *, const unsigned char *, uint64_t *) {}

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

bool plan_closure(const CType *, const std::vector<ArgSpec> &, const ArgSpec &, std::vector<uint8_t> *, uint8_t *,
                  int *reg_args, bool *) {
  *reg_args = -1;
  return false;
}

FrameHandler plan_engine_closure(const CType *, std::shared_ptr<const ClosureEngine> *) { return nullptr; }

void *new_closure_thunk(Closure *) { return nullptr; }

}  // namespace ndffi::abi
#endif
