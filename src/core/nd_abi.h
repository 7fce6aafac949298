// The ABI-specific part of the call engine, one implementation file per ABI:
// abi_x64_sysv.cpp (Linux, macOS, BSD on x86-64) and abi_generic.cpp (every other
// platform, where every call goes through libffi until a file for its ABI is written).
#pragma once

#include "nd_ccallback.h"
#include "nd_cplan.h"

namespace ndffi::abi {

// If this ABI has a direct stub for the signature, lay out the arguments' storage
// (setting each ArgSpec::offset and *storage) and return the stub; otherwise nullptr.
DirectStub plan_direct(const CType *ftype, std::vector<ArgSpec> &args, const ArgSpec &ret, uint32_t *storage);

// Else, if this ABI has its own engine for the (non-variadic) signature, lay out the
// arguments' storage as plan_direct does, set *plan to what the engine decided once, and
// return its call; otherwise nullptr (libffi calls it).
EngineCall plan_engine(const CType *ftype, std::vector<ArgSpec> &args, const ArgSpec &ret, uint32_t *storage,
                       std::shared_ptr<const EnginePlan> *plan);

// A variadic call by the engine: the plan for the fixed arguments of `plan` and the
// variadic ones `extra` (promoted, each at its offset into storage), or nullptr when the
// engine does not serve it; and the call through it, the result at `ret` as call() says.
std::shared_ptr<const EnginePlan> plan_variadic(const CallPlan &plan, const std::vector<ArgSpec> &extra);
void call_variadic(const EnginePlan &engine, void *fn, const unsigned char *storage, uint64_t *ret);

// The libffi type of a union, or of a struct with bit-fields (which libffi cannot
// describe by members), classified by this ABI's rules; nullptr if not supported.  Where
// kDescribesEveryRecord, it is asked for every struct as well (AArch64, whose libffi
// takes a struct's alignment and HFA-ness from a description by members that GCC's
// rules contradict).
ffi_type *aggregate_ffi_type(const Record *rec);
#if defined(__aarch64__) && defined(__linux__)
inline constexpr bool kDescribesEveryRecord = true;
inline constexpr const char *kNotByValue =
    "a record of at most 16 bytes aligned to 16 that is no HFA, which libffi passes in the "
    "wrong registers, or one over-aligned by an attribute";
#elif defined(__x86_64__) && !defined(_WIN32)
inline constexpr bool kDescribesEveryRecord = false;
inline constexpr const char *kNotByValue =
    "an alignment above 64, or an eightbyte of padding only before its data, which neither of ndffi's engines "
    "passes as C does";
#else
inline constexpr bool kDescribesEveryRecord = false;
inline constexpr const char *kNotByValue =
    "a union, bit-fields or a packed member out of its alignment, which libffi cannot be told here";
#endif

// Whether this ABI's engines pass a record of this layout by value as its C compiler
// does; where not, ffi_type_of() is nullptr and it is refused.  (x86-64 SysV: the engine
// aligns its stack arguments to 64 bytes at most.)
#if defined(__x86_64__) && !defined(_WIN32)
bool passable_record(const Record *rec);
#else
inline bool passable_record(const Record *) { return true; }
#endif

// Why libffi, told of a record (argument or result by value) any way it can be, would
// pass it elsewhere than C does, where ndffi's engine passes it right; or nullptr.  Such
// a record is described to libffi by its bytes, for the cif only: a call or callback that
// libffi would serve refuses it.  (x86-64 SysV: a record of at most 16 bytes with a
// scalar out of its natural alignment, or a union of long double with another type,
// goes in memory; libffi, which has no packing and no unions, would use registers.  A
// record aligned above 16 is placed at its alignment on the stack; libffi aligns its
// stack to 16.)
#if defined(__x86_64__) && !defined(_WIN32)
const char *libffi_refusal(const CType *t);
#else
inline const char *libffi_refusal(const CType *) { return nullptr; }
#endif

// Why libffi's closures on this ABI would read an argument of type `t` wrongly, or
// nullptr: libffi_refusal's records, and (x86-64 SysV) a record of at most 16 bytes with
// an eightbyte of padding only, such as one of 8 bytes aligned to 16, which takes no
// register from C while libffi 3.4's closure entry takes one for it, shifting every later
// argument.
#if defined(__x86_64__) && !defined(_WIN32)
const char *closure_refusal(const CType *t);
#else
inline const char *closure_refusal(const CType *) { return nullptr; }
#endif

// One argument as libffi is handed it: its libffi type, and where in the call's storage
// its value is, as (index of the C argument, byte offset within that argument's slot).
struct FfiPiece {
  ffi_type *type;
  uint32_t arg;
  uint32_t offset;
};

// The libffi arguments for C arguments of types `args` (fixed then variadic) and result
// `ret`.  Where libffi's own passing of a type is wrong on this ABI, the ABI file passes
// it otherwise, in the same registers and stack slots: on x86-64 SysV a struct that
// travels in registers is handed over as its eightbytes (libffi 3.4.4 to 3.4.6 overwrote
// the first SSE register with a struct whose first eightbyte took the last integer
// register).  Otherwise one piece per argument, of ffi_type_of(type).  False if libffi
// cannot pass an argument.
bool ffi_pieces(const CType *ret, const std::vector<const CType *> &args, std::vector<FfiPiece> *out);

// Called on every cif a call is made with, once libffi has prepared it: where this
// ABI's libffi reserves too little for the call's arguments, the reserve is made right.
#if defined(__aarch64__) && defined(__linux__)
void complete_call_cif(ffi_cif *cif);
#else
inline void complete_call_cif(ffi_cif *) {}
#endif

// The libffi type a result of type `t` must be described by when libffi's own rule for
// it differs from this ABI's (a struct of one long double comes back in st(0) on
// x86-64 SysV, where libffi 3.4 expects memory); nullptr to use ffi_type_of(t).
ffi_type *result_ffi_type(const CType *t);

// Closures entered without libffi.  If this ABI can, for the signature, save the argument
// registers into a frame of 8-byte slots and hand it to the closure's frame handler, set
// (*slot)[i] to the slot argument i arrives in and *ret_slot to where the result goes,
// and return true.  If it can also enter the closure's register handler directly (see
// RegHandler in nd_ccallback.h), set *reg_args to the count of integer and pointer
// arguments (the floating ones stay in the registers C put them in) and
// *reg_float_result to whether the handler returns a double; else *reg_args = -1.
bool plan_closure(const CType *ftype, const std::vector<ArgSpec> &args, const ArgSpec &ret, std::vector<uint8_t> *slot,
                  uint8_t *ret_slot, int *reg_args, bool *reg_float_result);

// Else, if this ABI's engine enters closures of the (non-variadic) signature itself
// (records by value, arguments on the stack), set *engine to its plan of where each
// argument arrives and the result goes, and return the frame handler that reads it;
// otherwise nullptr (libffi enters them).
FrameHandler plan_engine_closure(const CType *ftype, std::shared_ptr<const ClosureEngine> *engine);

// The entry code of a direct closure for `c` (whose plan plan_closure accepted), or
// nullptr if this ABI has none or no executable memory can be had.  Never freed.
void *new_closure_thunk(Closure *c);

}  // namespace ndffi::abi
