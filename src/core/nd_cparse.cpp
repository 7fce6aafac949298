// A recursive-descent parser for C declarations, after LuaJIT's lj_cparse: a small
// lexer, declaration specifiers, declarators as a list of type operations applied to
// the base type, and constant expressions for array sizes.
#include "nd_cparse.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <functional>

namespace ndffi {

static std::string format_error(int line, int col, const std::string &msg,
                                const std::string &src_line) {
  std::string s = "line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + msg;
  // Control characters (tabs, NUL) are shown as spaces so that the caret lines up.
  std::string shown = src_line;
  for (char &c : shown)
    if ((unsigned char)c < 0x20 || c == 0x7f) c = ' ';
  if (!src_line.empty()) s += "\n    " + shown + "\n    " + std::string(col > 0 ? col - 1 : 0, ' ') + "^";
  return s;
}

CDefError::CDefError(int line_, int column_, std::string message_, std::string token_,
                     std::string source_line_)
    : std::runtime_error(format_error(line_, column_, message_, source_line_)),
      line(line_), column(column_), message(std::move(message_)), token(std::move(token_)),
      source_line(std::move(source_line_)) {}

namespace {

enum class Tok { End, Ident, Number, String, Punct };

struct Token {
  Tok kind;
  std::string text;
  size_t pos;   // offset in the source
};

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skip_space();
      if (i_ >= src_.size()) break;
      size_t start = i_;
      char c = src_[i_];
      if (c == '#') throw_at(start, "preprocessor directives are not accepted in declarations "
                                    "(declare the constants or load the header with header=)");
      if (isalpha((unsigned char)c) || c == '_') {
        while (i_ < src_.size() && (isalnum((unsigned char)src_[i_]) || src_[i_] == '_')) i_++;
        out.push_back({Tok::Ident, std::string(src_.substr(start, i_ - start)), start});
      } else if (isdigit((unsigned char)c) ||
                 (c == '.' && i_ + 1 < src_.size() && isdigit((unsigned char)src_[i_ + 1]))) {
        while (i_ < src_.size() && (isalnum((unsigned char)src_[i_]) || src_[i_] == '.' ||
                                    ((src_[i_] == '+' || src_[i_] == '-') &&
                                     (src_[i_ - 1] == 'e' || src_[i_ - 1] == 'E'))))
          i_++;
        out.push_back({Tok::Number, std::string(src_.substr(start, i_ - start)), start});
      } else if (c == '"') {
        i_++;
        while (i_ < src_.size() && src_[i_] != '"') i_ += src_[i_] == '\\' ? 2 : 1;
        if (i_ >= src_.size()) throw_at(start, "unterminated string literal");
        i_++;
        out.push_back({Tok::String, std::string(src_.substr(start, i_ - start)), start});
      } else {
        static const char *multi[] = {"...", "<<", ">>", "::"};
        std::string p(1, c);
        for (const char *m : multi)
          if (src_.substr(i_, strlen(m)) == m) { p = m; break; }
        if (c == '\0' || (!strchr("*()[]{},;=:+-/%~&|^<>!?.", c) && p.size() == 1)) {
          if (c == '\0') throw_error(src_, start, "unexpected character '\\0'", std::string(1, c));
          // A whole UTF-8 sequence, so the message and the token stay valid text.
          size_t n = 1;
          while ((unsigned char)c >= 0xC0 && start + n < src_.size() &&
                 ((unsigned char)src_[start + n] & 0xC0) == 0x80)
            n++;
          std::string ch(src_.substr(start, n));
          throw_error(src_, start, "unexpected character '" + ch + "'", ch);
        }
        i_ += p.size();
        out.push_back({Tok::Punct, p, start});
      }
    }
    out.push_back({Tok::End, "", src_.size()});
    return out;
  }

  [[noreturn]] void throw_at(size_t pos, const std::string &msg) {
    throw_error(src_, pos, msg, std::string(src_.substr(pos, 1)));
  }

  [[noreturn]] static void throw_error(std::string_view src, size_t pos, const std::string &msg,
                                       const std::string &tok) {
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
    throw CDefError(line, column, msg, tok,
                    std::string(src.substr(line_start, line_end - line_start)));
  }

 private:
  void skip_space() {
    while (i_ < src_.size()) {
      if (isspace((unsigned char)src_[i_])) {
        i_++;
      } else if (src_.substr(i_, 2) == "//") {
        while (i_ < src_.size() && src_[i_] != '\n') i_++;
      } else if (src_.substr(i_, 2) == "/*") {
        size_t end = src_.find("*/", i_ + 2);
        if (end == std::string_view::npos)
          throw_error(src_, i_, "unterminated comment", "/*");
        i_ = end + 2;
      } else {
        break;
      }
    }
  }
  std::string_view src_;
  size_t i_ = 0;
};

// One step of a declarator, applied to the type built so far.
struct DeclOp {
  enum { Ptr, Arr, Fn } kind;
  uint8_t quals = 0;
  size_t length = 0;
  std::vector<const CType *> params;
  std::vector<std::string> names;
  bool variadic = false;
  size_t tok = 0;   // index of the '*', '[' or '(' that introduced it
};

struct Declarator {
  std::string name;
  size_t name_pos = 0;   // token index of the name (when name is not empty)
  std::vector<DeclOp> ops;
};

class Parser {
 public:
  Parser(std::string_view src, Scope &scope) : src_(src), scope_(scope), T_(TypeTable::get()) {
    toks_ = Lexer(src).run();
  }

  void declarations() {
    while (!at_end()) declaration();
  }

  const CType *type_name() {
    const CType *base = specifiers(nullptr);
    Declarator d = declarator(/*abstract_ok=*/true, /*name_ok=*/false);
    const CType *t = apply(base, d);
    if (!at_end()) error("unexpected text after the type");
    return t;
  }

 private:
  // ---- tokens ----
  const Token &peek(size_t k = 0) const { return toks_[std::min(p_ + k, toks_.size() - 1)]; }
  bool at_end() const { return peek().kind == Tok::End; }
  bool is(const char *s, size_t k = 0) const {
    const Token &t = peek(k);
    return t.kind != Tok::End && t.kind != Tok::String && t.text == s;
  }
  bool accept(const char *s) {
    if (!is(s)) return false;
    p_++;
    return true;
  }
  void expect(const char *s) {
    if (!accept(s)) error(std::string("expected '") + s + "'");
  }
  [[noreturn]] void error(const std::string &msg) { error_at(peek(), msg); }
  [[noreturn]] void error_at(const Token &t, const std::string &msg, bool say_got = true) {
    std::string got = t.kind == Tok::End ? "end of input" : "'" + t.text + "'";
    Lexer::throw_error(src_, t.pos, say_got ? msg + ", got " + got : msg, t.text);
  }

  // Skip GCC/MSVC decorations that do not change the type model here.
  bool skip_decoration() {
    const Token &t = peek();
    if (t.kind != Tok::Ident) return false;
    if (t.text == "__attribute__" || t.text == "__attribute" || t.text == "__declspec" ||
        t.text == "__asm__" || t.text == "__asm" || t.text == "asm" || t.text == "__alignof__") {
      p_++;
      skip_balanced();
      return true;
    }
    static const char *words[] = {"__extension__", "__inline", "__inline__", "inline", "extern",
                                  "static", "_Noreturn", "__cdecl", "__stdcall", "register",
                                  "auto", "__thread", "_Thread_local"};
    for (const char *w : words)
      if (t.text == w) { p_++; return true; }
    return false;
  }
  void skip_balanced() {
    if (!is("(")) error("expected '('");
    int depth = 0;
    do {
      if (at_end()) error("unbalanced parentheses");
      if (is("(")) depth++;
      if (is(")")) depth--;
      p_++;
    } while (depth > 0);
  }

  static bool is_keyword(const std::string &w) {
    static const char *kw[] = {"void", "char", "short", "int", "long", "float", "double",
                               "signed", "unsigned", "_Bool", "struct", "union", "enum",
                               "const", "volatile", "restrict", "typedef", "extern", "static",
                               "inline", "register", "auto", "sizeof", "return", "if", "else",
                               "for", "while", "do", "switch", "case", "default", "break",
                               "continue", "goto", "_Alignas", "_Alignof", "_Atomic",
                               "_Complex", "_Generic", "_Imaginary", "_Noreturn",
                               "_Static_assert", "_Thread_local"};
    for (const char *k : kw)
      if (w == k) return true;
    return false;
  }

  uint8_t qualifier() {
    const Token &t = peek();
    if (t.kind != Tok::Ident) return 0;
    uint8_t q = 0;
    if (t.text == "const" || t.text == "__const" || t.text == "__const__") q = QConst;
    else if (t.text == "volatile" || t.text == "__volatile__") q = QVolatile;
    else if (t.text == "restrict" || t.text == "__restrict" || t.text == "__restrict__") q = QRestrict;
    if (q) p_++;
    return q;
  }

  // ---- declaration specifiers ----
  const CType *specifiers(bool *is_typedef) {
    uint8_t quals = 0;
    int n_long = 0, n_short = 0, n_signed = 0, n_unsigned = 0;
    const char *base = nullptr;        // "void", "char", "int", "float", "double", "_Bool"
    const CType *named = nullptr;      // a typedef name or a struct/union/enum
    bool any = false;
    const Token *spec_at = nullptr, *restrict_at = nullptr;   // first type specifier, 'restrict'
    std::string spelled;               // the type specifiers as written, for messages
    std::string named_text;            // the typedef name or tag as written
    auto has_type = [&] { return base || named || n_long || n_short || n_signed || n_unsigned; };
    for (;;) {
      const Token &t = peek();
      if (uint8_t q = qualifier()) {
        if (q == QRestrict && !restrict_at) restrict_at = &t;
        quals |= q;
        any = true;
        continue;
      }
      if (skip_decoration()) { any = true; continue; }
      if (t.kind != Tok::Ident) break;
      const std::string &w = t.text;
      bool is_spec = w == "long" || w == "short" || w == "signed" || w == "__signed__" ||
                     w == "unsigned" || w == "void" || w == "char" || w == "int" ||
                     w == "float" || w == "double" || w == "_Bool";
      if (is_spec) {
        if (named) error_at(t, "invalid combination of type specifiers: '" + w + "' after '" +
                                   named_text + "'", false);
        if (!spec_at) spec_at = &t;
        spelled += (spelled.empty() ? "" : " ") + w;
      }
      if (w == "typedef") {
        if (!is_typedef) error("'typedef' is not allowed here");
        *is_typedef = true;
      } else if (w == "long") n_long++;
      else if (w == "short") n_short++;
      else if (w == "signed" || w == "__signed__") n_signed++;
      else if (w == "unsigned") n_unsigned++;
      else if (w == "void" || w == "char" || w == "int" || w == "float" || w == "double" ||
               w == "_Bool") {
        if (base || named) error_at(t, "two base types in one declaration");
        base = w == "void" ? "void" : w == "char" ? "char" : w == "int" ? "int"
             : w == "float" ? "float" : w == "double" ? "double" : "_Bool";
      } else if (w == "struct" || w == "union" || w == "enum") {
        if (has_type()) error_at(t, "two base types in one declaration");
        p_++;
        named = tagged(w);
        named_text = named->str();
        any = true;
        continue;
      } else if (!has_type()) {
        // C99 has no implicit int: before a type specifier, a name must be a typedef.
        const CType *td = scope_.find_typedef(w);
        if (!td) error_at(t, "unknown type name '" + w + "'", false);
        named = td;
        named_text = w;
      } else {
        break;
      }
      p_++;
      any = true;
    }
    if (!has_type()) error(any ? "expected a type specifier" : "expected a type");
    const CType *t = named ? named : scalar(*spec_at, spelled, base, n_long, n_short, n_signed, n_unsigned);
    if (restrict_at && (t->kind != Kind::Pointer || t->target->kind == Kind::Func))
      error_at(*restrict_at, "'restrict' requires a pointer to an object type, not '" + t->str() + "'",
               false);
    return quals ? T_.qualified(t, t->quals | quals) : t;
  }

  const CType *scalar(const Token &at, const std::string &spelled, const char *base, int n_long,
                      int n_short, int n_signed, int n_unsigned) {
    std::string b = base ? base : "int";
    std::string invalid = "invalid combination of type specifiers '" + spelled + "'";
    if ((n_signed && n_unsigned) || n_signed > 1 || n_unsigned > 1 || n_long > 2 ||
        (n_long && n_short) || n_short > 1)
      error_at(at, invalid, false);
    bool sign_spec = n_signed || n_unsigned;
    if (b == "void" || b == "_Bool" || b == "float") {
      if (n_long || n_short || sign_spec) error_at(at, invalid, false);
      return b == "void" ? T_.void_type() : b == "_Bool" ? T_.bool_type() : T_.float_type(4, "float");
    }
    if (b == "double") {
      if (n_short || sign_spec || n_long > 1) error_at(at, invalid, false);
      return n_long ? T_.float_type(sizeof(long double), "long double") : T_.float_type(8, "double");
    }
    if (b == "char") {
      if (n_long || n_short) error_at(at, invalid, false);
      if (n_signed) return T_.int_type(1, true, "signed char");
      if (n_unsigned) return T_.int_type(1, false, "unsigned char");
      return T_.char_type();
    }
    bool u = n_unsigned > 0;
    if (n_short) return T_.int_type(2, !u, u ? "unsigned short" : "short");
    if (n_long == 1) return T_.int_type(sizeof(long), !u, u ? "unsigned long" : "long");
    if (n_long == 2)
      return T_.int_type(sizeof(long long), !u, u ? "unsigned long long" : "long long");
    return T_.int_type(4, !u, u ? "unsigned int" : "int");
  }

  // struct/union/enum TAG, TAG { ... }, or { ... }
  const CType *tagged(const std::string &kw) {
    bool is_union = kw == "union", is_enum = kw == "enum";
    while (skip_decoration()) {}
    std::string tag;
    const Token &at = peek();
    if (peek().kind == Tok::Ident) { tag = peek().text; p_++; }
    bool has_body = is("{");
    if (tag.empty() && !has_body) error("expected a tag name or '{' after '" + kw + "'");
    Record *rec = tag.empty() ? nullptr : scope_.find_tag(tag, is_union, is_enum);
    if (!rec) {
      rec = T_.new_record(tag, is_union, is_enum);
      if (!tag.empty()) scope_.add_tag(rec);
    }
    if (has_body) {
      if (rec->complete) error_at(at, "redefinition of '" + kw + " " + tag + "'");
      error("struct, union and enum definitions are not supported yet");
    }
    return T_.record(rec);
  }

  // ---- declarators ----
  bool starts_declarator_in_parens() const {
    // After '(': a nested declarator starts with '*', '(' or a name that is not a type.
    const Token &t = peek(1);
    if (is("*", 1) || is("(", 1) || is("[", 1)) return true;
    if (t.kind == Tok::Ident) {
      static const char *type_words[] = {"void", "char", "short", "int", "long", "float",
                                         "double", "signed", "unsigned", "_Bool", "struct",
                                         "union", "enum", "const", "volatile", "__const"};
      for (const char *w : type_words)
        if (t.text == w) return false;
      return !scope_.find_typedef(t.text);
    }
    return false;
  }

  Declarator declarator(bool abstract_ok, bool name_ok) {
    Nest nest(*this);
    Declarator d;
    std::vector<DeclOp> ptrs;
    while (accept("*")) {
      DeclOp op{DeclOp::Ptr};
      op.tok = p_ - 1;
      for (;;) {
        if (uint8_t q = qualifier()) { op.quals |= q; continue; }
        if (skip_decoration()) continue;
        break;
      }
      ptrs.push_back(op);
    }
    while (skip_decoration()) {}
    Declarator inner;
    bool has_inner = false;
    if (is("(") && starts_declarator_in_parens()) {
      p_++;
      inner = declarator(abstract_ok, name_ok);
      expect(")");
      has_inner = true;
    } else if (peek().kind == Tok::Ident && !is_keyword(peek().text)) {
      // After the specifiers, a name is the declared name even if it is a typedef name
      // (`typedef int T; typedef int T;`, a parameter named like a typedef).
      if (!name_ok) error("unexpected name in a type");
      d.name = peek().text;
      d.name_pos = p_;
      p_++;
    } else if (!abstract_ok) {
      error("expected a name");
    }
    std::vector<DeclOp> suffixes;
    for (;;) {
      if (skip_decoration()) continue;   // `int x __attribute__((unused))`
      if (is("[")) {
        DeclOp op{DeclOp::Arr};
        op.tok = p_++;
        while (qualifier() || accept("static")) {}
        if (is("]")) {
          op.length = CType::kUnknownLength;
        } else {
          const Token &expr_at = peek();
          int64_t n = const_expr();
          if (n < 0) error_at(expr_at, "array size is negative (" + std::to_string(n) + ")", false);
          op.length = size_t(n);
        }
        expect("]");
        suffixes.push_back(op);
      } else if (is("(")) {
        size_t tok = p_++;
        suffixes.push_back(param_list());
        suffixes.back().tok = tok;
      } else {
        break;
      }
      while (skip_decoration()) {}
    }
    d.ops = ptrs;
    d.ops.insert(d.ops.end(), suffixes.rbegin(), suffixes.rend());
    if (has_inner) {
      d.ops.insert(d.ops.end(), inner.ops.begin(), inner.ops.end());
      d.name = inner.name;
      d.name_pos = inner.name_pos;
    }
    if (d.ops.size() > kMaxDerivations)
      error_at(d.name.empty() ? peek() : toks_[d.name_pos],
               "declarator is too complex (more than " + std::to_string(kMaxDerivations) +
                   " pointer, array and function levels)", false);
    return d;
  }

  DeclOp param_list() {
    DeclOp op{DeclOp::Fn};
    if (accept(")")) return op;   // f(): treated as f(void), as C++ and cffi do
    if (is("void") && is(")", 1)) { p_ += 2; return op; }
    for (;;) {
      if (accept("...")) { op.variadic = true; expect(")"); return op; }
      const Token &at = peek();
      const CType *base = specifiers(nullptr);
      Declarator d = declarator(true, true);
      const CType *t = apply(base, d);
      if (t->kind == Kind::Void) error_at(at, "'void' must be the only parameter", false);
      // Parameters of array and function type are adjusted to pointers.
      if (t->kind == Kind::Array) t = T_.pointer(t->target);
      else if (t->kind == Kind::Func) t = T_.pointer(t);
      if (!d.name.empty())
        for (const std::string &n : op.names)
          if (n == d.name) error_at(toks_[d.name_pos], "redefinition of parameter '" + n + "'", false);
      op.params.push_back(t);
      op.names.push_back(d.name);
      if (accept(")")) return op;
      if (!accept(",")) error("expected ',' or ')'");
    }
  }

  const CType *apply(const CType *t, const Declarator &d, std::vector<std::string> *names = nullptr) {
    for (const DeclOp &op : d.ops) {
      auto fail = [&](const std::string &msg) {
        const Token &at = d.name.empty() ? toks_[op.tok] : toks_[d.name_pos];
        error_at(at, d.name.empty() ? msg : "'" + d.name + "': " + msg, false);
      };
      switch (op.kind) {
        case DeclOp::Ptr:
          if ((op.quals & QRestrict) && t->kind == Kind::Func)
            fail("'restrict' requires a pointer to an object type, not to '" + t->str() + "'");
          t = T_.pointer(t, op.quals);
          break;
        case DeclOp::Arr:
          if (t->kind == Kind::Func) fail("array of functions is not allowed");
          if (t->kind == Kind::Void) fail("array of void is not allowed");
          if (!t->is_complete()) fail("array of incomplete type '" + t->str() + "'");
          if (op.length != CType::kUnknownLength &&
              op.length > size_t(PTRDIFF_MAX) / (t->byte_size() ? t->byte_size() : 1))
            fail("array is too large");
          t = T_.array(t, op.length);
          break;
        case DeclOp::Fn:
          if (t->kind == Kind::Func) fail("a function cannot return a function");
          if (t->kind == Kind::Array) fail("a function cannot return an array");
          t = T_.func(T_.unqualified(t), op.params, op.variadic);
          if (names) *names = op.names;   // the outermost function's parameter names
          break;
      }
    }
    return t;
  }

  // ---- declarations ----
  void declaration() {
    if (accept(";")) return;
    bool is_typedef = false;
    const CType *base = specifiers(&is_typedef);
    if (accept(";")) return;   // "struct handle;" or a lone type
    for (;;) {
      Declarator d = declarator(false, true);
      std::vector<std::string> names;
      const CType *t = apply(base, d, &names);
      const Token &at = toks_[d.name_pos];
      try {
        if (is_typedef) {
          scope_.add_typedef(d.name, t);
        } else if (t->kind == Kind::Func) {
          if (!d.ops.empty() && d.ops.back().kind != DeclOp::Fn) names.clear();
          names.resize(t->params.size());
          scope_.add_decl(Decl{Decl::Function, d.name, t, names});
        } else {
          if (t->kind == Kind::Void) error_at(at, "variable '" + d.name + "' declared void", false);
          scope_.add_decl(Decl{Decl::Variable, d.name, t, {}});
        }
      } catch (const DeclConflict &e) {
        error_at(at, e.what(), false);
      }
      if (accept("=")) error("initializers are not accepted in declarations");
      if (is("{")) error("function definitions are not accepted, only declarations");
      if (accept(";")) return;
      if (!accept(",")) error("expected ';'");
    }
  }

  // ---- constant expressions (array sizes) ----
  int64_t const_expr() { return binary(0); }

  int64_t binary(int min_prec) {
    int64_t lhs = unary();
    for (;;) {
      const Token &t = peek();
      int prec = t.kind != Tok::Punct ? -1
               : t.text == "|" ? 1 : t.text == "^" ? 2 : t.text == "&" ? 3
               : (t.text == "<<" || t.text == ">>") ? 4 : (t.text == "+" || t.text == "-") ? 5
               : (t.text == "*" || t.text == "/" || t.text == "%") ? 6 : -1;
      if (prec < min_prec || prec < 0) return lhs;
      std::string op = t.text;
      p_++;
      int64_t rhs = binary(prec + 1);
      if ((op == "/" || op == "%") && rhs == 0) error_at(t, "division by zero");
      if ((op == "<<" || op == ">>") && (rhs < 0 || rhs > 63)) error_at(t, "shift count out of range");
      lhs = op == "|" ? lhs | rhs : op == "^" ? lhs ^ rhs : op == "&" ? lhs & rhs
          : op == "<<" ? int64_t(uint64_t(lhs) << rhs) : op == ">>" ? lhs >> rhs
          : op == "+" ? int64_t(uint64_t(lhs) + uint64_t(rhs))
          : op == "-" ? int64_t(uint64_t(lhs) - uint64_t(rhs))
          : op == "*" ? int64_t(uint64_t(lhs) * uint64_t(rhs))
          : (op == "/" ? (lhs == INT64_MIN && rhs == -1 ? lhs : lhs / rhs)
                       : (lhs == INT64_MIN && rhs == -1 ? 0 : lhs % rhs));
    }
  }

  int64_t unary() {
    Nest nest(*this);
    if (accept("-")) return int64_t(0 - uint64_t(unary()));
    if (accept("+")) return unary();
    if (accept("~")) return ~unary();
    if (accept("(")) {
      int64_t v = const_expr();
      expect(")");
      return v;
    }
    const Token &t = peek();
    if (t.kind == Tok::Number) {
      p_++;
      return parse_int(t);
    }
    error("expected a constant expression");
  }

  int64_t parse_int(const Token &t) {
    const std::string &s = t.text;
    size_t end = s.size();
    while (end > 0 && strchr("uUlL", s[end - 1])) end--;
    std::string digits = s.substr(0, end);
    int base = 10;
    size_t i = 0;
    if (digits.size() > 1 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) base = 16, i = 2;
    else if (digits.size() > 1 && digits[0] == '0') base = 8, i = 1;
    if (i >= digits.size() && base == 16) error_at(t, "invalid integer constant");
    uint64_t v = 0;
    for (; i < digits.size(); i++) {
      char c = digits[i];
      int d = isdigit((unsigned char)c) ? c - '0'
            : isxdigit((unsigned char)c) && base == 16 ? tolower(c) - 'a' + 10 : 99;
      if (d >= base) error_at(t, "invalid integer constant");
      if (v > (UINT64_MAX - d) / base) error_at(t, "integer constant is too large", false);
      v = v * base + d;
    }
    if (v > uint64_t(INT64_MAX)) error_at(t, "integer constant is too large", false);
    return int64_t(v);
  }

  std::string_view src_;
  Scope &scope_;
  TypeTable &T_;
  std::vector<Token> toks_;
  size_t p_ = 0;

  // Recursion limits, so that hostile input gets an error rather than a stack overflow.
  static constexpr int kMaxNesting = 200;
  static constexpr size_t kMaxDerivations = 1000;
  int depth_ = 0;
  struct Nest {
    Parser &p;
    explicit Nest(Parser &parser) : p(parser) {
      if (++p.depth_ > kMaxNesting)
        p.error("declaration is nested too deeply (more than " + std::to_string(kMaxNesting) +
                " levels)");
    }
    ~Nest() { p.depth_--; }
  };
};

}  // namespace

void cdef(Scope &scope, std::string_view text) {
  Scope work = scope;   // all or nothing: the scope changes only if every declaration parses
  Parser(text, work).declarations();
  scope = std::move(work);
}

const CType *parse_type(const Scope &scope, std::string_view text) {
  Scope work(&scope);   // tags first named here are not kept
  return Parser(text, work).type_name();
}

}  // namespace ndffi
