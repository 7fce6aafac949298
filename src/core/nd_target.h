// What an ABI decides about C's types: the size and alignment of the scalar types, the
// signedness of char, the types the standard typedefs name, and which rules lay out
// records and enums.  One table entry per ABI (nd_target_x86.cpp, nd_target_arm.cpp),
// read by the parser, the constant expressions and the record layout, so that the same
// code lays out declarations for any of them.  The host's entry is chosen at build time
// (host_target()); the others serve `ndffi layout --abi`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ndffi {

struct CType;

// The scalar types of C.
enum class Scalar : uint8_t {
  Bool,
  Char,
  SChar,
  UChar,
  Short,
  UShort,
  Int,
  UInt,
  Long,
  ULong,
  LongLong,
  ULongLong,
  Int128,
  UInt128,
  Float,
  Double,
  LongDouble,
  Pointer,
  Count
};
constexpr size_t kScalars = size_t(Scalar::Count);

// Size and alignment in bytes (the alignment a member of that type has in a struct);
// size 0: the ABI has no such type (__int128 on 32-bit targets).
struct SizeAlign {
  uint8_t size = 0, align = 0;
};

// The two families of record layout rules: Itanium (the System V ABIs: GCC and Clang on
// every Unix, MinGW) and Microsoft's (MSVC, clang-cl).
enum class RecordRules : uint8_t { Itanium, Microsoft };

struct Target {
  const char *name = "";    // "aarch64-linux"
  const char *triple = "";  // clang's -target for the same ABI: "aarch64-unknown-linux-gnu"
  // What differs between ABIs; _Bool and char are 1 byte, short 2, int and float 4
  // everywhere ndffi knows.
  SizeAlign long_, long_long, int128, double_, long_double, pointer;
  const char *long_double_format = "";  // for people: "x87 80-bit extended, in 16 bytes"
  bool char_signed = true;
  // The types <stddef.h> and <stdint.h> name: wchar_t, size_t (whose signed twin is
  // ptrdiff_t, intptr_t and ssize_t), int64_t, intmax_t.
  Scalar wchar = Scalar::Int, size = Scalar::ULong, int64 = Scalar::Long, intmax = Scalar::Long;
  RecordRules rules = RecordRules::Itanium;
  // Itanium rules with Microsoft's allocation of bit-fields (MinGW's -mms-bitfields).
  bool ms_bitfields = false;
  // Unnamed bit-fields, zero-width ones included, raise the record's alignment to their
  // type's as named ones do (AAPCS, AAPCS64: "without exception for zero-sized or
  // anonymous bit-fields").
  bool unnamed_bitfields_align = false;
  bool enums_are_int = false;  // every enum is int, whatever its values (Microsoft)
  // float and double _Complex are passed and returned as a struct of two of their type
  // (System V x86-64, AAPCS64), which is how the type model holds them (TypeTable::complex).
  bool complex_as_struct = false;
  // GCC and clang lay out records alike on every ABI here but in two corners of the
  // extensions: a bit-field with aligned(n) (clang moves it to a multiple of n only if it
  // would not straddle a unit of its type where it is, and not at all under a smaller
  // #pragma pack; GCC moves it to the multiple of n, or of the pack, then to the next
  // unit if it straddles one there), and a #pragma pack between the members of a record
  // (clang lays the record out with the pack in force at its opening brace, GCC at its
  // closing one).  The table's entries lay out as clang does (tests/test_layout_abi.py
  // checks them against it); the host's as the compiler that built ndffi (host_target()).
  bool gcc_layout = false;
  uint8_t aligned_default = 16;  // __attribute__((aligned)) without a number
  SizeAlign max_align_t;         // what <stddef.h> makes it: a struct, double or long double

  SizeAlign operator[](Scalar s) const;
  bool has(Scalar s) const { return (*this)[s].size != 0; }
  bool is_signed(Scalar s) const;
  // The interned type node of a scalar on this ABI (nullptr when it has none).
  const CType *type(Scalar s) const;
  const CType *make_type(Scalar s) const;  // type() without its cache
  // The signed integer type of a size_t's width (ptrdiff_t).
  Scalar signed_size() const { return Scalar(uint8_t(size) - 1); }
};

const char *scalar_name(Scalar s);  // "unsigned long long", "long double", "void *"

const Target &host_target();
// The entry named `name` ("x86_64-windows", or clang's triple for it), or nullptr.
const Target *find_target(const std::string &name);
const std::vector<const Target *> &all_targets();

// The table entries (nd_target_x86.cpp, nd_target_arm.cpp).
namespace targets {
extern const Target x86_64_linux, x86_64_darwin, x86_64_windows, x86_64_mingw, i686_linux;
extern const Target aarch64_linux, aarch64_darwin, aarch64_windows, armv7_linux_gnueabihf;
}  // namespace targets

}  // namespace ndffi
