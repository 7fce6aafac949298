// The lexer of the C declaration parser: text into tokens, comments skipped.  A
// preprocessor line becomes a Hash token, the line's tokens, and an EndLine token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ndffi {

enum class Tok { End, Ident, Number, String, Char, Punct, Hash, EndLine };

struct Token {
  Tok kind;
  std::string text;
  size_t pos;   // offset in the source
};

std::vector<Token> lex(std::string_view src);

// Raise CDefError for position `pos` of `src`, with line, column and the source line.
[[noreturn]] void throw_cdef_error(std::string_view src, size_t pos, const std::string &msg,
                                   const std::string &token);

}  // namespace ndffi
