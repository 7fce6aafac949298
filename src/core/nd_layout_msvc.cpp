// Re-verify when this file changes: test_layout_abi.py (the Windows targets against clang -target), test_layout.py and
// the core tests (tests/core/layout.cpp).
//
// Record layout by the Microsoft rules (MSVC and clang-cl on x64 and Arm64), as clang's
// MicrosoftRecordLayoutBuilder applies them to C.  Sizes and alignments in bytes:
//
// - A member's alignment is its type's, capped by #pragma pack (which is ignored when
//   larger than a pointer) or lowered to one byte by packed (on the member, or on the
//   record, where it acts as #pragma pack(1)); an explicit alignment (aligned(n),
//   also one a typedef of the member's type gave it,
//   _Alignas, __declspec(align(n))) on the member, or one inside its record type, is
//   then applied on top, is not capped, and is "required": it stays when the record is
//   itself a member of a packed record.
// - A bit-field shares the storage unit opened by the bit-field just before it when
//   their declared types have the same size and it still fits; otherwise it opens a
//   new unit of its declared type, placed and aligned like a member of that type (and at
//   least to the type's size).
// - A zero-width bit-field is ignored unless it follows a bit-field; then it closes the
//   unit, moves the next member to a multiple of its type's alignment and raises the
//   record's alignment.
// - In a union, bit-fields do not raise the union's alignment (only its size).
// - The record's alignment is the largest of its members' and the required alignments;
//   its size is the end of its last member (or unit) rounded up to that alignment (to
//   #pragma pack's, if smaller, but never below the required one).  A record with no
//   bytes is 4 bytes long (its alignment, when a required one of 4 or more is in play).
#include <algorithm>

#include "nd_layout.h"

namespace ndffi::layout {

void microsoft(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs, const Target &abi) {
  const bool is_union = rec->is_union;
  size_t size = 0, align = 1;
  // On 64-bit targets the record is always rounded to its required alignment at the end.
  size_t required = abi.pointer.size == 8 ? 1 : 0;
  size_t max_field = attrs.pack <= abi.pointer.size ? attrs.pack : 0;  // 0: none
  if (attrs.packed) max_field = 1;
  bool in_bitfield = false;             // the last member was a non-zero-width bit-field
  size_t unit_size = 0, unit_left = 0;  // its unit's size in bytes, the bits still free
  for (const MemberDecl &m : members) {
    const CType *t = m.type;
    const size_t ts = member_size(t);
    const bool bitfield = m.bit_width >= 0;
    size_t a = member_align(t), field_required = m.aligned;
    // A member whose type a typedef's aligned(n) changed is laid out with the type's
    // natural alignment (an array of them with the new one), and the new one is required:
    // a lowered one never lowers the member, a raised one survives packing.
    const CType *elem = t;
    while (elem->kind == Kind::Array) elem = elem->target;
    if (elem->natural_align) {
      if (elem == t) a = elem->natural_align;
      field_required = std::max(field_required, elem->align);
    }
    if (bitfield) {
      // A bit-field's unit is aligned to its size at least, even where a typedef lowered
      // the type's alignment.
      a = std::max({a, ts, field_required});
    } else {
      if (const Record *r = member_record(t)) field_required = std::max(field_required, r->required_align);
      required = std::max(required, field_required);
    }
    if (max_field) a = std::min(a, max_field);
    if (m.packed) a = 1;
    a = std::max(a, field_required);
    Record::Field f{m.name, t, 0};
    if (!bitfield) {
      in_bitfield = false;
      align = std::max(align, a);
      f.offset = is_union ? 0 : round_up(size, a);
      size = std::max(size, f.offset + ts);
      rec->fields.push_back(f);
      continue;
    }
    if (m.bit_width == 0) {
      if (!in_bitfield) continue;
      in_bitfield = false;
      if (is_union) {
        size = std::max(size, ts);
      } else {
        size = round_up(size, a);
        align = std::max(align, a);
      }
      continue;
    }
    const size_t w = size_t(m.bit_width);
    f.bit_width = m.bit_width;
    if (!is_union && in_bitfield && unit_size == ts && w <= unit_left) {
      size_t bit = 8 * size - unit_left;
      f.offset = bit / 8;
      f.bit_offset = int(bit % 8);
      unit_left -= w;
    } else {
      in_bitfield = true;
      unit_size = ts;
      f.bit_offset = 0;
      if (is_union) {
        size = std::max(size, ts);
      } else {
        f.offset = round_up(size, a);
        size = f.offset + ts;
        align = std::max(align, a);
        unit_left = 8 * ts - w;
      }
    }
    rec->fields.push_back(f);
  }
  size = round_up(size, align);
  required = std::max(required, attrs.aligned);
  if (required) {
    align = std::max(align, required);
    size_t rounding = max_field ? std::min(align, max_field) : align;
    size = round_up(size, std::max(rounding, required));
  }
  if (size == 0) size = required >= 4 ? align : 4;
  rec->align = align;
  rec->size = size;
  // A record with an alignment of its own keeps all of it as a member; one without, only
  // what its members require.
  rec->required_align = attrs.aligned ? std::max(align, required) : required;
}

}  // namespace ndffi::layout
