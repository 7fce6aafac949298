// What the C++ core tests share: CHECK, CHECK_EQ and throws(), the type table and
// built-in scope, and the test functions main.cpp runs.
#pragma once

#include <cstdio>
#include <functional>
#include <sstream>
#include <string>

#include "nd_ccall.h"
#include "nd_ccallback.h"
#include "nd_cparse.h"
#include "nd_ctype.h"
#include "nd_layout.h"

namespace core_tests {

using namespace ndffi;

extern int g_passed, g_failed;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) {                                                                  \
      core_tests::g_passed++;                                                    \
    } else {                                                                     \
      core_tests::g_failed++;                                                    \
      std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
    }                                                                            \
  } while (0)

template <class A, class B>
void check_eq(const A &a, const B &b, const char *ea, const char *eb, const char *file, int line) {
  if (a == b) {
    g_passed++;
  } else {
    g_failed++;
    std::ostringstream os;
    os << "FAIL " << file << ":" << line << ": " << ea << " == " << eb << "\n    got      "
       << a << "\n    expected " << b;
    std::printf("%s\n", os.str().c_str());
  }
}
#define CHECK_EQ(a, b) core_tests::check_eq((a), (b), #a, #b, __FILE__, __LINE__)

// Runs `body`, which must throw E; returns whether it did.
template <class E>
bool throws(const std::function<void()> &body, std::function<void(const E &)> inspect = nullptr) {
  try {
    body();
  } catch (const E &e) {
    if (inspect) inspect(e);
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

inline TypeTable &T = TypeTable::get();
inline const Scope &B = Scope::builtins();

inline const CType *ty(const char *spelling) { return parse_type(B, spelling); }

// types.cpp: the type model, spelling, the parser and scopes, argument specs
void test_interning();
void test_str();
void test_decl_str();
void test_parse_errors();
void test_parse_and_scope();
void test_scope_conflicts();
void test_arg_spec();
// scope.cpp: transactions, declaring again, limits on nesting and depth
void test_transactions();
void test_redefinitions();
void test_depth_limits();
void test_other_abi_scopes();
// calls.cpp: call plans (direct stubs and libffi) and closures
void test_calls();
void test_closures();
// layout.cpp: record layout by the MSVC and AAPCS64 rules, enum types
void test_layout_msvc();
void test_layout_aapcs64();
void test_enum_bases();
void test_host_target();

}  // namespace core_tests
