// System V AMD64 ABI: direct calls without libffi for the common signatures.
//
// Integer and pointer arguments fill rdi, rsi, rdx, rcx, r8, r9 in order, and float and
// double arguments fill xmm0..xmm7 in order, independently of each other.  So a call
// whose arguments all fit in registers is fully described by (number of integer
// arguments, number of floating arguments, whether the result is in xmm0), and one stub
// per such triple, compiled here, calls any function of that shape: its arguments are
// read from storage slots of 8 bytes, integers first, then floating values.
//
// Integers are stored sign- or zero-extended to 64 bits (the callee ignores the upper
// bits; clang-compiled callees rely on extension to 32 bits for small types).  A float
// is stored in the low 4 bytes of its slot and passed as the double with those bits,
// which places it in the low 32 bits of its xmm register, where the callee reads it.
// Variadic functions (which need %al), structs by value, long double and calls that
// spill to the stack are left to libffi.
#if defined(__x86_64__) && !defined(_WIN32)
#include <cstring>
#include <array>
#include <utility>

#include "nd_abi.h"

namespace ndffi::abi {
namespace {

constexpr int kIntRegs = 6, kFloatRegs = 8;

inline double bits_to_double(uint64_t b) {
  double d;
  memcpy(&d, &b, 8);
  return d;
}

inline uint64_t slot(const unsigned char *s, size_t i) {
  uint64_t v;
  memcpy(&v, s + 8 * i, 8);
  return v;
}

template <size_t> using U64 = uint64_t;
template <size_t> using F64 = double;

template <bool FloatResult, size_t... I, size_t... J>
uint64_t call(void *fn, const unsigned char *s, std::index_sequence<I...>, std::index_sequence<J...>) {
  constexpr size_t NI = sizeof...(I);
  if constexpr (FloatResult) {
    using F = double (*)(U64<I>..., F64<J>...);
    double r = reinterpret_cast<F>(fn)(slot(s, I)..., bits_to_double(slot(s, NI + J))...);
    uint64_t b;
    memcpy(&b, &r, 8);
    return b;
  } else {
    using F = uint64_t (*)(U64<I>..., F64<J>...);
    return reinterpret_cast<F>(fn)(slot(s, I)..., bits_to_double(slot(s, NI + J))...);
  }
}

template <int NI, int NF, bool FR>
uint64_t stub(void *fn, const unsigned char *s) {
  return call<FR>(fn, s, std::make_index_sequence<NI>(), std::make_index_sequence<NF>());
}

template <bool FR, int NI, int... NF>
constexpr std::array<DirectStub, sizeof...(NF)> row(std::integer_sequence<int, NF...>) {
  return {&stub<NI, NF, FR>...};
}

template <bool FR, int... NI>
constexpr std::array<std::array<DirectStub, kFloatRegs + 1>, sizeof...(NI)> table(
    std::integer_sequence<int, NI...>) {
  return {row<FR, NI>(std::make_integer_sequence<int, kFloatRegs + 1>())...};
}

const auto kIntResult = table<false>(std::make_integer_sequence<int, kIntRegs + 1>());
const auto kFloatResult = table<true>(std::make_integer_sequence<int, kIntRegs + 1>());

bool in_int_reg(Conv c) {
  return c == Conv::Bool || c == Conv::SInt || c == Conv::UInt || c == Conv::Pointer ||
         c == Conv::FuncPtr;
}
bool in_float_reg(Conv c) { return c == Conv::Float || c == Conv::Double; }

}  // namespace

DirectStub plan_direct(const CType *ftype, std::vector<ArgSpec> &args, const ArgSpec &ret,
                       uint32_t *storage) {
  if (ftype->variadic) return nullptr;
  if (!(ret.conv == Conv::Void || in_int_reg(ret.conv) || in_float_reg(ret.conv))) return nullptr;
  int ni = 0, nf = 0;
  for (const ArgSpec &a : args) {
    if (in_int_reg(a.conv)) ni++;
    else if (in_float_reg(a.conv)) nf++;
    else return nullptr;
  }
  if (ni > kIntRegs || nf > kFloatRegs) return nullptr;
  int i = 0, f = 0;
  for (ArgSpec &a : args) a.offset = 8 * (in_int_reg(a.conv) ? i++ : ni + f++);
  *storage = 8 * (ni + nf);
  return in_float_reg(ret.conv) ? kFloatResult[ni][nf] : kIntResult[ni][nf];
}

}  // namespace ndffi::abi
#endif
