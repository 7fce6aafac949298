#include "nd_limits.h"

#include <algorithm>
#include <cstdint>

#if defined(_WIN32)
#include <intrin.h>
#include <windows.h>
#else
#include <pthread.h>
#endif

namespace ndffi {

namespace {

struct StackFloor {
  uintptr_t low = 0;  // the lowest address recursion may reach; 0: unknown
  bool known = false;
};
thread_local StackFloor t_floor;

// What recursion leaves below it: a quarter of the stack, at most 64 KiB (half, under
// AddressSanitizer, whose frames carry redzones: several times larger).
#if ND_ASAN
constexpr size_t kReserveShare = 2;
#else
constexpr size_t kReserveShare = 4;
#endif
uintptr_t with_reserve(uintptr_t bottom, size_t size) {
  return bottom + std::min<size_t>(64 * 1024, size / kReserveShare);
}

uintptr_t find_floor() {
#if defined(__APPLE__)
  pthread_t self = pthread_self();
  size_t size = pthread_get_stacksize_np(self);
  uintptr_t top = uintptr_t(pthread_get_stackaddr_np(self));
  return with_reserve(top - size, size);
#elif defined(_WIN32)
  ULONG_PTR lo = 0, hi = 0;
  GetCurrentThreadStackLimits(&lo, &hi);
  return with_reserve(uintptr_t(lo), size_t(hi - lo));
#elif defined(__linux__)
  pthread_attr_t attr;
  uintptr_t low = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void *addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0 && addr) low = with_reserve(uintptr_t(addr), size);
    pthread_attr_destroy(&attr);
  }
  return low;
#else
  return 0;
#endif
}

}  // namespace

bool stack_low() {
  if (!t_floor.known) {
    t_floor.low = find_floor();
    t_floor.known = true;
  }
  // The frame address, not a local's: sanitizers may move locals off the stack.
#if defined(_MSC_VER)
  return uintptr_t(_AddressOfReturnAddress()) < t_floor.low;
#else
  return uintptr_t(__builtin_frame_address(0)) < t_floor.low;
#endif
}

}  // namespace ndffi
