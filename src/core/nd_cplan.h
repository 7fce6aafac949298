// The call plan, after LuaJIT's lj_ccall: made once per function from its C type (how
// each argument is stored, which register-class stub or libffi cif calls it), so that a
// call only fills the plan's storage and invokes it (nd_ccall.h).
#pragma once

#include <ffi.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "nd_ctype.h"

namespace ndffi {

// How a value crosses the boundary, chosen from its C type.
enum class Conv : uint8_t {
  Void,
  Bool,
  SInt,    // signed integer of `size` bytes (enums too)
  UInt,    // unsigned integer of `size` bytes
  Float,   // 4-byte float
  Double,  // 8-byte double
  LongDouble,
  Pointer,  // data pointer (the pointee decides what may be passed)
  FuncPtr,  // pointer to a function
  Record,   // struct or union by value
};

struct ArgSpec {
  Conv conv;
  uint32_t size;      // bytes of the C value (Pointer: sizeof(void *))
  uint32_t offset;    // where the converted value goes in the call's storage
  const CType *type;  // the C type, qualifiers included
  int64_t min = 0;    // SInt/UInt: the accepted range
  uint64_t max = 0;
};

// Calls `fn` with arguments already stored in the plan's layout; the raw result (the
// integer or pointer register, or the bits of the floating-point register) is returned.
using DirectStub = uint64_t (*)(void *fn, const unsigned char *storage);

// The ABI file's own engine, for signatures no direct stub serves (structs by value,
// arguments on the stack): what it decided once per function (opaque here), and the call,
// which leaves the result at `ret` as call() in nd_ccall.h says.
struct EnginePlan;
struct CallPlan;
using EngineCall = void (*)(const CallPlan &plan, unsigned char *storage, uint64_t *ret);

struct CallPlan {
  void *fn = nullptr;
  const CType *type = nullptr;  // the function type
  std::vector<ArgSpec> args;    // the fixed parameters
  ArgSpec ret{Conv::Void, 0, 0, nullptr};
  uint32_t storage = 0;         // bytes of argument storage a call needs
  DirectStub direct = nullptr;  // set when the ABI file has a stub for this signature
  EngineCall engine = nullptr;  // else set when the ABI file's own engine calls it
  std::shared_ptr<const EnginePlan> engine_plan;
  bool libffi_only = false;           // made to go through libffi (allow_direct=false, NDFFI_FORCE_LIBFFI)
  ffi_cif cif;                        // the libffi fallback, prepared once
  std::vector<ffi_type *> ffi_args;   // what libffi is handed (abi::ffi_pieces)...
  std::vector<uint32_t> ffi_offsets;  // ...and where in storage each one's value is

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

// A variadic function's argument past the fixed ones, of C type `t`: its conversion after
// C's default argument promotions (float to double, integers narrower than int, bool
// included, to int).  Throws UnsupportedType for a value that cannot be passed.
ArgSpec variadic_spec(const CType *t);

// The plan of the calls of `fixed`'s variadic function whose arguments past the fixed ones
// are of `extra` (variadic_spec's): `args` holds the fixed parameters as `fixed` has them,
// then the variadic ones, each in a 16-byte slot after the fixed storage; `type` stays the
// declared function type (so the last args.size() - type->params.size() are variadic); the
// cif is prepared for exactly these types.  Made once per list of types and kept (the
// binding caches them per function), so a call prepares nothing.  False when libffi
// cannot prepare the call.
bool make_variadic_plan(CallPlan &plan, const CallPlan &fixed, const std::vector<ArgSpec> &extra);

// The libffi type of a C scalar, pointer or record type (nullptr if libffi cannot pass
// it on this ABI).  Record types are made once and kept.
ffi_type *ffi_type_of(const CType *t);
// The libffi type of a result: ffi_type_of(t) unless the ABI returns `t` otherwise.
ffi_type *ffi_result_type(const CType *t);

}  // namespace ndffi
