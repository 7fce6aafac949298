// ndffi.new and ndffi.cast (new_cast.cpp): memory of a C type owned by Python, and a
// Python value seen as a C type.
#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include "common.h"

namespace ndffi::py {

// new(text, init): the memory of a pointer's pointee or of an array, zeroed, then
// initialized from `init` (None, a length for T[], bytes, a list, a value).
nanobind::object new_memory(const Scope &scope, const std::string &text, nanobind::handle init);
// cast(text, v): a Pointer to memory v exposes or at an int address, or a Value of an
// arithmetic type converted as C converts it.
nanobind::object cast_value(const Scope &scope, const std::string &text, nanobind::handle v);

}  // namespace ndffi::py
