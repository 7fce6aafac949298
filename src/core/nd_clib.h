// Shared libraries: open one, the file the loader chose, the address of a symbol.  One
// implementation file per system: nd_clib_posix.cpp (dlopen) and, where it is written,
// nd_clib_win.cpp (LoadLibrary); CMakeLists.txt picks the one to build.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace ndffi {

// An open library.  Libraries are never closed: pointers into their code and data may
// be held anywhere (ctypes and cffi make the same choice).
struct SharedLib {
  void *handle = nullptr;
  std::string path;  // the file the loader chose (for a bare name like "libm.so.6" too)
};

// The loader's refusal, with its message.
struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Open `path` (nullopt: the program itself), its symbols global (visible to libraries
// loaded later) or local.  Throws LoadError.
SharedLib open_library(const std::optional<std::string> &path, bool global);

// The address of the exported symbol `name`, or nullopt if there is none (an address of
// 0 is a symbol's value, not its absence).
std::optional<uintptr_t> find_symbol(const SharedLib &lib, const std::string &name);

}  // namespace ndffi
