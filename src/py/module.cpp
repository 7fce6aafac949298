// The _ndffi extension module: namespaces, types, libraries, new/cast, errno.
#define NDFFI_IMPORT_ARRAY
#include <dlfcn.h>
#include <link.h>

#include <cstring>

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/stl/optional.h>

#include "callback.h"
#include "common.h"

namespace nb = nanobind;

namespace ndffi::py {

int register_ufunc(PyObject *module);   // ufunc.cpp
PyObject *CDefErrorType = nullptr;
int get_saved_errno();
void set_saved_errno(int v);

PyObject *ctype_object(const CType *t) { return nb::cast(CTypeRef{t}).release().ptr(); }

const CType *ctype_of(PyObject *o) {
  CTypeRef *r = nullptr;
  if (!nb::try_cast<CTypeRef *>(nb::handle(o), r) || !r) return nullptr;
  return r->type;
}

[[noreturn]] static void raise_cdef(const CDefError &e) {
  PyObject *exc = PyObject_CallFunction(CDefErrorType, "s", e.what());
  if (exc) {
    PyObject_SetAttrString(exc, "line", PyLong_FromLong(e.line));
    PyObject_SetAttrString(exc, "column", PyLong_FromLong(e.column));
    PyObject *tok = PyUnicode_DecodeUTF8(e.token.data(), Py_ssize_t(e.token.size()), "replace");
    PyObject_SetAttrString(exc, "text", tok);
    Py_XDECREF(tok);
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

// A dlopen handle.  Libraries are never closed: pointers into their code and data may
// be held anywhere (ctypes and cffi make the same choice).
struct Handle {
  void *handle;
  std::string path;
};

static Handle *open_handle(std::optional<std::string> path, bool global) {
  dlerror();
  void *h = dlopen(path ? path->c_str() : nullptr, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
  if (!h) {
    const char *err = dlerror();
    PyErr_SetString(PyExc_OSError, err ? err : "dlopen failed");
    throw nb::python_error();
  }
  // The file the loader chose (for a bare name like "libm.so.6" too).
  std::string real;
  struct link_map *lm = nullptr;
  if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name) real = lm->l_name;
  return new Handle{h, real.empty() && path ? *path : real};
}

static std::optional<uintptr_t> symbol(Handle &h, const std::string &name) {
  dlerror();
  void *p = dlsym(h.handle, name.c_str());
  if (!p && dlerror()) return std::nullopt;
  return uintptr_t(p);
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
  if (t->kind == Kind::Array && PySequence_Check(init.ptr()) && !PyUnicode_Check(init.ptr())) {
    nb::object seq = nb::steal(PySequence_Fast(init.ptr(), "new(): initializer must be a sequence"));
    if (!seq.is_valid()) throw nb::python_error();
    Py_ssize_t len = PySequence_Fast_GET_SIZE(seq.ptr());
    if (len > n)
      throw nb::index_error(("new(): " + std::to_string(len) + " initializers for " +
                             std::to_string(n) + " elements").c_str());
    for (Py_ssize_t i = 0; i < len; i++)
      if (!store_c(elem, (char *)mem + size_t(i) * size, PySequence_Fast_GET_ITEM(seq.ptr(), i), w))
        throw nb::python_error();
    return p;
  }
  if (!store_c(elem, mem, init.ptr(), w)) throw nb::python_error();
  return p;
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
  if (!is_pointer(o) && !is_record(o) && !PyArray_Check(o) && !PyObject_CheckBuffer(o)) {
    PyErr_Format(PyExc_TypeError, "cast('%s', ...): expected an int address, a Pointer, an array or None, got %s",
                 text.c_str(), describe(o).c_str());
    return nullptr;
  }
  PyObject *owner;
  Span span;
  if (!memory_of(o, &owner, &span)) return nullptr;
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
    double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) throw nb::python_error();
    if (t->size == 4) d = double(float(d));
    val->value = PyFloat_FromDouble(d);
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
      "ndffi.CDefError", "A C declaration could not be parsed; .line, .column and .text say where.",
      PyExc_ValueError, nullptr);
  m.attr("CDefError") = nb::handle(CDefErrorType);

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

  nb::class_<Handle>(m, "Handle", "An open shared library.")
      .def_ro("path", &Handle::path)
      .def("symbol", &symbol, "The address of an exported symbol, or None.");
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
      .def("variable", [](const Namespace &ns, const std::string &name, uintptr_t address) {
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
        return nb::steal(p);
      }, "A Pointer to a global variable (to the first element of a global array).")
      .def("has_tag", [](const Namespace &ns, const std::string &kind, const std::string &tag) {
        return ns.scope.find_tag(tag, kind == "union", kind == "enum") != nullptr;
      })
      .def("constant_names", [](const Namespace &ns) { return ns.scope.constant_names(); })
      .def("type", [](const Namespace &ns, const std::string &text) {
        return nb::steal(ctype_object(parse_or_raise(ns.scope, text)));
      })
      .def("function", [](const Namespace &ns, const std::string &name, uintptr_t address,
                          nb::handle keepalive, bool release_gil, bool use_errno,
                          bool allow_direct) {
        const Decl *d = ns.scope.find_decl(name);
        if (!d || d->kind != Decl::Function) throw nb::key_error(name.c_str());
        PyObject *f = make_function(*d, (void *)address, keepalive.ptr(), release_gil, use_errno,
                                    allow_direct);
        if (!f) throw nb::python_error();
        return nb::steal(f);
      }, nb::arg("name"), nb::arg("address"), nb::arg("keepalive").none(), nb::arg("release_gil") = true,
         nb::arg("use_errno") = false, nb::arg("allow_direct") = true)
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

  m.def("_closure_stats", [] {
    ClosureStats s = closure_stats();
    return nb::make_tuple(s.created_direct, s.created_ffi, s.reused, s.released, s.recycled);
  }, "(direct, libffi, reused, released, recycled) closure counts, for tests.");
  // NDFFI_FORCE_LIBFFI as the core read it (see nd_ccall.h).
  m.attr("FORCE_LIBFFI") = force_libffi();

  if (register_ufunc(m.ptr()) < 0) throw nb::python_error();
  m.def("errno", &get_saved_errno, "The errno saved after the last call (of a library loaded "
                                   "with use_errno=True) in this thread.");
  m.def("set_errno", &set_saved_errno, "Set the errno the next call in this thread starts with.");
}
