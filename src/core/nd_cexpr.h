// Constant expressions of C declarations: array sizes, enumerator values, bit-field
// widths, alignments and #define values.  Integers (64-bit, signed or unsigned),
// doubles and string literals; names of earlier constants; casts and sizeof through
// the parser's type names.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "nd_clex.h"
#include "nd_ctype.h"

namespace ndffi {

class ConstExpr {
 public:
  struct Hooks {
    std::function<bool()> at_type_name;        // does a type name start at the cursor?
    std::function<const CType *()> type_name;  // parse one (the cursor moves past it)
  };
  // `depth`: the levels of expression the caller is already in, shared by the
  // expressions nested in type names (sizeof, casts) so that they add up.
  ConstExpr(const std::vector<Token> &toks, size_t &pos, std::string_view src, const Scope &scope, Hooks hooks,
            int &depth)
      : toks_(toks), p_(pos), src_(src), scope_(scope), hooks_(std::move(hooks)), depth_(depth) {}

  Constant eval();    // a conditional expression
  int64_t integer();  // one that must be an integer

 private:
  Constant conditional();
  Constant binary(int min_prec);
  Constant unary();
  Constant primary();
  Constant number(const Token &t);
  Constant character(const Token &t);
  Constant string();
  Constant apply(const Token &op, const Constant &a, const Constant &b);
  Constant cast(const CType *t, const Constant &v, const Token &at);

  const Token &peek(size_t k = 0) const { return toks_[std::min(p_ + k, toks_.size() - 1)]; }
  bool is(const char *s) const {
    const Token &t = peek();
    return (t.kind == Tok::Punct || t.kind == Tok::Ident) && t.text == s;
  }
  bool accept(const char *s) {
    if (!is(s)) return false;
    p_++;
    return true;
  }
  [[noreturn]] void error(const Token &t, const std::string &msg);
  struct Level;  // one level deeper, or an error past kMaxNesting or when the stack runs low

  const std::vector<Token> &toks_;
  size_t &p_;
  std::string_view src_;
  const Scope &scope_;
  Hooks hooks_;
  int &depth_;
};

}  // namespace ndffi
