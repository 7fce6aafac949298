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
#include <algorithm>
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

// ---- aggregates: the classification of each eightbyte ---------------------------

namespace {

enum Class { kNone, kInteger, kSSE, kMemory };

void classify(const CType *t, size_t offset, Class cls[2], int bit_width = -1) {
  if (t->kind == Kind::Array) {
    for (size_t k = 0; k < t->length; k++) classify(t->target, offset + k * t->target->byte_size(), cls);
    return;
  }
  if (t->kind == Kind::Record) {
    for (const Record::Field &f : t->record->fields) classify(f.type, offset + f.offset, cls, f.bit_width);
    return;
  }
  size_t size = bit_width >= 0 ? 1 : t->byte_size();
  Class c = t->kind == Kind::Float ? (t->size > 8 ? kMemory : kSSE) : kInteger;
  for (size_t b = offset; b < offset + size && b < 16; b++) {
    Class &e = cls[b / 8];
    if (c == kMemory || e == kMemory) e = kMemory;
    else if (c == kInteger || e == kInteger) e = kInteger;
    else e = kSSE;
  }
}

}  // namespace

ffi_type *aggregate_ffi_type(const Record *rec) {
  std::vector<ffi_type *> elems;
  if (rec->size > 16) {
    // Passed in memory whatever its members: libffi needs only size and alignment.
    for (size_t k = 0; k < (rec->size + 7) / 8; k++) elems.push_back(&ffi_type_uint64);
  } else {
    Class cls[2] = {kNone, kNone};
    CType whole{Kind::Record};
    whole.record = const_cast<Record *>(rec);
    classify(&whole, 0, cls);
    for (size_t k = 0; k * 8 < rec->size; k++) {
      size_t bytes = std::min<size_t>(8, rec->size - 8 * k);
      if (cls[k] == kMemory) return nullptr;   // long double members: not expressible here
      if (cls[k] == kSSE) elems.push_back(bytes > 4 ? &ffi_type_double : &ffi_type_float);
      else elems.push_back(bytes > 4 ? &ffi_type_uint64 : bytes > 2 ? &ffi_type_uint32
                           : bytes > 1 ? &ffi_type_uint16 : &ffi_type_uint8);
    }
  }
  auto **list = new ffi_type *[elems.size() + 1];
  std::copy(elems.begin(), elems.end(), list);
  list[elems.size()] = nullptr;
  return new ffi_type{rec->size, (unsigned short)rec->align, FFI_TYPE_STRUCT, list};
}

}  // namespace ndffi::abi
#endif
