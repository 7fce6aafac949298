// Record layout by the System V / Itanium C rules, as GCC and Clang apply them on
// x86-64 and AArch64 (Linux, the BSDs, macOS).  This follows GCC's stor-layout.c
// (PCC_BITFIELD_TYPE_MATTERS targets), with every position and alignment in bits:
//
// - A member's alignment is its type's, raised by aligned(n)/_Alignas(n); packed lowers
//   it to one byte unless the member itself asks aligned(n) (which then rules, even
//   when smaller than the type's); #pragma pack(n) caps the result, aligned(n) included.
// - A bit-field has no alignment of its own: it is placed at the next bit, unless
//   aligned(n) asks for more; it may not span more units of its type's alignment than
//   the type has (it moves to the next unit otherwise), except when packed or while
//   any #pragma pack is in force.  A bit-field of 8, 16, 32 or 64 bits that happens to
//   start on a multiple of its width is aligned to its width (GCC gives it an integer
//   mode), which matters only for the record's alignment.
// - A named bit-field raises the record's alignment to its type's alignment (capped by
//   #pragma pack, or else lowered to a byte by packed); an unnamed one does not, except
//   under AAPCS64 (GCC's TARGET_ALIGN_ANON_BITFIELD), where it does too.
// - A zero-width bit-field moves the next member to a multiple of its type's alignment
//   and is affected neither by packed nor by #pragma pack; it does not raise the
//   record's alignment (under AAPCS64 it does, uncapped as well).
// - The record's alignment is the largest of its members' and its own aligned(n); its
//   size is the end of its last member rounded up to that alignment.
#include <algorithm>

#include "nd_layout.h"

namespace ndffi::layout {

static size_t low_bit(size_t n) { return n & (~n + 1); }

void sysv(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs,
          bool unnamed_bitfields_align) {
  const size_t pack = 8 * attrs.pack;   // 0: no #pragma pack
  size_t pos = 0, size = 0, align = 8;
  for (const MemberDecl &m : members) {
    const CType *t = m.type;
    const size_t ta = 8 * member_align(t), ts = 8 * member_size(t), user = 8 * m.aligned;
    const bool bitfield = m.bit_width >= 0;
    const size_t w = bitfield ? size_t(m.bit_width) : 0;
    const bool packed = (attrs.packed || m.packed) && !(bitfield && w == 0);
    const size_t here = rec->is_union ? 0 : pos;
    // The member's own alignment (GCC's DECL_ALIGN).
    size_t da;
    if (!bitfield) {
      da = packed && user ? user : std::max(user, ta);
      if (packed && !user) da = 8;
      if (pack) da = std::min(da, pack);
    } else if (w == 0) {
      da = std::max(user, ta);
    } else {
      da = user ? user : 1;
      if ((w == 8 || w == 16 || w == 32 || w == 64) && !(w > 8 && packed) && (here == 0 || low_bit(here) >= w))
        da = std::max(da, w);
      if (packed && !user) da = std::min<size_t>(da, 8);
      if (pack) da = std::min(da, pack);
    }
    // The record's alignment.
    if (!bitfield) {
      align = std::max(align, da);
    } else if (!m.name.empty() || unnamed_bitfields_align) {
      size_t type_align = w == 0 ? ta : pack ? std::min(ta, pack) : packed ? std::min<size_t>(ta, 8) : ta;
      align = std::max({align, da, type_align});
    }
    // The member's position.
    size_t at = round_up(here, da);
    if (bitfield && w > 0 && !packed && !pack) {
      size_t off = at % ta;
      if ((off + w + ta - 1) / ta > ts / ta) at = round_up(at, ta);
    }
    if (bitfield && w == 0) {
      if (!rec->is_union) pos = at;
      continue;
    }
    Record::Field f{m.name, t, at / 8};
    if (bitfield) {
      f.bit_offset = int(at % 8);
      f.bit_width = m.bit_width;
    }
    rec->fields.push_back(f);
    size_t end = at + (bitfield ? w : ts);
    if (rec->is_union) size = std::max(size, round_up(end, 8));
    else pos = end;
  }
  if (!rec->is_union) size = pos;
  align = std::max(align, 8 * attrs.aligned) / 8;
  rec->align = align;
  rec->size = round_up(round_up(size, 8) / 8, align);
}

// GCC's choice of an enum's integer type: unsigned int when no value is negative, else
// int, widening to long when the values need it; a packed enum takes the smallest type
// that holds its values.
const CType *sysv_enum_base(int64_t lo, int64_t hi, bool packed) {
  TypeTable &T = TypeTable::get();
  const CType *base = lo >= 0 ? (uint64_t(hi) <= UINT32_MAX ? T.int_type(4, false, "unsigned int")
                                                            : T.int_type(8, false, "unsigned long"))
                              : (lo >= INT32_MIN && hi <= INT32_MAX ? T.int_type(4, true, "int")
                                                                    : T.int_type(8, true, "long"));
  if (packed && base->size == 4) {
    if (lo >= 0 && hi <= UINT8_MAX) base = T.int_type(1, false, "unsigned char");
    else if (lo >= 0 && hi <= UINT16_MAX) base = T.int_type(2, false, "unsigned short");
    else if (lo >= INT8_MIN && hi <= INT8_MAX) base = T.int_type(1, true, "signed char");
    else if (lo >= INT16_MIN && hi <= INT16_MAX) base = T.int_type(2, true, "short");
  }
  return base;
}

}  // namespace ndffi::layout
