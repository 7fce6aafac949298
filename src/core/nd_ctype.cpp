#include "nd_ctype.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>

namespace ndffi {

bool CType::is_complete() const {
  switch (kind) {
    case Kind::Void:
    case Kind::Func: return false;
    case Kind::Array: return length != kUnknownLength && target->is_complete();
    case Kind::Record:
    case Kind::Enum: return record->complete;
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

// A scalar, record or void type `t` with declarator `s`: "int x", "int *", but
// "double[16]" for an abstract array.
static std::string leaf_str(const CType *t, const std::string &s) {
  const std::string &name =
      t->record && t->record->tag.empty() && !t->record->typedef_name.empty() ? t->record->typedef_name : t->name;
  std::string base = qual_prefix(t->quals) + name;
  return s.empty() ? base : s[0] == '[' ? base + s : base + " " + s;
}

// C puts a declarator around the name: str() works from the outermost derivation
// inwards, prefixing '*' and appending "[n]" and "(params)".  A function's parameters
// are types printed the same way, and may hold functions in turn: they are printed with
// a stack of their own rather than by recursion, so that no depth of nesting can
// overflow the thread's stack.
std::string CType::str(const std::string &decl) const {
  if (kind != Kind::Pointer && kind != Kind::Array && kind != Kind::Func) return leaf_str(this, decl);
  struct Frame {
    const CType *t;
    std::string s;       // the declarator so far
    std::string params;  // the parameters printed so far, while t is a function
    size_t next = 0;     // the parameter being printed
  };
  std::vector<Frame> stack;
  stack.push_back({this, decl, {}, 0});
  std::string done;  // the last frame finished
  for (;;) {
    Frame &f = stack.back();
    const CType *t = f.t;
    if (t->kind == Kind::Pointer) {
      std::string q = qual_prefix(t->quals);
      if (!q.empty()) q.pop_back();
      f.s = "*" + q + (q.empty() || f.s.empty() ? "" : " ") + f.s;
      if (t->target->kind == Kind::Array || t->target->kind == Kind::Func) f.s = "(" + f.s + ")";
      f.t = t->target;
    } else if (t->kind == Kind::Array) {
      f.s += t->length == kUnknownLength ? "[]" : "[" + std::to_string(t->length) + "]";
      f.t = t->target;
    } else if (t->kind == Kind::Func && f.next < t->params.size()) {
      const CType *param = t->params[f.next];
      stack.push_back({param, {}, {}, 0});  // f is not used again before this is done
    } else if (t->kind == Kind::Func) {
      std::string &p = f.params;
      if (t->variadic) p += t->params.empty() ? "..." : ", ...";
      if (t->params.empty() && !t->variadic) p = "void";
      f.s += "(" + p + ")";
      f.t = t->target;
      f.params.clear();
      f.next = 0;
    } else {
      done = leaf_str(t, f.s);
      stack.pop_back();
      if (stack.empty()) return done;
      Frame &parent = stack.back();  // a function, printing its parameter `next`
      parent.params += (parent.next ? ", " : "") + done;
      parent.next++;
    }
  }
}

std::string Spelling::apply(const std::string &printed) const {
  if (from.empty() || printed.compare(0, from.size(), from) != 0) return printed;
  if (printed.size() == from.size()) return to;
  char next = printed[from.size()];
  if (from.back() == '*') return to + " " + printed.substr(from.size());  // "handle_t *h"
  if (next != ' ' && next != '[') return printed;                         // "int" is not the base of "int8_t"
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

std::string Decl::result_str() const { return result.apply(kind == Variable ? type->str() : type->target->str()); }

std::string Decl::str() const {
  if (kind == Variable) return spelled(result, type, name);
  // Print the parameter names inside the outermost function declarator.
  std::string p;
  for (size_t i = 0; i < type->params.size(); i++) {
    const std::string &n = i < param_names.size() ? param_names[i] : std::string();
    p += (i ? ", " : "") + spelled(i < params.size() ? params[i] : kAsPrinted, type->params[i], n);
    for (size_t a : assumed_const)
      if (a == i) p += " /* assumed const */";
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

// The key of a type: its fields' bytes, not formatted (interning runs for every type
// a declaration names).
const CType *TypeTable::intern(CType &&t) {
  struct Fields {
    int kind, quals, is_signed, variadic;
    size_t size, align, natural_align, length;
    const void *target, *record;
  } f{int(t.kind), t.quals, t.is_signed, t.variadic, t.size, t.align, t.natural_align, t.length, t.target, t.record};
  std::string key;
  key.reserve(sizeof f + t.name.size() + 1 + t.params.size() * sizeof(void *));
  key.append((const char *)&f, sizeof f).append(t.name).push_back('\0');
  for (const CType *p : t.params) key.append((const char *)&p, sizeof p);
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
                 : size == h.double_.size              ? h.double_.align
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

const CType *TypeTable::aligned(const CType *t, size_t align) {
  CType c = *t;
  if (!c.natural_align) c.natural_align = c.align;
  c.align = align;
  return intern(std::move(c));
}

const CType *TypeTable::pointer(const CType *target, uint8_t quals, const Target &abi) {
  CType t{Kind::Pointer};
  t.size = abi.pointer.size;
  t.align = abi.pointer.align;
  t.quals = quals;
  t.target = target;
  t.derived = uint32_t(std::min<size_t>(target->depth_through_reference() + 1, UINT32_MAX));
  return intern(std::move(t));
}

const CType *TypeTable::array(const CType *elem, size_t length) {
  CType t{Kind::Array};
  t.target = elem;
  t.length = length;
  t.align = elem->align;
  t.size = length == CType::kUnknownLength ? 0 : elem->size * length;
  t.quals = elem->quals;  // an array of const T is itself const
  t.derived = uint32_t(std::min<size_t>(elem->depth() + 1, UINT32_MAX));
  return intern(std::move(t));
}

const CType *TypeTable::func(const CType *result, const std::vector<const CType *> &params, bool variadic) {
  CType t{Kind::Func};
  t.target = result;
  t.params = params;
  t.variadic = variadic;
  size_t deepest = result->depth_through_reference();
  for (const CType *p : params) deepest = std::max(deepest, p->depth_through_reference());
  t.derived = uint32_t(std::min<size_t>(deepest, UINT32_MAX));
  return intern(std::move(t));
}

const CType *TypeTable::record(Record *rec, uint8_t quals) {
  CType t{rec->is_enum ? Kind::Enum : Kind::Record};
  t.record = rec;
  t.quals = quals;
  t.name = (rec->is_enum    ? "enum "
            : rec->is_union ? "union "
                            : "struct ") +
           (rec->tag.empty() ? std::string("<anonymous>") : rec->tag);
  // size/align are read through record (it completes later); see CType::is_complete.
  return intern(std::move(t));
}

static void add_named(const Record *rec, size_t base, std::vector<Record::Named> &out) {
  for (const Record::Field &f : rec->fields) {
    if (f.name.empty() && f.type->kind == Kind::Record) add_named(f.type->record, base + f.offset, out);
    else if (!f.name.empty()) out.push_back({&f, base + f.offset});
  }
}

void Record::index_named() {
  named.clear();
  add_named(this, 0, named);
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

const CType *TypeTable::complex(const CType *elem) {
  elem = unqualified(elem);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = complex_.find(elem);
    if (it != complex_.end()) return it->second;
  }
  Record *r = new_record("", false, false);
  r->typedef_name = elem->name + " _Complex";
  r->complex_of = elem;
  r->fields = {{"real", elem, 0}, {"imag", elem, elem->size}};
  r->index_named();
  r->size = 2 * elem->size;
  r->align = elem->align;
  r->depth = 1;
  r->complete = true;
  const CType *t = record(r);
  std::lock_guard<std::mutex> lock(mu_);
  return complex_.emplace(elem, t).first->second;  // a racing thread's record stays unused
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

}  // namespace ndffi
