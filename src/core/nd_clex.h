// The lexer of the C declaration parser: text into tokens, comments skipped.  A
// preprocessor line becomes a Hash token, the line's tokens, and an EndLine token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nd_ctype.h"

namespace ndffi {

enum class Tok { End, Ident, Number, String, Char, Punct, Hash, EndLine };

struct Token {
  Tok kind;
  std::string text;
  size_t pos;                     // offset in the source
  uint32_t line = 0, column = 0;  // 1-based; the column counts characters, not bytes
};

std::vector<Token> lex(std::string_view src);

// Raise CDefError for position `pos` of `src`, with line, column and the source line
// (and, for a conflicting redeclaration, where the earlier declaration is).
[[noreturn]] void throw_cdef_error(std::string_view src, size_t pos, const std::string &msg, const std::string &token,
                                   Origin previous = {});

}  // namespace ndffi
