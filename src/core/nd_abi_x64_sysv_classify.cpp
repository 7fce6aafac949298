// Re-verify when this file changes: the suite natively and with NDFFI_FORCE_LIBFFI=1 (test_byvalue.py,
// test_abi_records.py, test_callback_records.py, test_ffi_shapes.py).
//
// System V x86-64: how GCC classifies a type passed by value (classify_argument in
// gcc/config/i386/i386.cc) -- each eightbyte INTEGER, SSE, MEMORY or nothing; a record of at
// most 16 bytes with a scalar out of its natural alignment in memory; a struct of one
// long double in st(0) -- and what libffi is told of a record, or why it cannot be.
#if defined(__x86_64__) && !defined(_WIN32)
#include <algorithm>
#include <vector>

#include "nd_abi.h"
#include "nd_abi_x64_sysv.h"
#include "nd_cplan.h"
#include "nd_limits.h"

namespace ndffi::abi {
using namespace sysv;
namespace {

// Recursion over members held by value, up to kMaxTypeDepth levels: on a thread whose
// stack runs low first, the type is refused rather than the stack overflowed.
void check_stack(const CType *t) {
  if (stack_low())
    throw UnsupportedType("'" + t->str() + "' is nested too deeply for the stack of this thread to pass by value");
}

const CType kZeroWidthBitfield{Kind::Int};  // stands for one in a union (Record::zero_width_bitfield)

// The ABI's merge of class c into an eightbyte's class e.
void merge(Class &e, Class c) {
  if (c == kNone) return;
  if (c == kMemory || e == kMemory) e = kMemory;
  else if (c == kInteger || e == kInteger) e = kInteger;
  else e = kSSE;
}

void classify(const CType *t, size_t offset, Class cls[2], int bit_end = -1) {
  check_stack(t);
  if (t->kind == Kind::Enum && t->record->enum_base) t = t->record->enum_base;
  if (t->kind == Kind::Array) {
    if (t->length == CType::kUnknownLength) return;  // a flexible array member: ignored, as by GCC
    if (t->length == 0) {
      // A GNU zero-length array: GCC merges its element's class where it starts into that
      // eightbyte, unless it starts one.
      Class sub[2] = {kNone, kNone};
      classify(t->target, offset, sub);
      if (offset % 8 && offset < 16) merge(cls[offset / 8], sub[offset / 8]);
      return;
    }
    for (size_t k = 0; k < t->length; k++) classify(t->target, offset + k * t->target->byte_size(), cls);
    return;
  }
  if (t->kind == Kind::Record) {
    for (const Record::Field &f : t->record->fields)
      classify(f.type, offset + f.offset, cls, f.bit_width < 0 ? -1 : f.bit_offset + f.bit_width);
    if (size_t zw = t->record->zero_width_bitfield) classify(&kZeroWidthBitfield, offset, cls, int(8 * zw));
    return;
  }
  // A bit-field (bit_end: the bit after its last, from bit 0 of byte `offset`): INTEGER
  // over the bytes its bits are in.
  size_t size = bit_end >= 0 ? (size_t(bit_end) + 7) / 8 : t->byte_size();
  Class c = t->kind == Kind::Float ? (t->size > 8 ? kMemory : kSSE) : kInteger;
  for (size_t b = offset; b < offset + size && b < 16; b++) merge(cls[b / 8], c);
}

// Whether every scalar of `t` (held at `offset` in the outermost record) is at a multiple
// of its size, as GCC's classify_argument requires of a record it passes in registers
// ("misaligned fields are always returned in memory").  A struct's bit-fields are exempt
// there; a union's are not (GCC classes a union's members by their types, at the union's
// offset, its zero-width bit-fields too).
bool scalars_aligned(const CType *t, size_t offset) {
  check_stack(t);
  if (t->kind == Kind::Enum && t->record->enum_base) t = t->record->enum_base;
  if (t->kind == Kind::Array) {
    // GCC classifies an array by its first element only: in an array of packed records
    // of odd size, a later element's scalars may be misaligned and it still goes in
    // registers.
    // (a flexible array member is ignored, a zero-length array too where an eightbyte starts)
    return t->length == CType::kUnknownLength || (t->length == 0 && offset % 8 == 0) ||
           scalars_aligned(t->target, offset);
  }
  if (t->kind == Kind::Record) {
    const Record *rec = t->record;
    for (const Record::Field &f : rec->fields)
      if ((f.bit_width < 0 || rec->is_union) && !scalars_aligned(f.type, offset + f.offset)) return false;
    return !rec->zero_width_bitfield || offset % rec->zero_width_bitfield == 0;
  }
  size_t size = t->byte_size();
  return size == 0 || offset % size == 0;
}

}  // namespace

bool passable_record(const Record *rec) { return rec->align <= kMaxStackAlign; }

ffi_type *aggregate_ffi_type(const Record *rec) {
  std::vector<ffi_type *> elems;
  if (rec->size > 16) {
    // Passed in memory whatever its members: libffi needs only size and alignment.
    for (size_t k = 0; k < (rec->size + 7) / 8; k++) elems.push_back(&ffi_type_uint64);
  } else {
    Class cls[2] = {kNone, kNone};
    CType whole{Kind::Record};
    whole.record = const_cast<Record *>(rec);
    // a long double in all but name (union { long double x; }): in memory as an argument,
    // in st(0) as a result, as libffi passes a long double
    if (only_x87(&whole)) return &ffi_type_longdouble;
    classify(&whole, 0, cls);
    for (size_t k = 0; k * 8 < rec->size; k++) {
      size_t bytes = std::min<size_t>(8, rec->size - 8 * k);
      if (cls[k] == kMemory) return nullptr;  // long double members: not expressible here
      // An eightbyte of padding only takes no register: a second one is left out (libffi
      // classes the bytes no element covers as nothing); a first one cannot be.
      if (cls[k] == kNone) {
        if (k == 0) return nullptr;
        continue;
      }
      if (cls[k] == kSSE) elems.push_back(bytes > 4 ? &ffi_type_double : &ffi_type_float);
      else
        elems.push_back(bytes > 4   ? &ffi_type_uint64
                        : bytes > 2 ? &ffi_type_uint32
                        : bytes > 1 ? &ffi_type_uint16
                                    : &ffi_type_uint8);
    }
  }
  auto **list = new ffi_type *[elems.size() + 1];
  std::copy(elems.begin(), elems.end(), list);
  list[elems.size()] = nullptr;
  return new ffi_type{rec->size, (unsigned short)rec->align, FFI_TYPE_STRUCT, list};
}

int sysv::arg_classes(const CType *t, Class cls[2]) {
  cls[0] = cls[1] = kNone;
  if (t->kind == Kind::Enum && t->record->enum_base) t = t->record->enum_base;
  if (t->kind == Kind::Float) {
    if (t->size > 8) return 0;  // long double: X87, in memory
    cls[0] = kSSE;
    return 1;
  }
  if (t->kind != Kind::Record) {
    cls[0] = kInteger;
    return 1;
  }
  const Record *rec = t->record;
  if (rec->size == 0 || rec->size > 16) return 0;
  if (!scalars_aligned(t, 0)) return 0;  // "misaligned fields are always returned in memory"
  classify(t, 0, cls);
  int n = int((rec->size + 7) / 8);
  for (int k = 0; k < n; k++)
    if (cls[k] == kMemory) return 0;
  return n;
}

const char *closure_refusal(const CType *t) {
  Class cls[2];
  int n = arg_classes(t, cls);
  for (int k = 0; k < n; k++)
    if (cls[k] == kNone)
      return "it has an eightbyte of padding only, which C passes in no register but libffi's closures read "
             "from one, shifting the arguments after it";
  return libffi_refusal(t);
}

const char *libffi_refusal(const CType *t) {
  if (t->kind != Kind::Record || !t->record->complete) return nullptr;
  const Record *rec = t->record;
  if (rec->size == 0) return nullptr;
  if (rec->align > 16)
    return "it is aligned above 16, which C keeps to on the stack and libffi, whose stack is aligned to 16, does not";
  if (rec->size > 16) return nullptr;
  if (!scalars_aligned(t, 0))
    return "it has a member out of its natural alignment (packed), which makes C pass it in memory and libffi in "
           "registers";
  Class cls[2] = {kNone, kNone};
  classify(t, 0, cls);
  if ((cls[0] == kMemory || cls[1] == kMemory) && !only_x87(t))
    return "it is a union of long double with another type, which C passes in memory and libffi cannot be told";
  return nullptr;
}

bool ffi_pieces(const CType *ret, const std::vector<const CType *> &args, std::vector<FfiPiece> *out) {
  out->clear();
  // A result in memory takes rdi for its address.
  int gpr = 0, sse = 0;
  if (ret->kind == Kind::Record && ret->record->complete && !only_x87(ret)) {
    Class rc[2];
    if (arg_classes(ret, rc) == 0) gpr = 1;
  }
  for (size_t i = 0; i < args.size(); i++) {
    const CType *t = args[i];
    ffi_type *whole = ffi_type_of(t);
    if (!whole) return false;
    Class cls[2];
    int n = arg_classes(t, cls), ni = 0, ns = 0;
    for (int k = 0; k < n; k++) ni += cls[k] == kInteger, ns += cls[k] == kSSE;
    if (t->kind != Kind::Record || n == 0 || gpr + ni > kIntRegs || sse + ns > kFloatRegs) {
      // A scalar, or a record on the stack (libffi counts registers as the ABI does, so
      // it leaves this one to the stack too).
      if (n && gpr + ni <= kIntRegs && sse + ns <= kFloatRegs) gpr += ni, sse += ns;
      out->push_back({whole, uint32_t(i), 0});
      continue;
    }
    gpr += ni, sse += ns;
    for (int k = 0; k < n; k++) {
      if (cls[k] == kInteger) out->push_back({&ffi_type_uint64, uint32_t(i), uint32_t(8 * k)});
      else if (cls[k] == kSSE) out->push_back({&ffi_type_double, uint32_t(i), uint32_t(8 * k)});
    }
  }
  return true;
}

bool sysv::only_x87(const CType *t) {
  check_stack(t);
  if (t->kind == Kind::Array) return t->length == 1 && only_x87(t->target);
  if (t->kind == Kind::Record) {
    if (t->record->size != 16) return false;  // larger (aligned(32)): MEMORY, as GCC passes it
    bool any = false;
    for (const Record::Field &f : t->record->fields) {
      if (f.bit_width < 0 && f.type->byte_size() == 0) continue;  // classified as nothing (at 16)
      if (f.offset != 0 || f.bit_width >= 0 || !only_x87(f.type)) return false;
      any = true;
    }
    return any;
  }
  return t->kind == Kind::Float && t->size == sizeof(long double) && sizeof(long double) == 16;
}

ffi_type *result_ffi_type(const CType *t) {
  if (t->kind == Kind::Record && t->record->complete && t->record->size == 16 && only_x87(t))
    return &ffi_type_longdouble;
  return nullptr;
}

}  // namespace ndffi::abi
#endif
