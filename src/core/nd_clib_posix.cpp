// Shared libraries on POSIX systems (nd_clib.h): dlopen, dlinfo, dlsym.
#include <dlfcn.h>
#include <link.h>

#include "nd_clib.h"

namespace ndffi {

SharedLib open_library(const std::optional<std::string> &path, bool global) {
  dlerror();
  void *h = dlopen(path ? path->c_str() : nullptr, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
  if (!h) {
    const char *err = dlerror();
    throw LoadError(err ? err : "dlopen failed");
  }
  std::string real;
  struct link_map *lm = nullptr;
  if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name) real = lm->l_name;
  return SharedLib{h, real.empty() && path ? *path : real};
}

std::optional<uintptr_t> find_symbol(const SharedLib &lib, const std::string &name) {
  dlerror();
  void *p = dlsym(lib.handle, name.c_str());
  if (!p && dlerror()) return std::nullopt;
  return uintptr_t(p);
}

}  // namespace ndffi
