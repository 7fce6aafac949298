// The _ndffi extension module: namespaces, types, libraries, new/cast, errno.
#define NDFFI_IMPORT_ARRAY
#include <cstring>

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/stl/optional.h>

#include "callback.h"
#include "common.h"
#include "nd_clib.h"
#include "nd_limits.h"

namespace nb = nanobind;

namespace ndffi::py {

int register_ufunc(PyObject *module);   // ufunc.cpp
void register_layout(nb::module_ &m);   // layout.cpp
PyObject *CDefErrorType = nullptr;
int get_saved_errno();
void set_saved_errno(int v);

PyObject *ctype_object(const CType *t) { return nb::cast(CTypeRef{t}).release().ptr(); }

const CType *ctype_of(PyObject *o) {
  CTypeRef *r = nullptr;
  if (!nb::try_cast<CTypeRef *>(nb::handle(o), r) || !r) return nullptr;
  return r->type;
}

[[noreturn]] void raise_cdef(const CDefError &e) {
  PyObject *exc = PyObject_CallFunction(CDefErrorType, "s", e.what());
  if (exc) {
    PyObject_SetAttrString(exc, "line", PyLong_FromLong(e.line));
    PyObject_SetAttrString(exc, "column", PyLong_FromLong(e.column));
    PyObject *tok = PyUnicode_DecodeUTF8(e.token.data(), Py_ssize_t(e.token.size()), "replace");
    PyObject_SetAttrString(exc, "text", tok);
    Py_XDECREF(tok);
    // A conflicting redeclaration: (line, column, cdef call) of the earlier declaration.
    PyObject *previous = e.previous ? Py_BuildValue("(III)", e.previous.line, e.previous.column, e.previous.call)
                                    : Py_NewRef(Py_None);
    PyObject_SetAttrString(exc, "previous", previous);
    Py_XDECREF(previous);
    PyErr_SetObject(CDefErrorType, exc);
    Py_DECREF(exc);
  }
  throw nb::python_error();
}

static const CType *parse_or_raise(const Scope &scope, const std::string &text) {
  try {
    return parse_type(scope, text);
  } catch (const CDefError &e) {
    raise_cdef(e);
  }
}

// ---- library handles ----------------------------------------------------------------

static SharedLib *open_handle(std::optional<std::string> path, bool global) {
  try {
    return new SharedLib(open_library(path, global));
  } catch (const LoadError &e) {
    PyErr_SetString(PyExc_OSError, e.what());
    throw nb::python_error();
  }
}

// ---- new and cast -------------------------------------------------------------------

static nb::object new_memory(const Scope &scope, const std::string &text, nb::handle init) {
  const CType *t = parse_or_raise(scope, text);
  const CType *elem;
  Py_ssize_t n = 1;
  if (t->kind == Kind::Pointer) {
    elem = t->target;
  } else if (t->kind == Kind::Array) {
    elem = t->target;
    if (t->length != CType::kUnknownLength) {
      n = Py_ssize_t(t->length);
    } else if (PyLong_Check(init.ptr())) {
      n = PyLong_AsSsize_t(init.ptr());
      if (n < 0) throw nb::value_error("new(): the array length must be >= 0");
      init = nb::none();
    } else if (init.is_valid() && !init.is_none() && PySequence_Check(init.ptr())) {
      n = PySequence_Size(init.ptr()) + (PyBytes_Check(init.ptr()) ? 1 : 0);
    } else {
      throw nb::type_error(("new('" + text + "') needs a length or an initializer").c_str());
    }
  } else {
    throw nb::type_error(("new() takes a pointer or array type such as 'int *' or 'double[16]', got '" +
                          text + "'").c_str());
  }
  if (elem->kind == Kind::Void || elem->kind == Kind::Func || !elem->is_complete())
    throw nb::type_error(("new(): '" + elem->str() + "' is incomplete; its size is unknown").c_str());
  size_t size = elem->byte_size();
  if (size && size_t(n) > size_t(PY_SSIZE_T_MAX) / size)
    throw nb::value_error(("new('" + text + "'): " + std::to_string(n) + " elements of " +
                           std::to_string(size) + " bytes overflow the address space").c_str());
  void *mem = alloc_aligned(n ? size_t(n) * size : size, elem->alignment());
  if (!mem) throw std::bad_alloc();
  const CType *ptype = TypeTable::get().pointer(elem);
  nb::object p = nb::steal(make_pointer(mem, ptype, nullptr, n));
  if (!p.is_valid()) {
    free_aligned(mem);
    throw nb::python_error();
  }
  ((PointerObject *)p.ptr())->owns_memory = true;
  if (!init.is_valid() || init.is_none()) return p;
  bool is_char = elem->kind == Kind::Int && elem->size == 1;
  if (is_char && PyBytes_Check(init.ptr())) {
    Py_ssize_t len = PyBytes_GET_SIZE(init.ptr());
    if (len > n) throw nb::index_error("new(): the initializer is longer than the array");
    memcpy(mem, PyBytes_AS_STRING(init.ptr()), size_t(len));
    return p;
  }
  Where w{nullptr, -1, "new() initializer"};
  w.home = p.ptr();   // the new memory keeps what the pointers stored into it point to
  if (t->kind == Kind::Array && (PyBytes_Check(init.ptr()) || PyByteArray_Check(init.ptr())) && !is_char)
    throw nb::type_error(("new() initializer: expected a list of values for '" + t->str() +
                          "', got " + Py_TYPE(init.ptr())->tp_name +
                          " (bytes initialize arrays of 1-byte integers)").c_str());
  if (t->kind == Kind::Array && PySequence_Check(init.ptr()) && !PyUnicode_Check(init.ptr())) {
    // A snapshot: an item's __index__ may change the list.
    nb::object items = nb::steal(snapshot(init.ptr()));
    if (!items.is_valid()) throw nb::python_error();
    Py_ssize_t len = PyTuple_GET_SIZE(items.ptr());
    if (len > n)
      throw nb::index_error(("new(): " + std::to_string(len) + " initializers for " +
                             std::to_string(n) + " elements").c_str());
    for (Py_ssize_t i = 0; i < len; i++)
      if (!store_c(elem, (char *)mem + size_t(i) * size, PyTuple_GET_ITEM(items.ptr(), i), w))
        throw nb::python_error();
    return p;
  }
  if (!store_c(elem, mem, init.ptr(), w)) throw nb::python_error();
  return p;
}

// A Callback or a C function as a pointer to a function of its type (checked as a
// function-pointer argument is) or as 'void *'; the Pointer keeps the object alive.
static nb::object cast_function(const CType *t, const std::string &text, PyObject *o) {
  Where w{nullptr, -1, "cast()"};
  alignas(8) unsigned char bits[8] = {0};
  if (t->target->kind == Kind::Func) {
    Holds holds;
    if (funcptr_from_python(arg_spec(t), o, bits, holds, w) != 1) throw nb::python_error();
  } else if (t->target->kind == Kind::Void) {
    if (Py_TYPE(o) == &FunctionType) {
      memcpy(bits, &((FunctionObject *)o)->plan->fn, 8);
    } else {
      auto *cb = (CallbackObject *)o;
      if (cb->released)
        throw nb::value_error("cast(): the callback was released; C must not call it any more");
      memcpy(bits, &cb->closure->code, 8);
    }
  } else {
    throw nb::type_error(("cast('" + text + "', ...): a " + describe(o) + " is code, castable to a "
                          "function pointer type or 'void *'").c_str());
  }
  void *addr;
  memcpy(&addr, bits, 8);
  // code, not data: nothing to index or write through it
  return nb::steal(make_pointer_in(addr, t, o, Span{(char *)addr, (char *)addr, true, true}));
}

// cast() to a pointer type.  A Pointer made from an object of known memory keeps the
// object (a buffer through an export of it, which it then cannot resize or close), its
// bound and its read-only-ness; an int is a raw address, unbounded.
static PyObject *cast_pointer(const CType *t, const std::string &text, PyObject *o) {
  if (o == Py_None) return make_pointer(nullptr, t, nullptr);
  if (PyLong_Check(o)) {
    void *addr = PyLong_AsVoidPtr(o);
    if (!addr && PyErr_Occurred()) return nullptr;
    return make_pointer(addr, t, nullptr);
  }
  if (PyArray_IsScalar(o, Generic) || (PyArray_Check(o) && PyArray_NDIM((PyArrayObject *)o) == 0)) {
    PyErr_Format(PyExc_TypeError,
                 "cast('%s', ...): expected an int address, a Pointer, an array or None, got %s: a "
                 "number is not a pointer; pass np.array([x]) for a pointer to one value (int(x) "
                 "for an address)", text.c_str(), describe(o).c_str());
    return nullptr;
  }
  if (is_pointer(o) && ((PointerObject *)o)->type->target->kind == Kind::Func) {
    auto *p = (PointerObject *)o;   // code, not data: nothing to index or write
    return make_pointer_in(p->addr, t, home_of(o), Span{(char *)p->addr, (char *)p->addr, true, true});
  }
  if (is_callback(o) || Py_TYPE(o) == &FunctionType) return cast_function(t, text, o).release().ptr();
  std::string where = "cast('" + text + "', ...)";
  nb::object view;   // an array by protocol, as a NumPy view of its memory
  if (!is_pointer(o) && !is_record(o) && !PyArray_Check(o) && !PyObject_CheckBuffer(o)) {
    view = nb::steal((PyObject *)as_array_view(o));
    if (!view.is_valid()) {
      if (PyErr_Occurred()) return protocol_failed(where, o), nullptr;
      const char *hint = PyCallable_Check(o) ? " (a Python function is not C code: make it one with "
                                               "ndffi.callback(\"sig\", f) and cast that)" : "";
      PyErr_Format(PyExc_TypeError, "%s: expected an int address, a Pointer, an array, a Callback or "
                   "None, got %s%s", where.c_str(), describe(o).c_str(), hint);
      return nullptr;
    }
    o = view.ptr();
  }
  PyObject *owner;
  Span span;
  if (!memory_of(o, &owner, &span) && PyErr_ExceptionMatches(PyExc_BufferError) && !PyArray_Check(o)) {
    // A strided buffer (memoryview(b)[::2]) has no simple buffer: as a NumPy view of it,
    // its Pointer is a strided array's, which C indexes with the strides it is told.
    PyErr_Clear();
    view = nb::steal(PyArray_FromAny(o, nullptr, 0, 0, 0, nullptr));
    if (view.is_valid()) o = view.ptr();
    if (!view.is_valid() || !memory_of(o, &owner, &span)) return name_failure(where), nullptr;
  } else if (PyErr_Occurred()) {
    return name_failure(where), nullptr;
  }
  void *addr = is_pointer(o)  ? ((PointerObject *)o)->addr
             : is_record(o)   ? (void *)((RecordObject *)o)->data
             : PyArray_Check(o) ? PyArray_DATA((PyArrayObject *)o)
                              : span.lo;
  PyObject *r = make_pointer_in(addr, t, owner, span);
  Py_DECREF(owner);
  return r;
}

static nb::object cast_value(const Scope &scope, const std::string &text, nb::handle v) {
  const CType *t = parse_or_raise(scope, text);
  PyObject *o = v.ptr();
  if (is_value(o)) o = ((ValueObject *)o)->value;
  if (t->kind == Kind::Pointer) return nb::steal(cast_pointer(t, text, o));
  if (!t->is_arith())
    throw nb::type_error(("cast(): cannot cast to '" + text + "'").c_str());
  auto *val = PyObject_New(ValueObject, &ValueType);
  if (!val) throw nb::python_error();
  val->type = t;
  val->value = nullptr;
  nb::object result = nb::steal((PyObject *)val);
  if (t->kind == Kind::Float) {
    // Out of the type's range is an OverflowError; a long double keeps all its digits.
    Where w{nullptr, -1, "cast()"};
    long double v;
    alignas(16) unsigned char bits[16] = {0};
    if (!real_value(o, &v, t->size > 8, "'" + text + "'", w) || !store_real(v, unsigned(t->size), bits, w))
      throw nb::python_error();
    if (t->size == 4) {
      float f;
      memcpy(&f, bits, 4);
      val->value = PyFloat_FromDouble(f);
    } else if (t->size == 8) {
      double d;
      memcpy(&d, bits, 8);
      val->value = PyFloat_FromDouble(d);
    } else {
      val->value = longdouble_object(v);
    }
  } else {
    // C semantics: the value modulo 2**bits, reinterpreted as the target's signedness.
    PyObject *n = is_pointer(o) ? PyLong_FromVoidPtr(((PointerObject *)o)->addr) : PyNumber_Index(o);
    if (!n) throw nb::python_error();
    unsigned long long bits = PyLong_AsUnsignedLongLongMask(n);
    Py_DECREF(n);
    if (bits == (unsigned long long)-1 && PyErr_Occurred()) throw nb::python_error();
    ArgSpec a;
    try {
      a = arg_spec(t);   // an incomplete enum has no integer type to convert to
    } catch (const UnsupportedType &e) {
      throw nb::type_error(("cast(): " + std::string(e.what())).c_str());
    }
    val->value = a.conv == Conv::Bool ? PyBool_FromLong(bits != 0)
               : a.conv == Conv::SInt ? PyLong_FromLongLong(extend_signed(bits, a.size))
                                      : PyLong_FromUnsignedLongLong(extend_unsigned(bits, a.size));
  }
  if (!val->value) throw nb::python_error();
  return result;
}

// The declaration of a function whose named pointer parameters point to const: the
// promise assume_const() makes for a header that is not const-correct.
static Decl with_const_params(const Decl &d, const std::vector<std::string> &names) {
  Decl out = d;
  TypeTable &T = TypeTable::get();
  std::vector<const CType *> params = d.type->params;
  for (const std::string &n : names) {
    size_t i = 0;
    while (i < d.param_names.size() && d.param_names[i] != n) i++;
    if (n.empty() || i >= params.size()) {
      std::string all;
      for (const std::string &p : d.param_names) all += (all.empty() ? "" : ", ") + (p.empty() ? "<unnamed>" : p);
      throw nb::value_error((d.name + "(): assume_const(): no parameter named '" + n + "'; its parameters: " +
                             (all.empty() ? "none" : all)).c_str());
    }
    const CType *p = params[i];
    if (p->kind != Kind::Pointer)
      throw nb::type_error((d.name + "(): assume_const(): parameter '" + n + "' is '" + p->str() +
                            "', not a pointer: only what a pointer points to can be const").c_str());
    if (p->target->is_const())
      throw nb::value_error((d.name + "(): assume_const(): parameter '" + n + "' is already '" +
                             p->str() + "'").c_str());
    params[i] = T.pointer(T.qualified(p->target, uint8_t(p->target->quals | QConst)), p->quals);
    if (i < out.params.size() && !out.params[i].from.empty())
      out.params[i] = Spelling{"const " + out.params[i].from, "const " + out.params[i].to};
    out.assumed_const.push_back(i);
  }
  out.type = T.func(d.type->target, params, d.type->variadic);
  return out;
}

static std::string kind_name(Kind k) {
  switch (k) {
    case Kind::Void: return "void";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Pointer: return "pointer";
    case Kind::Array: return "array";
    case Kind::Record: return "struct";   // "union" is told apart by the caller
    case Kind::Enum: return "enum";
    case Kind::Func: return "function";
  }
  return "?";
}

}  // namespace ndffi::py

using namespace ndffi;
using namespace ndffi::py;

NB_MODULE(_ndffi, m) {
  if (_import_array() < 0) throw nb::python_error();
  // Namespaces and library handles may live until the interpreter's end (module-level
  // caches); that is not a leak, and leaks are measured by the suite, not at exit.
  nb::set_leak_warnings(false);
  for (PyTypeObject *t : {&PointerType, &ValueType, &FunctionType, &RecordType, &CallbackType}) {
    if (PyType_Ready(t) < 0) throw nb::python_error();
    Py_INCREF(t);
    const char *dot = strrchr(t->tp_name, '.');
    m.attr(dot + 1) = nb::handle((PyObject *)t);
  }
  CDefErrorType = PyErr_NewExceptionWithDoc(
      "ndffi.CDefError",
      "A C declaration could not be parsed; .line, .column and .text say where.  For a "
      "redeclaration that conflicts with an earlier one, .previous is (line, column, cdef call) "
      "of the earlier one (the library's cdef calls count from 1), else None.",
      PyExc_ValueError, nullptr);
  m.attr("CDefError") = nb::handle(CDefErrorType);
  // How deeply declarations may nest and types may be (nd_limits.h).
  m.attr("MAX_NESTING") = kMaxNesting;
  m.attr("MAX_TYPE_DEPTH") = kMaxTypeDepth;

  nb::class_<CTypeRef>(m, "CType", "A C type.")
      .def_prop_ro("size", [](const CTypeRef &r) { return r.type->byte_size(); })
      .def_prop_ro("alignment", [](const CTypeRef &r) { return r.type->alignment(); })
      .def_prop_ro("kind", [](const CTypeRef &r) {
        return r.type->kind == Kind::Record && r.type->record->is_union ? std::string("union")
                                                                        : kind_name(r.type->kind);
      })
      .def_prop_ro("fields", [](const CTypeRef &r) -> nb::object {
        if (r.type->kind != Kind::Record) return nb::none();
        nb::list out;
        for (const Record::Field &f : r.type->record->fields) {
          nb::object bits = f.bit_width >= 0 ? nb::object(nb::make_tuple(f.bit_offset, f.bit_width)) : nb::none();
          out.append(nb::make_tuple(f.name, nb::steal(ctype_object(f.type)), f.offset, bits));
        }
        return out;
      }, "[(name, CType, offset, (bit_offset, bit_width) or None)] of a struct or union")
      .def_prop_ro("enumerators", [](const CTypeRef &r) -> nb::object {
        if (r.type->kind != Kind::Enum) return nb::none();
        nb::list out;
        for (auto &e : r.type->record->enumerators) out.append(nb::make_tuple(e.first, e.second));
        return out;
      }, "[(name, value)] of an enum")
      .def_prop_ro("name", [](const CTypeRef &r) -> std::string {
        if (!r.type->record) return r.type->str();
        return r.type->record->tag.empty() ? r.type->record->typedef_name : r.type->record->tag;
      }, "the tag (or typedef name) of a struct, union or enum; the spelling otherwise")
      .def("__call__", [](const CTypeRef &r, nb::args args, nb::kwargs kwargs) {
        if (r.type->kind != Kind::Record)
          throw nb::type_error(("'" + r.type->str() + "' values are made with new(); only struct "
                                "and union types are called").c_str());
        PyObject *v = new_record_value(r.type, args.ptr(), kwargs.ptr());
        if (!v) throw nb::python_error();
        return nb::steal(v);
      })
      .def_prop_ro("cname", [](const CTypeRef &r) { return r.type->str(); })
      .def_prop_ro("is_const", [](const CTypeRef &r) { return r.type->is_const(); })
      .def_prop_ro("item", [](const CTypeRef &r) -> nb::object {
        if (!r.type->target) return nb::none();
        return nb::steal(ctype_object(r.type->target));
      }, "the pointee, element or result type")
      .def_prop_ro("params", [](const CTypeRef &r) -> nb::object {
        if (r.type->kind != Kind::Func) return nb::none();
        nb::list l;
        for (const CType *p : r.type->params) l.append(nb::steal(ctype_object(p)));
        return nb::tuple(l);
      }, "a function type's parameter types (None for other types)")
      .def_prop_ro("length", [](const CTypeRef &r) -> nb::object {
        if (r.type->kind != Kind::Array || r.type->length == CType::kUnknownLength) return nb::none();
        return nb::int_(r.type->length);
      })
      .def_prop_ro("dtype", [](const CTypeRef &r) {
        PyArray_Descr *d = dtype_of(r.type);
        if (!d) throw nb::python_error();
        return nb::steal((PyObject *)d);
      })
      .def("__str__", [](const CTypeRef &r) { return r.type->str(); })
      .def("__repr__", [](const CTypeRef &r) { return "<ndffi.CType '" + r.type->str() + "'>"; })
      .def("__eq__", [](const CTypeRef &a, nb::handle b) {
        const CType *t = ctype_of(b.ptr());
        return t == a.type;
      })
      .def("__hash__", [](const CTypeRef &r) { return std::hash<const void *>()(r.type); });

  nb::class_<SharedLib>(m, "Handle", "An open shared library.")
      .def_ro("path", &SharedLib::path)
      .def("symbol", &find_symbol, "The address of an exported symbol, or None.");
  m.def("dlopen", &open_handle, nb::arg("path").none(), nb::arg("global_") = false,
        nb::rv_policy::take_ownership);

  nb::class_<Namespace>(m, "Namespace", "A scope of C declarations.")
      .def(nb::init<>())
      .def("cdef", [](Namespace &ns, const std::string &text) {
        size_t before = ns.scope.decl_names().size();
        try {
          cdef(ns.scope, text);
        } catch (const CDefError &e) {
          raise_cdef(e);
        }
        const auto &names = ns.scope.decl_names();
        return std::vector<std::string>(names.begin() + long(before), names.end());
      }, "Parse declarations; returns the names of the functions and variables it added.")
      .def("names", [](const Namespace &ns) { return ns.scope.decl_names(); })
      .def("typedef_names", [](const Namespace &ns) { return ns.scope.typedef_names(); })
      .def("decl", [](const Namespace &ns, const std::string &name) -> nb::object {
        const Decl *d = ns.scope.find_decl(name);
        if (!d) return nb::none();
        return nb::make_tuple(d->kind == Decl::Function ? "function" : "variable", d->str(),
                              nb::steal(ctype_object(d->type)));
      })
      .def("typedef", [](const Namespace &ns, const std::string &name) -> nb::object {
        const CType *t = ns.scope.find_typedef(name);
        if (!t) return nb::none();
        return nb::steal(ctype_object(t));
      })
      .def("constant", [](const Namespace &ns, const std::string &name) -> nb::object {
        const Constant *c = ns.scope.find_constant(name);
        if (!c) return nb::none();
        nb::object v;
        if (c->kind == Constant::Int) v = nb::steal(c->is_unsigned ? PyLong_FromUnsignedLongLong(uint64_t(c->i))
                                                                  : PyLong_FromLongLong(c->i));
        else if (c->kind == Constant::Float) v = nb::float_(c->f);
        else v = nb::steal(PyUnicode_DecodeUTF8(c->s.data(), Py_ssize_t(c->s.size()), "surrogateescape"));
        return nb::make_tuple(v, nb::steal(ctype_object(c->type)));
      }, "(value, CType) of a #define or enumerator, or None")
      .def("variable", [](const Namespace &ns, const std::string &name, uintptr_t address,
                          nb::handle keepalive) {
        const Decl *d = ns.scope.find_decl(name);
        if (!d || d->kind != Decl::Variable) throw nb::key_error(name.c_str());
        const CType *t = d->type;
        TypeTable &T = TypeTable::get();
        // A global lives as long as the process (libraries are never closed): so do the
        // owners of the pointers stored into it, until they are overwritten.
        static PyObject *statics = make_pointer(nullptr, T.pointer(T.void_type()), nullptr);
        PyObject *p = t->kind == Kind::Array && t->length != CType::kUnknownLength
                          ? make_pointer((void *)address, T.pointer(t->target), statics, Py_ssize_t(t->length))
                          : make_pointer((void *)address, T.pointer(t), statics, 1);
        if (!p) throw nb::python_error();
        // A function pointer read from it keeps the library (keepalive) alive.
        if (!keepalive.is_none()) ((PointerObject *)p)->owner = keepalive.inc_ref().ptr();
        return nb::steal(p);
      }, nb::arg("name"), nb::arg("address"), nb::arg("keepalive").none() = nb::none(),
         "A Pointer to a global variable (to the first element of a global array).")
      .def("has_tag", [](const Namespace &ns, const std::string &kind, const std::string &tag) {
        return ns.scope.find_tag(tag, kind == "union", kind == "enum") != nullptr;
      })
      .def("constant_names", [](const Namespace &ns) { return ns.scope.constant_names(); })
      .def("type", [](const Namespace &ns, const std::string &text) {
        return nb::steal(ctype_object(parse_or_raise(ns.scope, text)));
      })
      .def("function", [](const Namespace &ns, const std::string &name, uintptr_t address,
                          nb::handle keepalive, bool release_gil, bool use_errno,
                          bool allow_direct, const std::vector<std::string> &assume_const) {
        const Decl *d = ns.scope.find_decl(name);
        if (!d || d->kind != Decl::Function) throw nb::key_error(name.c_str());
        Decl decl = assume_const.empty() ? *d : with_const_params(*d, assume_const);
        PyObject *f = make_function(decl, (void *)address, keepalive.ptr(), release_gil, use_errno,
                                    allow_direct);
        if (!f) throw nb::python_error();
        return nb::steal(f);
      }, nb::arg("name"), nb::arg("address"), nb::arg("keepalive").none(), nb::arg("release_gil") = true,
         nb::arg("use_errno") = false, nb::arg("allow_direct") = true,
         nb::arg("assume_const") = std::vector<std::string>())
      .def("new", [](const Namespace &ns, const std::string &text, nb::handle init) {
        return new_memory(ns.scope, text, init);
      }, nb::arg("ctype"), nb::arg("init").none() = nb::none())
      .def("cast", [](const Namespace &ns, const std::string &text, nb::handle v) {
        return cast_value(ns.scope, text, v);
      })
      .def("callback", [](const Namespace &ns, nb::handle sig, nb::handle fn, nb::handle on_error,
                          bool allow_direct) {
        const CType *t = ctype_of(sig.ptr());
        if (!t) {
          if (!PyUnicode_Check(sig.ptr()))
            throw nb::type_error("callback(): the signature must be a C type string such as "
                                 "'int(const void *, const void *)' or a CType");
          t = parse_or_raise(ns.scope, nb::cast<std::string>(sig));
        }
        PyObject *cb = make_callback(t, fn.ptr(), on_error.ptr(), false, allow_direct);
        if (!cb) throw nb::python_error();
        return nb::steal(cb);
      }, nb::arg("signature"), nb::arg("fn"), nb::arg("on_error").none() = nb::int_(0),
         nb::arg("allow_direct") = true);

  m.attr("_closure_quarantine") = kQuarantine;   // closures given back before one is reused
  m.def("_register_function_pointer_source", [](nb::handle cls, nb::handle conv) {
    if (register_funcptr_source(cls.ptr(), conv.ptr()) < 0) throw nb::python_error();
  }, "Accept instances of cls for function-pointer parameters: conv(obj, ctype) returns the "
     "address to pass, or a str saying why obj does not fit (ndffi.numba_support uses it).");
  m.def("_closure_stats", [] {
    ClosureStats s = closure_stats();
    return nb::make_tuple(s.created_direct, s.created_ffi, s.reused, s.released, s.recycled);
  }, "(direct, libffi, reused, released, recycled) closure counts, for tests.");
  // NDFFI_FORCE_LIBFFI as the core read it (see nd_ccall.h).
  m.attr("FORCE_LIBFFI") = force_libffi();

  if (register_ufunc(m.ptr()) < 0) throw nb::python_error();
  register_layout(m);
  m.def("errno", &get_saved_errno, "The errno saved after the last call (of a library loaded "
                                   "with use_errno=True) in this thread.");
  m.def("set_errno", &set_saved_errno, "Set the errno the next call in this thread starts with.");
}
