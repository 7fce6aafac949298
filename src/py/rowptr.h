// Pointer-to-pointer parameters (rowptr.cpp).
#pragma once

#include "common.h"

namespace ndffi::py {

// T ** and const T *const * parameters: a 2-D array or a sequence of 1-D arrays becomes
// a table of row pointers kept in holds.  Returns 1 when converted, 0 on error (exception
// set), -1 when `o` is neither (the caller tries the other pointer conversions).
int rows_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w);

}  // namespace ndffi::py
