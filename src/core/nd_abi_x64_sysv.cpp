// Re-verify when this file changes: the suite natively (the direct stubs and closures: test_sysv_boundary.py,
// test_abi.py, test_ffi_shapes.py, test_byvalue.py, test_callback.py) and again with NDFFI_FORCE_LIBFFI=1 (the
// eightbyte pieces handed to libffi); the call and callback callgrind counts (benchmarks/).
//
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
// Structs by value, calls that spill to the stack and variadic calls (which need %al)
// take the engine at the end of this file, and so do calls with long double.
//
// Closures (plan_closure here, their entry code in nd_abi_x64_sysv_thunks.cpp) use the same
// classification the other way
// round: for a signature of that shape, one assembly entry saves rdi..r9 and xmm0..xmm7
// into a frame and calls the closure's frame handler with it, then loads rax/rdx and
// xmm0/xmm1 from the result slots.  A signature of at most five arguments (integers,
// pointers, floats, doubles) has a shorter way in: its thunk leaves the arguments where
// C put them (the floating ones in xmm0.., which it does not touch), loads the closure
// as one more integer argument and jumps to the closure's register handler, a C++
// function with C's arguments and result, which returns to C itself (no frame to fill
// and read back).  Each closure is a 16-byte thunk in a page of thunks of one kind; the
// data slot, on the page right after the code page, holds the entry's address and the
// closure.  A frame entry's thunk loads its data slot's address into r10 (the static
// chain register, free at a call) and jumps through it; a register entry's thunk loads
// the closure from its slot into the register after C's integer arguments and jumps
// through closure->reg_handler.  Closures of the other signatures (structs by value,
// arguments on the stack) have a frame entry of their own, at the end of this file.
#if defined(__x86_64__) && !defined(_WIN32)
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <algorithm>
#include <memory>
#include <array>
#include <mutex>
#include <utility>

#include "nd_abi.h"
#include "nd_abi_x64_sysv.h"
#include "nd_asm.h"
#include "nd_ccallback.h"
#include "nd_limits.h"

namespace ndffi::abi {
using namespace sysv;
namespace {

constexpr size_t kMaxRealigned = 16384;  // the largest over-aligned result, realigned on the stack
constexpr int kFrameResult = 14;         // closure frame: the result's slot (see below)

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
constexpr std::array<std::array<DirectStub, kFloatRegs + 1>, sizeof...(NI)> table(std::integer_sequence<int, NI...>) {
  return {row<FR, NI>(std::make_integer_sequence<int, kFloatRegs + 1>())...};
}

const auto kIntResult = table<false>(std::make_integer_sequence<int, kIntRegs + 1>());
const auto kFloatResult = table<true>(std::make_integer_sequence<int, kIntRegs + 1>());

bool in_int_reg(Conv c) {
  return c == Conv::Bool || c == Conv::SInt || c == Conv::UInt || c == Conv::Pointer || c == Conv::FuncPtr;
}
bool in_float_reg(Conv c) { return c == Conv::Float || c == Conv::Double; }

}  // namespace

DirectStub plan_direct(const CType *ftype, std::vector<ArgSpec> &args, const ArgSpec &ret, uint32_t *storage) {
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

// ---- closures --------------------------------------------------------------------

bool plan_closure(const CType *ftype, const std::vector<ArgSpec> &args, const ArgSpec &ret, std::vector<uint8_t> *slot,
                  uint8_t *ret_slot, int *reg_args, bool *reg_float_result) {
  *reg_args = -1;
  if (ftype->variadic) return false;
  if (!(ret.conv == Conv::Void || in_int_reg(ret.conv) || in_float_reg(ret.conv))) return false;
  int ni = 0, nf = 0;
  slot->clear();
  for (const ArgSpec &a : args) {
    if (in_int_reg(a.conv)) slot->push_back(uint8_t(ni++));
    else if (in_float_reg(a.conv)) slot->push_back(uint8_t(kIntRegs + nf++));
    else return false;
  }
  if (ni > kIntRegs || nf > kFloatRegs) return false;
  *ret_slot = kFrameResult;
  // A register left for the closure (floating arguments stay in xmm0..): the register entry.
  if (ni + nf <= kMaxRegArgs) {
    *reg_args = ni;
    *reg_float_result = in_float_reg(ret.conv);
  }
  return true;
}

}  // namespace ndffi::abi

// ---- the engine: structs by value, arguments on the stack, variadic calls ---------------
//
// For a signature no stub above serves (a struct or union by value as argument or result,
// more than 6 integer or 8 floating arguments, a variadic call), the arguments are placed
// by the ABI's rules once, when the function is planned, into an image of the call: the
// six integer registers, the eight xmm registers (8 bytes each, 112 bytes) and then the
// stack arguments as they lie above the return address.  One assembly routine loads the
// registers from the image, copies its stack part below the stack pointer, sets %al to
// the number of xmm registers used and calls; it stores rax, rdx, xmm0 and xmm1.
//
// A scalar, a struct on the stack, and a struct whose eightbytes take adjacent registers
// of one class (vec2 in xmm0 and xmm1) are converted straight into their place in the
// image; a struct split between the classes ({double; long}) is converted into storage
// after the image and its eightbytes moved into their registers before the call (the one
// thing done per call: a list of 8-byte moves).  A struct result in registers is
// assembled from rax/rdx/xmm0/xmm1 as its eightbytes' classes say; a result in memory is
// written by the callee where rdi (the hidden first argument) points: the result buffer.
// A variadic call is planned per call (its arguments' types are those of the call) and
// moves every argument from its slot into an image of its own.  A long double argument
// is in memory (the stack); a long double result, or a struct of one, comes back in st(0),
// which the call stores in place of xmm0 and xmm1 (and a closure's entry loads from its
// frame).  Left to libffi: __int128.

// ndffi_x64_sysv_call(fn, image, stack_bytes, out[4], sse, x87): stack_bytes a multiple of
// 16; out[] gets rax, rdx, xmm0, xmm1, or with x87 set rax, rdx and st(0) (a long double,
// or a struct of one) in out[2..3].
// clang-format off
asm(".text\n"
    ".p2align 4\n"
    ".globl " ND_SYM(ndffi_x64_sysv_call) "\n"
    ND_FUNC_BEGIN(ndffi_x64_sysv_call)
    ".cfi_startproc\n"
    ".byte 0xf3, 0x0f, 0x1e, 0xfa\n"   /* endbr64 */
    "pushq %rbp\n"
    ".cfi_adjust_cfa_offset 8\n"
    ".cfi_rel_offset %rbp, 0\n"
    "movq %rsp, %rbp\n"
    ".cfi_def_cfa_register %rbp\n"
    "pushq %rbx\n"
    ".cfi_offset %rbx, -24\n"
    "subq $8, %rsp\n"                  /* rsp is 16-aligned from here */
    "movq %r9, -16(%rbp)\n"            /* x87: the result is in st(0) */
    "movq %rdi, %r11\n"                /* fn */
    "movq %rsi, %r10\n"                /* the image */
    "movq %rcx, %rbx\n"                /* out */
    "movl %r8d, %eax\n"                /* %al: xmm registers used */
    "testq %rdx, %rdx\n"
    "jz 1f\n"
    "subq %rdx, %rsp\n"
    "andq $-64, %rsp\n"               /* kMaxStackAlign: a record's alignment, up to 64 */
    "movq %rdx, %rcx\n"
    "shrq $3, %rcx\n"
    "leaq 112(%r10), %rsi\n"
    "movq %rsp, %rdi\n"
    "rep movsq\n"
    "1:\n"
    "movsd 48(%r10), %xmm0\n"
    "movsd 56(%r10), %xmm1\n"
    "movsd 64(%r10), %xmm2\n"
    "movsd 72(%r10), %xmm3\n"
    "movsd 80(%r10), %xmm4\n"
    "movsd 88(%r10), %xmm5\n"
    "movsd 96(%r10), %xmm6\n"
    "movsd 104(%r10), %xmm7\n"
    "movq 0(%r10), %rdi\n"
    "movq 8(%r10), %rsi\n"
    "movq 16(%r10), %rdx\n"
    "movq 24(%r10), %rcx\n"
    "movq 32(%r10), %r8\n"
    "movq 40(%r10), %r9\n"
    "call *%r11\n"
    "movq %rax, 0(%rbx)\n"
    "movq %rdx, 8(%rbx)\n"
    "cmpq $0, -16(%rbp)\n"
    "jne 2f\n"
    "movsd %xmm0, 16(%rbx)\n"
    "movsd %xmm1, 24(%rbx)\n"
    "jmp 3f\n"
    "2:\n"
    "fstpt 16(%rbx)\n"                 /* popped: the x87 stack is left empty */
    "3:\n"
    "movq -8(%rbp), %rbx\n"
    "leave\n"
    ".cfi_def_cfa %rsp, 8\n"
    "ret\n"
    ".cfi_endproc\n"
    ND_FUNC_END(ndffi_x64_sysv_call));
// clang-format on

extern "C" void ndffi_x64_sysv_call(void *fn, const unsigned char *image, size_t stack_bytes, uint64_t *out,
                                    unsigned sse, uint64_t x87);

namespace ndffi {

struct EnginePlan {
  struct Move {
    uint32_t from, to;  // 8 bytes from storage + from to image + to
  };
  std::vector<Move> moves;
  uint32_t stack = 0;                    // bytes of the stack part of the image, a multiple of 16
  unsigned sse = 0;                      // %al: the xmm registers used
  bool x87_result = false;               // the result is in st(0), stored into out[2..3]
  bool memory_result = false;            // the callee writes the result where rdi points...
  uint32_t ret_size = 0, ret_align = 0;  // ...an object of this size and alignment (a power of 2)
  uint8_t ret_from[2] = {0, 1};          // the result's eightbytes from out[]: rax, rdx, xmm0, xmm1
  int gpr = 0;                           // the integer registers used
};

}  // namespace ndffi

namespace ndffi::abi {
namespace {

constexpr uint32_t kImageRegs = 8 * (kIntRegs + kFloatRegs);  // rdi..r9, then xmm0..xmm7
constexpr uint32_t kNoReg = UINT32_MAX;

uint32_t round_up(uint32_t n, uint32_t a) { return (n + a - 1) / a * a; }

// Where an argument goes: in registers, the image offset of each eightbyte (kNoReg for
// one of padding only); else the offset of its stack slot in the image.
struct Place {
  bool stack = false;
  uint32_t at[2] = {kNoReg, kNoReg};
  int n = 0;  // eightbytes in registers
};

// The engine's rules for the types it passes (__int128, and records aligned above 64,
// stay with libffi).
bool engine_passes(const CType *t) {
  if (t->kind == Kind::Enum && t->record->enum_base) t = t->record->enum_base;
  if (t->kind == Kind::Float) return t->size <= 8 || t->size == 16;  // long double: x87, memory as an argument
  if (t->kind == Kind::Int) return t->size <= 8;
  if (t->kind == Kind::Record) return t->record->complete && t->record->size > 0 && t->alignment() <= kMaxStackAlign;
  return t->kind == Kind::Bool || t->kind == Kind::Pointer;
}

// The result's registers into *ep; false if the engine does not return it.
bool place_result(const CType *ret, EnginePlan *ep) {
  if (ret->kind == Kind::Void) return true;
  if (!engine_passes(ret)) return false;
  if (ret->kind == Kind::Float || (ret->kind == Kind::Record && only_x87(ret))) {
    ep->ret_from[0] = 2, ep->ret_from[1] = 3;  // xmm0, xmm1, or st(0) stored in their place
    ep->x87_result = ret->byte_size() == 16;
    return true;
  }
  if (ret->kind != Kind::Record) return true;
  Class cls[2];
  int n = arg_classes(ret, cls);
  if (n == 0) {
    ep->memory_result = true;
    ep->ret_size = uint32_t(ret->byte_size());
    ep->ret_align = uint32_t(ret->alignment());
    return ep->ret_align <= 16 || ep->ret_size <= kMaxRealigned;
  }
  uint8_t next_int = 0, next_sse = 2;
  for (int k = 0; k < n; k++) {
    if (cls[k] == kSSE) ep->ret_from[k] = next_sse++;
    else if (cls[k] == kInteger) ep->ret_from[k] = next_int++;
  }
  return true;
}

// Every argument's place by the ABI's rules (a struct whose eightbytes do not all fit in
// the registers left goes on the stack whole), the result's registers, the stack's size
// and the xmm registers used into *ep; false if the engine does not pass one of them.
bool place_all(const CType *ret, const std::vector<const CType *> &args, std::vector<Place> *places, EnginePlan *ep) {
  if (!place_result(ret, ep)) return false;
  int gpr = ep->memory_result ? 1 : 0, sse = 0;
  uint32_t stack = 0;
  places->assign(args.size(), Place());
  for (size_t i = 0; i < args.size(); i++) {
    const CType *t = args[i];
    if (!engine_passes(t)) return false;
    Place &p = (*places)[i];
    Class cls[2];
    int n = arg_classes(t, cls), ni = 0, ns = 0;
    for (int k = 0; k < n; k++) ni += cls[k] == kInteger, ns += cls[k] == kSSE;
    if (n > 0 && gpr + ni <= kIntRegs && sse + ns <= kFloatRegs) {
      p.n = n;
      for (int k = 0; k < n; k++) {
        if (cls[k] == kInteger) p.at[k] = uint32_t(8 * gpr++);
        else if (cls[k] == kSSE) p.at[k] = uint32_t(8 * (kIntRegs + sse++));
      }
      continue;
    }
    p.stack = true;
    stack = round_up(stack, std::max<uint32_t>(8, uint32_t(t->alignment())));
    p.at[0] = kImageRegs + stack;
    stack += round_up(uint32_t(t->byte_size()), 8);
  }
  ep->stack = round_up(stack, 16);
  ep->sse = unsigned(sse);
  ep->gpr = gpr;
  return true;
}

// Adds the moves of an argument of `size` bytes converted at `from` to its place.
void add_moves(const Place &p, uint32_t from, uint32_t size, EnginePlan *ep) {
  if (p.stack) {
    for (uint32_t q = 0; q < size; q += 8) ep->moves.push_back({from + q, p.at[0] + q});
    return;
  }
  for (int k = 0; k < p.n; k++)
    if (p.at[k] != kNoReg) ep->moves.push_back({from + 8 * uint32_t(k), p.at[k]});
}

// A result in memory aligned above the result buffer's 16 bytes (the callee may store it
// with instructions that need its alignment): written to an aligned buffer, then copied.
__attribute__((noinline, cold)) void run_realigned(const EnginePlan &ep, void *fn, unsigned char *image,
                                                   uint64_t *ret) {
  auto *to = static_cast<unsigned char *>(__builtin_alloca_with_align(ep.ret_size, 8 * kMaxStackAlign));
  uint64_t p = uint64_t(uintptr_t(to));
  memcpy(image, &p, 8);
  alignas(16) uint64_t out[4];
  ndffi_x64_sysv_call(fn, image, ep.stack, out, ep.sse, ep.x87_result);
  memcpy(ret, to, ep.ret_size);
}

inline void run(const EnginePlan &ep, void *fn, const unsigned char *storage, unsigned char *image, uint64_t *ret) {
  for (const EnginePlan::Move &m : ep.moves) memcpy(image + m.to, storage + m.from, 8);
  if (ep.memory_result) {
    if (__builtin_expect((uintptr_t(ret) & (ep.ret_align - 1)) != 0, 0)) return run_realigned(ep, fn, image, ret);
    uint64_t p = uint64_t(uintptr_t(ret));
    memcpy(image, &p, 8);
  }
  alignas(16) uint64_t out[4];
  ndffi_x64_sysv_call(fn, image, ep.stack, out, ep.sse, ep.x87_result);
  if (!ep.memory_result) ret[0] = out[ep.ret_from[0]], ret[1] = out[ep.ret_from[1]];
}

void engine_call(const CallPlan &plan, unsigned char *storage, uint64_t *ret) {
  run(*plan.engine_plan, plan.fn, storage, storage, ret);
}

// A call whose every argument is in registers, straight where the image has it, and
// whose result is in registers (vec2 vflip(vec2)): a compiled stub per (integer
// registers, xmm registers, result registers) reads the image's slots as C arguments and
// leaves the result's two eightbytes in ret[0..1]; no moves, no assembly trampoline.
// R names the result's registers in eightbyte order (a one-eightbyte result takes the
// first; the second word is then ignored).
struct RegsII {
  uint64_t a, b;  // rax, rdx (and void, integer and pointer results)
};
struct RegsSS {
  double a, b;  // xmm0, xmm1 (and float, double)
};
struct RegsIS {
  uint64_t a;  // rax
  double b;    // xmm0
};
struct RegsSI {
  double a;    // xmm0
  uint64_t b;  // rax
};

template <typename R, size_t... I, size_t... J>
void regs_call(void *fn, const unsigned char *image, uint64_t *ret, std::index_sequence<I...>,
               std::index_sequence<J...>) {
  using F = R (*)(U64<I>..., F64<J>...);
  R r = reinterpret_cast<F>(fn)(slot(image, I)..., bits_to_double(slot(image, kIntRegs + J))...);
  static_assert(sizeof r == 16);
  memcpy(ret, &r, 16);
}

template <typename R, int NI, int NF>
void regs_stub(const CallPlan &plan, unsigned char *storage, uint64_t *ret) {
  regs_call<R>(plan.fn, storage, ret, std::make_index_sequence<NI>(), std::make_index_sequence<NF>());
}

template <typename R, int NI, int... NF>
constexpr std::array<EngineCall, sizeof...(NF)> regs_row(std::integer_sequence<int, NF...>) {
  return {&regs_stub<R, NI, NF>...};
}

template <typename R, int... NI>
constexpr std::array<std::array<EngineCall, kFloatRegs + 1>, sizeof...(NI)> regs_table(
    std::integer_sequence<int, NI...>) {
  return {regs_row<R, NI>(std::make_integer_sequence<int, kFloatRegs + 1>())...};
}

const auto kRegsII = regs_table<RegsII>(std::make_integer_sequence<int, kIntRegs + 1>());
const auto kRegsSS = regs_table<RegsSS>(std::make_integer_sequence<int, kIntRegs + 1>());
const auto kRegsIS = regs_table<RegsIS>(std::make_integer_sequence<int, kIntRegs + 1>());
const auto kRegsSI = regs_table<RegsSI>(std::make_integer_sequence<int, kIntRegs + 1>());

// The stub for a plan with nothing to move, nothing on the stack and the result in
// registers, else nullptr.
EngineCall regs_stub_for(const EnginePlan &ep) {
  if (!ep.moves.empty() || ep.stack || ep.memory_result || ep.x87_result) return nullptr;
  const auto &table =
      ep.ret_from[0] == 2 ? (ep.ret_from[1] == 0 ? kRegsSI : kRegsSS) : (ep.ret_from[1] == 2 ? kRegsIS : kRegsII);
  return table[size_t(ep.gpr)][ep.sse];
}

}  // namespace

EngineCall plan_engine(const CType *ftype, std::vector<ArgSpec> &args, const ArgSpec &, uint32_t *storage,
                       std::shared_ptr<const EnginePlan> *plan) {
  if (ftype->variadic) return nullptr;
  auto ep = std::make_shared<EnginePlan>();
  std::vector<Place> places;
  if (!place_all(ftype->target, ftype->params, &places, ep.get())) return nullptr;
  // Storage is the image, then the structs whose eightbytes are moved into registers.
  uint32_t end = kImageRegs + ep->stack;
  for (size_t i = 0; i < args.size(); i++) {
    const Place &p = places[i];
    ArgSpec &a = args[i];
    bool adjacent = p.n == 1 || (p.n == 2 && p.at[0] != kNoReg && p.at[1] == p.at[0] + 8);
    if (p.stack || adjacent) {
      a.offset = p.at[0];
      continue;
    }
    a.offset = end;
    add_moves(p, end, a.size, ep.get());
    end += round_up(a.size, 16);
  }
  *storage = round_up(end, 16);
  EngineCall stub = regs_stub_for(*ep);
  *plan = std::move(ep);
  return stub ? stub : &engine_call;
}

std::shared_ptr<const EnginePlan> plan_variadic(const CallPlan &plan, const std::vector<ArgSpec> &extra) {
  std::vector<const CType *> types(plan.type->params.begin(), plan.type->params.end());
  for (const ArgSpec &a : extra) types.push_back(a.type);
  auto ep = std::make_shared<EnginePlan>();
  std::vector<Place> places;
  if (!place_all(plan.type->target, types, &places, ep.get())) return nullptr;
  size_t nfixed = plan.args.size();
  for (size_t i = 0; i < places.size(); i++) {
    const ArgSpec &a = i < nfixed ? plan.args[i] : extra[i - nfixed];
    add_moves(places[i], a.offset, a.size, ep.get());
  }
  return ep;
}

void call_variadic(const EnginePlan &ep, void *fn, const unsigned char *storage, uint64_t *ret) {
  auto *image = static_cast<unsigned char *>(__builtin_alloca_with_align(kImageRegs + ep.stack, 128));
  run(ep, fn, storage, image, ret);
}

}  // namespace ndffi::abi

// ---- the engine's closures: structs by value, arguments on the stack ---------------------
//
// A closure of a signature the frame entries do not take is entered by
// ndffi_x64_closure_entry_engine (nd_abi_x64_sysv_thunks.cpp).  Its frame starts as a
// call's image does, rdi..r9 then xmm0..xmm7, so that place_all's offsets say where each
// eightbyte of each argument arrived; C's stack arguments are kEngineStackArgs bytes
// above it (the 152-byte frame and the return address); the entry returns rax, rdx, xmm0
// and xmm1 from the four slots after the registers, or st(0) from the xmm0 and xmm1 slots
// for a result in x87 (ndffi_x64_closure_entry_engine_x87).  libffi's closures read a padding-only
// eightbyte from a register (see closure_refusal); this entry does not.

namespace ndffi {

struct ClosureEngine {
  struct Arg {
    uint32_t at[2];  // in registers: each eightbyte's frame offset (kNoReg: padding); else its stack slot
    bool stack;
    bool copy;  // in registers that are not adjacent in the frame: assembled into a buffer
  };
  std::vector<Arg> args;
  size_t copies = 0;
  bool memory_result = false;  // written where rdi points, which goes back in rax
  bool x87_result = false;     // a long double (or a struct of one), loaded into st(0)
  uint8_t ret_n = 0;           // the result's eightbytes in registers, and their frame slots
  uint8_t ret_to[2] = {0, 0};
};

}  // namespace ndffi

namespace ndffi::abi {
namespace {

constexpr uint32_t kEngineStackArgs = 160;
constexpr uint8_t kNoSlot = 0xff;

void engine_closure_frame(Closure *c, uint64_t *frame) {
  const ClosureEngine &ce = *c->plan->engine;
  auto *base = reinterpret_cast<unsigned char *>(frame);
  const size_t n = ce.args.size();
  // the assembled records first, each at 16 bytes (an alignment they may have), then the
  // argument pointers
  auto *buf = static_cast<unsigned char *>(__builtin_alloca_with_align(ce.copies * 16 + n * sizeof(void *), 128));
  auto **args = reinterpret_cast<void **>(buf + ce.copies * 16);
  for (size_t i = 0; i < n; i++) {
    const ClosureEngine::Arg &a = ce.args[i];
    if (a.stack) {
      args[i] = base + kEngineStackArgs + (a.at[0] - kImageRegs);
    } else if (!a.copy) {
      args[i] = base + a.at[0];
    } else {
      for (int k = 0; k < 2; k++) {
        if (a.at[k] == kNoReg) memset(buf + 8 * k, 0, 8);
        else memcpy(buf + 8 * k, base + a.at[k], 8);
      }
      args[i] = buf;
      buf += 16;
    }
  }
  if (ce.memory_result) {
    closure_enter(c, reinterpret_cast<void *>(frame[0]), args);
    frame[kFrameResult] = frame[0];
    return;
  }
  alignas(16) uint64_t r[2] = {0, 0};
  closure_enter(c, r, args);
  if (ce.x87_result) {
    frame[kFrameResult + 2] = r[0];
    frame[kFrameResult + 3] = r[1];
    return;
  }
  for (int k = 0; k < ce.ret_n; k++)
    if (ce.ret_to[k] != kNoSlot) frame[kFrameResult + ce.ret_to[k]] = r[k];
}

}  // namespace

FrameHandler plan_engine_closure(const CType *ftype, std::shared_ptr<const ClosureEngine> *engine) {
  if (ftype->variadic) return nullptr;
  EnginePlan ep;
  std::vector<Place> places;
  if (!place_all(ftype->target, ftype->params, &places, &ep)) return nullptr;
  auto ce = std::make_shared<ClosureEngine>();
  for (const Place &p : places) {
    bool adjacent = p.n == 1 || (p.n == 2 && p.at[0] != kNoReg && p.at[1] == p.at[0] + 8);
    ce->args.push_back({{p.at[0], p.at[1]}, p.stack, !p.stack && !adjacent});
    ce->copies += ce->args.back().copy;
  }
  ce->memory_result = ep.memory_result;
  ce->x87_result = ep.x87_result;
  const CType *ret = ftype->target;
  if (ret->kind == Kind::Enum && ret->record->enum_base) ret = ret->record->enum_base;
  if (!ep.memory_result && !ep.x87_result && ret->kind != Kind::Void) {
    Class cls[2] = {kInteger, kNone};
    int n = ret->kind == Kind::Record ? arg_classes(ret, cls) : 1;
    ce->ret_n = uint8_t(n);
    for (int k = 0; k < n; k++) ce->ret_to[k] = cls[k] == kNone ? kNoSlot : ep.ret_from[k];
  }
  *engine = std::move(ce);
  return &engine_closure_frame;
}

bool sysv::returns_x87(const ClosureEngine &ce) { return ce.x87_result; }

}  // namespace ndffi::abi
#endif
