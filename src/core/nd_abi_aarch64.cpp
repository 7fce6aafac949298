// Re-verify when this file changes: `make test-aarch64` (the core tests and the suite under qemu; test_ffi_shapes.py
// and test_byvalue.py cover the records described here).
//
// AArch64 Linux (AAPCS64, as GCC implements it): every call and callback goes through
// libffi, as on the generic platforms, but structs and unions by value are described to
// libffi here, by the ABI's rules rather than member by member:
//
// - A homogeneous floating-point aggregate (HFA: one to four members of one floating
//   type, recursively through arrays, nested structs and unions, with no padding) goes
//   in consecutive SIMD registers; it is described as that many scalars.  libffi decides
//   HFA-ness from the elements and the size alone, so a struct that is not an HFA by
//   GCC's rule (`struct { double d; } __attribute__((aligned(16)))`: padding) must not
//   be handed to it as one double.
// - Any other record of at most 16 bytes goes in general registers as its memory image,
//   one larger by reference (a copy): described as 8-byte integers, which is what lets
//   unions, bit-fields and packed records through.
// - The alignment libffi uses to place a record on the stack is GCC's argument
//   alignment, at most 16.  A record of at most 16 bytes aligned to 16 that is no HFA
//   must start at an even general register, which libffi 3.4 does not do: refused.  So
//   is a record whose alignment an attribute raised to 16 or more, since the type model
//   does not say whether the attribute was on a member (which counts for GCC) or on the
//   record (which does not).
#if defined(__aarch64__) && defined(__linux__)
#include <algorithm>

#include "nd_abi.h"

namespace ndffi::abi {

DirectStub plan_direct(const CType *, std::vector<ArgSpec> &, const ArgSpec &, uint32_t *) { return nullptr; }

EngineCall plan_engine(const CType *, std::vector<ArgSpec> &, const ArgSpec &, uint32_t *,
                       std::shared_ptr<const EnginePlan> *) {
  return nullptr;
}
std::shared_ptr<const EnginePlan> plan_variadic(const CallPlan &, const std::vector<ArgSpec> &) { return nullptr; }
void call_variadic(const EnginePlan &, void *, const unsigned char *, uint64_t *) {}

ffi_type *result_ffi_type(const CType *) { return nullptr; }

// libffi passes every argument as AAPCS64 says once its records are described as below,
// variadic ones included (on Linux they travel as fixed ones do): one piece each.
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

namespace {

// GCC's aapcs_vfp_sub_candidate: the number of floating members of `t` if all of them
// have the size *base (set by the first one) and `t` has no padding; else -1.
int hfa_members(const CType *t, size_t *base) {
  if (t->kind == Kind::Float) {
    if (*base && *base != t->size) return -1;
    *base = t->size;
    return 1;
  }
  int count = 0;
  if (t->kind == Kind::Array) {
    if (t->length == CType::kUnknownLength || t->length > 4) return -1;  // no HFA has more
    int n = hfa_members(t->target, base);
    if (n < 0) return -1;
    count = n * int(t->length);
  } else if (t->kind == Kind::Record && !t->record->is_enum) {
    if (t->record->is_union && t->record->zero_width_bitfield) return -1;  // GCC counts it, as an integer
    for (const Record::Field &f : t->record->fields) {
      int n = f.bit_width >= 0 ? -1 : hfa_members(f.type, base);
      if (n < 0) return -1;
      count = t->record->is_union ? std::max(count, n) : count + n;
    }
  } else {
    return -1;
  }
  if (!*base || t->byte_size() != size_t(count) * *base) return -1;
  return count;
}

// The alignment of the record's members' types (GCC's argument alignment when no
// attribute raised a member's).
size_t member_alignment(const Record *rec) {
  size_t a = 1;
  for (const Record::Field &f : rec->fields) a = std::max(a, f.type->alignment());
  return a;
}

ffi_type *floating(size_t size) {
  return size == 4 ? &ffi_type_float : size == 8 ? &ffi_type_double : &ffi_type_longdouble;
}

}  // namespace

ffi_type *aggregate_ffi_type(const Record *rec) {
  if (rec->size == 0) return nullptr;
  CType whole{Kind::Record};
  whole.record = const_cast<Record *>(rec);
  size_t base = 0;
  int n = hfa_members(&whole, &base);
  bool hfa = n >= 1 && n <= 4, by_reference = !hfa && rec->size > 16;
  size_t natural = member_alignment(rec);
  if (!by_reference && rec->align >= 16 && natural < 16) return nullptr;  // whose attribute?
  if (!by_reference && !hfa && natural >= 16) return nullptr;             // an even register
  std::vector<ffi_type *> elems;
  if (hfa) elems.assign(size_t(n), floating(base));
  else elems.assign((rec->size + 7) / 8, &ffi_type_uint64);
  auto **list = new ffi_type *[elems.size() + 1];
  std::copy(elems.begin(), elems.end(), list);
  list[elems.size()] = nullptr;
  // By reference, only its address travels, at 8 bytes: libffi aligns the address's
  // stack slot to the record's alignment, which put the addresses after the first one on
  // the stack at 16 where C reads them at 8.
  size_t align = by_reference ? 8 : std::min<size_t>(rec->align, 16);
  return new ffi_type{rec->size, (unsigned short)align, FFI_TYPE_STRUCT, list};
}

// A record over 16 bytes that is no HFA is copied by ffi_call into the top of the
// argument area (growing down) and its address passed; once the X registers are used up
// the address goes on the stack (growing up) too.  libffi 3.4.4 (Debian 12's) counts only
// the copy in cif->bytes, so a later copy overwrites an address already stored: C reads
// another record, or jumps through garbage.  Eight bytes more per such record keep the
// two apart (the records described here are by members of one floating type exactly
// when they are HFAs).
void complete_call_cif(ffi_cif *cif) {
  for (unsigned i = 0; i < cif->nargs; i++) {
    const ffi_type *t = cif->arg_types[i];
    if (t->type == FFI_TYPE_STRUCT && t->size > 16 && t->elements[0] == &ffi_type_uint64) cif->bytes += 8;
  }
  cif->bytes = (cif->bytes + 15) & ~15u;
}

}  // namespace ndffi::abi
#endif
