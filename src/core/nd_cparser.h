// The recursive-descent parser behind cdef() and parse_type(), after LuaJIT's
// lj_cparse: declaration specifiers, declarators as a list of type operations applied to
// the base type, and constant expressions for array sizes.  Its code is in two files:
// nd_cparse.cpp (tokens, attributes, preprocessor lines, top-level declarations, the
// entry points) and nd_cparse_types.cpp (type specifiers, struct/union/enum bodies,
// declarators).  Internal to those files.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "nd_cexpr.h"
#include "nd_clex.h"
#include "nd_cparse.h"
#include "nd_ctype.h"
#include "nd_layout.h"
#include "nd_limits.h"

namespace ndffi::cparse {

// How declaration specifiers named their type when they named it by a typedef: what
// Spelling keeps to print a declaration as written, made only for the declarations
// that keep it (functions, variables, parameters).
struct Named {
  const CType *typedef_type = nullptr;  // the typedef's type; nullptr: not named by a typedef
  const CType *type = nullptr;          // with the specifiers' qualifiers
  std::string name, quals;              // "size_t", "const "
  Spelling spelling() const;
};

// One step of a declarator, applied to the type built so far.
struct DeclOp {
  enum { Ptr, Arr, Fn } kind;
  uint8_t quals = 0;
  size_t length = 0;
  std::vector<const CType *> params;
  std::vector<std::string> names;
  std::vector<Named> named;  // Fn: how each parameter's type was written
  bool variadic = false;
  size_t tok = 0;  // index of the '*', '[' or '(' that introduced it
};

// Layout attributes met in a declaration: __attribute__((packed, aligned(n))), _Alignas,
// and __declspec(align(n)), which Microsoft's compilers give to the struct or union a
// declaration defines when it is written before 'struct' (see tagged()).
struct Attrs {
  bool packed = false;
  size_t aligned = 0;
  size_t declspec_aligned = 0;
  size_t all() const { return std::max(aligned, declspec_aligned); }
};

struct Declarator {
  std::string name;
  size_t name_pos = 0;  // token index of the name (when name is not empty)
  std::vector<DeclOp> ops;
};

class Parser {
 public:
  // `call`: the number of the cdef call (Scope::begin) the declarations belong to.
  Parser(std::string_view src, Scope &scope, uint32_t call = 0);
  void declarations();       // the whole text as declarations
  const CType *type_name();  // the whole text as one type name

 private:
  // ---- tokens, errors, positions (nd_cparse.cpp) ----
  const Token &peek(size_t k = 0) const { return toks_[std::min(p_ + k, toks_.size() - 1)]; }
  bool at_end() const { return peek().kind == Tok::End; }
  bool is(const char *s, size_t k = 0) const {
    const Token &t = peek(k);
    return t.kind != Tok::End && t.kind != Tok::String && std::string_view(t.text) == s;  // inlined, no strlen call
  }
  bool accept(const char *s) {
    if (!is(s)) return false;
    p_++;
    return true;
  }
  void expect(const char *s);
  [[noreturn]] void error(const std::string &msg) { error_at(peek(), msg); }
  [[noreturn]] void error_at(const Token &t, const std::string &msg, bool say_got = true);
  // A declaration that conflicts with an earlier one: the message names both positions.
  [[noreturn]] void conflict_at(const Token &t, const std::string &msg, Origin previous);
  Origin origin(const Token &t) const { return {call_, t.line, t.column}; }

  // ---- decorations and attributes (nd_cparse.cpp) ----
  bool skip_decoration();
  void attribute_list();
  void refuse_attribute(const Token &at, const std::string &name);
  size_t alignment_value();
  void skip_balanced();
  static bool is_keyword(const Token &t);
  uint8_t qualifier();

  // ---- type specifiers, struct/union/enum (nd_cparse_types.cpp) ----
  const CType *specifiers(bool *is_typedef);
  const CType *scalar(const Token &at, const char *base, int n_long, int n_short, int n_signed, int n_unsigned);
  const CType *complex_of(const Token &at, const CType *t, int n);
  std::string spelled_from(const Token *first) const;
  const CType *tagged(const std::string &kw);
  void defined_again(Record *rec, const Token &at);
  uint64_t record_body(Record *into, Attrs rec_attrs, const Token &at);
  void member_names(const Record *rec, std::unordered_set<std::string> &names, const Token &at);
  uint64_t enum_body(Record *into, const CType *type, Attrs enum_attrs, const Token &at);
  void check_depth(const Record *rec, const Token &at);

  // ---- declarators (nd_cparse_types.cpp) ----
  bool starts_declarator_in_parens() const;
  Declarator declarator(bool abstract_ok, bool name_ok);
  DeclOp param_list();
  const CType *apply(const CType *t, const Declarator &d, std::vector<std::string> *names = nullptr,
                     std::vector<Named> *named = nullptr);

  // ---- preprocessor lines, declarations, constant expressions (nd_cparse.cpp) ----
  void directive();
  void define();
  void pragma();
  bool builtin_include();
  size_t pack_value();
  void declaration();
  ConstExpr::Hooks expr_hooks();
  Constant const_value();
  int64_t const_expr();
  bool at_type_name() const;

  Attrs attrs_;      // packed/aligned seen in the current declaration
  Named named_;      // of the type the last specifiers() read
  size_t pack_ = 0;  // #pragma pack in force
  std::vector<size_t> pack_stack_;

  std::string_view src_;
  Scope &scope_;
  uint32_t call_;
  TypeTable &T_;
  const Target &abi_;  // the sizes of the scope's types
  std::vector<Token> toks_;
  size_t p_ = 0;

  // Recursion is bounded (nd_limits.h), so that hostile input gets an error rather than
  // a stack overflow: declarators, bodies and type names by depth_, expressions by
  // expr_depth_ (shared by the expressions nested in type names).
  static constexpr size_t kMaxDerivations = 1000;  // pointer, array and function levels of one declarator
  int depth_ = 0;
  int expr_depth_ = 0;
  struct Nest {
    Parser &p;
    explicit Nest(Parser &parser);
    ~Nest() { p.depth_--; }
  };
};

}  // namespace ndffi::cparse
