// The declaration parser's top level: tokens and errors, GCC/MSVC decorations and
// layout attributes, preprocessor lines (#define, #pragma pack), declarations, and the
// entry points cdef() and parse_type().  Types are in nd_cparse_types.cpp.
#include <algorithm>
#include <climits>
#include <cstdint>

#include "nd_cparser.h"

namespace ndffi {

static std::string format_error(int line, int col, const std::string &msg, const std::string &src_line) {
  std::string s = "line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + msg;
  // Control characters (tabs, NUL) are shown as spaces so that the caret lines up.
  std::string shown = src_line;
  for (char &c : shown)
    if ((unsigned char)c < 0x20 || c == 0x7f) c = ' ';
  if (!src_line.empty()) s += "\n    " + shown + "\n    " + std::string(col > 0 ? col - 1 : 0, ' ') + "^";
  return s;
}

CDefError::CDefError(int line_, int column_, std::string message_, std::string token_, std::string source_line_)
    : std::runtime_error(format_error(line_, column_, message_, source_line_)),
      line(line_),
      column(column_),
      message(std::move(message_)),
      token(std::move(token_)),
      source_line(std::move(source_line_)) {}

namespace cparse {

Spelling Named::spelling() const {
  if (!typedef_type) return {};
  // A typedef of an anonymous record is printed by its name already.
  const Record *r = typedef_type->record;
  if (r && r->tag.empty() && !typedef_type->quals && r->typedef_name == name) return {};
  return {type->str(), quals + name};
}

Parser::Parser(std::string_view src, Scope &scope, uint32_t call)
    : src_(src), scope_(scope), call_(call), T_(TypeTable::get()), abi_(scope.target()) {
  toks_ = lex(src);
}

Parser::Nest::Nest(Parser &parser) : p(parser) {
  if (p.depth_ >= kMaxNesting)
    p.error("declaration is nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
  if (p.depth_ > kUncheckedNesting && stack_low())
    p.error("declaration is nested too deeply for the stack of this thread");
  p.depth_++;
}

void Parser::declarations() {
  while (!at_end()) {
    if (peek().kind == Tok::Hash) directive();
    else declaration();
  }
}

const CType *Parser::type_name() {
  const CType *base = specifiers(nullptr);
  Declarator d = declarator(/*abstract_ok=*/true, /*name_ok=*/false);
  const CType *t = apply(base, d);
  if (!at_end()) error("unexpected text after the type");
  return t;
}

// ---- tokens and errors ----

void Parser::expect(const char *s) {
  if (!accept(s)) error(std::string("expected '") + s + "'");
}

void Parser::error_at(const Token &t, const std::string &msg, bool say_got) {
  std::string got = t.kind == Tok::End ? "end of input" : "'" + t.text + "'";
  throw_cdef_error(src_, t.pos, say_got ? msg + ", got " + got : msg, t.text);
}

void Parser::conflict_at(const Token &t, const std::string &msg, Origin previous) {
  std::string where;
  if (previous) where = " (first at " + previous.str(call_) + ", again at " + Origin{0, t.line, t.column}.str() + ")";
  throw_cdef_error(src_, t.pos, msg + where, t.text, previous);
}

// ---- decorations and attributes ----

// Skip GCC/MSVC decorations, keeping what changes layout (packed, aligned(n),
// _Alignas) in attrs_ for the declaration being parsed.
bool Parser::skip_decoration() {
  const Token &t = peek();
  if (t.kind != Tok::Ident || !(t.word & WordDecoration)) return false;
  if (t.text == "__attribute__" || t.text == "__attribute") {
    p_++;
    attribute_list();
    return true;
  }
  if (t.text == "__declspec") {
    p_++;
    expect("(");
    while (!accept(")")) {
      if (accept("align")) {  // honoured by Microsoft's compilers only (MinGW ignores it)
        expect("(");
        size_t a = alignment_value();
        if (abi_.rules == RecordRules::Microsoft) attrs_.declspec_aligned = std::max(attrs_.declspec_aligned, a);
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
  static const char *words[] = {"__extension__", "__inline",  "__inline__",   "inline",    "extern",
                                "static",        "_Noreturn", "__cdecl",      "__stdcall", "register",
                                "auto",          "__thread",  "_Thread_local"};
  for (const char *w : words)
    if (t.text == w) {
      p_++;
      return true;
    }
  return false;
}

// __attribute__((name, name(args), ...))
void Parser::attribute_list() {
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
      size_t a = abi_.aligned_default;  // the ABI's largest useful alignment
      if (accept("(")) {
        a = alignment_value();
        expect(")");
      }
      attrs_.aligned = std::max(attrs_.aligned, a);
    } else {
      refuse_attribute(n, name);
      if (is("(")) skip_balanced();
    }
  }
  expect(")");
}

// Attributes that change a type's size, layout or byte order, or a function's calling
// convention, and that the type model does not follow: an error, never a wrong layout
// or call.  Every other attribute (format, nonnull, deprecated, ...) changes neither.
void Parser::refuse_attribute(const Token &at, const std::string &name) {
  const bool microsoft = abi_.rules == RecordRules::Microsoft;
  const char *why = nullptr;
  if (name == "mode")
    why = "sets the size of an integer or floating type; declare the type of that size (int64_t, ...)";
  else if (name == "vector_size" || name == "ext_vector_type")
    why = "makes a SIMD vector type, which ndffi does not pass or lay out; pass a pointer to its elements";
  else if (name == "scalar_storage_order") why = "sets a byte order ndffi does not read or write";
  else if ((name == "ms_struct" && !abi_.ms_bitfields) || (name == "gcc_struct" && abi_.ms_bitfields))
    why = "switches to the other compiler's struct layout, which ndffi does not apply here";
  else if ((name == "ms_abi" && !microsoft) || (name == "sysv_abi" && microsoft))
    why = "switches to the other platform's calling convention, which ndffi does not call";
  if (why) error_at(at, "__attribute__((" + name + ")) " + why + " (not supported)", false);
}

size_t Parser::alignment_value() {
  const Token &at = peek();
  int64_t v = const_expr();
  if (v <= 0 || (v & (v - 1)) || v > (1 << 28))
    error_at(at, "alignment must be a power of two, got " + std::to_string(v), false);
  return size_t(v);
}

void Parser::skip_balanced() {
  if (!is("(")) error("expected '('");
  int depth = 0;
  do {
    if (at_end()) error("unbalanced parentheses");
    if (is("(")) depth++;
    if (is(")")) depth--;
    p_++;
  } while (depth > 0);
}

bool Parser::is_keyword(const Token &t) { return t.word & WordKeyword; }

uint8_t Parser::qualifier() {
  const Token &t = peek();
  if (t.kind != Tok::Ident || !(t.word & WordQualifier)) return 0;
  uint8_t q = 0;
  if (t.text == "const" || t.text == "__const" || t.text == "__const__") q = QConst;
  else if (t.text == "volatile" || t.text == "__volatile__") q = QVolatile;
  else if (t.text == "restrict" || t.text == "__restrict" || t.text == "__restrict__") q = QRestrict;
  if (q) p_++;
  return q;
}

// ---- preprocessor lines: #define of constants, #pragma pack, #include of built-in headers ----

void Parser::directive() {
  p_++;  // '#'
  if (peek().kind == Tok::EndLine) {
    p_++;
    return;
  }
  const Token &name = peek();
  if (name.kind != Tok::Ident) error("expected a directive name");
  p_++;
  if (name.text == "define") define();
  else if (name.text == "pragma") pragma();
  else if (name.text == "include" && builtin_include()) {
  } else
    error_at(name,
             "#" + name.text +
                 " is not accepted in declarations, only #define of constants, "
                 "#pragma pack and #include of <stddef.h>, <stdint.h>, <stdbool.h> and "
                 "<sys/types.h> (load a real header with header=)",
             false);
  if (peek().kind != Tok::EndLine) error("unexpected text at the end of the directive");
  p_++;
}

// #include of a standard header whose types are built in (size_t, int32_t, bool,
// ssize_t): nothing to declare, so a generated header can include what it uses.
bool Parser::builtin_include() {
  size_t from = peek().pos, to = from;
  while (peek().kind != Tok::EndLine && !at_end()) to = peek().pos + peek().text.size(), p_++;
  std::string_view spelled = src_.substr(from, to - from);
  for (const char *h : {"<stddef.h>", "<stdint.h>", "<stdbool.h>", "<sys/types.h>"})
    if (spelled == h) return true;
  return false;
}

void Parser::define() {
  const Token &n = peek();
  if (n.kind != Tok::Ident) error("expected a macro name");
  p_++;
  if (is("(") && peek().pos == n.pos + n.text.size()) {
    // A function-like macro: not a constant, and nothing to call.
    while (peek().kind != Tok::EndLine && !at_end()) p_++;
    return;
  }
  if (peek().kind == Tok::EndLine) return;  // #define FLAG: nothing to bind
  Constant c = const_value();
  try {
    scope_.add_constant(n.text, c, origin(n));
  } catch (const DeclConflict &e) { conflict_at(n, e.what(), e.previous); }
}

void Parser::pragma() {
  if (!accept("pack")) {
    while (peek().kind != Tok::EndLine && !at_end()) p_++;  // other pragmas change no declaration
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

size_t Parser::pack_value() {
  const Token &at = peek();
  int64_t v = const_expr();
  if (v != 1 && v != 2 && v != 4 && v != 8 && v != 16)
    error_at(at, "#pragma pack takes 1, 2, 4, 8 or 16, got " + std::to_string(v), false);
  return size_t(v);
}

// ---- declarations ----

void Parser::declaration() {
  if (accept(";")) return;
  bool is_typedef = false;
  attrs_ = {};
  const CType *base = specifiers(&is_typedef);
  if (accept(";")) return;  // "struct handle;" or a lone type
  Attrs spec_attrs = attrs_;
  Named base_named = named_;
  for (;;) {
    attrs_ = spec_attrs;
    Declarator d = declarator(false, true);
    std::vector<std::string> names;
    std::vector<Named> params_named;
    const CType *t = apply(base, d, &names, &params_named);
    const Token &at = toks_[d.name_pos];
    // GCC lets a typedef's aligned attribute change the alignment (not the size) of
    // what it names, up or down, and ignores packed there.  Scalars and pointers get a
    // variant of their own; records, enums and arrays have none, so refuse rather than
    // lay out the records that use them wrongly.
    if (is_typedef && attrs_.all() && t->is_complete()) {
      bool scalar = t->kind == Kind::Int || t->kind == Kind::Float || t->kind == Kind::Bool || t->is_pointer();
      if (!scalar && attrs_.all() != t->alignment())
        error_at(at,
                 "'" + d.name + "': an aligned(" + std::to_string(attrs_.all()) + ") attribute on a typedef of '" +
                     t->str() + "' (alignment " + std::to_string(t->alignment()) +
                     ") is not supported; put it on the struct or on the members that use the type",
                 false);
      if (scalar) t = T_.aligned(t, attrs_.all());
    }
    try {
      if (is_typedef) {
        scope_.add_typedef(d.name, t, origin(at));
        if (t->record && t->record->tag.empty() && t->record->typedef_name.empty()) t->record->typedef_name = d.name;
      } else if (t->kind == Kind::Func) {
        if (!d.ops.empty() && d.ops.back().kind != DeclOp::Fn) names.clear(), params_named.clear();
        names.resize(t->params.size());
        std::vector<Spelling> spellings(t->params.size());
        for (size_t i = 0; i < params_named.size() && i < spellings.size(); i++)
          spellings[i] = params_named[i].spelling();
        scope_.add_decl(Decl{Decl::Function, d.name, t, names, base_named.spelling(), spellings}, origin(at));
      } else {
        if (t->kind == Kind::Void) error_at(at, "variable '" + d.name + "' declared void", false);
        scope_.add_decl(Decl{Decl::Variable, d.name, t, {}, base_named.spelling(), {}}, origin(at));
      }
    } catch (const DeclConflict &e) { conflict_at(at, e.what(), e.previous); }
    if (accept("=")) error("initializers are not accepted in declarations");
    if (is("{")) error("function definitions are not accepted, only declarations");
    if (accept(";")) return;
    if (!accept(",")) error("expected ';'");
  }
}

// ---- constant expressions ----

ConstExpr::Hooks Parser::expr_hooks() {
  return {[this] { return at_type_name(); },
          [this] {
            const CType *base = specifiers(nullptr);
            Declarator d = declarator(true, false);
            return apply(base, d);
          }};
}

Constant Parser::const_value() { return ConstExpr(toks_, p_, src_, scope_, expr_hooks(), expr_depth_).eval(); }
int64_t Parser::const_expr() { return ConstExpr(toks_, p_, src_, scope_, expr_hooks(), expr_depth_).integer(); }

// Does a type name start here (for casts and sizeof in constant expressions)?
bool Parser::at_type_name() const {
  const Token &t = peek();
  if (t.kind != Tok::Ident) return false;
  static const char *words[] = {"void",   "char",   "short",    "int",        "long",    "float",
                                "double", "signed", "unsigned", "_Bool",      "struct",  "union",
                                "enum",   "const",  "volatile", "__signed__", "__int128"};
  for (const char *w : words)
    if (t.text == w) return true;
  return scope_.find_typedef(t.text) != nullptr;
}

}  // namespace cparse

void cdef(Scope &scope, std::string_view text) {
  uint32_t call = scope.begin();  // all or nothing: a failure takes out what the call added
  try {
    cparse::Parser(text, scope, call).declarations();
  } catch (...) {
    scope.roll_back();
    throw;
  }
  scope.commit();
}

const CType *parse_type(const Scope &scope, std::string_view text) {
  Scope work(&scope);  // tags first named here are not kept
  return cparse::Parser(text, work).type_name();
}

}  // namespace ndffi
