#include "nd_ctype.h"

#include <climits>
#include <cstdio>
#include <cstring>

namespace ndffi {

bool CType::is_complete() const {
  switch (kind) {
    case Kind::Void: case Kind::Func: return false;
    case Kind::Array: return length != kUnknownLength && target->is_complete();
    case Kind::Record: case Kind::Enum: return record->complete;
    default: return true;
  }
}

static std::string qual_prefix(uint8_t q) {
  std::string s;
  if (q & QConst) s += "const ";
  if (q & QVolatile) s += "volatile ";
  if (q & QRestrict) s += "restrict ";
  return s;
}

std::string CType::str(const std::string &decl) const {
  std::string s = decl;
  const CType *t = this;
  for (;;) {
    switch (t->kind) {
      case Kind::Pointer: {
        std::string q = qual_prefix(t->quals);
        if (!q.empty()) q.pop_back();
        s = "*" + q + (q.empty() || s.empty() ? "" : " ") + s;
        if (t->target->kind == Kind::Array || t->target->kind == Kind::Func) s = "(" + s + ")";
        t = t->target;
        break;
      }
      case Kind::Array:
        s += t->length == kUnknownLength ? "[]" : "[" + std::to_string(t->length) + "]";
        t = t->target;
        break;
      case Kind::Func: {
        std::string p;
        for (size_t i = 0; i < t->params.size(); i++) p += (i ? ", " : "") + t->params[i]->str();
        if (t->variadic) p += t->params.empty() ? "..." : ", ...";
        if (t->params.empty() && !t->variadic) p = "void";
        s += "(" + p + ")";
        t = t->target;
        break;
      }
      default: {
        const std::string &name = t->record && t->record->tag.empty() && !t->record->typedef_name.empty()
                                      ? t->record->typedef_name : t->name;
        std::string base = qual_prefix(t->quals) + name;
        // "int x", "int *", "int (*)(int)", but "double[16]" for an abstract array.
        return s.empty() ? base : s[0] == '[' ? base + s : base + " " + s;
      }
    }
  }
}

std::string Spelling::apply(const std::string &printed) const {
  if (from.empty() || printed.compare(0, from.size(), from) != 0) return printed;
  if (printed.size() == from.size()) return to;
  char next = printed[from.size()];
  if (from.back() == '*') return to + " " + printed.substr(from.size());   // "handle_t *h"
  if (next != ' ' && next != '[') return printed;   // "int" is not the base of "int8_t"
  return to + printed.substr(from.size());
}

// A declarator of a type spelled as written: `name` after the typedef name when the
// type is exactly what the typedef names ("cb_t cb" for a pointer to function).
static std::string spelled(const Spelling &s, const CType *t, const std::string &name) {
  if (!s.from.empty() && t->str() == s.from) return name.empty() ? s.to : s.to + " " + name;
  return s.apply(t->str(name));
}

static const Spelling kAsPrinted;

std::string Decl::param_str(size_t i) const {
  return (i < params.size() ? params[i] : kAsPrinted).apply(type->params[i]->str());
}

std::string Decl::result_str() const {
  return result.apply(kind == Variable ? type->str() : type->target->str());
}

std::string Decl::str() const {
  if (kind == Variable) return spelled(result, type, name);
  // Print the parameter names inside the outermost function declarator.
  std::string p;
  for (size_t i = 0; i < type->params.size(); i++) {
    const std::string &n = i < param_names.size() ? param_names[i] : std::string();
    p += (i ? ", " : "") + spelled(i < params.size() ? params[i] : kAsPrinted, type->params[i], n);
  }
  if (type->variadic) p += type->params.empty() ? "..." : ", ...";
  if (type->params.empty() && !type->variadic) p = "void";
  return spelled(result, type->target, name + "(" + p + ")");
}

// ---- TypeTable ------------------------------------------------------------------

TypeTable &TypeTable::get() {
  static TypeTable *table = new TypeTable();  // immortal: types outlive every user
  return *table;
}

const CType *TypeTable::intern(CType &&t) {
  char buf[160];
  snprintf(buf, sizeof buf, "%d/%d/%d/%d/%zu/%zu/%zu/%p/%p/", int(t.kind), t.quals, t.is_signed,
           t.variadic, t.size, t.align, t.length, (const void *)t.target, (void *)t.record);
  std::string key = buf + t.name;
  for (const CType *p : t.params) {
    snprintf(buf, sizeof buf, ",%p", (const void *)p);
    key += buf;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto &slot = by_key_[key];
  if (!slot) slot.reset(new CType(std::move(t)));
  return slot.get();
}

const CType *TypeTable::void_type() {
  CType t{Kind::Void};
  t.name = "void";
  return intern(std::move(t));
}

const CType *TypeTable::bool_type() {
  CType t{Kind::Bool};
  t.size = t.align = sizeof(bool);
  t.name = "_Bool";
  return intern(std::move(t));
}

const CType *TypeTable::scalar(Kind kind, size_t size, size_t align, bool is_signed, const char *name) {
  CType t{kind};
  t.size = size;
  t.align = align;
  t.is_signed = is_signed;
  t.name = name;
  return intern(std::move(t));
}

const CType *TypeTable::char_type() { return host_target().type(Scalar::Char); }

const CType *TypeTable::int_type(size_t size, bool is_signed, const char *name) {
  const Target &h = host_target();
  size_t align = size == h.long_long.size ? h.long_long.align : size == h.int128.size ? h.int128.align : size;
  return scalar(Kind::Int, size, align, is_signed, name);
}

const CType *TypeTable::float_type(size_t size, const char *name) {
  const Target &h = host_target();
  size_t align = std::strcmp(name, "long double") == 0 ? h.long_double.align
                 : size == h.double_.size           ? h.double_.align
                                                    : size;
  return scalar(Kind::Float, size, align, true, name);
}

const CType *TypeTable::qualified(const CType *t, uint8_t quals) {
  if (t->quals == quals) return t;
  if (t->kind == Kind::Func) return t;  // functions carry no qualifiers
  // A qualified array type is an array of qualified elements (C11 6.7.3p9): qualifying
  // a typedef of an array qualifies its elements, so `const A` is `const int[3]`.
  if (t->kind == Kind::Array) return array(qualified(t->target, quals), t->length);
  CType c = *t;
  c.quals = quals;
  return intern(std::move(c));
}

const CType *TypeTable::pointer(const CType *target, uint8_t quals, const Target &abi) {
  CType t{Kind::Pointer};
  t.size = abi.pointer.size;
  t.align = abi.pointer.align;
  t.quals = quals;
  t.target = target;
  return intern(std::move(t));
}

const CType *TypeTable::array(const CType *elem, size_t length) {
  CType t{Kind::Array};
  t.target = elem;
  t.length = length;
  t.align = elem->align;
  t.size = length == CType::kUnknownLength ? 0 : elem->size * length;
  t.quals = elem->quals;  // an array of const T is itself const
  return intern(std::move(t));
}

const CType *TypeTable::func(const CType *result, const std::vector<const CType *> &params,
                             bool variadic) {
  CType t{Kind::Func};
  t.target = result;
  t.params = params;
  t.variadic = variadic;
  return intern(std::move(t));
}

const CType *TypeTable::record(Record *rec, uint8_t quals) {
  CType t{rec->is_enum ? Kind::Enum : Kind::Record};
  t.record = rec;
  t.quals = quals;
  t.name = (rec->is_enum ? "enum " : rec->is_union ? "union " : "struct ") +
           (rec->tag.empty() ? std::string("<anonymous>") : rec->tag);
  // size/align are read through record (it completes later); see CType::is_complete.
  return intern(std::move(t));
}

Record *TypeTable::new_record(const std::string &tag, bool is_union, bool is_enum) {
  std::lock_guard<std::mutex> lock(mu_);
  records_.emplace_back(new Record());
  Record *r = records_.back().get();
  r->tag = tag;
  r->is_union = is_union;
  r->is_enum = is_enum;
  return r;
}

// ---- Scope ----------------------------------------------------------------------

// The C and <stddef.h>/<stdint.h> type names of an ABI.  The fixed-width and
// <stddef.h> names map to the C type the ABI's headers give them, so that int64_t and
// long are one type where they are to the C compiler.
static Scope *make_builtins(Scope *sc) {
  const Target &abi = sc->target();
  auto t = [&](Scalar s) { return abi.type(s); };
  const Scalar sint64 = abi.int64, uint64 = Scalar(uint8_t(abi.int64) + 1);
  const Scalar sintmax = abi.intmax, uintmax = Scalar(uint8_t(abi.intmax) + 1);
  const Scalar ssize = abi.signed_size(), usize = abi.size;
  std::vector<std::pair<const char *, Scalar>> names = {
      {"int8_t", Scalar::SChar}, {"uint8_t", Scalar::UChar}, {"int16_t", Scalar::Short},
      {"uint16_t", Scalar::UShort}, {"int32_t", Scalar::Int}, {"uint32_t", Scalar::UInt},
      {"int64_t", sint64}, {"uint64_t", uint64}, {"size_t", usize}, {"ssize_t", ssize},
      {"ptrdiff_t", ssize}, {"intptr_t", ssize}, {"uintptr_t", usize}, {"off_t", Scalar::Long},
      {"wchar_t", abi.wchar}, {"int_least8_t", Scalar::SChar}, {"uint_least8_t", Scalar::UChar},
      {"int_fast8_t", Scalar::SChar}, {"uint_fast8_t", Scalar::UChar}, {"intmax_t", sintmax},
      {"uintmax_t", uintmax}, {"bool", Scalar::Bool}};
  if (sc->layout_only() && abi.has(Scalar::Int128)) {
    names.push_back({"__int128_t", Scalar::Int128});
    names.push_back({"__uint128_t", Scalar::UInt128});
  }
  for (auto &p : names) sc->add_typedef(p.first, t(p.second));
  return sc;
}

const Scope &Scope::builtins(const Target &abi, bool layout_only) {
  if (&abi == &host_target() && !layout_only) {
    static Scope *host = make_builtins(new Scope(abi, false));   // immortal, like the types
    return *host;
  }
  static std::mutex mu;
  static std::map<std::pair<const Target *, bool>, Scope *> made;
  std::lock_guard<std::mutex> lock(mu);
  Scope *&sc = made[{&abi, layout_only}];
  if (!sc) sc = make_builtins(new Scope(abi, layout_only));
  return *sc;
}

const CType *Scope::find_typedef(const std::string &name) const {
  for (const Scope *s = this; s; s = s->parent_) {
    auto it = s->typedefs_.find(name);
    if (it != s->typedefs_.end()) return it->second;
  }
  return nullptr;
}

static std::string tag_key(const std::string &tag, bool is_union, bool is_enum) {
  return (is_enum ? "enum " : is_union ? "union " : "struct ") + tag;
}

Record *Scope::find_tag(const std::string &tag, bool is_union, bool is_enum) const {
  std::string key = tag_key(tag, is_union, is_enum);
  for (const Scope *s = this; s; s = s->parent_) {
    auto it = s->tags_.find(key);
    if (it != s->tags_.end()) return it->second;
  }
  return nullptr;
}

const Decl *Scope::find_decl(const std::string &name) const {
  for (const Scope *s = this; s; s = s->parent_) {
    auto it = s->decls_.find(name);
    if (it != s->decls_.end()) return &it->second;
  }
  return nullptr;
}

// Two anonymous records are distinct types, but the same declaration text parsed twice
// (a cdef run again) makes two of the same shape: a typedef of either is one type.
static bool same_shape(const CType *a, const CType *b) {
  if (a == b) return true;
  if (a->kind != b->kind || a->quals != b->quals) return false;
  if (a->kind == Kind::Pointer) return same_shape(a->target, b->target);
  if (a->kind == Kind::Array) return a->length == b->length && same_shape(a->target, b->target);
  if (a->kind != Kind::Record && a->kind != Kind::Enum) return false;
  const Record *x = a->record, *y = b->record;
  if (!x->tag.empty() || !y->tag.empty() || x->is_union != y->is_union || x->complete != y->complete ||
      x->size != y->size || x->align != y->align || x->enum_base != y->enum_base ||
      x->enumerators != y->enumerators || x->fields.size() != y->fields.size())
    return false;
  for (size_t i = 0; i < x->fields.size(); i++) {
    const Record::Field &f = x->fields[i], &g = y->fields[i];
    if (f.name != g.name || f.offset != g.offset || f.bit_offset != g.bit_offset ||
        f.bit_width != g.bit_width || !same_shape(f.type, g.type))
      return false;
  }
  return true;
}

// An anonymous record with its members, for messages: "struct { int x; double y; }".
static std::string spelled_out(const CType *t) {
  if ((t->kind != Kind::Record && t->kind != Kind::Enum) || !t->record->tag.empty()) return t->str();
  const Record *r = t->record;
  std::string s = r->is_enum ? "enum {" : r->is_union ? "union {" : "struct {";
  if (r->is_enum) {
    for (size_t i = 0; i < r->enumerators.size(); i++)
      s += (i ? ", " : " ") + r->enumerators[i].first + " = " + std::to_string(r->enumerators[i].second);
  } else {
    for (const Record::Field &f : r->fields)
      s += " " + f.type->str(f.name) + (f.bit_width >= 0 ? " : " + std::to_string(f.bit_width) : "") + ";";
  }
  return s + " }";
}

void Scope::add_typedef(const std::string &name, const CType *t) {
  if (const CType *old = find_typedef(name)) {
    if (old == t || same_shape(old, t)) return;
    if (typedefs_.count(name))
      throw DeclConflict("conflicting typedef '" + name + "': previously '" + spelled_out(old) +
                         "', now '" + spelled_out(t) + "'");
  }
  if (decls_.count(name))
    throw DeclConflict("'" + name + "' is already declared as '" + decls_[name].str() + "'");
  typedefs_[name] = t;
  typedef_order_.push_back(name);
}

void Scope::add_tag(Record *rec) {
  tags_[tag_key(rec->tag, rec->is_union, rec->is_enum)] = rec;
}

// Two declarations of one function are compatible when their types differ only in the
// top-level qualifiers of parameters (C11 6.7.6.3p15: `int f(const int)` and `int f(int)`,
// `void *memcpy(void *restrict, ...)` and `void *memcpy(void *, ...)` declare one function).
static bool same_declared_type(const CType *a, const CType *b) {
  if (a == b) return true;
  if (a->kind != Kind::Func || b->kind != Kind::Func || a->target != b->target ||
      a->variadic != b->variadic || a->params.size() != b->params.size())
    return false;
  TypeTable &T = TypeTable::get();
  for (size_t i = 0; i < a->params.size(); i++)
    if (T.unqualified(a->params[i]) != T.unqualified(b->params[i])) return false;
  return true;
}

void Scope::add_decl(Decl d) {
  auto it = decls_.find(d.name);
  if (it != decls_.end()) {
    if (same_declared_type(it->second.type, d.type) && it->second.kind == d.kind) {
      // Identical redeclaration; a later one may name parameters the first left unnamed.
      // The first spelling of the types stays.
      for (size_t i = 0; i < d.param_names.size() && i < it->second.param_names.size(); i++)
        if (it->second.param_names[i].empty()) it->second.param_names[i] = d.param_names[i];
      return;
    }
    throw DeclConflict("conflicting declaration of '" + d.name + "': previously '" +
                       it->second.str() + "', now '" + d.str() + "'");
  }
  if (typedefs_.count(d.name))
    throw DeclConflict("'" + d.name + "' is already declared as a typedef of '" +
                       typedefs_[d.name]->str() + "'");
  decl_order_.push_back(d.name);
  decls_.emplace(d.name, std::move(d));
}

// ---- constants ----------------------------------------------------------------------

std::string Constant::str() const {
  switch (kind) {
    case Int: return is_unsigned ? std::to_string(uint64_t(i)) : std::to_string(i);
    case Float: {
      char buf[40];
      snprintf(buf, sizeof buf, "%.17g", f);
      return buf;
    }
    case String: return "\"" + s + "\"";
  }
  return "?";
}

const Constant *Scope::find_constant(const std::string &name) const {
  for (const Scope *sc = this; sc; sc = sc->parent_) {
    auto it = sc->constants_.find(name);
    if (it != sc->constants_.end()) return &it->second;
  }
  return nullptr;
}

void Scope::add_constant(const std::string &name, Constant c) {
  auto it = constants_.find(name);
  if (it != constants_.end()) {
    const Constant &old = it->second;
    if (old == c) return;
    // The same text declared again: an anonymous enum is a new type each time it is parsed.
    auto anonymous_enum = [](const CType *t) {
      return t && t->kind == Kind::Enum && t->record->tag.empty();
    };
    if (old.kind == Constant::Int && c.kind == Constant::Int && old.i == c.i &&
        anonymous_enum(old.type) && anonymous_enum(c.type))
      return;
    std::string was = old.str(), now = c.str();
    if (was == now) {
      was += " of type '" + (old.type ? old.type->str() : std::string("?")) + "'";
      now += " of type '" + (c.type ? c.type->str() : std::string("?")) + "'";
    }
    throw DeclConflict("conflicting definition of '" + name + "': previously " + was + ", now " + now);
  }
  if (decls_.count(name) || typedefs_.count(name))
    throw DeclConflict("'" + name + "' is already declared");
  constants_.emplace(name, std::move(c));
  constant_order_.push_back(name);
}

std::vector<Record *> Scope::tags() const {
  std::vector<Record *> out;
  for (auto &kv : tags_) out.push_back(kv.second);
  return out;
}

}  // namespace ndffi
