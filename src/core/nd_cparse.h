// C declaration parser: declaration text into a Scope of the type model.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "nd_ctype.h"

namespace ndffi {

// A declaration the parser cannot accept, with its 1-based position in the text.
struct CDefError : std::runtime_error {
  int line, column;
  std::string message;  // what is wrong
  std::string token;    // the offending text
  std::string source_line;
  Origin previous;  // a conflicting redeclaration: where the earlier declaration is
  CDefError(int line, int column, std::string message, std::string token, std::string source_line);
};

// Parse declarations (prototypes, typedefs, struct/union/enum tags, globals) into scope,
// in one transaction of the scope: on error nothing is added to it.  Declaring again
// what the scope declares is accepted when the declaration is the same (a struct, union
// or enum defined again with the same members, and it stays the same type) and a
// CDefError naming both places when it is not.  Nesting deeper than nd_limits.h allows
// is a CDefError.
void cdef(Scope &scope, std::string_view text);

// Parse a type name ("int *", "double[16]", "int(const void *, const void *)").
const CType *parse_type(const Scope &scope, std::string_view text);

}  // namespace ndffi
