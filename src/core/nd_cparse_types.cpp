// The declaration parser's types: declaration specifiers (scalar types, typedef names),
// struct, union and enum bodies (and their definitions given again), and declarators
// applied to a base type.
#include <algorithm>
#include <climits>
#include <cstdint>

#include "nd_cparser.h"

namespace ndffi::cparse {

namespace {

// A digest of what goes into a record's layout besides its members' names, types and
// offsets: attributes, #pragma pack, zero-width bit-fields.
struct Digest {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  void add(uint64_t v) {
    for (int i = 0; i < 8; i++, v >>= 8) h = (h ^ (v & 0xff)) * 1099511628211ull;
  }
};

std::string too_deep() {
  return "type is nested too deeply (more than " + std::to_string(kMaxTypeDepth) +
         " levels of pointers, arrays, functions and struct members)";
}

}  // namespace

// ---- declaration specifiers ----

// The type specifier words of the specifiers that start at `first` and end before the
// current token, as written (for messages: made only when one is raised).  Words inside
// parentheses (of __attribute__((...)) or _Alignas(int)) are not specifiers.
std::string Parser::spelled_from(const Token *first) const {
  std::string text;
  int depth = 0;
  for (const Token *t = first; t && t < &toks_[p_]; t++) {
    if (t->kind == Tok::Punct) depth += t->text == "(" ? 1 : t->text == ")" ? -1 : 0;
    if (depth || t->kind != Tok::Ident || t->spec == SpecNone || t->spec >= SpecTypedef) continue;
    text += (text.empty() ? "" : " ") + t->text;
  }
  return text;
}

const CType *Parser::specifiers(bool *is_typedef) {
  uint8_t quals = 0;
  int n_long = 0, n_short = 0, n_signed = 0, n_unsigned = 0, n_complex = 0;
  const char *base = nullptr;    // "void", "char", "int", "float", "double", "_Bool"
  const CType *named = nullptr;  // a typedef name or a struct/union/enum
  bool by_typedef = false;       // named by a typedef name
  bool any = false;
  const Token *spec_at = nullptr, *restrict_at = nullptr;  // first type specifier, 'restrict'
  std::string named_text;                                  // the typedef name or tag as written
  auto has_type = [&] { return base || named || n_long || n_short || n_signed || n_unsigned; };
  auto typedef_name = [&](const Token &t) {
    // C99 has no implicit int: before a type specifier, a name must be a typedef.
    const CType *td = scope_.find_typedef(t.text);
    if (!td) error_at(t, "unknown type name '" + t.text + "'", false);
    named = td;
    named_text = t.text;
    by_typedef = true;
  };
  for (;;) {
    const Token &t = peek();
    if (uint8_t q = qualifier()) {
      if (q == QRestrict && !restrict_at) restrict_at = &t;
      quals |= q;
      any = true;
      continue;
    }
    if (skip_decoration()) {
      any = true;
      continue;
    }
    if (t.kind != Tok::Ident) break;
    // A name (not a specifier word) is a typedef name before any type specifier, else
    // the declarator's.
    if (t.spec == SpecNone) {
      if (has_type()) break;
      typedef_name(t);
      p_++;
      any = true;
      continue;
    }
    if (t.spec < SpecTypedef) {  // a type specifier word
      if (named)
        error_at(t, "invalid combination of type specifiers: '" + t.text + "' after '" + named_text + "'", false);
      if (!spec_at) spec_at = &t;
    }
    const char *word_base = nullptr;
    switch (t.spec) {
      case SpecTypedef:
        if (!is_typedef) error("'typedef' is not allowed here");
        *is_typedef = true;
        break;
      case SpecLong: n_long++; break;
      case SpecShort: n_short++; break;
      case SpecSigned: n_signed++; break;
      case SpecUnsigned: n_unsigned++; break;
      case SpecComplex: n_complex++; break;
      case SpecVoid: word_base = "void"; break;
      case SpecChar: word_base = "char"; break;
      case SpecInt: word_base = "int"; break;
      case SpecFloat: word_base = "float"; break;
      case SpecDouble: word_base = "double"; break;
      case SpecBool: word_base = "_Bool"; break;
      case SpecInt128: word_base = "__int128"; break;
      default:  // struct, union, enum
        if (has_type()) error_at(t, "two base types in one declaration");
        p_++;
        named = tagged(t.text);
        named_text = named->str();
        any = true;
        continue;
    }
    if (word_base) {
      if (base || named) error_at(t, "two base types in one declaration");
      base = word_base;
    }
    p_++;
    any = true;
  }
  if (!has_type()) error(any ? "expected a type specifier" : "expected a type");
  const CType *t = named ? named : scalar(*spec_at, base, n_long, n_short, n_signed, n_unsigned);
  if (n_complex) t = complex_of(*spec_at, t, n_complex);
  if (restrict_at && (t->kind != Kind::Pointer || t->target->kind == Kind::Func))
    error_at(*restrict_at, "'restrict' requires a pointer to an object type, not '" + t->str() + "'", false);
  t = quals ? T_.qualified(t, t->quals | quals) : t;
  // A typedef name is kept for printing the declaration as written.
  named_ = {};
  if (by_typedef) {
    std::string q = (quals & QConst ? "const " : std::string()) + (quals & QVolatile ? "volatile " : "") +
                    (quals & QRestrict ? "restrict " : "");
    named_ = {named, t, named_text, q};
  }
  return t;
}

const CType *Parser::scalar(const Token &at, const char *base, int n_long, int n_short, int n_signed, int n_unsigned) {
  std::string_view b = base ? base : "int";
  auto invalid = [&] { return "invalid combination of type specifiers '" + spelled_from(&at) + "'"; };
  if ((n_signed && n_unsigned) || n_signed > 1 || n_unsigned > 1 || n_long > 2 || (n_long && n_short) || n_short > 1)
    error_at(at, invalid(), false);
  bool sign_spec = n_signed || n_unsigned;
  // The sizes, alignments and char's signedness are the ABI's (nd_target_*.cpp).
  if (b == "void" || b == "_Bool" || b == "float") {
    if (n_long || n_short || sign_spec) error_at(at, invalid(), false);
    return b == "void" ? T_.void_type() : abi_.type(b == "_Bool" ? Scalar::Bool : Scalar::Float);
  }
  if (b == "double") {
    if (n_short || sign_spec || n_long > 1) error_at(at, invalid(), false);
    return abi_.type(n_long ? Scalar::LongDouble : Scalar::Double);
  }
  if (b == "char") {
    if (n_long || n_short) error_at(at, invalid(), false);
    return abi_.type(n_signed ? Scalar::SChar : n_unsigned ? Scalar::UChar : Scalar::Char);
  }
  bool u = n_unsigned > 0;
  if (b == "__int128") {
    if (n_long || n_short) error_at(at, invalid(), false);
    if (!scope_.layout_only() || !abi_.has(Scalar::Int128))
      error_at(at,
               std::string("'__int128' is not supported ") + (abi_.has(Scalar::Int128)
                                                                  ? "in declarations of functions and values yet "
                                                                    "(ndffi.layout lays out records that use it)"
                                                                  : std::string("on ") + abi_.name),
               false);
    return abi_.type(u ? Scalar::UInt128 : Scalar::Int128);
  }
  if (n_short) return abi_.type(u ? Scalar::UShort : Scalar::Short);
  if (n_long == 1) return abi_.type(u ? Scalar::ULong : Scalar::Long);
  if (n_long == 2) return abi_.type(u ? Scalar::ULongLong : Scalar::LongLong);
  return abi_.type(u ? Scalar::UInt : Scalar::Int);
}

// float/double/long double _Complex.  In a layout, two of its floating type, aligned as
// one; in declarations of functions and values, the record TypeTable::complex makes,
// where the ABI passes it as that record.
const CType *Parser::complex_of(const Token &at, const CType *t, int n) {
  if (n > 1 || t->kind != Kind::Float)
    error_at(at, "invalid combination of type specifiers '" + spelled_from(&at) + "'", false);
  if (scope_.layout_only()) return T_.scalar(Kind::Float, 2 * t->size, t->align, true, (t->name + " _Complex").c_str());
  if (!abi_.complex_as_struct)
    error_at(at,
             "'_Complex' is not supported in declarations of functions and values on " + std::string(abi_.name) +
                 " (ndffi.layout lays out records that use it)",
             false);
  if (t->size > 8)
    error_at(at,
             "'" + t->name +
                 " _Complex' is not supported in declarations of functions and values (its calling convention "
                 "differs from a struct's); 'double _Complex' and 'float _Complex' are",
             false);
  return T_.complex(t);
}

// ---- struct, union, enum ----

// struct/union/enum TAG, TAG { ... }, or { ... }
const CType *Parser::tagged(const std::string &kw) {
  bool is_union = kw == "union", is_enum = kw == "enum";
  Attrs outer = attrs_;
  attrs_ = {};
  while (skip_decoration()) {}
  std::string tag;
  const Token &at = peek();
  if (peek().kind == Tok::Ident && !is_keyword(peek())) {
    tag = peek().text;
    p_++;
  }
  while (skip_decoration()) {}
  bool has_body = is("{");
  if (tag.empty() && !has_body) error("expected a tag name or '{' after '" + kw + "'");
  // A body defines the tag in this scope (in a type name, its own scope: the library's
  // tag of that name stays as it is); a mention refers to the tag of this or an
  // enclosing scope, or declares it here.
  Record *rec = tag.empty() ? nullptr
                : has_body  ? scope_.find_own_tag(tag, is_union, is_enum)
                            : scope_.find_tag(tag, is_union, is_enum);
  if (!rec && !tag.empty()) {  // struct, union and enum tags share one name space
    for (int k = 0; k < 3; k++) {
      bool u = k == 1, e = k == 2;
      if (u == is_union && e == is_enum) continue;
      if (has_body ? scope_.find_own_tag(tag, u, e) : scope_.find_tag(tag, u, e))
        error_at(at,
                 "'" + kw + " " + tag + "': '" + tag + "' is already the tag of a" +
                     (e   ? "n enum"
                      : u ? " union"
                          : " struct"),
                 false);
    }
  }
  if (!rec) {
    rec = T_.new_record(tag, is_union, is_enum);
    if (!tag.empty()) scope_.add_tag(rec);
  }
  if (has_body) {
    Nest nest(*this);
    p_++;
    if (!is_enum) {  // __declspec(align(n)) struct S { ... }: S is aligned, as MSVC has it
      attrs_.aligned = std::max(attrs_.aligned, outer.declspec_aligned);
      outer.declspec_aligned = 0;
    }
    if (rec->complete) {
      defined_again(rec, at);
    } else {
      if (!tag.empty()) {
        if (scope_.definition(rec)) error_at(at, "nested redefinition of '" + kw + " " + tag + "'", false);
        // before the body: a failure in it leaves the record as it was
        scope_.define_tag(rec, {origin(at), 0});
      }
      uint64_t attrs = is_enum ? enum_body(rec, T_.record(rec), attrs_, at) : record_body(rec, attrs_, at);
      check_depth(rec, at);
      if (!tag.empty()) scope_.define_tag(rec, {origin(at), attrs});
    }
  }
  attrs_ = outer;
  return T_.record(rec);
}

// The body of a tag defined before (a cdef run again, a header read twice): accepted
// when it is the same definition, and then it is the same type.  The body is read into
// a record of its own, its enumerators constants of the type defined first.  (A
// function of its own: nested definitions recurse through tagged(), whose frame stays
// small.)
void Parser::defined_again(Record *rec, const Token &at) {
  Record again;
  again.tag = rec->tag;
  again.is_union = rec->is_union;
  again.is_enum = rec->is_enum;
  uint64_t attrs = rec->is_enum ? enum_body(&again, T_.record(rec), attrs_, at) : record_body(&again, attrs_, at);
  std::string diff = record_difference(*rec, again);
  const Scope::Definition *first = scope_.definition(rec);
  if (diff.empty() && first && first->attrs != attrs)
    diff = "what lays it out differs (packed, aligned, #pragma pack or zero-width bit-fields)";
  if (!diff.empty())
    conflict_at(at, "conflicting definition of '" + T_.record(rec)->str() + "': " + diff,
                first ? first->origin : Origin{});
}

// A record too deep for the walks of its structure is refused where it is defined.
void Parser::check_depth(const Record *rec, const Token &at) {
  if (rec->depth <= kMaxTypeDepth) return;
  std::string what = rec->tag.empty() ? std::string(rec->is_union ? "union" : "struct")
                                      : std::string(rec->is_union ? "union " : "struct ") + rec->tag;
  error_at(at, "'" + what + "': " + too_deep(), false);
}

// Members, then the layout of `into`; returns the digest of its layout attributes.
uint64_t Parser::record_body(Record *into, Attrs rec_attrs, const Token &at) {
  const size_t pack_at_open = pack_;
  std::vector<MemberDecl> members;
  std::unordered_set<std::string> names;
  while (!accept("}")) {
    if (at_end()) error("expected '}'");
    if (accept(";")) continue;
    if (peek().kind == Tok::Hash) {
      // #define or #pragma pack between members; the pack in force at the opening brace
      // lays out the whole record as clang has it, at the closing brace as GCC has it
      directive();
      continue;
    }
    attrs_ = {};
    const CType *base = specifiers(nullptr);
    Attrs spec_attrs = attrs_;
    if (accept(";")) {
      // An anonymous struct or union member; a named tag alone declares only the tag.
      if (base->kind == Kind::Record && base->record->tag.empty()) {
        members.push_back({"", base, -1, spec_attrs.all(), spec_attrs.packed});
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
      m.aligned = attrs_.all();
      m.packed = attrs_.packed;
      if (!m.name.empty() && !names.insert(m.name).second) error_at(mat, "duplicate member '" + m.name + "'", false);
      members.push_back(std::move(m));
      if (accept(";")) break;
      if (!accept(",")) error("expected ';'");
    }
  }
  attrs_ = {};
  while (skip_decoration()) {}
  RecordAttrs ra;
  ra.packed = rec_attrs.packed || attrs_.packed;
  ra.aligned = std::max(rec_attrs.all(), attrs_.all());
  ra.pack = abi_.gcc_layout ? pack_ : pack_at_open;
  try {
    layout_record(into, members, ra, abi_);
  } catch (const std::runtime_error &e) { error_at(at, e.what(), false); }
  Digest digest;
  digest.add(ra.packed);
  digest.add(ra.aligned);
  digest.add(ra.pack);
  for (const MemberDecl &m : members) {  // zero-width bit-fields have no Field
    digest.add(m.aligned);
    digest.add(m.packed);
    digest.add(uint64_t(int64_t(m.bit_width)));
  }
  return digest.h;
}

// The names an anonymous member brings into its record, for duplicate checks.
void Parser::member_names(const Record *rec, std::unordered_set<std::string> &names, const Token &at) {
  for (const Record::Field &f : rec->fields) {
    if (f.name.empty() && f.type->kind == Kind::Record) {
      member_names(f.type->record, names, at);
    } else if (!f.name.empty()) {
      if (!names.insert(f.name).second) error_at(at, "duplicate member '" + f.name + "'", false);
    }
  }
}

// Enumerators into `into`, each also a constant of type `type`; then its integer type.
uint64_t Parser::enum_body(Record *into, const CType *type, Attrs enum_attrs, const Token &at) {
  int64_t next = 0, lo = 0, hi = 0;
  bool next_overflows = false;
  while (!accept("}")) {
    if (peek().kind == Tok::Hash) {
      directive();
      continue;
    }
    const Token &n = peek();
    if (n.kind != Tok::Ident || is_keyword(n)) error("expected an enumerator name");
    p_++;
    if (next_overflows) error_at(n, "enumerator value overflows", false);
    int64_t v = next;
    if (accept("=")) v = const_expr();
    Constant c;
    c.kind = Constant::Int;
    c.i = v;
    c.type = type;
    try {
      scope_.add_constant(n.text, c, origin(n));
    } catch (const DeclConflict &e) { conflict_at(n, e.what(), e.previous); }
    into->enumerators.push_back({n.text, v});
    lo = into->enumerators.size() == 1 ? v : std::min(lo, v);
    hi = into->enumerators.size() == 1 ? v : std::max(hi, v);
    next_overflows = v == INT64_MAX;
    next = next_overflows ? v : v + 1;
    if (!accept(",")) {
      while (peek().kind == Tok::Hash) directive();
      expect("}");
      break;
    }
  }
  if (into->enumerators.empty()) error_at(at, "an enum needs at least one enumerator", false);
  attrs_ = {};
  while (skip_decoration()) {}  // enum e { ... } __attribute__((packed))
  bool packed = enum_attrs.packed || attrs_.packed;
  try {
    layout_enum(into, lo, hi, packed, abi_);
  } catch (const std::runtime_error &e) { error_at(at, e.what(), false); }
  Digest digest;
  digest.add(packed);
  return digest.h;
}

// ---- declarators ----

bool Parser::starts_declarator_in_parens() const {
  // After '(': a nested declarator starts with '*', '(' or a name that is not a type.
  const Token &t = peek(1);
  if (is("*", 1) || is("(", 1) || is("[", 1)) return true;
  if (t.kind == Tok::Ident) {
    static const char *type_words[] = {"void",   "char",   "short",    "int",     "long",    "float",
                                       "double", "signed", "unsigned", "_Bool",   "struct",  "union",
                                       "enum",   "const",  "volatile", "__const", "__int128"};
    for (const char *w : type_words)
      if (t.text == w) return false;
    return !scope_.find_typedef(t.text);
  }
  return false;
}

Declarator Parser::declarator(bool abstract_ok, bool name_ok) {
  Nest nest(*this);
  Declarator d;
  std::vector<DeclOp> ptrs;
  while (accept("*")) {
    DeclOp op{DeclOp::Ptr};
    op.tok = p_ - 1;
    for (;;) {
      if (uint8_t q = qualifier()) {
        op.quals |= q;
        continue;
      }
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
  } else if (peek().kind == Tok::Ident && !is_keyword(peek())) {
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
    if (skip_decoration()) continue;  // `int x __attribute__((unused))`
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
  d.ops = std::move(ptrs);
  d.ops.insert(d.ops.end(), std::make_move_iterator(suffixes.rbegin()), std::make_move_iterator(suffixes.rend()));
  if (has_inner) {
    d.ops.insert(d.ops.end(), std::make_move_iterator(inner.ops.begin()), std::make_move_iterator(inner.ops.end()));
    d.name = inner.name;
    d.name_pos = inner.name_pos;
  }
  if (d.ops.size() > kMaxDerivations)
    error_at(d.name.empty() ? peek() : toks_[d.name_pos],
             "declarator is too complex (more than " + std::to_string(kMaxDerivations) +
                 " pointer, array and function levels)",
             false);
  return d;
}

DeclOp Parser::param_list() {
  DeclOp op{DeclOp::Fn};
  if (accept(")")) return op;  // f(): treated as f(void), as C++ and cffi do
  if (is("void") && is(")", 1)) {
    p_ += 2;
    return op;
  }
  std::unordered_set<std::string> seen;
  for (;;) {
    if (accept("...")) {
      op.variadic = true;
      expect(")");
      return op;
    }
    const Token &at = peek();
    const CType *base = specifiers(nullptr);
    Named named = named_;
    Declarator d = declarator(true, true);
    const CType *t = apply(base, d);
    if (t->kind == Kind::Void) error_at(at, "'void' must be the only parameter", false);
    // Parameters of array and function type are adjusted to pointers.
    if (t->kind == Kind::Array) t = T_.pointer(t->target, 0, abi_);
    else if (t->kind == Kind::Func) t = T_.pointer(t, 0, abi_);
    if (t->depth() > kMaxTypeDepth) error_at(d.name.empty() ? at : toks_[d.name_pos], too_deep(), false);
    if (!d.name.empty()) {
      // a scan of the few names so far, a set once there are many
      bool again = false;
      if (op.names.size() < 16) again = std::find(op.names.begin(), op.names.end(), d.name) != op.names.end();
      else if (seen.empty()) seen.insert(op.names.begin(), op.names.end());
      if (!seen.empty()) again = !seen.insert(d.name).second;
      if (again) error_at(toks_[d.name_pos], "redefinition of parameter '" + d.name + "'", false);
    }
    op.params.push_back(t);
    op.names.push_back(d.name);
    op.named.push_back(std::move(named));
    if (accept(")")) return op;
    if (!accept(",")) error("expected ',' or ')'");
  }
}

const CType *Parser::apply(const CType *t, const Declarator &d, std::vector<std::string> *names,
                           std::vector<Named> *named) {
  for (const DeclOp &op : d.ops) {
    auto fail = [&](const std::string &msg) {
      const Token &at = d.name.empty() ? toks_[op.tok] : toks_[d.name_pos];
      error_at(at, d.name.empty() ? msg : "'" + d.name + "': " + msg, false);
    };
    switch (op.kind) {
      case DeclOp::Ptr:
        if ((op.quals & QRestrict) && t->kind == Kind::Func)
          fail("'restrict' requires a pointer to an object type, not to '" + t->str() + "'");
        t = T_.pointer(t, op.quals, abi_);
        break;
      case DeclOp::Arr:
        if (t->kind == Kind::Func) fail("array of functions is not allowed");
        if (t->kind == Kind::Void) fail("array of void is not allowed");
        if (!t->is_complete()) fail("array of incomplete type '" + t->str() + "'");
        if (op.length != CType::kUnknownLength && op.length > kMaxObjectSize / (t->byte_size() ? t->byte_size() : 1))
          fail("array is too large (more than 2^59 bytes)");
        if (t->byte_size() % t->alignment())  // what a typedef's aligned(n) can make
          fail("array of '" + t->str() + "' (" + std::to_string(t->byte_size()) +
               " bytes), whose size is not a multiple of its alignment (" + std::to_string(t->alignment()) + ")");
        t = T_.array(t, op.length);
        break;
      case DeclOp::Fn:
        if (t->kind == Kind::Func) fail("a function cannot return a function");
        if (t->kind == Kind::Array) fail("a function cannot return an array");
        t = T_.func(T_.unqualified(t), op.params, op.variadic);
        if (names) *names = op.names;  // the outermost function's parameter names
        if (named) *named = op.named;
        break;
    }
    if (t->depth() > kMaxTypeDepth) fail(too_deep());
  }
  return t;
}

}  // namespace ndffi::cparse
