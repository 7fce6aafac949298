// ndffi.layout(): the sizes, alignments and member offsets an ABI gives declarations, as
// a dict of plain values (the JSON `ndffi layout` prints).  The declarations are parsed
// into a scope of that ABI's types (nd_target.h) that is only laid out, never called.
#include <algorithm>
#include <stdexcept>
#include <string>

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "common.h"
#include "nd_layout.h"
#include "nd_target.h"

namespace nb = nanobind;

namespace ndffi::py {

namespace {

nb::dict size_align(size_t size, size_t align) {
  nb::dict d;
  d["size"] = size;
  d["align"] = align;
  return d;
}

nb::dict scalar_entry(const Target &abi, Scalar s) {
  nb::dict d = size_align(abi[s].size, abi[s].align);
  d["signed"] = abi.is_signed(s);
  return d;
}

nb::dict scalars(const Target &abi) {
  nb::dict out;
  for (size_t i = 0; i < kScalars; i++) {
    Scalar s = Scalar(i);
    if (!abi.has(s)) continue;
    nb::dict d = scalar_entry(abi, s);
    if (s == Scalar::LongDouble) d["format"] = abi.long_double_format;
    out[scalar_name(s)] = d;
  }
  // The standard typedefs, with the type each names.
  auto named = [&](const char *name, Scalar s) {
    nb::dict d = scalar_entry(abi, s);
    d["type"] = scalar_name(s);
    out[name] = d;
  };
  named("wchar_t", abi.wchar);
  named("size_t", abi.size);
  named("ptrdiff_t", abi.signed_size());
  named("intptr_t", abi.signed_size());
  named("uintptr_t", abi.size);
  named("int64_t", abi.int64);
  named("uint64_t", Scalar(uint8_t(abi.int64) + 1));
  named("intmax_t", abi.intmax);
  named("uintmax_t", Scalar(uint8_t(abi.intmax) + 1));
  out["max_align_t"] = size_align(abi.max_align_t.size, abi.max_align_t.align);
  return out;
}

struct Report {
  nb::dict types;

  // The members of `rec` at `base` bytes into the record being reported, anonymous
  // members flattened; a member whose type is an anonymous record gets an entry of its
  // own, named after the member ("struct s.inner").
  void fields(const Record *rec, size_t base, const std::string &owner, nb::list &out) {
    for (const Record::Field &f : rec->fields) {
      if (f.name.empty()) {
        if (f.bit_width < 0 && f.type->kind == Kind::Record) fields(f.type->record, base + f.offset, owner, out);
        continue;  // an unnamed bit-field
      }
      nb::dict d;
      d["name"] = f.name;
      d["offset"] = base + f.offset;
      if (f.bit_width >= 0) {
        d["bit_offset"] = 8 * (base + f.offset) + size_t(f.bit_offset);
        d["bit_width"] = f.bit_width;
      }
      std::string type = f.type->str();
      if (const Record *r = layout::member_record(f.type)) {
        if (r->tag.empty() && r->typedef_name.empty()) {  // struct { ... } inner: "struct s.inner"
          std::string key = owner + "." + f.name, anon = TypeTable::get().record(const_cast<Record *>(r))->str();
          type = key + type.substr(std::min(type.size(), anon.size()));
          add(r, key);
        }
      }
      d["type"] = type;
      out.append(d);
    }
  }

  void add(const Record *rec, const std::string &key) {
    if (!rec->complete || types.contains(key.c_str())) return;
    nb::dict d = size_align(rec->size, rec->align);
    if (rec->is_enum) {
      d["underlying"] = rec->enum_base->name;
      nb::dict values;
      for (auto &e : rec->enumerators) values[e.first.c_str()] = e.second;
      d["enumerators"] = values;
    } else {
      nb::list out;
      types[key.c_str()] = d;  // first, so that the entries of its members follow it
      fields(rec, 0, key, out);
      d["fields"] = out;
    }
    types[key.c_str()] = d;
  }

  void add_typedef(const std::string &name, const CType *t) {
    if (!t->is_complete()) return;
    if (t->record) {  // a struct, union or enum, reported under its own name too
      std::string key = TypeTable::get().record(t->record)->str();
      add(t->record, key);
      if (key != name) types[name.c_str()] = types[key.c_str()];
      return;
    }
    nb::dict d = size_align(t->byte_size(), t->alignment());
    d["type"] = t->str();
    types[name.c_str()] = d;
  }
};

const Target &target_named(const std::string &name) {
  if (const Target *t = find_target(name)) return *t;
  std::string known;
  for (const Target *t : all_targets()) known += std::string(known.empty() ? "" : ", ") + t->name;
  throw nb::value_error(("layout(): unknown ABI '" + name + "'; known: " + known).c_str());
}

nb::dict layout(const std::string &text, const nb::object &abi_name) {
  const Target &abi = abi_name.is_none() ? host_target() : target_named(nb::cast<std::string>(abi_name));
  Scope scope(&Scope::builtins(abi, /*layout_only=*/true));
  try {
    cdef(scope, text);
  } catch (const CDefError &e) { raise_cdef(e); }
  Report r;
  std::vector<std::pair<std::string, Record *>> tags;  // by name: the scope keeps no order
  for (Record *rec : scope.tags()) tags.push_back({TypeTable::get().record(rec)->str(), rec});
  std::sort(tags.begin(), tags.end());
  for (auto &[key, rec] : tags) r.add(rec, key);
  for (const std::string &name : scope.typedef_names()) r.add_typedef(name, scope.find_typedef(name));
  nb::dict out;
  out["abi"] = abi.name;
  out["scalars"] = scalars(abi);
  out["types"] = r.types;
  return out;
}

}  // namespace

void register_layout(nb::module_ &m) {
  m.def("_layout", &layout, nb::arg("text"), nb::arg("abi").none() = nb::none(),
        "The layout report of C declarations on an ABI (None: the host's).");
  m.def(
      "_abis",
      [] {
        nb::dict d;
        for (const Target *t : all_targets()) d[t->name] = t->triple;
        return d;
      },
      "{name: clang target triple} of the ABIs layout() knows.");
  m.def("_host_abi", [] { return std::string(host_target().name); });
}

}  // namespace ndffi::py
