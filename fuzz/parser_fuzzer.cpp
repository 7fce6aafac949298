// libFuzzer target over the C declaration parser and the type model.
//
// Every input must end in a populated Scope or a documented exception (CDefError,
// DeclConflict, std::runtime_error); anything else -- another exception, a crash, a
// hang or a sanitizer report -- is a finding.  Built by `make fuzz`:
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
//       fuzz/parser_fuzzer.cpp src/core/*.cpp $(pkg-config --cflags --libs libffi) -ldl
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "nd_cparse.h"
#include "nd_ctype.h"

using namespace ndffi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  const Scope &builtins = Scope::builtins();

  // Declarations into a fresh scope.
  {
    Scope scope(&builtins);
    try {
      cdef(scope, text);
    } catch (const CDefError &) {
    } catch (const DeclConflict &) {
    } catch (const std::runtime_error &) {
    }
    // The same text as a type name, resolved against what the declarations added.
    try {
      const CType *t = parse_type(scope, text);
      if (t == nullptr) __builtin_trap();
    } catch (const CDefError &) {
    } catch (const DeclConflict &) {
    } catch (const std::runtime_error &) {
    }
  }
  return 0;
}
