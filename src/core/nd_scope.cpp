// Scopes of declarations: look-ups, the rules for declaring a name again, and the
// transactions that make a cdef call all or nothing.
#include <algorithm>

#include "nd_ctype.h"

namespace ndffi {

std::string Origin::str(uint32_t current) const {
  std::string s = "line " + std::to_string(line) + ", column " + std::to_string(column);
  if (call && call == current) s += " of this cdef call";
  else if (call) s += " of cdef call " + std::to_string(call);
  return s;
}

// The C and <stddef.h>/<stdint.h> type names of an ABI.  The fixed-width and
// <stddef.h> names map to the C type the ABI's headers give them, so that int64_t and
// long are one type where they are to the C compiler.
static Scope *make_builtins(Scope *sc) {
  const Target &abi = sc->target();
  auto t = [&](Scalar s) { return abi.type(s); };
  const Scalar sint64 = abi.int64, uint64 = Scalar(uint8_t(abi.int64) + 1);
  const Scalar sintmax = abi.intmax, uintmax = Scalar(uint8_t(abi.intmax) + 1);
  const Scalar ssize = abi.signed_size(), usize = abi.size;
  std::vector<std::pair<const char *, Scalar>> names = {{"int8_t", Scalar::SChar},
                                                        {"uint8_t", Scalar::UChar},
                                                        {"int16_t", Scalar::Short},
                                                        {"uint16_t", Scalar::UShort},
                                                        {"int32_t", Scalar::Int},
                                                        {"uint32_t", Scalar::UInt},
                                                        {"int64_t", sint64},
                                                        {"uint64_t", uint64},
                                                        {"size_t", usize},
                                                        {"ssize_t", ssize},
                                                        {"ptrdiff_t", ssize},
                                                        {"intptr_t", ssize},
                                                        {"uintptr_t", usize},
                                                        {"off_t", Scalar::Long},
                                                        {"wchar_t", abi.wchar},
                                                        {"int_least8_t", Scalar::SChar},
                                                        {"uint_least8_t", Scalar::UChar},
                                                        {"int_fast8_t", Scalar::SChar},
                                                        {"uint_fast8_t", Scalar::UChar},
                                                        {"intmax_t", sintmax},
                                                        {"uintmax_t", uintmax},
                                                        {"bool", Scalar::Bool}};
  if (sc->layout_only() && abi.has(Scalar::Int128)) {
    names.push_back({"__int128_t", Scalar::Int128});
    names.push_back({"__uint128_t", Scalar::UInt128});
  }
  for (auto &p : names) sc->add_typedef(p.first, t(p.second));
  return sc;
}

const Scope &Scope::builtins(const Target &abi, bool layout_only) {
  if (&abi == &host_target() && !layout_only) {
    static Scope *host = make_builtins(new Scope(abi, false));  // immortal, like the types
    return *host;
  }
  static std::mutex mu;
  static std::map<std::pair<const Target *, bool>, Scope *> made;
  std::lock_guard<std::mutex> lock(mu);
  Scope *&sc = made[{&abi, layout_only}];
  if (!sc) sc = make_builtins(new Scope(abi, layout_only));
  return *sc;
}

// ---- look-ups -------------------------------------------------------------------------

const CType *Scope::find_typedef(const std::string &name) const {
  for (const Scope *s = this; s; s = s->parent_) {
    auto it = s->typedefs_.find(name);
    if (it != s->typedefs_.end()) return it->second.type;
  }
  return nullptr;
}

static std::string tag_key(const std::string &tag, bool is_union, bool is_enum) {
  return (is_enum ? "enum " : is_union ? "union " : "struct ") + tag;
}

static std::string tag_key(const Record *rec) { return tag_key(rec->tag, rec->is_union, rec->is_enum); }

Record *Scope::find_own_tag(const std::string &tag, bool is_union, bool is_enum) const {
  auto it = tags_.find(tag_key(tag, is_union, is_enum));
  return it == tags_.end() ? nullptr : it->second.rec;
}

Record *Scope::find_tag(const std::string &tag, bool is_union, bool is_enum) const {
  for (const Scope *s = this; s; s = s->parent_)
    if (Record *r = s->find_own_tag(tag, is_union, is_enum)) return r;
  return nullptr;
}

const Decl *Scope::find_decl(const std::string &name) const {
  for (const Scope *s = this; s; s = s->parent_) {
    auto it = s->decls_.find(name);
    if (it != s->decls_.end()) return &it->second.decl;
  }
  return nullptr;
}

const Constant *Scope::find_constant(const std::string &name) const {
  for (const Scope *sc = this; sc; sc = sc->parent_) {
    auto it = sc->constants_.find(name);
    if (it != sc->constants_.end()) return &it->second.c;
  }
  return nullptr;
}

std::vector<Record *> Scope::tags() const {
  std::vector<Record *> out;
  for (auto &kv : tags_) out.push_back(kv.second.rec);
  return out;
}

const Scope::Definition *Scope::definition(const Record *rec) const {
  if (rec->tag.empty()) return nullptr;
  auto it = tags_.find(tag_key(rec));
  return it == tags_.end() || it->second.rec != rec || !it->second.def.origin ? nullptr : &it->second.def;
}

// ---- declaring ------------------------------------------------------------------------

// Two anonymous records are distinct types, but the same declaration text parsed twice
// (a cdef run again) makes two of the same shape: a typedef of either is one type.
bool same_shape(const CType *a, const CType *b) {
  for (;;) {  // along pointers and arrays
    if (a == b) return true;
    if (a->kind != b->kind || a->quals != b->quals) return false;
    if (a->kind == Kind::Array && a->length != b->length) return false;
    if (a->kind != Kind::Pointer && a->kind != Kind::Array) break;
    a = a->target, b = b->target;
  }
  if (a->kind == Kind::Func) {
    if (a->variadic != b->variadic || a->params.size() != b->params.size() || !same_shape(a->target, b->target))
      return false;
    for (size_t i = 0; i < a->params.size(); i++)
      if (!same_shape(a->params[i], b->params[i])) return false;
    return true;
  }
  if (a->kind != Kind::Record && a->kind != Kind::Enum) return false;
  const Record *x = a->record, *y = b->record;
  return x->tag.empty() && y->tag.empty() && record_difference(*x, *y).empty();
}

static std::string member_text(const Record::Field &f) {
  return f.type->str(f.name) + (f.bit_width >= 0 ? " : " + std::to_string(f.bit_width) : "");
}

std::string record_difference(const Record &was, const Record &now) {
  if (was.is_union != now.is_union || was.is_enum != now.is_enum)
    return std::string("it is a ") +
           (now.is_enum    ? "enum"
            : now.is_union ? "union"
                           : "struct") +
           ", was a " +
           (was.is_enum    ? "enum"
            : was.is_union ? "union"
                           : "struct");
  if (was.complete != now.complete) return now.complete ? "it is complete, was not" : "it is incomplete, was not";
  if (was.is_enum) {
    size_t n = std::min(was.enumerators.size(), now.enumerators.size());
    for (size_t i = 0; i < n; i++) {
      auto &a = was.enumerators[i], &b = now.enumerators[i];
      if (a.first != b.first)
        return "enumerator " + std::to_string(i + 1) + " is '" + b.first + "', was '" + a.first + "'";
      if (a.second != b.second)
        return "'" + a.first + "' is " + std::to_string(b.second) + ", was " + std::to_string(a.second);
    }
    if (now.enumerators.size() > n) return "enumerator '" + now.enumerators[n].first + "' is new";
    if (was.enumerators.size() > n) return "enumerator '" + was.enumerators[n].first + "' is missing";
    if (was.enum_base != now.enum_base)
      return "its integer type is '" + now.enum_base->str() + "', was '" + was.enum_base->str() + "'";
    return "";
  }
  auto which = [](const Record::Field &f, size_t i) {
    return f.name.empty() ? "member " + std::to_string(i + 1) : "member '" + f.name + "'";
  };
  size_t n = std::min(was.fields.size(), now.fields.size());
  for (size_t i = 0; i < n; i++) {
    const Record::Field &f = was.fields[i], &g = now.fields[i];
    if (f.name != g.name || f.bit_width != g.bit_width || !same_shape(f.type, g.type))
      return which(f, i) + " is '" + member_text(g) + "', was '" + member_text(f) + "'";
    if (f.offset != g.offset || f.bit_offset != g.bit_offset)
      return which(f, i) + " is at offset " + std::to_string(g.offset) + ", was at " + std::to_string(f.offset);
  }
  if (now.fields.size() > n) return which(now.fields[n], n) + " ('" + member_text(now.fields[n]) + "') is new";
  if (was.fields.size() > n) return which(was.fields[n], n) + " ('" + member_text(was.fields[n]) + "') is missing";
  if (was.size != now.size) return "its size is " + std::to_string(now.size) + ", was " + std::to_string(was.size);
  if (was.align != now.align)
    return "its alignment is " + std::to_string(now.align) + ", was " + std::to_string(was.align);
  if (was.required_align != now.required_align)
    return "its required alignment is " + std::to_string(now.required_align) + ", was " +
           std::to_string(was.required_align);
  return "";
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
    for (const Record::Field &f : r->fields) s += " " + member_text(f) + ";";
  }
  return s + " }";
}

void Scope::log(Undo::What what, const std::string &key, std::vector<std::string> names) {
  if (in_transaction_) undo_.push_back(Undo{what, key, std::move(names)});
}

void Scope::add_typedef(const std::string &name, const CType *t, Origin at) {
  if (const CType *old = find_typedef(name)) {
    if (old == t || same_shape(old, t)) return;
    auto it = typedefs_.find(name);
    if (it != typedefs_.end()) {
      std::string was = spelled_out(old), now = spelled_out(t), why;
      // Two anonymous records spelled alike differ in what the spelling leaves out
      // (an alignment Microsoft's rules keep under packing).
      if (was == now && old->record && t->record) why = " (" + record_difference(*old->record, *t->record) + ")";
      throw DeclConflict("conflicting typedef '" + name + "': previously '" + was + "', now '" + now + "'" + why,
                         it->second.origin);
    }
  }
  auto d = decls_.find(name);
  if (d != decls_.end())
    throw DeclConflict("'" + name + "' is already declared as '" + d->second.decl.str() + "'", d->second.origin);
  typedefs_.emplace(name, TypedefEntry{t, at});
  typedef_order_.push_back(name);
  log(Undo::Typedef, name);
}

void Scope::add_tag(Record *rec) {
  std::string key = tag_key(rec);
  if (tags_.emplace(key, TagEntry{rec, {}}).second) log(Undo::Tag, key);
}

void Scope::define_tag(Record *rec, Definition d) {
  std::string key = tag_key(rec);
  auto it = tags_.find(key);
  if (it == tags_.end() || it->second.rec != rec) return;  // not a tag of this scope
  bool first = !it->second.def.origin;
  it->second.def = d;
  if (first) log(Undo::Define, key);
}

// Two declarations of one function are compatible when their types differ only in the
// top-level qualifiers of parameters (C11 6.7.6.3p15: `int f(const int)` and `int f(int)`,
// `void *memcpy(void *restrict, ...)` and `void *memcpy(void *, ...)` declare one function).
static bool same_declared_type(const CType *a, const CType *b) {
  if (a == b) return true;
  if (a->kind != Kind::Func || b->kind != Kind::Func) return same_shape(a, b);
  if (a->variadic != b->variadic || a->params.size() != b->params.size() || !same_shape(a->target, b->target))
    return false;
  TypeTable &T = TypeTable::get();
  for (size_t i = 0; i < a->params.size(); i++)
    if (!same_shape(T.unqualified(a->params[i]), T.unqualified(b->params[i]))) return false;
  return true;
}

void Scope::add_decl(Decl d, Origin at) {
  auto it = decls_.find(d.name);
  if (it != decls_.end()) {
    Decl &old = it->second.decl;
    if (same_declared_type(old.type, d.type) && old.kind == d.kind) {
      // Identical redeclaration; a later one may name parameters the first left unnamed.
      // The first spelling of the types stays.
      size_t n = std::min(d.param_names.size(), old.param_names.size());
      for (size_t i = 0; i < n; i++) {
        if (!old.param_names[i].empty() || d.param_names[i].empty()) continue;
        log(Undo::ParamNames, d.name, old.param_names);
        for (size_t k = i; k < n; k++)
          if (old.param_names[k].empty()) old.param_names[k] = d.param_names[k];
        break;
      }
      return;
    }
    throw DeclConflict(
        "conflicting declaration of '" + d.name + "': previously '" + old.str() + "', now '" + d.str() + "'",
        it->second.origin);
  }
  auto td = typedefs_.find(d.name);
  if (td != typedefs_.end())
    throw DeclConflict("'" + d.name + "' is already declared as a typedef of '" + td->second.type->str() + "'",
                       td->second.origin);
  auto k = constants_.find(d.name);
  if (k != constants_.end())
    throw DeclConflict("'" + d.name + "' is already a constant (" + k->second.c.str() + ")", k->second.origin);
  decl_order_.push_back(d.name);
  log(Undo::Decl, d.name);
  std::string name = d.name;
  decls_.emplace(std::move(name), DeclEntry{std::move(d), at});
}

void Scope::add_constant(const std::string &name, Constant c, Origin at) {
  auto it = constants_.find(name);
  if (it != constants_.end()) {
    const Constant &old = it->second.c;
    if (old == c) return;
    // The same text declared again: an anonymous enum is a new type each time it is parsed.
    auto anonymous_enum = [](const CType *t) { return t && t->kind == Kind::Enum && t->record->tag.empty(); };
    if (old.kind == Constant::Int && c.kind == Constant::Int && old.i == c.i && anonymous_enum(old.type) &&
        anonymous_enum(c.type))
      return;
    std::string was = old.str(), now = c.str();
    if (was == now) {
      was += " of type '" + (old.type ? old.type->str() : std::string("?")) + "'";
      now += " of type '" + (c.type ? c.type->str() : std::string("?")) + "'";
    }
    throw DeclConflict("conflicting definition of '" + name + "': previously " + was + ", now " + now,
                       it->second.origin);
  }
  auto d = decls_.find(name);
  if (d != decls_.end()) throw DeclConflict("'" + name + "' is already declared", d->second.origin);
  auto td = typedefs_.find(name);
  if (td != typedefs_.end()) throw DeclConflict("'" + name + "' is already declared", td->second.origin);
  constants_.emplace(name, ConstantEntry{std::move(c), at});
  constant_order_.push_back(name);
  log(Undo::Constant, name);
}

// ---- transactions ---------------------------------------------------------------------

uint32_t Scope::begin() {
  undo_.clear();
  in_transaction_ = true;
  return ++calls_;
}

void Scope::commit() {
  in_transaction_ = false;
  if (undo_.capacity() > 4096) std::vector<Undo>().swap(undo_);  // a large cdef's log
  else undo_.clear();
}

static void uncomplete(Record *r) {
  r->complete = false;
  r->named.clear();
  r->fields.clear();
  r->enumerators.clear();
  r->enum_base = nullptr;
  r->size = 0;
  r->align = 1;
  r->required_align = 0;
  r->depth = 0;
}

void Scope::roll_back() {
  for (auto u = undo_.rbegin(); u != undo_.rend(); ++u) {
    switch (u->what) {
      case Undo::Typedef:
        typedefs_.erase(u->key);
        typedef_order_.pop_back();
        break;
      case Undo::Tag: tags_.erase(u->key); break;
      case Undo::Decl:
        decls_.erase(u->key);
        decl_order_.pop_back();
        break;
      case Undo::Constant:
        constants_.erase(u->key);
        constant_order_.pop_back();
        break;
      case Undo::ParamNames: decls_.at(u->key).decl.param_names = std::move(u->param_names); break;
      case Undo::Define: {
        TagEntry &e = tags_.at(u->key);
        e.def = {};
        uncomplete(e.rec);
        break;
      }
    }
  }
  in_transaction_ = false;
  undo_.clear();
}

}  // namespace ndffi
