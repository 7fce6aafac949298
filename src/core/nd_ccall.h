// The call plan and call engine, after LuaJIT's lj_ccall: a plan is made once per
// function from its C type (how each argument is stored, which register-class stub or
// libffi cif calls it), and a call only fills the plan's storage and invokes it.
#pragma once

#include <ffi.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "nd_ctype.h"

namespace ndffi {

// How a value crosses the boundary, chosen from its C type.
enum class Conv : uint8_t {
  Void,
  Bool,
  SInt,      // signed integer of `size` bytes (enums too)
  UInt,      // unsigned integer of `size` bytes
  Float,     // 4-byte float
  Double,    // 8-byte double
  LongDouble,
  Pointer,   // data pointer (the pointee decides what may be passed)
  FuncPtr,   // pointer to a function
  Record,    // struct or union by value
};

struct ArgSpec {
  Conv conv;
  uint32_t size;        // bytes of the C value (Pointer: sizeof(void *))
  uint32_t offset;      // where the converted value goes in the call's storage
  const CType *type;    // the C type, qualifiers included
  int64_t min = 0;      // SInt/UInt: the accepted range
  uint64_t max = 0;
};

// Calls `fn` with arguments already stored in the plan's layout; the raw result (the
// integer or pointer register, or the bits of the floating-point register) is returned.
using DirectStub = uint64_t (*)(void *fn, const unsigned char *storage);

struct CallPlan {
  void *fn = nullptr;
  const CType *type = nullptr;     // the function type
  std::vector<ArgSpec> args;       // the fixed parameters
  ArgSpec ret{Conv::Void, 0, 0, nullptr};
  uint32_t storage = 0;            // bytes of argument storage a call needs
  DirectStub direct = nullptr;     // set when the ABI file has a stub for this signature
  ffi_cif cif;                     // the libffi fallback, prepared once
  std::vector<ffi_type *> ffi_args;
  std::vector<std::vector<ffi_type *>> ffi_records;   // element lists of by-value records
  std::vector<ffi_type> ffi_record_types;

  CallPlan() = default;
  CallPlan(const CallPlan &) = delete;
  CallPlan &operator=(const CallPlan &) = delete;
};

struct UnsupportedType : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The conversion of one C type (a parameter, a result, a variadic argument).
ArgSpec arg_spec(const CType *t);

// True when the environment variable NDFFI_FORCE_LIBFFI was set (to anything but "" or
// "0") when the extension was loaded: every call then goes through libffi and every
// callback through a libffi closure, as on an ABI without a file of its own, so that
// the generic engine is exercised on every machine.
bool force_libffi();

// Make the plan for calling `fn` of function type `ftype`.  Throws UnsupportedType for a
// parameter or result type the engine cannot pass.
// allow_direct=false forces libffi (to test the direct stubs against it).
void make_plan(CallPlan &plan, const CType *ftype, void *fn, bool allow_direct = true);

// The libffi type of a C scalar, pointer or record type (nullptr if libffi cannot pass
// it on this ABI).  Record types are made once and kept.
ffi_type *ffi_type_of(const CType *t);
// The libffi type of a result: ffi_type_of(t) unless the ABI returns `t` otherwise.
ffi_type *ffi_result_type(const CType *t);

// Call through libffi.  `ret` must hold at least max(8, result size) bytes.
void call_ffi(const CallPlan &plan, unsigned char *storage, void *ret);

// A call of a variadic function: the fixed arguments as planned, then `extra` (each
// with its offset into storage already set), through a cif prepared for this call.
struct VariadicCall {
  ffi_cif cif;
  std::vector<ffi_type *> types;
  std::vector<void *> values;
  bool prepare(const CallPlan &plan, const std::vector<ArgSpec> &extra, unsigned char *storage);
  void call(const CallPlan &plan, void *ret);
};

// Read a raw integer result of `size` bytes, sign- or zero-extended (the bits above the
// C type's width in a return register are unspecified).
inline int64_t extend_signed(uint64_t raw, unsigned size) {
  switch (size) {
    case 1: return int8_t(raw);
    case 2: return int16_t(raw);
    case 4: return int32_t(raw);
    default: return int64_t(raw);
  }
}
inline uint64_t extend_unsigned(uint64_t raw, unsigned size) {
  switch (size) {
    case 1: return uint8_t(raw);
    case 2: return uint16_t(raw);
    case 4: return uint32_t(raw);
    default: return raw;
  }
}

}  // namespace ndffi
