// ndffi.CType: the Python face of a core type (size, kind, fields, dtype, ...).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "common.h"

namespace nb = nanobind;

namespace ndffi::py {

PyObject *ctype_object(const CType *t) { return nb::cast(CTypeRef{t}).release().ptr(); }

const CType *ctype_of(PyObject *o) {
  CTypeRef *r = nullptr;
  if (!nb::try_cast<CTypeRef *>(nb::handle(o), r) || !r) return nullptr;
  return r->type;
}

static std::string kind_name(Kind k) {
  switch (k) {
    case Kind::Void: return "void";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Pointer: return "pointer";
    case Kind::Array: return "array";
    case Kind::Record: return "struct";  // "union" is told apart by the caller
    case Kind::Enum: return "enum";
    case Kind::Func: return "function";
  }
  return "?";
}

void register_ctype(nb::module_ &m) {
  nb::class_<CTypeRef>(m, "CType", "A C type.")
      .def_prop_ro("size", [](const CTypeRef &r) { return r.type->byte_size(); })
      .def_prop_ro(
          "complete", [](const CTypeRef &r) { return r.type->is_complete(); },
          "Whether the type has a size: not void, a function, an array of unknown length, or a struct, union "
          "or enum declared without its body.")
      .def_prop_ro("alignment", [](const CTypeRef &r) { return r.type->alignment(); })
      .def_prop_ro("kind",
                   [](const CTypeRef &r) {
                     if (is_complex(r.type)) return std::string("complex");
                     return r.type->kind == Kind::Record && r.type->record->is_union ? std::string("union")
                                                                                     : kind_name(r.type->kind);
                   })
      .def_prop_ro(
          "fields",
          [](const CTypeRef &r) -> nb::object {
            if (r.type->kind != Kind::Record) return nb::none();
            nb::list out;
            for (const Record::Field &f : r.type->record->fields) {
              nb::object bits = f.bit_width >= 0 ? nb::object(nb::make_tuple(f.bit_offset, f.bit_width)) : nb::none();
              out.append(nb::make_tuple(f.name, nb::steal(ctype_object(f.type)), f.offset, bits));
            }
            return out;
          },
          "[(name, CType, offset, (bit_offset, bit_width) or None)] of a struct or union")
      .def_prop_ro(
          "enumerators",
          [](const CTypeRef &r) -> nb::object {
            if (r.type->kind != Kind::Enum) return nb::none();
            nb::list out;
            for (auto &e : r.type->record->enumerators) out.append(nb::make_tuple(e.first, e.second));
            return out;
          },
          "[(name, value)] of an enum")
      .def_prop_ro(
          "name",
          [](const CTypeRef &r) -> std::string {
            if (!r.type->record) return r.type->str();
            return r.type->record->tag.empty() ? r.type->record->typedef_name : r.type->record->tag;
          },
          "the tag (or typedef name) of a struct, union or enum; the spelling otherwise")
      .def("__call__",
           [](const CTypeRef &r, nb::args args, nb::kwargs kwargs) {
             if (r.type->kind != Kind::Record || is_complex(r.type))  // a complex value is a Python complex
               throw nb::type_error(("'" + r.type->str() +
                                     "' values are made with new(); only struct "
                                     "and union types are called")
                                        .c_str());
             PyObject *v = new_record_value(r.type, args.ptr(), kwargs.ptr());
             if (!v) throw nb::python_error();
             return nb::steal(v);
           })
      .def_prop_ro("cname", [](const CTypeRef &r) { return r.type->str(); })
      .def_prop_ro("is_const", [](const CTypeRef &r) { return r.type->is_const(); })
      .def_prop_ro(
          "item",
          [](const CTypeRef &r) -> nb::object {
            if (!r.type->target) return nb::none();
            return nb::steal(ctype_object(r.type->target));
          },
          "the pointee, element or result type")
      .def_prop_ro(
          "params",
          [](const CTypeRef &r) -> nb::object {
            if (r.type->kind != Kind::Func) return nb::none();
            nb::list l;
            for (const CType *p : r.type->params) l.append(nb::steal(ctype_object(p)));
            return nb::tuple(l);
          },
          "a function type's parameter types (None for other types)")
      .def_prop_ro("length",
                   [](const CTypeRef &r) -> nb::object {
                     if (r.type->kind != Kind::Array || r.type->length == CType::kUnknownLength) return nb::none();
                     return nb::int_(r.type->length);
                   })
      .def_prop_ro("dtype",
                   [](const CTypeRef &r) {
                     PyArray_Descr *d = dtype_of(r.type);
                     if (!d) throw nb::python_error();
                     return nb::steal((PyObject *)d);
                   })
      .def("__str__", [](const CTypeRef &r) { return r.type->str(); })
      .def("__repr__", [](const CTypeRef &r) { return "<ndffi.CType '" + r.type->str() + "'>"; })
      .def("__eq__",
           [](const CTypeRef &a, nb::handle b) {
             const CType *t = ctype_of(b.ptr());
             return t == a.type;
           })
      .def("__hash__", [](const CTypeRef &r) { return std::hash<const void *>()(r.type); });
}

}  // namespace ndffi::py
