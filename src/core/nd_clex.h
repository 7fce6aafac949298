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
  // What the parser may take an identifier for (Word bits): a name has none, and
  // skips the parser's comparisons with C's words.
  uint8_t word = 0;
  uint8_t spec = 0;  // a Spec for a declaration specifier word, else SpecNone
};

// The kinds of words of C (and of its extensions) the parser compares tokens with.
enum Word : uint8_t {
  WordQualifier = 1,   // const, __restrict, ...
  WordDecoration = 2,  // __attribute__, extern, inline, ...
  WordSpecifier = 4,   // int, unsigned, struct, typedef, ...
  WordKeyword = 8,     // a keyword of C, never a name
};

// The declaration specifier words (WordSpecifier), told apart without comparing text.
enum Spec : uint8_t {
  SpecNone,
  SpecLong,
  SpecShort,
  SpecSigned,  // signed, __signed__
  SpecUnsigned,
  SpecVoid,
  SpecChar,
  SpecInt,
  SpecFloat,
  SpecDouble,
  SpecBool,
  SpecInt128,
  SpecComplex,  // _Complex, __complex__
  SpecTypedef,
  SpecStruct,
  SpecUnion,
  SpecEnum,
};

// What an identifier is to the parser: its Word bits (0: a name) and its Spec.
struct WordInfo {
  uint8_t word = 0;
  uint8_t spec = SpecNone;
};
WordInfo word_of(std::string_view text);

std::vector<Token> lex(std::string_view src);

// Raise CDefError for position `pos` of `src`, with line, column and the source line
// (and, for a conflicting redeclaration, where the earlier declaration is).
[[noreturn]] void throw_cdef_error(std::string_view src, size_t pos, const std::string &msg, const std::string &token,
                                   Origin previous = {});

}  // namespace ndffi
