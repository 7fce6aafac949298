// The closure engine: C-callable function pointers whose calls reach a handler.
//
// A CallbackPlan is made once per function type and never freed (like the types
// themselves): how each argument arrives, the libffi cif, and whether the ABI file can
// enter the closure directly, without libffi's generic argument decoding.
//
// A Closure is the executable address handed to C.  Closures are never returned to the
// system: a closure whose owner has gone keeps pointing at its handler, which sees a
// null `user` and reports the call instead of jumping into freed memory.  An owner made
// for the duration of one call (a callback of a plain callable) gives its closure back to
// its plan's free list, for another such owner of the same signature only.  C may have
// kept the address against the rules, so a closure is handed out again only after
// kQuarantine others were given back after it (a late call in between finds it ownerless
// and is reported), and never once a late call showed that C kept it (closure_escaped).
#pragma once

#include <ffi.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "nd_cplan.h"
#include "nd_ctype.h"

namespace ndffi {

struct Closure;
struct ClosureEngine;  // the ABI file's

// The handler of a direct entry (described below, with the other handlers).
using FrameHandler = void (*)(Closure *c, uint64_t *frame);

struct CallbackPlan {
  const CType *type = nullptr;          // the function type (not a pointer to it)
  const CType *pointer_type = nullptr;  // a pointer to it, the type C holds
  std::vector<ArgSpec> args;            // how each argument arrives (offsets unused)
  ArgSpec ret{Conv::Void, 0, 0, nullptr};
  size_t ret_bytes = 8;  // bytes a handler may write at `ret` (8 or 16 for a scalar; a record's size)
  ffi_cif cif;
  std::vector<ffi_type *> ffi_args;
  // Direct entry (see nd_abi.h): the frame slot each argument arrives in and the slot
  // the result goes to, when the ABI file enters closures of this signature itself.
  bool direct = false;
  std::vector<uint8_t> slot;
  uint8_t ret_slot = 0;
  // Register entry (see nd_abi.h), for direct signatures of at most kMaxRegArgs
  // integer, pointer, float or double arguments whose integer ones leave an integer
  // register for the closure: the ABI file enters the closure's reg_handler as if C had
  // called it, with the closure as one more integer argument.  reg_args is the count of
  // integer arguments then, -1 otherwise; reg_float_args the count of floating ones;
  // reg_index[i] where argument i is among the handler's values (integers first, then
  // floating ones, each in C's order); reg_float_result tells which of the two handler
  // types the plan's closures have.
  int reg_args = -1;
  int reg_float_args = 0;
  std::vector<uint8_t> reg_index;
  bool reg_float_result = false;
  // Engine entry (see nd_abi.h), for direct signatures the frame entries do not take
  // (records by value, arguments on the stack): the ABI file's plan of where each
  // argument arrives and the result goes, and the frame handler that reads it (every
  // closure of the plan has it).  libffi_refusal: why libffi's closures would read an
  // argument wrongly (nullptr if they would not), for a plan only the engine may serve.
  std::shared_ptr<const ClosureEngine> engine;
  FrameHandler engine_handler = nullptr;
  const char *libffi_refusal = nullptr;

  std::mutex mu;                    // guards free_list
  std::deque<Closure *> free_list;  // oldest first
};

// How many closures given back must follow one on its plan's free list before it is
// handed out again.
constexpr size_t kQuarantine = 16;

// The plan of function type `ftype`, made on first use.  Throws UnsupportedType for a
// signature that cannot be a callback (variadic, or a parameter type with no converter).
// allow_direct=false gives a separate plan that always goes through libffi (for tests).
const CallbackPlan &callback_plan(const CType *ftype, bool allow_direct = true);

// Called for every call of the closure, on the caller's thread, with `args[i]` pointing
// at argument i and `ret` at plan.ret_bytes writable bytes, where integer results are
// stored widened to 8 bytes (libffi's ffi_arg rule).
using ClosureHandler = void (*)(Closure *c, void *ret, void **args);
// FrameHandler: the same for a direct entry, which passes its register frame: argument
// i is at frame + plan.slot[i], the result goes to frame + plan.ret_slot (plan.ret_bytes
// bytes).  Optional: without one, the frame is turned into the argument pointers of a
// handler.  (An engine plan's closures always have its engine_handler, which does that.)
// The same for a register entry (plan.reg_args = n >= 0, plan.reg_float_args = m): C's
// own integer arguments, each widened to 8 bytes (only the bits of its C type are
// meaningful), then the closure, then C's floating arguments as doubles (a float in the
// low 4 bytes of one); the result is returned (the bits of the C result in the low
// bytes).  Its type:
//   uint64_t h(uint64_t a0, ..., uint64_t a(n-1), Closure *c, double f0, ..., double f(m-1))
//   double   h(...the same...)                                   (reg_float_result)
//   void     h(...the same...)                                   (a void result)
// kept as a void pointer.  Optional: without one, the arguments are put in a frame for
// the frame handler.
using RegHandler = void *;
constexpr int kMaxRegArgs = 5;  // integer and floating arguments together

// The register handler of `plan` (nullptr when the plan has no register entry) whose
// work is Body::run<n, m, void_result>(c, values, ret): C's n integer arguments in
// values[0..n), the bits of its m floating ones in values[n..n+m), argument i at
// values[plan.reg_index[i]], the result's bits to be stored in *ret (8 bytes C does not
// read when void_result).  One handler per argument counts and result
// kind, made here.
template <class Body>
RegHandler reg_handler_for(const CallbackPlan &plan);

struct Closure {
  FrameHandler frame_handler;  // first: the direct entry calls through it
  RegHandler reg_handler;      // second: the register entry jumps through it
  const CallbackPlan *plan;
  ClosureHandler handler;
  std::atomic<void *> user;          // the owner; nullptr once the owner has gone
  void *code = nullptr;              // the address C calls
  ffi_closure *ffi = nullptr;        // the libffi closure, when not entered directly
  std::atomic<bool> escaped{false};  // C called it with no owner: never handed out again
};

// A closure for `plan` that calls handler(c, ...) with c->user == user.  New, or with
// recycled (for an owner that will give it back with closure_release(c, true)) one that
// such an owner gave back.  Throws std::runtime_error if no executable memory can be had.
// reg_handler must be of the type the plan asks for (see RegHandler), or null.
Closure *closure_new(const CallbackPlan &plan, ClosureHandler handler, void *user, FrameHandler frame_handler = nullptr,
                     RegHandler reg_handler = nullptr, bool recycled = false);

namespace detail {
template <size_t> using U64 = uint64_t;
template <size_t> using F64 = double;
// What a register handler returns: the integer or the floating register C reads, or
// nothing (a void result: no slot to fill and read back).
enum class RegResult { Int, Float, Void };
template <class Body, RegResult R, class Ints, class Floats>
struct RegEntry;
template <class Body, RegResult R, size_t... I, size_t... J>
struct RegEntry<Body, R, std::index_sequence<I...>, std::index_sequence<J...>> {
  static auto handler(U64<I>... a, Closure *c, F64<J>... f) {
    constexpr size_t n = sizeof...(I) + sizeof...(J);
    uint64_t v[n ? n : 1] = {a..., double_bits(f)...};
    if constexpr (R == RegResult::Void) {
      uint64_t r;  // what C ignores: written only on an error, never read
      Body::template run<sizeof...(I), sizeof...(J), true>(c, v, &r);
    } else {
      uint64_t r = 0;
      Body::template run<sizeof...(I), sizeof...(J), false>(c, v, &r);
      if constexpr (R == RegResult::Float) {
        double d;
        memcpy(&d, &r, 8);
        return d;
      } else {
        return r;
      }
    }
  }
  static uint64_t double_bits(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
  }
};
template <class Body, RegResult R, size_t NI, size_t NF>
RegHandler reg_entry() {
  if constexpr (NI + NF > size_t(kMaxRegArgs)) {
    return nullptr;
  } else {
    using E = RegEntry<Body, R, std::make_index_sequence<NI>, std::make_index_sequence<NF>>;
    return reinterpret_cast<RegHandler>(&E::handler);
  }
}
template <class Body, RegResult R, size_t NI, size_t... NF>
std::array<RegHandler, sizeof...(NF)> reg_row(std::index_sequence<NF...>) {
  return {reg_entry<Body, R, NI, NF>()...};
}
using RegRow = std::array<RegHandler, kMaxRegArgs + 1>;
template <class Body, RegResult R, size_t... NI>
std::array<RegRow, sizeof...(NI)> reg_entries(std::index_sequence<NI...>) {
  return {reg_row<Body, R, NI>(std::make_index_sequence<kMaxRegArgs + 1>())...};
}
}  // namespace detail

template <class Body>
RegHandler reg_handler_for(const CallbackPlan &plan) {
  using detail::RegResult;
  constexpr auto counts = std::make_index_sequence<kMaxRegArgs + 1>();
  static const std::array<detail::RegRow, kMaxRegArgs + 1> table[3] = {
      detail::reg_entries<Body, RegResult::Int>(counts), detail::reg_entries<Body, RegResult::Float>(counts),
      detail::reg_entries<Body, RegResult::Void>(counts)};
  if (plan.reg_args < 0) return nullptr;
  const RegResult kind = plan.ret.conv == Conv::Void ? RegResult::Void
                         : plan.reg_float_result     ? RegResult::Float
                                                     : RegResult::Int;
  return table[int(kind)][size_t(plan.reg_args)][size_t(plan.reg_float_args)];
}

// The owner has gone: later calls see user == nullptr.  With recycle, the closure goes
// back to its plan's free list, unless it escaped.
void closure_release(Closure *c, bool recycle);

// C called `c` when it should not have (its owner had gone, or it was another call's):
// C keeps the address, so the closure is never handed out again.
inline void closure_escaped(Closure *c) { c->escaped.store(true, std::memory_order_relaxed); }

// Enter a closure: what the ABI's direct entry and the libffi handler both call.
inline void closure_enter(Closure *c, void *ret, void **args) { c->handler(c, ret, args); }

// Counters for tests and diagnostics.
struct ClosureStats {
  size_t created_direct, created_ffi, reused, released, recycled;
};
ClosureStats closure_stats();

}  // namespace ndffi
