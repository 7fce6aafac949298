// Re-verify when this file changes: test_layout_abi.py (each fact against clang -target), test_layout.py and the core
// tests (tests/core/layout.cpp, types.cpp).
//
// The x86 ABIs: System V on x86-64 (Linux and the BSDs; macOS differs only in what
// int64_t names), Windows x64 (MSVC's rules, and MinGW's: GCC's layout with MSVC's
// bit-fields and an x87 long double) and System V i386 (Linux), whose long long and
// double are aligned to 4 in structs.  Each fact is checked against clang's -target by
// tests/test_layout_abi.py.
#include "nd_target.h"

namespace ndffi::targets {

// LP64: long and pointers of 8 bytes; an x87 long double in 16 bytes.
static constexpr Target sysv_x86_64() {
  Target t;
  t.long_ = {8, 8};
  t.long_long = {8, 8};
  t.int128 = {16, 16};
  t.double_ = {8, 8};
  t.long_double = {16, 16};
  t.long_double_format = "x87 80-bit extended, in 16 bytes";
  t.pointer = {8, 8};
  t.char_signed = true;
  t.wchar = Scalar::Int;
  t.size = Scalar::ULong;
  t.int64 = t.intmax = Scalar::Long;
  t.aligned_default = 16;
  t.max_align_t = {32, 16};  // { long long; long double; }
  return t;
}

constexpr Target x86_64_linux = [] {
  Target t = sysv_x86_64();
  t.name = "x86_64-linux";
  t.complex_as_struct = true;
  t.triple = "x86_64-pc-linux-gnu";
  return t;
}();

constexpr Target x86_64_darwin = [] {
  Target t = sysv_x86_64();
  t.name = "x86_64-darwin";
  t.complex_as_struct = true;
  t.triple = "x86_64-apple-darwin";
  t.int64 = Scalar::LongLong;  // intmax_t stays long
  t.max_align_t = {16, 16};    // long double
  return t;
}();

// LLP64: long is 4 bytes, wchar_t 2; the 64-bit typedefs name long long.
static constexpr Target win64() {
  Target t = sysv_x86_64();
  t.long_ = {4, 4};
  t.wchar = Scalar::UShort;
  t.size = Scalar::ULongLong;
  t.int64 = t.intmax = Scalar::LongLong;
  return t;
}

constexpr Target x86_64_windows = [] {
  Target t = win64();
  t.name = "x86_64-windows";
  t.triple = "x86_64-pc-windows-msvc";
  t.long_double = {8, 8};
  t.long_double_format = "IEEE binary64 (the same as double)";
  t.rules = RecordRules::Microsoft;
  t.enums_are_int = true;
  t.max_align_t = {8, 8};  // double
  return t;
}();

constexpr Target x86_64_mingw = [] {
  Target t = win64();
  t.name = "x86_64-mingw";
  t.triple = "x86_64-w64-windows-gnu";
  t.ms_bitfields = true;
  return t;
}();

constexpr Target i686_linux = [] {
  Target t;
  t.name = "i686-linux";
  t.triple = "i686-pc-linux-gnu";
  t.long_ = {4, 4};
  t.long_long = {8, 4};
  t.double_ = {8, 4};
  t.long_double = {12, 4};
  t.long_double_format = "x87 80-bit extended, in 12 bytes";
  t.pointer = {4, 4};
  t.char_signed = true;
  t.wchar = Scalar::Int;
  t.size = Scalar::UInt;
  t.int64 = t.intmax = Scalar::LongLong;
  t.aligned_default = 16;
  t.max_align_t = {24, 8};  // { long long; long double; } with their __alignof__
  return t;
}();

}  // namespace ndffi::targets
