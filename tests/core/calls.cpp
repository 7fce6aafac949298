// Core tests: call plans (direct stubs against libffi) on functions defined here, and
// closures (register entries, frames and libffi) called from C++.

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "check.h"

namespace core_tests {

// ---- calls --------------------------------------------------------------------------

extern "C" {
int add3(int a, int b, int c) { return a + b + c; }
double dmix(double a, float b, int c, double d) { return a * 2 + double(b) * 3 + c * 5 + d * 7; }
float fscale(float x, float y) { return x * y + 0.25f; }
long long isum6(signed char a, unsigned char b, short c, unsigned short d, int e, unsigned f) {
  return a + 2LL * b + 3LL * c + 4LL * d + 5LL * e + 6LL * f;
}
long long isum7(int a, int b, int c, int d, int e, int f, long long g) {
  return a + 2LL * b + 3LL * c + 4LL * d + 5LL * e + 6LL * f + 7LL * g;
}
double dsum9(double a, double b, double c, double d, double e, double f, double g, double h,
             double i) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i;
}
double interleave(int a, double b, long c, float d, unsigned char e, double f) {
  return a * 1.0 + b * 10 + double(c) * 100 + double(d) * 1000 + e * 10000.0 + f * 100000;
}
static int noop_calls = 0;
void noop(void) { noop_calls++; }
bool is_neg(int x) { return x < 0; }
unsigned char low_byte(unsigned x) { return (unsigned char)x; }
signed char neg_char(signed char x) { return (signed char)-x; }
short wrap_short(int x) { return (short)x; }
unsigned long long big(void) { return 0xFEDCBA9876543210ULL; }
const char *skip(const char *s, int n) { return s + n; }
long double ldmul(long double a, long double b) { return a * b; }
int vsum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  int s = 0;
  for (int k = 0; k < n; k++) s += va_arg(ap, int);
  va_end(ap);
  return s;
}
}

// A value to store for argument i, converted as a call's converter would.
struct Val {
  enum { I, F, P } kind;
  int64_t i;
  double f;
  const void *p;
};
static Val iv(int64_t v) { return Val{Val::I, v, 0, nullptr}; }
static Val fv(double v) { return Val{Val::F, 0, v, nullptr}; }
static Val pv(const void *v) { return Val{Val::P, 0, 0, v}; }

static void store(const ArgSpec &a, unsigned char *storage, const Val &v) {
  unsigned char *dst = storage + a.offset;
  switch (a.conv) {
    case Conv::Bool: case Conv::SInt: case Conv::UInt: {
      int64_t x = v.i;   // stored extended to 64 bits
      std::memcpy(dst, &x, 8);
      break;
    }
    case Conv::Float: {
      float f = float(v.f);
      uint64_t bits = 0;
      std::memcpy(&bits, &f, 4);
      std::memcpy(dst, &bits, 8);
      break;
    }
    case Conv::Double: std::memcpy(dst, &v.f, 8); break;
    case Conv::LongDouble: {
      long double ld = v.f;
      std::memcpy(dst, &ld, sizeof ld);
      break;
    }
    case Conv::Pointer: case Conv::FuncPtr: std::memcpy(dst, &v.p, sizeof(void *)); break;
    default: break;
  }
}

// Calls `fn` of type `sig` with `args`, either through the direct stub (which must
// exist when `want_direct`) or through libffi; returns the raw result bytes.
struct Raw {
  uint64_t w[2] = {0, 0};
};
static Raw call(const char *sig, void *fn, const std::vector<Val> &args, bool direct,
                bool *had_direct = nullptr) {
  CallPlan plan;
  make_plan(plan, ty(sig), fn, direct);
  if (had_direct) *had_direct = plan.direct != nullptr;
  if (!direct) CHECK(plan.direct == nullptr);
  CHECK_EQ(plan.args.size(), args.size());
  alignas(16) unsigned char storage[512];
  std::memset(storage, 0xAB, sizeof storage);   // garbage outside the stored values
  CHECK(plan.storage <= sizeof storage);
  for (size_t k = 0; k < args.size() && k < plan.args.size(); k++) store(plan.args[k], storage, args[k]);
  Raw r;
  if (plan.direct) r.w[0] = plan.direct(plan.fn, storage);
  else call_ffi(plan, storage, r.w);
  return r;
}

static int64_t as_int(const CallPlan &, Raw r, const char *sig) {
  ArgSpec a = arg_spec(ty(sig)->target);
  if (a.conv == Conv::Bool) return int64_t(r.w[0] & 0xff);
  return a.conv == Conv::SInt ? extend_signed(r.w[0], a.size) : int64_t(extend_unsigned(r.w[0], a.size));
}
static double as_float(Raw r) {
  float f;
  uint32_t b = uint32_t(r.w[0]);
  std::memcpy(&f, &b, 4);
  return f;
}
static double as_double(Raw r) {
  double d;
  std::memcpy(&d, &r.w[0], 8);
  return d;
}

// Whether the call of `sig` went through its direct stub, as expected.
static void check_direct(const char *sig, bool had_direct, bool expect_direct) {
  if (had_direct != expect_direct) {
    g_failed++;
    std::printf("FAIL %s: direct stub %s\n", sig, had_direct ? "used" : "not used");
  } else {
    g_passed++;
  }
}

// Both engines, compared with each other and with the expected value.
static void both_int(const char *sig, void *fn, const std::vector<Val> &args, int64_t expected,
                     bool expect_direct) {
  bool had_direct = false;
  CallPlan dummy;
  int64_t d = as_int(dummy, call(sig, fn, args, true, &had_direct), sig);
  int64_t f = as_int(dummy, call(sig, fn, args, false), sig);
  check_direct(sig, had_direct, expect_direct);
  if (d != expected || f != expected) {
    g_failed++;
    std::printf("FAIL %s: direct %lld, libffi %lld, expected %lld\n", sig, (long long)d,
                (long long)f, (long long)expected);
  } else {
    g_passed++;
  }
}

static void both_real(const char *sig, void *fn, const std::vector<Val> &args, double expected,
                      bool expect_direct) {
  bool had_direct = false;
  bool is_float = ty(sig)->target == ty("float");
  Raw rd = call(sig, fn, args, true, &had_direct), rf = call(sig, fn, args, false);
  double d = is_float ? as_float(rd) : as_double(rd);
  double f = is_float ? as_float(rf) : as_double(rf);
  check_direct(sig, had_direct, expect_direct);
  if (d != expected || f != expected) {
    g_failed++;
    std::printf("FAIL %s: direct %.17g, libffi %.17g, expected %.17g\n", sig, d, f, expected);
  } else {
    g_passed++;
  }
}

void test_calls() {
#if defined(__x86_64__) && !defined(_WIN32)
  const bool stubs = !force_libffi();    // this ABI has direct stubs
#else
  const bool stubs = false;
#endif
  both_int("int (int, int, int)", (void *)add3, {iv(1), iv(20), iv(300)}, 321, stubs);
  both_int("int (int, int, int)", (void *)add3, {iv(-5), iv(INT_MAX), iv(INT_MIN)}, -6, stubs);
  both_real("double (double, float, int, double)", (void *)dmix, {fv(1.5), fv(0.25), iv(-3), fv(2)},
            1.5 * 2 + 0.25 * 3 - 15 + 14, stubs);
  both_real("float (float, float)", (void *)fscale, {fv(1.5), fv(-2.0)}, double(1.5f * -2.0f + 0.25f), stubs);
  float third = 1.0f / 3.0f;
  both_real("float (float, float)", (void *)fscale, {fv(third), fv(3.0)}, double(third * 3.0f + 0.25f), stubs);
  both_int("long long (signed char, unsigned char, short, unsigned short, int, unsigned)",
           (void *)isum6, {iv(-128), iv(255), iv(-32768), iv(65535), iv(INT_MIN), iv(UINT_MAX)},
           -128 + 2LL * 255 - 3LL * 32768 + 4LL * 65535 + 5LL * INT_MIN + 6LL * UINT_MAX, stubs);
  // seven integer arguments: beyond the six registers, libffi
  both_int("long long (int, int, int, int, int, int, long long)", (void *)isum7,
           {iv(1), iv(2), iv(3), iv(4), iv(5), iv(6), iv(INT64_C(1) << 40)},
           1 + 4 + 9 + 16 + 25 + 36 + 7 * (INT64_C(1) << 40), false);
  // nine doubles: beyond the eight xmm registers, libffi
  both_real("double (double, double, double, double, double, double, double, double, double)",
            (void *)dsum9, {fv(1), fv(1), fv(1), fv(1), fv(1), fv(1), fv(1), fv(1), fv(0.5)},
            36 + 4.5, false);
  both_real("double (int, double, long, float, unsigned char, double)", (void *)interleave,
            {iv(1), fv(2), iv(3), fv(4), iv(5), fv(6)}, 1 + 20 + 300 + 4000 + 50000 + 600000.0, stubs);
  both_int("_Bool (int)", (void *)is_neg, {iv(-7)}, 1, stubs);
  both_int("_Bool (int)", (void *)is_neg, {iv(7)}, 0, stubs);
  both_int("unsigned char (unsigned)", (void *)low_byte, {iv(0x1234FF)}, 255, stubs);
  both_int("signed char (signed char)", (void *)neg_char, {iv(5)}, -5, stubs);
  both_int("short (int)", (void *)wrap_short, {iv(0x18000)}, -32768, stubs);
  both_int("unsigned long long (void)", (void *)big, {}, int64_t(0xFEDCBA9876543210ULL), stubs);
  const char *text = "hello";
  {
    Raw d = call("const char *(const char *, int)", (void *)skip, {pv(text), iv(2)}, true);
    Raw f = call("const char *(const char *, int)", (void *)skip, {pv(text), iv(2)}, false);
    CHECK(reinterpret_cast<const char *>(d.w[0]) == text + 2);
    CHECK(reinterpret_cast<const char *>(f.w[0]) == text + 2);
  }
  {
    noop_calls = 0;
    bool had_direct = false;
    call("void (void)", (void *)noop, {}, true, &had_direct);
    call("void (void)", (void *)noop, {}, false);
    CHECK_EQ(noop_calls, 2);
    CHECK_EQ(had_direct, stubs);
  }
  {
    // long double: libffi only, result in memory
    bool had_direct = true;
    Raw r = call("long double (long double, long double)", (void *)ldmul, {fv(1.5), fv(4)}, true, &had_direct);
    CHECK(!had_direct);
    long double ld;
    std::memcpy(&ld, r.w, sizeof ld);
    CHECK(ld == 6.0L);
  }
  {
    // variadic: the fixed part planned once, a plan per list of variadic types
    CallPlan fixed;
    make_plan(fixed, ty("int (int, ...)"), (void *)vsum);
    CHECK(fixed.direct == nullptr);
    CHECK(fixed.type->variadic);
    std::vector<ArgSpec> extra;
    for (int k = 0; k < 3; k++) extra.push_back(variadic_spec(ty(k == 1 ? "short" : "int")));
    CHECK(extra[1].size == 4);  // promoted to int
    CallPlan plan;
    CHECK(make_variadic_plan(plan, fixed, extra));
    CHECK(plan.args.size() == 4 && plan.type == fixed.type);
    alignas(16) unsigned char storage[256] = {};
    CHECK(plan.storage <= sizeof storage);
    store(plan.args[0], storage, iv(3));
    for (int k = 0; k < 3; k++) store(plan.args[1 + k], storage, iv(10 * (k + 1)));
    alignas(16) uint64_t ret[4] = {0, 0, 0, 0};
    call(plan, storage, ret);
    CHECK_EQ(extend_signed(ret[0], 4), int64_t(60));
  }
  // plans: offsets within storage, disjoint 8-byte slots
  {
    CallPlan plan;
    make_plan(plan, ty("double (int, double, long, float, unsigned char, double)"), (void *)interleave);
    std::vector<bool> used(plan.storage, false);
    bool ok = true;
    for (const ArgSpec &a : plan.args) {
      for (uint32_t k = a.offset; k < a.offset + 8; k++) {
        if (k >= plan.storage || used[k]) ok = false;
        else used[k] = true;
      }
    }
    CHECK(ok);
  }
  // a plan for a by-value struct or an array parameter is refused
  {
    CallPlan plan;
    CHECK(throws<UnsupportedType>([&] { make_plan(plan, ty("void (struct opaque)"), (void *)noop); }));
  }
}

// ---- closures -------------------------------------------------------------------------

// The handler of the closures below: the sum of argument i times i + 1, as the result type.
static int closure_calls = 0;

static double closure_arg(const ArgSpec &a, const void *p) {
  switch (a.conv) {
    case Conv::SInt:
      return a.size == 1 ? *(const int8_t *)p : a.size == 2 ? *(const int16_t *)p
             : a.size == 4 ? *(const int32_t *)p : double(*(const int64_t *)p);
    case Conv::UInt:
      return a.size == 1 ? *(const uint8_t *)p : a.size == 2 ? *(const uint16_t *)p
             : a.size == 4 ? *(const uint32_t *)p : double(*(const uint64_t *)p);
    case Conv::Pointer: return double(uintptr_t(*(void *const *)p));
    case Conv::Double: return *(const double *)p;
    case Conv::Float: return *(const float *)p;
    default: return NAN;
  }
}

static void closure_handler(Closure *c, void *ret, void **args) {
  closure_calls++;
  CHECK(c->user.load() == &closure_calls);
  const CallbackPlan &plan = *c->plan;
  double s = 0;
  for (size_t i = 0; i < plan.args.size(); i++) s += closure_arg(plan.args[i], args[i]) * double(i + 1);
  switch (plan.ret.conv) {
    case Conv::SInt:
    case Conv::UInt: {
      int64_t v = int64_t(s);
      memcpy(ret, &v, 8);
      break;
    }
    case Conv::Double: memcpy(ret, &s, 8); break;
    case Conv::Float: {
      float f = float(s);
      memcpy(ret, &f, 4);
      break;
    }
    default: break;
  }
}

// Every closure of `sig` (direct, and through libffi) returns `want` for the arguments
// (for a void result: is called).
template <class F, class W, class... A>
static void check_closure(const char *sig, bool direct, int reg_args, W want, A... args) {
  using R = decltype(std::declval<F>()(args...));
  for (bool allow_direct : {true, false}) {
    const CallbackPlan &plan = callback_plan(ty(sig), allow_direct);
    CHECK_EQ(plan.direct, allow_direct && direct);
    CHECK_EQ(plan.reg_args, allow_direct ? reg_args : -1);
    // Twice: the second closure comes back from the free list.
    for (int round = 0; round < 2; round++) {
      Closure *c = closure_new(plan, closure_handler, &closure_calls);
      CHECK_EQ(c->ffi == nullptr, allow_direct && direct);
      int before = closure_calls;
      if constexpr (std::is_void<R>::value) {
        reinterpret_cast<F>(c->code)(args...);
      } else {
        R got = reinterpret_cast<F>(c->code)(args...);
        CHECK_EQ(got, R(want));
      }
      CHECK_EQ(closure_calls, before + 1);
      closure_release(c, true);
    }
  }
}

void test_closures() {
#if defined(__x86_64__) && !defined(_WIN32)
  const bool direct = !force_libffi();
#else
  const bool direct = false;
#endif
  int r = direct ? 0 : -1;   // the register entry's argument count, where there is one
  check_closure<int (*)(int)>("int (int)", direct, direct ? 1 : -1, -41, -41);
  check_closure<int (*)(void)>("int (void)", direct, r, 0);
  check_closure<void (*)(void)>("void (void)", direct, r, 0);
  check_closure<long long (*)(int, long long, unsigned char, short, void *)>(
      "long long (int, long long, unsigned char, short, void *)", direct, direct ? 5 : -1,
      (long long)(-1 + 2 * 1000000000000LL + 3 * 255 - 4 * 7 + 5 * 4096), -1, 1000000000000LL,
      (unsigned char)255, (short)-7, (void *)4096);
  check_closure<double (*)(int, unsigned)>("double (int, unsigned)", direct, direct ? 2 : -1,
                                           -3.0 + 2 * 4000000000.0, -3, 4000000000u);
  check_closure<float (*)(short)>("float (short)", direct, direct ? 1 : -1, -2.0f, (short)-2);
  // six integer arguments: no register left for the closure, the frame entry
  check_closure<int (*)(int, int, int, int, int, int)>("int (int, int, int, int, int, int)", direct, -1,
                                                       1 + 4 + 9 + 16 + 25 + 36, 1, 2, 3, 4, 5, 6);
  // floating-point arguments stay in xmm0..: the register entry, counting the integer ones
  check_closure<double (*)(double, int, float)>("double (double, int, float)", direct, direct ? 1 : -1,
                                                0.5 + 2 * 3 + 3 * 0.25, 0.5, 3, 0.25f);
  check_closure<double (*)(double, double, double, double, double)>(
      "double (double, double, double, double, double)", direct, r, 1.5 + 2 * 2.5 + 3 * -1 + 4 * 0.25 + 5 * 8,
      1.5, 2.5, -1.0, 0.25, 8.0);
  check_closure<float (*)(int, float, long, double)>("float (int, float, long, double)", direct, direct ? 2 : -1,
                                                     -2.0f + 2 * 0.5f + 3 * 4 + 4 * 0.125, -2, 0.5f, 4L, 0.125);
  // six arguments: the frame entry
  check_closure<double (*)(double, int, int, int, int, double)>("double (double, int, int, int, int, double)", direct,
                                                                -1, 1 + 2 * 1 + 3 * 2 + 4 * 3 + 5 * 4 + 6 * 0.5, 1.0,
                                                                1, 2, 3, 4, 0.5);
}

}  // namespace core_tests
