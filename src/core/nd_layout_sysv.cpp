// Record layout by the System V / Itanium C rules, as GCC and Clang apply them on
// x86-64 and AArch64 (Linux, the BSDs, macOS): each member at the next multiple of its
// alignment; a bit-field may not span more units of its type's alignment than the type
// itself has (unless packed, or under #pragma pack, where bit-fields run on); unnamed
// bit-fields do not raise the record's alignment; a zero-width bit-field moves to the
// next unit of its type.
#include <algorithm>

#include "nd_layout.h"

namespace ndffi::layout {

static size_t round_up(size_t n, size_t a) { return a ? (n + a - 1) / a * a : n; }

void sysv(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs) {
  size_t bits = 0, size_bits = 0, align = 1;
  for (const MemberDecl &m : members) {
    const CType *t = m.type;
    size_t ta = t->kind == Kind::Array && t->length == CType::kUnknownLength ? t->target->alignment()
                                                                            : t->alignment();
    size_t ts = t->byte_size();
    bool packed = attrs.packed || m.packed;
    // The alignment this member gets: its type's, raised by aligned(n), lowered to 1 by
    // packed (unless aligned(n) asks more), capped by #pragma pack.
    size_t a = packed ? 1 : ta;
    if (m.aligned) a = std::max(a, m.aligned);
    if (attrs.pack) a = std::min(a, attrs.pack);
    size_t pos = rec->is_union ? 0 : bits;
    Record::Field f{m.name, t, 0};   // a bit-field's offset is the byte of its first bit
    if (m.bit_width == 0) {
      size_t unit = attrs.pack ? std::min(ta, attrs.pack) : ta;
      if (!rec->is_union) bits = round_up(bits, 8 * unit);
      continue;
    }
    if (m.bit_width > 0) {
      size_t w = size_t(m.bit_width);
      if (!packed && !attrs.pack) {
        size_t unit = 8 * ta;
        size_t off = pos % unit;
        if ((off + w + unit - 1) / unit > (8 * ts) / unit) pos = round_up(pos, unit);
      }
      if (m.aligned) pos = round_up(pos, 8 * a);
      f.offset = pos / 8;
      f.bit_offset = int(pos % 8);
      f.bit_width = m.bit_width;
      if (!m.name.empty() || m.aligned) align = std::max(align, a);
      pos += w;
    } else {
      pos = round_up(pos, 8 * a);
      f.offset = pos / 8;
      align = std::max(align, a);
      pos += 8 * ts;
    }
    rec->fields.push_back(f);
    if (rec->is_union) size_bits = std::max(size_bits, pos);
    else bits = pos;
  }
  if (!rec->is_union) size_bits = bits;
  if (attrs.aligned) align = std::max(align, attrs.aligned);
  rec->align = align;
  rec->size = round_up(round_up(size_bits, 8) / 8, align);
}

}  // namespace ndffi::layout
