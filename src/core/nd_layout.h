// Record layout: the offsets, size, alignment and bit-field placement of structs and
// unions, by the rules of an ABI (nd_target.h).  One implementation file per family of
// rules, each following clang's record layout builder of the same name for C:
// nd_layout_sysv.cpp (Itanium: the System V ABIs of Linux, macOS and the BSDs, AAPCS and
// AAPCS64, and MinGW's variant with Microsoft's bit-fields) and nd_layout_msvc.cpp
// (Microsoft's: MSVC on x64 and Arm64).
#pragma once

#include <string>
#include <vector>

#include "nd_ctype.h"

namespace ndffi {

// A member as declared, before layout.
struct MemberDecl {
  std::string name;  // "" for an anonymous struct/union member or unnamed bit-field
  const CType *type;
  int bit_width = -1;   // -1: not a bit-field
  size_t aligned = 0;   // __attribute__((aligned(n))) / _Alignas(n) on the member; 0: none
  bool packed = false;  // __attribute__((packed)) on the member
};

// What the declaration says about packing and alignment of the whole record.
struct RecordAttrs {
  bool packed = false;  // __attribute__((packed)) on the record
  size_t pack = 0;      // #pragma pack(n) in force; 0: none
  size_t aligned = 0;   // __attribute__((aligned(n))) on the record; 0: none
};

// Lay out `rec` from its members by the rules of `abi` and mark it complete.  Throws
// std::runtime_error for a member whose layout the rules do not allow (an incomplete
// type, a bit-field wider than its type, a bit-field of a non-integer type, a flexible
// array member not last).
void layout_record(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs,
                   const Target &abi = host_target());

// Complete the enum `rec`, whose enumerators lie in [lo, hi], with the integer type the
// rules of `abi` give it (`packed`: __attribute__((packed)) on the enum).
void layout_enum(Record *rec, int64_t lo, int64_t hi, bool packed, const Target &abi = host_target());

namespace layout {
void itanium(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs, const Target &abi);
void microsoft(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs, const Target &abi);
const CType *itanium_enum_base(int64_t lo, int64_t hi, bool packed, const Target &abi);
void check_member(const Record *rec, const MemberDecl &m, bool last);  // shared checks

// What every family of rules measures the same way: `n` rounded up to a multiple of `a`
// (`n` itself for a = 0), and the size and alignment in bytes of a member's type (a
// flexible array has the alignment of its elements and no size).
inline size_t round_up(size_t n, size_t a) { return a ? (n + a - 1) / a * a : n; }
size_t member_size(const CType *t);
size_t member_align(const CType *t);
// The record a member of type `t` is, or is an array of; nullptr for any other type.
const Record *member_record(const CType *t);
}  // namespace layout

}  // namespace ndffi
