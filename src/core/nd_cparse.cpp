// A recursive-descent parser for C declarations, after LuaJIT's lj_cparse: a small
// lexer, declaration specifiers, declarators as a list of type operations applied to
// the base type, and constant expressions for array sizes.
#include "nd_cparse.h"
#include "nd_cexpr.h"
#include "nd_clex.h"
#include "nd_layout.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <climits>
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

// One step of a declarator, applied to the type built so far.
struct DeclOp {
  enum { Ptr, Arr, Fn } kind;
  uint8_t quals = 0;
  size_t length = 0;
  std::vector<const CType *> params;
  std::vector<std::string> names;
  std::vector<Spelling> spellings;   // Fn: each parameter's type as written
  bool variadic = false;
  size_t tok = 0;   // index of the '*', '[' or '(' that introduced it
};

// Layout attributes met in a declaration: __attribute__((packed, aligned(n))), _Alignas.
struct Attrs {
  bool packed = false;
  size_t aligned = 0;
};

struct Declarator {
  std::string name;
  size_t name_pos = 0;   // token index of the name (when name is not empty)
  std::vector<DeclOp> ops;
};

class Parser {
 public:
  Parser(std::string_view src, Scope &scope) : src_(src), scope_(scope), T_(TypeTable::get()) {
    toks_ = lex(src);
  }

  void declarations() {
    while (!at_end()) {
      if (peek().kind == Tok::Hash) directive();
      else declaration();
    }
  }

  // Undo the completion of records defined by a cdef that then failed.
  void roll_back() {
    for (Record *r : completed_) {
      r->complete = false;
      r->fields.clear();
      r->enumerators.clear();
      r->enum_base = nullptr;
      r->size = 0;
      r->align = 1;
    }
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
    throw_cdef_error(src_, t.pos, say_got ? msg + ", got " + got : msg, t.text);
  }

  // Skip GCC/MSVC decorations, keeping what changes layout (packed, aligned(n),
  // _Alignas) in attrs_ for the declaration being parsed.
  bool skip_decoration() {
    const Token &t = peek();
    if (t.kind != Tok::Ident) return false;
    if (t.text == "__attribute__" || t.text == "__attribute") {
      p_++;
      attribute_list();
      return true;
    }
    if (t.text == "__declspec") {
      p_++;
      expect("(");
      while (!accept(")")) {
        if (accept("align")) {
          expect("(");
          attrs_.aligned = std::max(attrs_.aligned, alignment_value());
          expect(")");
        } else if (is("(")) {
          skip_balanced();
        } else if (at_end()) {
          error("expected ')'");
        } else {
          p_++;
        }
      }
      return true;
    }
    if (t.text == "_Alignas" || t.text == "alignas") {
      p_++;
      expect("(");
      size_t a;
      if (at_type_name()) {
        const CType *ty = expr_hooks().type_name();
        a = ty->alignment();
      } else {
        a = alignment_value();
      }
      attrs_.aligned = std::max(attrs_.aligned, a);
      expect(")");
      return true;
    }
    if (t.text == "__asm__" || t.text == "__asm" || t.text == "asm" || t.text == "__alignof__") {
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

  // __attribute__((name, name(args), ...))
  void attribute_list() {
    expect("(");
    expect("(");
    while (!accept(")")) {
      if (accept(",")) continue;
      const Token &n = peek();
      if (n.kind != Tok::Ident) error("expected an attribute name");
      p_++;
      std::string name = n.text;
      if (name.size() > 4 && name.compare(0, 2, "__") == 0 && name.compare(name.size() - 2, 2, "__") == 0)
        name = name.substr(2, name.size() - 4);
      if (name == "packed") {
        attrs_.packed = true;
      } else if (name == "aligned") {
        size_t a = 16;   // the largest alignment of any type here
        if (accept("(")) {
          a = alignment_value();
          expect(")");
        }
        attrs_.aligned = std::max(attrs_.aligned, a);
      } else if (is("(")) {
        skip_balanced();
      }
    }
    expect(")");
  }

  size_t alignment_value() {
    const Token &at = peek();
    int64_t v = const_expr();
    if (v <= 0 || (v & (v - 1)) || v > (1 << 28))
      error_at(at, "alignment must be a power of two, got " + std::to_string(v), false);
    return size_t(v);
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
    t = quals ? T_.qualified(t, t->quals | quals) : t;
    // A typedef name is kept for printing the declaration as written.
    spelling_ = {};
    if (named && named_text != named->str()) {   // a typedef name, not a tag
      std::string q = (quals & QConst ? "const " : std::string()) + (quals & QVolatile ? "volatile " : "") +
                      (quals & QRestrict ? "restrict " : "");
      spelling_ = {t->str(), q + named_text};
    }
    return t;
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
    Attrs outer = attrs_;
    attrs_ = {};
    while (skip_decoration()) {}
    std::string tag;
    const Token &at = peek();
    if (peek().kind == Tok::Ident && !is_keyword(peek().text)) { tag = peek().text; p_++; }
    while (skip_decoration()) {}
    bool has_body = is("{");
    if (tag.empty() && !has_body) error("expected a tag name or '{' after '" + kw + "'");
    Record *rec = tag.empty() ? nullptr : scope_.find_tag(tag, is_union, is_enum);
    if (!rec) {
      rec = T_.new_record(tag, is_union, is_enum);
      if (!tag.empty()) scope_.add_tag(rec);
    }
    if (has_body) {
      if (rec->complete) error_at(at, "redefinition of '" + kw + " " + tag + "'", false);
      p_++;
      if (is_enum) enum_body(rec, attrs_, at);
      else record_body(rec, attrs_, at);
    }
    attrs_ = outer;
    return T_.record(rec);
  }

  void record_body(Record *rec, Attrs rec_attrs, const Token &at) {
    std::vector<MemberDecl> members;
    std::vector<std::string> names;
    while (!accept("}")) {
      if (at_end()) error("expected '}'");
      if (accept(";")) continue;
      if (peek().kind == Tok::Hash) {
        // #define or #pragma pack between members; as in GCC, the pack in force at the
        // closing brace lays out the whole record
        directive();
        continue;
      }
      attrs_ = {};
      const CType *base = specifiers(nullptr);
      Attrs spec_attrs = attrs_;
      if (accept(";")) {
        // An anonymous struct or union member; a named tag alone declares only the tag.
        if (base->kind == Kind::Record && base->record->tag.empty()) {
          members.push_back({"", base, -1, spec_attrs.aligned, spec_attrs.packed});
          member_names(base->record, names, at);
        }
        continue;
      }
      for (;;) {
        attrs_ = spec_attrs;
        MemberDecl m;
        m.type = base;
        const Token &mat = peek();
        if (!is(":")) {
          Declarator d = declarator(false, true);
          m.type = apply(base, d);
          m.name = d.name;
        }
        if (accept(":")) {
          const Token &wat = peek();
          int64_t w = const_expr();
          if (w < 0) error_at(wat, "bit-field width is negative", false);
          m.bit_width = int(std::min<int64_t>(w, 1 << 20));
        }
        while (skip_decoration()) {}
        m.aligned = attrs_.aligned;
        m.packed = attrs_.packed;
        if (!m.name.empty()) {
          if (std::find(names.begin(), names.end(), m.name) != names.end())
            error_at(mat, "duplicate member '" + m.name + "'", false);
          names.push_back(m.name);
        }
        members.push_back(m);
        if (accept(";")) break;
        if (!accept(",")) error("expected ';'");
      }
    }
    attrs_ = {};
    while (skip_decoration()) {}
    RecordAttrs ra;
    ra.packed = rec_attrs.packed || attrs_.packed;
    ra.aligned = std::max(rec_attrs.aligned, attrs_.aligned);
    ra.pack = pack_;
    try {
      layout_record(rec, members, ra);
    } catch (const std::runtime_error &e) {
      error_at(at, e.what(), false);
    }
    completed_.push_back(rec);
  }

  // The names an anonymous member brings into its record, for duplicate checks.
  void member_names(const Record *rec, std::vector<std::string> &names, const Token &at) {
    for (const Record::Field &f : rec->fields) {
      if (f.name.empty() && f.type->kind == Kind::Record) {
        member_names(f.type->record, names, at);
      } else if (!f.name.empty()) {
        if (std::find(names.begin(), names.end(), f.name) != names.end())
          error_at(at, "duplicate member '" + f.name + "'", false);
        names.push_back(f.name);
      }
    }
  }

  void enum_body(Record *rec, Attrs enum_attrs, const Token &at) {
    const CType *et = T_.record(rec);
    int64_t next = 0, lo = 0, hi = 0;
    bool next_overflows = false;
    while (!accept("}")) {
      if (peek().kind == Tok::Hash) {
        directive();
        continue;
      }
      const Token &n = peek();
      if (n.kind != Tok::Ident || is_keyword(n.text)) error("expected an enumerator name");
      p_++;
      if (next_overflows) error_at(n, "enumerator value overflows", false);
      int64_t v = next;
      if (accept("=")) v = const_expr();
      Constant c;
      c.kind = Constant::Int;
      c.i = v;
      c.type = et;
      try {
        scope_.add_constant(n.text, c);
      } catch (const DeclConflict &e) {
        error_at(n, e.what(), false);
      }
      rec->enumerators.push_back({n.text, v});
      lo = rec->enumerators.size() == 1 ? v : std::min(lo, v);
      hi = rec->enumerators.size() == 1 ? v : std::max(hi, v);
      next_overflows = v == INT64_MAX;
      next = next_overflows ? v : v + 1;
      if (!accept(",")) {
        while (peek().kind == Tok::Hash) directive();
        expect("}");
        break;
      }
    }
    if (rec->enumerators.empty()) error_at(at, "an enum needs at least one enumerator", false);
    attrs_ = {};
    while (skip_decoration()) {}   // enum e { ... } __attribute__((packed))
    try {
      layout_enum(rec, lo, hi, enum_attrs.packed || attrs_.packed);
    } catch (const std::runtime_error &e) {
      error_at(at, e.what(), false);
    }
    completed_.push_back(rec);
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
      Spelling spelling = spelling_;
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
      op.spellings.push_back(spelling);
      if (accept(")")) return op;
      if (!accept(",")) error("expected ',' or ')'");
    }
  }

  const CType *apply(const CType *t, const Declarator &d, std::vector<std::string> *names = nullptr,
                     std::vector<Spelling> *spellings = nullptr) {
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
          if (spellings) *spellings = op.spellings;
          break;
      }
    }
    return t;
  }

  // ---- preprocessor lines: #define of constants, #pragma pack ----
  void directive() {
    p_++;   // '#'
    if (peek().kind == Tok::EndLine) { p_++; return; }
    const Token &name = peek();
    if (name.kind != Tok::Ident) error("expected a directive name");
    p_++;
    if (name.text == "define") define();
    else if (name.text == "pragma") pragma();
    else if (name.text == "include" && builtin_include()) {}
    else
      error_at(name, "#" + name.text + " is not accepted in declarations, only #define of constants, "
                     "#pragma pack and #include of <stddef.h>, <stdint.h>, <stdbool.h> and "
                     "<sys/types.h> (load a real header with header=)", false);
    if (peek().kind != Tok::EndLine) error("unexpected text at the end of the directive");
    p_++;
  }

  // #include of a standard header whose types are built in (size_t, int32_t, bool,
  // ssize_t): nothing to declare, so a generated header can include what it uses.
  bool builtin_include() {
    size_t from = peek().pos, to = from;
    while (peek().kind != Tok::EndLine && !at_end()) to = peek().pos + peek().text.size(), p_++;
    std::string_view spelled = src_.substr(from, to - from);
    for (const char *h : {"<stddef.h>", "<stdint.h>", "<stdbool.h>", "<sys/types.h>"})
      if (spelled == h) return true;
    return false;
  }

  void define() {
    const Token &n = peek();
    if (n.kind != Tok::Ident) error("expected a macro name");
    p_++;
    if (is("(") && peek().pos == n.pos + n.text.size()) {
      // A function-like macro: not a constant, and nothing to call.
      while (peek().kind != Tok::EndLine && !at_end()) p_++;
      return;
    }
    if (peek().kind == Tok::EndLine) return;   // #define FLAG: nothing to bind
    Constant c = const_value();
    try {
      scope_.add_constant(n.text, c);
    } catch (const DeclConflict &e) {
      error_at(n, e.what(), false);
    }
  }

  void pragma() {
    if (!accept("pack")) {
      while (peek().kind != Tok::EndLine && !at_end()) p_++;   // other pragmas change no declaration
      return;
    }
    expect("(");
    if (accept("push")) {
      pack_stack_.push_back(pack_);
      if (accept(",")) pack_ = pack_value();
    } else if (accept("pop")) {
      pack_ = pack_stack_.empty() ? 0 : pack_stack_.back();
      if (!pack_stack_.empty()) pack_stack_.pop_back();
    } else if (!is(")")) {
      pack_ = pack_value();
    } else {
      pack_ = 0;
    }
    expect(")");
  }

  size_t pack_value() {
    const Token &at = peek();
    int64_t v = const_expr();
    if (v != 1 && v != 2 && v != 4 && v != 8 && v != 16)
      error_at(at, "#pragma pack takes 1, 2, 4, 8 or 16, got " + std::to_string(v), false);
    return size_t(v);
  }

  // ---- declarations ----
  void declaration() {
    if (accept(";")) return;
    bool is_typedef = false;
    attrs_ = {};
    const CType *base = specifiers(&is_typedef);
    if (accept(";")) return;   // "struct handle;" or a lone type
    Attrs spec_attrs = attrs_;
    Spelling base_spelling = spelling_;
    for (;;) {
      attrs_ = spec_attrs;
      Declarator d = declarator(false, true);
      std::vector<std::string> names;
      std::vector<Spelling> spellings;
      const CType *t = apply(base, d, &names, &spellings);
      const Token &at = toks_[d.name_pos];
      // GCC lets a typedef's aligned attribute change the alignment (not the size) of
      // what it names (and ignores packed there); the type model has no such variant, so
      // refuse rather than lay out the records that use it wrongly.
      if (is_typedef && attrs_.aligned && t->is_complete() && attrs_.aligned != t->alignment())
        error_at(at, "'" + d.name + "': an aligned(" + std::to_string(attrs_.aligned) +
                         ") attribute on a typedef of '" + t->str() + "' (alignment " +
                         std::to_string(t->alignment()) +
                         ") is not supported; put it on the struct or on the members that use the type",
                 false);
      try {
        if (is_typedef) {
          scope_.add_typedef(d.name, t);
          if (t->record && t->record->tag.empty() && t->record->typedef_name.empty())
            t->record->typedef_name = d.name;
        } else if (t->kind == Kind::Func) {
          if (!d.ops.empty() && d.ops.back().kind != DeclOp::Fn) names.clear(), spellings.clear();
          names.resize(t->params.size());
          spellings.resize(t->params.size());
          scope_.add_decl(Decl{Decl::Function, d.name, t, names, base_spelling, spellings});
        } else {
          if (t->kind == Kind::Void) error_at(at, "variable '" + d.name + "' declared void", false);
          scope_.add_decl(Decl{Decl::Variable, d.name, t, {}, base_spelling, {}});
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

  // ---- constant expressions ----
  ConstExpr::Hooks expr_hooks() {
    return {[this] { return at_type_name(); },
            [this] {
              const CType *base = specifiers(nullptr);
              Declarator d = declarator(true, false);
              return apply(base, d);
            }};
  }
  Constant const_value() { return ConstExpr(toks_, p_, src_, scope_, expr_hooks()).eval(); }
  int64_t const_expr() { return ConstExpr(toks_, p_, src_, scope_, expr_hooks()).integer(); }

  // Does a type name start here (for casts and sizeof in constant expressions)?
  bool at_type_name() const {
    const Token &t = peek();
    if (t.kind != Tok::Ident) return false;
    static const char *words[] = {"void", "char", "short", "int", "long", "float", "double",
                                  "signed", "unsigned", "_Bool", "struct", "union", "enum",
                                  "const", "volatile", "__signed__"};
    for (const char *w : words)
      if (t.text == w) return true;
    return scope_.find_typedef(t.text) != nullptr;
  }

  Attrs attrs_;                       // packed/aligned seen in the current declaration
  Spelling spelling_;                 // of the type the last specifiers() read
  size_t pack_ = 0;                   // #pragma pack in force
  std::vector<size_t> pack_stack_;
  std::vector<Record *> completed_;   // records this parse completed

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
  Parser parser(text, work);
  try {
    parser.declarations();
  } catch (...) {
    parser.roll_back();
    throw;
  }
  scope = std::move(work);
}

const CType *parse_type(const Scope &scope, std::string_view text) {
  Scope work(&scope);   // tags first named here are not kept
  return Parser(text, work).type_name();
}

}  // namespace ndffi
