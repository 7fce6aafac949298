// Record layout by the Microsoft C rules (Windows on x86-64 and AArch64): members at
// the next multiple of their alignment, capped by #pragma pack; consecutive bit-fields
// share a storage unit of their declared type while they fit and the type's size does
// not change, otherwise a new unit starts at the type's alignment; a zero-width
// bit-field closes the current unit; every bit-field's type raises the record's
// alignment, as the unit it lives in is a member of that type.
#include <algorithm>

#include "nd_layout.h"

namespace ndffi::layout {

static size_t round_up(size_t n, size_t a) { return a ? (n + a - 1) / a * a : n; }

void msvc(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs) {
  size_t bytes = 0, size = 0, align = 1;
  size_t unit_start = 0, unit_size = 0, unit_used = 0;   // the open bit-field unit
  for (const MemberDecl &m : members) {
    const CType *t = m.type;
    size_t ta = t->kind == Kind::Array && t->length == CType::kUnknownLength ? t->target->alignment()
                                                                            : t->alignment();
    size_t ts = t->byte_size();
    size_t a = (attrs.packed || m.packed) ? 1 : ta;
    if (m.aligned) a = std::max(a, m.aligned);
    if (attrs.pack) a = std::min(a, attrs.pack);
    Record::Field f{m.name, t, 0};
    if (m.bit_width >= 0) {
      size_t w = size_t(m.bit_width);
      if (w == 0) {
        if (unit_size) bytes = unit_start + unit_size;
        unit_size = 0;
        continue;
      }
      if (rec->is_union) {
        f.offset = 0, f.bit_offset = 0, f.bit_width = m.bit_width;
        size = std::max(size, ts);
      } else {
        if (!unit_size || unit_size != ts || unit_used + w > 8 * ts) {
          if (unit_size) bytes = unit_start + unit_size;
          unit_start = round_up(bytes, a);
          unit_size = ts;
          unit_used = 0;
        }
        size_t pos = 8 * unit_start + unit_used;
        f.offset = pos / 8, f.bit_offset = int(pos % 8), f.bit_width = m.bit_width;
        unit_used += w;
      }
      align = std::max(align, a);
      rec->fields.push_back(f);
      continue;
    }
    if (unit_size) {
      bytes = unit_start + unit_size;
      unit_size = 0;
    }
    f.offset = rec->is_union ? 0 : round_up(bytes, a);
    align = std::max(align, a);
    if (rec->is_union) size = std::max(size, ts);
    else bytes = f.offset + ts;
    rec->fields.push_back(f);
  }
  if (unit_size) bytes = unit_start + unit_size;
  if (!rec->is_union) size = bytes;
  if (attrs.aligned) align = std::max(align, attrs.aligned);
  rec->align = align;
  rec->size = round_up(size, align);
}

}  // namespace ndffi::layout
