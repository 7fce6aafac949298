// Record layout: the offsets, size, alignment and bit-field placement of structs and
// unions, by the rules of an ABI.  One implementation file per family of rules:
// nd_layout_sysv.cpp (the System V / Itanium rules of Linux, macOS and the BSDs on
// x86-64 and AArch64, with the AAPCS64 variant of Linux on AArch64) and
// nd_layout_msvc.cpp (Windows).
#pragma once

#include <string>
#include <vector>

#include "nd_ctype.h"

namespace ndffi {

// A member as declared, before layout.
struct MemberDecl {
  std::string name;          // "" for an anonymous struct/union member or unnamed bit-field
  const CType *type;
  int bit_width = -1;        // -1: not a bit-field
  size_t aligned = 0;        // __attribute__((aligned(n))) / _Alignas(n) on the member; 0: none
  bool packed = false;       // __attribute__((packed)) on the member
};

// What the declaration says about packing and alignment of the whole record.
struct RecordAttrs {
  bool packed = false;       // __attribute__((packed)) on the record
  size_t pack = 0;           // #pragma pack(n) in force; 0: none
  size_t aligned = 0;        // __attribute__((aligned(n))) on the record; 0: none
};

// SysV: GCC and Clang on x86-64 (and on Apple's arm64).  AAPCS64: GCC and Clang on
// AArch64 Linux and the BSDs, which differ from SysV in one point only: unnamed
// bit-fields (zero-width ones included) raise the record's alignment to their type's.
// MSVC: Windows.
enum class LayoutRules { SysV, AAPCS64, MSVC };

LayoutRules native_layout_rules();

// Lay out `rec` from its members and mark it complete.  Throws std::runtime_error for a
// member whose layout the rules do not allow (an incomplete type, a bit-field wider than
// its type, a bit-field of a non-integer type, a flexible array member not last).
void layout_record(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs,
                   LayoutRules rules = native_layout_rules());

// Complete the enum `rec`, whose enumerators lie in [lo, hi], with the integer type the
// rules give it (`packed`: __attribute__((packed)) on the enum).  Throws
// std::runtime_error when the rules have no type for those values.
void layout_enum(Record *rec, int64_t lo, int64_t hi, bool packed,
                 LayoutRules rules = native_layout_rules());

namespace layout {
const CType *sysv_enum_base(int64_t lo, int64_t hi, bool packed);
const CType *msvc_enum_base(int64_t lo, int64_t hi);
void sysv(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs,
          bool unnamed_bitfields_align = false);
void msvc(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs);
void check_member(const Record *rec, const MemberDecl &m, bool last);   // shared checks

// What every family of rules measures the same way: `n` rounded up to a multiple of `a`
// (`n` itself for a = 0), and the size and alignment in bytes of a member's type (a
// flexible array has the alignment of its elements and no size).
inline size_t round_up(size_t n, size_t a) { return a ? (n + a - 1) / a * a : n; }
size_t member_size(const CType *t);
size_t member_align(const CType *t);
}  // namespace layout

}  // namespace ndffi
