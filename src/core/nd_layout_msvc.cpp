// Record layout by the Microsoft C rules (Windows on x86-64 and AArch64), as MSVC and
// clang-cl apply them:
//
// - A member's alignment is its type's, lowered to one byte by packed, capped by
//   #pragma pack; an explicit alignment (__declspec(align(n)), aligned(n), _Alignas)
//   is then applied on top and is not capped by #pragma pack.
// - A bit-field shares the storage unit opened by the bit-field just before it when
//   their declared types have the same size and it still fits; otherwise it opens a
//   new unit of its declared type, placed and aligned like a member of that type.
// - A zero-width bit-field is ignored unless it follows a bit-field; then it closes the
//   unit, moves the next member to a multiple of its type's alignment and raises the
//   record's alignment.
// - In a union, bit-fields do not raise the union's alignment (only its size).
// - The record's alignment is the largest of its members' and its own align(n); its size
//   is the end of its last member (or unit) rounded up to that alignment.
#include <algorithm>
#include <stdexcept>

#include "nd_layout.h"

namespace ndffi::layout {

void msvc(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs) {
  size_t size = 0, align = 1;
  bool in_bitfield = false;            // the last member was a non-zero-width bit-field
  size_t unit_size = 0, unit_left = 0; // its unit's size in bytes, the bits still free
  for (const MemberDecl &m : members) {
    const CType *t = m.type;
    const size_t ts = member_size(t);
    size_t a = member_align(t);
    if (attrs.packed || m.packed) a = 1;
    if (attrs.pack) a = std::min(a, attrs.pack);
    a = std::max(a, m.aligned);
    Record::Field f{m.name, t, 0};
    if (m.bit_width == 0) {
      if (!in_bitfield) continue;
      in_bitfield = false;
      if (rec->is_union) {
        size = std::max(size, ts);
      } else {
        size = round_up(size, a);
        align = std::max(align, a);
      }
      continue;
    }
    if (m.bit_width > 0) {
      const size_t w = size_t(m.bit_width);
      f.bit_width = m.bit_width;
      if (!rec->is_union && in_bitfield && unit_size == ts && w <= unit_left) {
        size_t bit = 8 * size - unit_left;
        f.offset = bit / 8;
        f.bit_offset = int(bit % 8);
        unit_left -= w;
      } else {
        in_bitfield = true;
        unit_size = ts;
        f.bit_offset = 0;
        if (rec->is_union) {
          size = std::max(size, ts);
        } else {
          f.offset = round_up(size, a);
          size = f.offset + ts;
          align = std::max(align, a);
          unit_left = 8 * ts - w;
        }
      }
      rec->fields.push_back(f);
      continue;
    }
    in_bitfield = false;
    align = std::max(align, a);
    if (rec->is_union) {
      size = std::max(size, ts);
    } else {
      f.offset = round_up(size, a);
      size = f.offset + ts;
    }
    rec->fields.push_back(f);
  }
  align = std::max(align, attrs.aligned);
  rec->align = align;
  rec->size = round_up(size, align);
}

// MSVC's C enums are int, whatever their values; packed has no effect.
const CType *msvc_enum_base(int64_t lo, int64_t hi) {
  if (lo < INT32_MIN || hi > INT32_MAX)
    throw std::runtime_error("an enumerator value does not fit in int, the type of every enum on Windows");
  return TypeTable::get().int_type(4, true, "int");
}

}  // namespace ndffi::layout
