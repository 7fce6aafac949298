// The C++ core tests without Python: the type model, the declaration parser, scopes,
// argument specs, call plans (direct stubs and libffi) on functions defined here,
// closures called from C++, and the layout rules of other ABIs.
//
// Built and run by tests/core/test_core.py:
//   c++ -std=c++17 -O1 -Isrc/core src/core/*.cpp tests/core/*.cpp
//       $(pkg-config --cflags --libs libffi) -ldl
// Prints each failure, then "N passed, M failed" as its last line; exits non-zero on failure.
#include <cstdio>

#include "check.h"

namespace core_tests {
int g_passed = 0, g_failed = 0;
}  // namespace core_tests

int main() {
  using namespace core_tests;
  test_interning();
  test_str();
  test_decl_str();
  test_parse_errors();
  test_parse_and_scope();
  test_scope_conflicts();
  test_arg_spec();
  test_transactions();
  test_redefinitions();
  test_depth_limits();
  test_other_abi_scopes();
  test_calls();
  test_closures();
  test_layout_msvc();
  test_layout_aapcs64();
  test_enum_bases();
  test_host_target();
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}
