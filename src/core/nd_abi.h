// The ABI-specific part of the call engine, one implementation file per ABI:
// abi_x64_sysv.cpp (Linux, macOS, BSD on x86-64) and abi_generic.cpp (every other
// platform, where every call goes through libffi until a file for its ABI is written).
#pragma once

#include "nd_ccall.h"

namespace ndffi::abi {

// If this ABI has a direct stub for the signature, lay out the arguments' storage
// (setting each ArgSpec::offset and *storage) and return the stub; otherwise nullptr.
DirectStub plan_direct(const CType *ftype, std::vector<ArgSpec> &args, const ArgSpec &ret,
                       uint32_t *storage);

// The libffi type of a union, or of a struct with bit-fields (which libffi cannot
// describe by members), classified by this ABI's rules; nullptr if not supported.
ffi_type *aggregate_ffi_type(const Record *rec);

}  // namespace ndffi::abi
