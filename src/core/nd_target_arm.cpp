// Re-verify when this file changes: test_layout_abi.py (each fact against clang -target), test_layout.py, the core
// tests and `make test-aarch64`.
//
// The Arm ABIs: AAPCS64 on Linux (unsigned char, a 128-bit IEEE long double, unnamed
// bit-fields that align the record), Apple's arm64 variant (signed char, long double is
// double, bit-fields as on x86-64), Windows on Arm64 (MSVC's rules, as on x64), and
// AAPCS on 32-bit Linux with hardware floating point (long long and double aligned to
// 8).  Each fact is checked against clang's -target by tests/test_layout_abi.py.
#include "nd_target.h"

namespace ndffi::targets {

static constexpr Target aapcs64() {
  Target t;
  t.long_ = {8, 8};
  t.long_long = {8, 8};
  t.int128 = {16, 16};
  t.double_ = {8, 8};
  t.long_double = {16, 16};
  t.long_double_format = "IEEE binary128";
  t.pointer = {8, 8};
  t.char_signed = false;
  t.wchar = Scalar::UInt;
  t.size = Scalar::ULong;
  t.int64 = t.intmax = Scalar::Long;
  t.unnamed_bitfields_align = true;
  t.aligned_default = 16;
  t.max_align_t = {32, 16};  // { long long; long double; }
  return t;
}

constexpr Target aarch64_linux = [] {
  Target t = aapcs64();
  t.name = "aarch64-linux";
  t.complex_as_struct = true;
  t.triple = "aarch64-unknown-linux-gnu";
  return t;
}();

constexpr Target aarch64_darwin = [] {
  Target t = aapcs64();
  t.name = "aarch64-darwin";
  t.complex_as_struct = true;
  t.triple = "arm64-apple-darwin";
  t.long_double = {8, 8};
  t.long_double_format = "IEEE binary64 (the same as double)";
  t.char_signed = true;
  t.wchar = Scalar::Int;
  t.int64 = Scalar::LongLong;  // intmax_t stays long
  t.unnamed_bitfields_align = false;
  t.max_align_t = {8, 8};  // long double
  return t;
}();

constexpr Target aarch64_windows = [] {
  Target t = aapcs64();
  t.name = "aarch64-windows";
  t.triple = "aarch64-pc-windows-msvc";
  t.long_ = {4, 4};
  t.long_double = {8, 8};
  t.long_double_format = "IEEE binary64 (the same as double)";
  t.char_signed = true;
  t.wchar = Scalar::UShort;
  t.size = Scalar::ULongLong;
  t.int64 = t.intmax = Scalar::LongLong;
  t.rules = RecordRules::Microsoft;
  t.unnamed_bitfields_align = false;
  t.enums_are_int = true;
  t.max_align_t = {8, 8};  // double
  return t;
}();

constexpr Target armv7_linux_gnueabihf = [] {
  Target t;
  t.name = "armv7-linux-gnueabihf";
  t.triple = "armv7-unknown-linux-gnueabihf";
  t.long_ = {4, 4};
  t.long_long = {8, 8};
  t.double_ = {8, 8};
  t.long_double = {8, 8};
  t.long_double_format = "IEEE binary64 (the same as double)";
  t.pointer = {4, 4};
  t.char_signed = false;
  t.wchar = Scalar::UInt;
  t.size = Scalar::UInt;
  t.int64 = t.intmax = Scalar::LongLong;
  t.unnamed_bitfields_align = true;
  t.aligned_default = 8;
  t.max_align_t = {16, 8};  // { long long; long double; }
  return t;
}();

}  // namespace ndffi::targets
