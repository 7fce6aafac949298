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

ArgSpec variadic_arg(const CType *t, uint32_t *storage) {
  ArgSpec a = arg_spec(t);
  TypeTable &T = TypeTable::get();
  if (a.conv == Conv::Float) a = arg_spec(T.float_type(8, "double"));
  else if ((a.conv == Conv::SInt || a.conv == Conv::UInt || a.conv == Conv::Bool) && a.size < 4)
    a = arg_spec(T.int_type(4, true, "int"));
  a.offset = *storage;
  *storage += (std::max<uint32_t>(a.size, 8) + 15) / 16 * 16;
  return a;
}

bool VariadicCall::prepare(const CallPlan &plan, const std::vector<ArgSpec> &extra, unsigned char *storage) {
  if (!plan.libffi_only && (engine = abi::plan_variadic(plan, extra))) {
    this->storage = storage;
    return true;
  }
  // The registers the variadic arguments take depend on the fixed ones: one split of all.
  size_t nfixed = plan.args.size();
  ctypes.assign(plan.type->params.begin(), plan.type->params.end());
  for (const ArgSpec &a : extra) ctypes.push_back(a.type);
  std::vector<abi::FfiPiece> pieces;
  if (!abi::ffi_pieces(plan.type->target, ctypes, &pieces)) return false;
  types.clear();
  values.clear();
  unsigned fixed_pieces = 0;
  for (const abi::FfiPiece &p : pieces) {
    const ArgSpec &a = p.arg < nfixed ? plan.args[p.arg] : extra[p.arg - nfixed];
    types.push_back(p.type);
    values.push_back(storage + a.offset + p.offset);
    fixed_pieces += p.arg < nfixed;
  }
  if (ffi_prep_cif_var(&cif, FFI_DEFAULT_ABI, fixed_pieces, unsigned(types.size()), ffi_result_type(plan.type->target),
                       types.data()) != FFI_OK)
    return false;
  abi::complete_call_cif(&cif);
  return true;
}

void VariadicCall::call(const CallPlan &plan, void *ret) {
  if (engine) abi::call_variadic(*engine, plan.fn, storage, static_cast<uint64_t *>(ret));
  else ffi_call(&cif, FFI_FN(plan.fn), ret, values.data());
}

}  // namespace ndffi
