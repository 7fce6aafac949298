// Re-verify when this file changes: test_layout_abi.py (layouts against clang -target), test_layout.py, test_struct.py
// and the core tests (tests/core/layout.cpp); `make test-aarch64` for the AAPCS64 rules.
//
// Record layout by the Itanium (System V) rules, as clang's ItaniumRecordLayoutBuilder
// applies them to C; GCC's stor-layout.c agrees on these ABIs but for bit-fields with an
// aligned(n) (Target::gcc_layout).  Positions and alignments are in bits.
//
// - A member's alignment is its type's, raised by aligned(n)/_Alignas(n); packed lowers
//   it to one byte unless the member itself asks aligned(n) (which then rules, even
//   when smaller than the type's); #pragma pack(n) caps the result, aligned(n) included.
// - A bit-field goes at the next free bit, unless it would then span more than one unit
//   of its type's size aligned to its alignment: then it moves to the next such unit
//   (not when packed, nor while any #pragma pack is in force).  An aligned(n) on it
//   moves it to a multiple of n where it does not move to the next unit (unless a
//   smaller #pragma pack is in force); GCC moves it there first, then checks the unit.
// - A named bit-field raises the record's alignment to its type's (capped by #pragma
//   pack; packed lowers it to nothing unless #pragma pack is in force, which then caps
//   the type's); an unnamed one does not, except where the ABI says so
//   (Target::unnamed_bitfields_align: AAPCS, AAPCS64).
// - A zero-width bit-field moves the next member to a multiple of its type's alignment
//   and is affected neither by packed nor by #pragma pack; it raises the record's
//   alignment only where unnamed bit-fields do (then uncapped).
// - With Microsoft's bit-fields (Target::ms_bitfields, MinGW): a bit-field shares the
//   unit of the bit-field before it if their types have the same size and it fits, or
//   else opens a new unit of its type's size aligned to that size; packed does not
//   lower that alignment; a zero-width bit-field only counts after a bit-field, and
//   in a union bit-fields give no alignment and take their whole unit.
// - The record's alignment is the largest of its members' and its own aligned(n); its
//   size is the end of its last member rounded up to that alignment.
#include <algorithm>

#include "nd_layout.h"

namespace ndffi::layout {

namespace {

bool is_pow2(size_t n) { return n && !(n & (n - 1)); }

// Microsoft's bit-field rules align a member of a scalar type (or an array of one) to
// its size, as on i386, where that can exceed the ABI's alignment (not a _Complex one,
// which is two scalars), but not a flexible array member.
size_t ms_scalar_align(const CType *t, size_t align) {
  if (t->kind == Kind::Array && t->length == CType::kUnknownLength) return align;
  while (t->kind == Kind::Array) t = t->target;
  bool complex =
      t->kind == Kind::Float && t->name.size() > 8 && t->name.compare(t->name.size() - 8, 8, "_Complex") == 0;
  bool builtin = (t->kind == Kind::Int || t->kind == Kind::Float || t->kind == Kind::Bool) && !complex;
  size_t size = 8 * t->byte_size();
  return builtin && is_pow2(size) && size > align ? size : align;
}

struct Builder {
  const Target &abi;
  const RecordAttrs &attrs;
  Record *rec;
  const size_t pack;     // #pragma pack in bits; 0: none
  size_t data_size = 0;  // bits, always whole bytes: where the next member may go
  size_t size = 0;       // the largest data_size so far (Microsoft's zero-width
                         // bit-fields can move data_size back into an open unit)
  size_t align = 8;
  size_t unfilled = 0;   // bits of the last byte (or Microsoft unit) a bit-field left free
  size_t last_unit = 0;  // Microsoft's bit-fields: the size of the open unit; 0: none

  void field(const MemberDecl &m);
  void bitfield(const MemberDecl &m);
  void raise_align(size_t a) {
    if (a >= 8) align = std::max(align, a);
  }  // whole bytes only
};

void Builder::field(const MemberDecl &m) {
  unfilled = 0;
  last_unit = 0;
  const size_t size = 8 * member_size(m.type), user = 8 * m.aligned;
  size_t type_align = 8 * member_align(m.type);
  if (abi.ms_bitfields) type_align = ms_scalar_align(m.type, type_align);
  const bool packed = attrs.packed || m.packed;
  size_t unpacked = std::max(type_align, user), packed_align = std::max<size_t>(8, user);
  if (pack) {
    unpacked = std::min(unpacked, pack);
    packed_align = std::min(packed_align, pack);
  }
  const size_t a = packed ? packed_align : unpacked;
  const size_t at = rec->is_union ? 0 : round_up(data_size, a);
  rec->fields.push_back({m.name, m.type, at / 8});
  data_size = rec->is_union ? std::max(data_size, size) : at + size;
  raise_align(a);
}

void Builder::bitfield(const MemberDecl &m) {
  const bool ms = abi.ms_bitfields, packed = attrs.packed || m.packed;
  const size_t w = size_t(m.bit_width), unit = 8 * member_size(m.type), user = 8 * m.aligned;
  const size_t type_align = 8 * member_align(m.type);
  size_t a = type_align;
  if (ms) {
    a = unit;
    if (last_unit != unit || unfilled < w) {
      if (!last_unit && !w) a = 1;  // a zero-width bit-field after a non-bit-field
      unfilled = 0;
      last_unit = 0;
    }
  }
  size_t at = rec->is_union ? 0 : data_size - unfilled;
  size_t unpacked = a;
  if (!ms && packed && w) a = 1;
  if (user) {
    a = std::max(a, user);
    unpacked = std::max(unpacked, user);
  }
  if (pack && w) {
    unpacked = std::min(unpacked, pack);
    a = packed ? unpacked : std::min(a, pack);
  }
  if (ms && rec->is_union) a = unpacked = 1;
  if (ms) {
    if (!w || w > unfilled) {
      at = round_up(at, a);
      unfilled = 0;
    }
  } else if (w && user && abi.gcc_layout) {
    // GCC: to the multiple of aligned(n) (capped by #pragma pack) first, and only then
    // to the next unit of its type if it would straddle one there
    at = round_up(at, pack ? std::min(user, pack) : user);
    if (!packed && !pack && at % type_align + w > unit) at = round_up(at, type_align);
  } else if (!w || (!pack && at % a + w > unit)) {
    at = round_up(at, a);
  } else if (user && (!pack || user <= pack)) {
    at = round_up(at, user);
  }
  if (w) {
    Record::Field f{m.name, m.type, at / 8};
    f.bit_offset = int(at % 8);
    f.bit_width = m.bit_width;
    rec->fields.push_back(f);
  } else if (rec->is_union) {
    rec->zero_width_bitfield =
        uint8_t(std::max<size_t>(rec->zero_width_bitfield, std::min<size_t>(m.type->byte_size(), 16)));
  }
  if (!ms && !abi.unnamed_bitfields_align && m.name.empty()) a = 1;
  if (rec->is_union) {
    data_size = std::max(data_size, ms ? (w ? unit : 8) : round_up(w, 8));
  } else if (ms && w) {
    if (!unfilled) {
      data_size = at + unit;
      unfilled = unit;
    }
    unfilled -= w;
    last_unit = unit;
  } else {
    data_size = round_up(at + w, 8);
    unfilled = data_size - (at + w);
    last_unit = 0;
  }
  raise_align(a);
}

}  // namespace

void itanium(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs, const Target &abi) {
  Builder b{abi, attrs, rec, 8 * attrs.pack};
  b.raise_align(8 * attrs.aligned);
  for (const MemberDecl &m : members) {
    if (m.bit_width >= 0) b.bitfield(m);
    else b.field(m);
    b.size = std::max(b.size, b.data_size);
  }
  rec->align = b.align / 8;
  rec->size = round_up(b.size / 8, rec->align);
}

// The integer type of an enum: the first of int, long and long long that holds its
// values when one is negative, else of unsigned int, unsigned long and unsigned long
// long; a packed enum first tries the character and short types.
const CType *itanium_enum_base(int64_t lo, int64_t hi, bool packed, const Target &abi) {
  auto fits = [&](Scalar s) {
    unsigned bits = 8 * abi[s].size;
    if (abi.is_signed(s)) return bits >= 64 || (lo >= -(int64_t(1) << (bits - 1)) && hi < (int64_t(1) << (bits - 1)));
    return bits >= 64 || uint64_t(hi) < (uint64_t(1) << bits);
  };
  static const Scalar negative[] = {Scalar::SChar, Scalar::Short, Scalar::Int, Scalar::Long, Scalar::LongLong};
  static const Scalar positive[] = {Scalar::UChar, Scalar::UShort, Scalar::UInt, Scalar::ULong, Scalar::ULongLong};
  const Scalar *order = lo < 0 ? negative : positive;
  for (size_t i = packed ? 0 : 2; i < 5; i++)
    if (fits(order[i])) return abi.type(order[i]);
  return abi.type(order[4]);
}

}  // namespace ndffi::layout
