// Re-verify when this file changes: the callback tests natively (test_callback.py, test_sysv_boundary.py) and
// the callback callgrind counts (benchmarks/bench_callback.py).
//
// System V AMD64 ABI: the entry code of closures entered without libffi (see
// nd_abi_x64_sysv.cpp for which signatures, and nd_ccallback.h for the handlers): the two
// frame entries in assembly, and pages of 16-byte thunks, each loading its closure and
// jumping to its entry.
#if defined(__x86_64__) && !defined(_WIN32)
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <mutex>

#include "nd_abi.h"
#include "nd_abi_x64_sysv.h"
#include "nd_asm.h"
#include "nd_ccallback.h"

namespace ndffi::abi {
namespace {
constexpr uint8_t kFirstFloatSlot = 6;  // frame slots 0-5 hold rdi..r9 (nd_abi_x64_sysv.cpp's plan_closure)
}  // namespace
}  // namespace ndffi::abi

// The frame the entry builds: slots 0-5 the integer registers, 6-13 the xmm registers,
// 14-15 the result (rax/xmm0, rdx/xmm1); the engine entry's 14-17 (rax, rdx, xmm0, xmm1).
static_assert(offsetof(ndffi::Closure, frame_handler) == 0, "the entry calls *(closure)");
static_assert(offsetof(ndffi::Closure, reg_handler) == 8, "the register entries jump to *8(closure)");

// An entry: on entry r10 points at the thunk's data slot {entry, closure}; rsp is 8 mod
// 16.  It saves the argument registers into a frame of FRAME bytes (8 mod 16), calls
// closure->frame_handler(closure, frame) and loads the result from the frame.  SAVE_XMM
// is the step for the xmm registers, or "" for an entry that leaves them; LOAD the
// result's.
#define ND_CLOSURE_ENTRY(name, FRAME, SAVE_XMM, LOAD) \
  ".p2align 4\n"                                                                            \
  ".globl " ND_SYM(name) "\n"                                                               \
  ND_FUNC_BEGIN(name)                                                                       \
  ".cfi_startproc\n"                                                                        \
  ".byte 0xf3, 0x0f, 0x1e, 0xfa\n"   /* endbr64 (a no-op without CET) */                    \
  "subq $" FRAME ", %rsp\n"                                                                 \
  ".cfi_adjust_cfa_offset " FRAME "\n"                                                      \
  "movq %rdi, 0(%rsp)\n"                                                                    \
  "movq %rsi, 8(%rsp)\n"                                                                    \
  "movq %rdx, 16(%rsp)\n"                                                                   \
  "movq %rcx, 24(%rsp)\n"                                                                   \
  "movq %r8, 32(%rsp)\n"                                                                    \
  "movq %r9, 40(%rsp)\n"                                                                    \
  SAVE_XMM                                                                                  \
  "movq 8(%r10), %rdi\n"             /* the closure */                                      \
  "movq %rsp, %rsi\n"                /* the frame */                                        \
  "call *(%rdi)\n"                   /* closure->frame_handler(closure, frame) */           \
  LOAD                                                                                      \
  "addq $" FRAME ", %rsp\n"                                                                 \
  ".cfi_adjust_cfa_offset -" FRAME "\n"                                                     \
  "ret\n"                                                                                   \
  ".cfi_endproc\n"                                                                          \
  ND_FUNC_END(name)

#define ND_SAVE_XMM         \
  "movsd %xmm0, 48(%rsp)\n" \
  "movsd %xmm1, 56(%rsp)\n" \
  "movsd %xmm2, 64(%rsp)\n" \
  "movsd %xmm3, 72(%rsp)\n" \
  "movsd %xmm4, 80(%rsp)\n" \
  "movsd %xmm5, 88(%rsp)\n" \
  "movsd %xmm6, 96(%rsp)\n" \
  "movsd %xmm7, 104(%rsp)\n"
// The frame entries' result: two slots, each for both register kinds.
#define ND_LOAD_INT        \
  "movq 112(%rsp), %rax\n" \
  "movq 120(%rsp), %rdx\n"
#define ND_LOAD_BOTH         \
  ND_LOAD_INT                \
  "movsd 112(%rsp), %xmm0\n" \
  "movsd 120(%rsp), %xmm1\n"
// The engine entry's: a slot per register (a struct result may take rax and xmm0).
#define ND_LOAD_EACH         \
  ND_LOAD_INT                \
  "movsd 128(%rsp), %xmm0\n" \
  "movsd 136(%rsp), %xmm1\n"
// The engine entry's for a result in x87: st(0) from the xmm0 and xmm1 slots.
#define ND_LOAD_X87 "fldt 128(%rsp)\n"

// The entry for any frame signature; the one for those without floating-point arguments
// or result, which neither saves nor loads the xmm registers; the engine's, whose frame
// is the first 112 bytes of a call's image (nd_abi_x64_sysv.cpp's place_all), then the
// result's four slots, with C's stack arguments 160 bytes above it (kEngineStackArgs); and the
// engine's for a result in st(0).
// clang-format off: one entry per line
asm(".text\n"
    ND_CLOSURE_ENTRY(ndffi_x64_closure_entry, "136", ND_SAVE_XMM, ND_LOAD_BOTH)
    ND_CLOSURE_ENTRY(ndffi_x64_closure_entry_int, "136", "", ND_LOAD_INT)
    ND_CLOSURE_ENTRY(ndffi_x64_closure_entry_engine, "152", ND_SAVE_XMM, ND_LOAD_EACH)
    ND_CLOSURE_ENTRY(ndffi_x64_closure_entry_engine_x87, "152", ND_SAVE_XMM, ND_LOAD_X87));
// clang-format on

extern "C" void ndffi_x64_closure_entry();
extern "C" void ndffi_x64_closure_entry_int();
extern "C" void ndffi_x64_closure_entry_engine();
extern "C" void ndffi_x64_closure_entry_engine_x87();

namespace ndffi::abi {
namespace {

// Pages of thunks, made as needed and never unmapped, one pool per kind of thunk: kind 0
// enters through the data slot's entry, kind 1 + n is the register entry for n integer
// arguments.  A code page is written once, before it becomes executable; only its data
// page is written afterwards.
struct ThunkPool {
  unsigned char *code = nullptr;  // current code page
  size_t next = 0, count = 0;     // next free thunk in it, thunks per page
};
constexpr size_t kThunk = 16;
constexpr int kThunkKinds = 2 + kMaxRegArgs;
static_assert(kMaxRegArgs == 5, "a register thunk for each of rdi..r9");
std::mutex pools_mu;  // guards pools and pools_failed
ThunkPool pools[kThunkKinds];
bool pools_failed = false;

size_t page_size() {
  static const size_t page = [] {
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? size_t(ps) : size_t(4096);
  }();
  return page;
}

// Thunk `t` of `kind`, its data slot `page` bytes after it, padded with int3 to kThunk.
void write_thunk(unsigned char *t, int kind, size_t page) {
  static const unsigned char endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};  // a no-op without CET
  memcpy(t, endbr64, 4);
  memset(t + 4, 0xcc, kThunk - 4);
  if (kind == 0) {
    // lea r10, [rip + page - 11] (the data slot); jmp [r10]
    static const unsigned char code[] = {0x4c, 0x8d, 0x15, 0, 0, 0, 0, 0x41, 0xff, 0x22};
    memcpy(t + 4, code, sizeof code);
    int32_t disp = int32_t(page) - 11;
    memcpy(t + 7, &disp, 4);
    return;
  }
  // mov reg, [rip + page - 3] (the slot's closure); jmp [reg + 8] (closure->reg_handler),
  // reg being rdi, rsi, rdx, rcx, r8 or r9 for 0..5 integer arguments.
  static const unsigned char mov_rex[] = {0x48, 0x48, 0x48, 0x48, 0x4c, 0x4c};
  static const unsigned char mov_modrm[] = {0x3d, 0x35, 0x15, 0x0d, 0x05, 0x0d};
  static const unsigned char jmp_modrm[] = {0x67, 0x66, 0x62, 0x61, 0x60, 0x61};
  const int n = kind - 1;
  unsigned char *p = t + 4;
  *p++ = mov_rex[n];
  *p++ = 0x8b;
  *p++ = mov_modrm[n];
  int32_t disp = int32_t(page) + 8 - 11;  // rip is t + 11 after the mov
  memcpy(p, &disp, 4);
  p += 4;
  if (n >= 4) *p++ = 0x41;  // REX.B: r8, r9
  *p++ = 0xff;
  *p++ = jmp_modrm[n];
  *p++ = 0x08;
}

bool new_page(ThunkPool &p, int kind) {
  const size_t page = page_size();
  void *mem = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
  if (mem == MAP_FAILED) return false;
  auto *code = static_cast<unsigned char *>(mem);
  p.count = page / kThunk;
  for (size_t i = 0; i < p.count; i++) write_thunk(code + i * kThunk, kind, page);
  if (mprotect(code, page, PROT_READ | PROT_EXEC) != 0) {
    munmap(mem, 2 * page);
    return false;
  }
  p.code = code;
  p.next = 0;
  return true;
}

}  // namespace

void *new_closure_thunk(Closure *c) {
  const CallbackPlan &plan = *c->plan;
  const bool regs = plan.reg_args >= 0 && c->reg_handler;
  const int kind = regs ? 1 + plan.reg_args : 0;
  std::lock_guard<std::mutex> lock(pools_mu);
  if (pools_failed) return nullptr;
  ThunkPool &pool = pools[kind];
  if (!pool.code || pool.next == pool.count) {
    if (!new_page(pool, kind)) {
      pools_failed = true;
      return nullptr;
    }
  }
  unsigned char *thunk = pool.code + pool.next++ * kThunk;
  void **data = reinterpret_cast<void **>(thunk + page_size());
  bool uses_xmm = plan.ret.conv == Conv::Float || plan.ret.conv == Conv::Double;
  for (uint8_t slot : plan.slot) uses_xmm |= slot >= kFirstFloatSlot;
  data[0] = regs          ? nullptr  // the thunk jumps through the closure
            : plan.engine ? sysv::returns_x87(*plan.engine)
                                ? reinterpret_cast<void *>(&ndffi_x64_closure_entry_engine_x87)
                                : reinterpret_cast<void *>(&ndffi_x64_closure_entry_engine)
            : uses_xmm    ? reinterpret_cast<void *>(&ndffi_x64_closure_entry)
                          : reinterpret_cast<void *>(&ndffi_x64_closure_entry_int);
  data[1] = c;
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return thunk;
}

}  // namespace ndffi::abi
#endif
