#include "nd_clex.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <unordered_map>

#include "nd_cparse.h"

namespace ndffi {

void throw_cdef_error(std::string_view src, size_t pos, const std::string &msg, const std::string &tok,
                      Origin previous) {
  int line = 1;
  size_t line_start = 0;
  for (size_t k = 0; k < pos && k < src.size(); k++)
    if (src[k] == '\n') line++, line_start = k + 1;
  size_t line_end = src.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = src.size();
  // The column counts characters (UTF-8 code points), not bytes.
  int column = 1;
  for (size_t k = line_start; k < pos && k < src.size(); k++)
    if (((unsigned char)src[k] & 0xC0) != 0x80) column++;
  CDefError e(line, column, msg, tok, std::string(src.substr(line_start, line_end - line_start)));
  e.previous = previous;
  throw e;
}

namespace {
// FNV-1a: the words are short, and most identifiers looked up are not among them.
struct WordHash {
  size_t operator()(std::string_view s) const {
    uint64_t h = 1469598103934665603ull;
    for (char c : s) h = (h ^ (unsigned char)c) * 1099511628211ull;
    return size_t(h);
  }
};
}  // namespace

WordInfo word_of(std::string_view text) {
  // Every identifier nd_cparse*.cpp compares a token with, by the function that does.
  static const std::unordered_map<std::string_view, WordInfo, WordHash> words = [] {
    std::unordered_map<std::string_view, WordInfo, WordHash> m;
    auto add = [&](uint8_t bit, std::initializer_list<std::string_view> list) {
      for (std::string_view w : list) m[w].word |= bit;
    };
    add(WordQualifier,
        {"const", "__const", "__const__", "volatile", "__volatile__", "restrict", "__restrict", "__restrict__"});
    add(WordDecoration, {"__attribute__", "__attribute", "__declspec",  "_Alignas",      "alignas",  "__asm__",
                         "__asm",         "asm",         "__alignof__", "__extension__", "__inline", "__inline__",
                         "inline",        "extern",      "static",      "_Noreturn",     "__cdecl",  "__stdcall",
                         "register",      "auto",        "__thread",    "_Thread_local"});
    add(WordSpecifier, {"long", "short", "signed", "__signed__", "unsigned", "void", "char", "int", "float", "double",
                        "_Bool", "__int128", "_Complex", "__complex__", "typedef", "struct", "union", "enum"});
    add(WordKeyword, {"void",       "char",      "short",          "int",          "long",
                      "float",      "double",    "signed",         "unsigned",     "_Bool",
                      "struct",     "union",     "enum",           "const",        "volatile",
                      "restrict",   "typedef",   "extern",         "static",       "inline",
                      "register",   "auto",      "sizeof",         "return",       "if",
                      "else",       "for",       "while",          "do",           "switch",
                      "case",       "default",   "break",          "continue",     "goto",
                      "_Alignas",   "_Alignof",  "_Atomic",        "_Complex",     "_Generic",
                      "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local"});
    const std::pair<std::string_view, Spec> specs[] = {{"long", SpecLong},         {"short", SpecShort},
                                                       {"signed", SpecSigned},     {"__signed__", SpecSigned},
                                                       {"unsigned", SpecUnsigned}, {"void", SpecVoid},
                                                       {"char", SpecChar},         {"int", SpecInt},
                                                       {"float", SpecFloat},       {"double", SpecDouble},
                                                       {"_Bool", SpecBool},        {"__int128", SpecInt128},
                                                       {"_Complex", SpecComplex},  {"__complex__", SpecComplex},
                                                       {"typedef", SpecTypedef},   {"struct", SpecStruct},
                                                       {"union", SpecUnion},       {"enum", SpecEnum}};
    for (const auto &[w, spec] : specs) m[w].spec = spec;
    return m;
  }();
  static const size_t longest = [] {
    size_t n = 0;
    for (const auto &w : words) n = std::max(n, w.first.size());
    return n;
  }();
  if (text.size() > longest) return {};
  auto it = words.find(text);
  return it == words.end() ? WordInfo{} : it->second;
}

namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    out.reserve(src_.size() / 4 + 2);  // about one token per 4 characters of declarations
    lex_all(out);
    // Lines and columns, in one pass over the text (the tokens are in order).
    uint32_t line = 1, column = 1;
    size_t at = 0;
    for (Token &t : out) {
      for (; at < t.pos && at < src_.size(); at++) {
        if (src_[at] == '\n') line++, column = 1;
        else if (((unsigned char)src_[at] & 0xC0) != 0x80) column++;
      }
      t.line = line;
      t.column = column;
    }
    return out;
  }

 private:
  void lex_all(std::vector<Token> &out) {
    bool line_start = true;  // only white space since the last newline
    bool in_directive = false;
    for (;;) {
      bool newline = skip_space(in_directive);
      if (newline) line_start = true;
      if (newline && in_directive) {
        out.push_back({Tok::EndLine, "", i_});
        in_directive = false;
        continue;
      }
      if (i_ >= src_.size()) break;
      size_t start = i_;
      char c = src_[i_];
      if (c == '#' && line_start && !in_directive) {
        i_++;
        out.push_back({Tok::Hash, "#", start});
        in_directive = true;
        line_start = false;
        continue;
      }
      line_start = false;
      if (isalpha((unsigned char)c) || c == '_') {
        while (i_ < src_.size() && (isalnum((unsigned char)src_[i_]) || src_[i_] == '_')) i_++;
        std::string_view word = src_.substr(start, i_ - start);
        out.push_back({Tok::Ident, std::string(word), start});
        WordInfo info = word_of(word);
        out.back().word = info.word;
        out.back().spec = info.spec;
      } else if (isdigit((unsigned char)c) ||
                 (c == '.' && i_ + 1 < src_.size() && isdigit((unsigned char)src_[i_ + 1]))) {
        // An exponent's sign belongs to the number: e/E in decimal, p/P in hexadecimal.
        bool hex = src_[start] == '0' && start + 1 < src_.size() && (src_[start + 1] == 'x' || src_[start + 1] == 'X');
        while (i_ < src_.size() &&
               (isalnum((unsigned char)src_[i_]) || src_[i_] == '.' ||
                ((src_[i_] == '+' || src_[i_] == '-') &&
                 (hex ? (src_[i_ - 1] == 'p' || src_[i_ - 1] == 'P') : (src_[i_ - 1] == 'e' || src_[i_ - 1] == 'E')))))
          i_++;
        out.push_back({Tok::Number, std::string(src_.substr(start, i_ - start)), start});
      } else if (c == '"' || c == '\'') {
        i_++;
        while (i_ < src_.size() && src_[i_] != c && src_[i_] != '\n') i_ += src_[i_] == '\\' ? 2 : 1;
        if (i_ >= src_.size() || src_[i_] != c)
          throw_cdef_error(src_, start, c == '"' ? "unterminated string literal" : "unterminated character constant",
                           std::string(1, c));
        i_++;
        out.push_back({c == '"' ? Tok::String : Tok::Char, std::string(src_.substr(start, i_ - start)), start});
      } else {
        static const char *multi[] = {"...", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "::"};
        std::string p(1, c);
        if (strchr(".<>=!&|:", c))  // the first characters of the multi-character ones
          for (const char *m : multi)
            if (src_.substr(i_, strlen(m)) == m) {
              p = m;
              break;
            }
        if (c == '\0' || (!strchr("*()[]{},;=:+-/%~&|^<>!?.#", c) && p.size() == 1)) {
          if (c == '\0') throw_cdef_error(src_, start, "unexpected character '\\0'", std::string(1, c));
          // A whole UTF-8 sequence, so the message and the token stay valid text.
          size_t n = 1;
          while ((unsigned char)c >= 0xC0 && start + n < src_.size() && ((unsigned char)src_[start + n] & 0xC0) == 0x80)
            n++;
          std::string ch(src_.substr(start, n));
          throw_cdef_error(src_, start, "unexpected character '" + ch + "'", ch);
        }
        i_ += p.size();
        out.push_back({Tok::Punct, p, start});
      }
    }
    if (in_directive) out.push_back({Tok::EndLine, "", src_.size()});
    out.push_back({Tok::End, "", src_.size()});
  }

  // Skip white space and comments; true if a newline was passed that ends a line (a
  // backslash-newline inside a directive continues it).
  bool skip_space(bool in_directive) {
    bool newline = false;
    while (i_ < src_.size()) {
      char c = src_[i_];
      if (c == '\\' && i_ + 1 < src_.size() && (src_[i_ + 1] == '\n' || src_[i_ + 1] == '\r')) {
        i_ += src_[i_ + 1] == '\r' && i_ + 2 < src_.size() && src_[i_ + 2] == '\n' ? 3 : 2;
      } else if (c == '\n') {
        newline = true;
        i_++;
        if (in_directive) return true;
      } else if (isspace((unsigned char)c)) {
        i_++;
      } else if (src_.substr(i_, 2) == "//") {
        while (i_ < src_.size() && src_[i_] != '\n') i_++;
      } else if (src_.substr(i_, 2) == "/*") {
        size_t end = src_.find("*/", i_ + 2);
        if (end == std::string_view::npos) throw_cdef_error(src_, i_, "unterminated comment", "/*");
        i_ = end + 2;
      } else {
        break;
      }
    }
    return newline;
  }

  std::string_view src_;
  size_t i_ = 0;
};

}  // namespace

std::vector<Token> lex(std::string_view src) { return Lexer(src).run(); }

}  // namespace ndffi
