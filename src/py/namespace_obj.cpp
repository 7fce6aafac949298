// ndffi's Namespace (a library's scope of declarations: cdef, look-ups, the Function,
// Pointer and Callback objects made from them) and Handle (an open shared library).
#include <cstring>

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "callback.h"
#include "common.h"
#include "messages.h"
#include "nd_clib.h"
#include "new_cast.h"

namespace nb = nanobind;

namespace ndffi::py {

// A Pointer to the global `name` at `address` (to the first element of a global array).
static PyObject *variable_pointer(const Namespace &ns, const std::string &name, uintptr_t address,
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
  return p;
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
    PyObject *previous =
        e.previous ? Py_BuildValue("(III)", e.previous.line, e.previous.column, e.previous.call) : Py_NewRef(Py_None);
    PyObject_SetAttrString(exc, "previous", previous);
    Py_XDECREF(previous);
    PyErr_SetObject(CDefErrorType, exc);
    Py_DECREF(exc);
  }
  throw nb::python_error();
}

const CType *parse_or_raise(const Scope &scope, const std::string &text) {
  try {
    return parse_type(scope, text);
  } catch (const CDefError &e) { raise_cdef(with_type_suggestion(e, scope)); }
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
      throw nb::value_error((d.name + "(): assume_const(): no parameter named '" + n +
                             "'; its parameters: " + (all.empty() ? "none" : all))
                                .c_str());
    }
    const CType *p = params[i];
    if (p->kind != Kind::Pointer)
      throw nb::type_error((d.name + "(): assume_const(): parameter '" + n + "' is '" + p->str() +
                            "', not a pointer: only what a pointer points to can be const")
                               .c_str());
    if (p->target->is_const())
      throw nb::value_error(
          (d.name + "(): assume_const(): parameter '" + n + "' is already '" + p->str() + "'").c_str());
    params[i] = T.pointer(T.qualified(p->target, uint8_t(p->target->quals | QConst)), p->quals);
    if (i < out.params.size() && !out.params[i].from.empty())
      out.params[i] = Spelling{"const " + out.params[i].from, "const " + out.params[i].to};
    out.assumed_const.push_back(i);
  }
  out.type = T.func(d.type->target, params, d.type->variadic);
  return out;
}

// The Function of declared function `name` at `address` (assume_const: the pointer
// parameters taken as pointing to const); home: what record_of() and pickling read.
static nb::object declared_function(const Namespace &ns, const std::string &name, uintptr_t address,
                                    nb::handle keepalive, bool release_gil, bool use_errno, bool allow_direct,
                                    const std::vector<std::string> &assume_const, nb::handle home) {
  const Decl *d = ns.scope.find_decl(name);
  if (!d || d->kind != Decl::Function) throw nb::key_error(name.c_str());
  PyObject *f = assume_const.empty()
                    ? make_function(*d, (void *)address, keepalive.ptr(), release_gil, use_errno, allow_direct)
                    : make_function(with_const_params(*d, assume_const), (void *)address, keepalive.ptr(), release_gil,
                                    use_errno, allow_direct);
  if (!f) throw nb::python_error();
  if (!home.is_none()) as_function(f)->home = home.inc_ref().ptr();
  return nb::steal(f);
}

void register_namespace(nb::module_ &m) {
  nb::class_<SharedLib>(m, "Handle", "An open shared library.")
      .def_ro("path", &SharedLib::path)
      .def("symbol", &find_symbol, "The address of an exported symbol, or None.");
  m.def(
      "_function_home",
      [](nb::handle f) -> nb::object {
        FunctionObject *fo = as_function(f.ptr());
        return fo && fo->home ? nb::borrow(fo->home) : nb::none();
      },
      "What made a declared function gave it as home= (ns.function), or None.");
  m.def("dlopen", &open_handle, nb::arg("path").none(), nb::arg("global_") = false, nb::rv_policy::take_ownership);

  nb::class_<Namespace>(m, "Namespace", "A scope of C declarations.")
      .def(nb::init<>())
      .def(
          "cdef",
          [](Namespace &ns, const std::string &text) {
            size_t before = ns.scope.decl_names().size();
            try {
              cdef(ns.scope, text);
            } catch (const CDefError &e) { raise_cdef(with_type_suggestion(e, ns.scope)); }
            const auto &names = ns.scope.decl_names();
            return std::vector<std::string>(names.begin() + long(before), names.end());
          },
          "Parse declarations; returns the names of the functions and variables it added.")
      .def("names", [](const Namespace &ns) { return ns.scope.decl_names(); })
      .def("typedef_names", [](const Namespace &ns) { return ns.scope.typedef_names(); })
      .def("decl",
           [](const Namespace &ns, const std::string &name) -> nb::object {
             const Decl *d = ns.scope.find_decl(name);
             if (!d) return nb::none();
             return nb::make_tuple(d->kind == Decl::Function ? "function" : "variable", d->str(),
                                   nb::steal(ctype_object(d->type)));
           })
      .def(
          "kind",
          [](const Namespace &ns, const std::string &name) -> nb::object {
            // made once and never released: a static nb::object would be released by the
            // C runtime at exit, after the interpreter has gone (a crash on 3.12+)
            static nb::handle function = nb::str("function").release(), variable = nb::str("variable").release();
            const Decl *d = ns.scope.find_decl(name);
            if (!d) return nb::none();
            return nb::borrow(d->kind == Decl::Function ? function : variable);
          },
          "'function' or 'variable' for a declared name, else None (decl() without the prototype)")
      .def("typedef",
           [](const Namespace &ns, const std::string &name) -> nb::object {
             const CType *t = ns.scope.find_typedef(name);
             if (!t) return nb::none();
             return nb::steal(ctype_object(t));
           })
      .def(
          "constant",
          [](const Namespace &ns, const std::string &name) -> nb::object {
            const Constant *c = ns.scope.find_constant(name);
            if (!c) return nb::none();
            nb::object v;
            if (c->kind == Constant::Int)
              v = nb::steal(c->is_unsigned ? PyLong_FromUnsignedLongLong(uint64_t(c->i)) : PyLong_FromLongLong(c->i));
            else if (c->kind == Constant::Float) v = nb::float_(c->f);
            else v = nb::steal(PyUnicode_DecodeUTF8(c->s.data(), Py_ssize_t(c->s.size()), "surrogateescape"));
            return nb::make_tuple(v, nb::steal(ctype_object(c->type)));
          },
          "(value, CType) of a #define or enumerator, or None")
      .def(
          "variable",
          [](const Namespace &ns, const std::string &name, uintptr_t address, nb::handle keepalive) {
            return nb::steal(variable_pointer(ns, name, address, keepalive));
          },
          nb::arg("name"), nb::arg("address"), nb::arg("keepalive").none() = nb::none(),
          "A Pointer to a global variable (to the first element of a global array).")
      .def(
          "set_variable",
          [](const Namespace &ns, const std::string &name, uintptr_t address, nb::handle value,
             const std::string &where) {
            const Decl *d = ns.scope.find_decl(name);
            if (!d || d->kind != Decl::Variable) throw nb::key_error(name.c_str());
            if (d->type->is_const()) throw nb::type_error((where + ": it is const").c_str());
            nb::object p = nb::steal(variable_pointer(ns, name, address, nb::none()));
            Where w{nullptr, -1, where.c_str()};
            w.home = home_of(p.ptr());
            if (!store_c(d->type, (char *)address, value.ptr(), w)) throw nb::python_error();
          },
          nb::arg("name"), nb::arg("address"), nb::arg("value"), nb::arg("where"),
          "Store value into a global variable; errors are led by `where`.")
      .def("has_tag",
           [](const Namespace &ns, const std::string &kind, const std::string &tag) {
             return ns.scope.find_tag(tag, kind == "union", kind == "enum") != nullptr;
           })
      .def("constant_names", [](const Namespace &ns) { return ns.scope.constant_names(); })
      .def(
          "tag_names", [](const Namespace &ns) { return tag_names(ns.scope); },
          "The struct, union and enum tags declared: ['struct Weather_t', ...].")
      .def("type", [](const Namespace &ns,
                      const std::string &text) { return nb::steal(ctype_object(parse_or_raise(ns.scope, text))); })
      // Without assume_const, so that nanobind dispatches it without its general
      // argument matching (a first use of every declared function goes through here).
      .def(
          "function",
          [](const Namespace &ns, const std::string &name, uintptr_t address, nb::handle keepalive, bool release_gil,
             bool use_errno, bool allow_direct, nb::handle home) {
            return declared_function(ns, name, address, keepalive, release_gil, use_errno, allow_direct, {}, home);
          },
          nb::arg("name"), nb::arg("address"), nb::arg("keepalive").none(), nb::arg("release_gil") = true,
          nb::arg("use_errno") = false, nb::arg("allow_direct") = true, nb::arg("home").none() = nb::none())
      .def(
          "function_assuming_const",
          [](const Namespace &ns, const std::string &name, const std::vector<std::string> &assume_const,
             uintptr_t address, nb::handle keepalive, bool release_gil, bool use_errno, nb::handle home) {
            return declared_function(ns, name, address, keepalive, release_gil, use_errno, true, assume_const, home);
          },
          nb::arg("name"), nb::arg("assume_const"), nb::arg("address"), nb::arg("keepalive").none(),
          nb::arg("release_gil"), nb::arg("use_errno"), nb::arg("home").none(),
          "function() of a declaration whose pointer parameters named in assume_const point to const.")
      .def(
          "new",
          [](const Namespace &ns, const std::string &text, nb::handle init) {
            return new_memory(ns.scope, text, init);
          },
          nb::arg("ctype"), nb::arg("init").none() = nb::none())
      .def("cast",
           [](const Namespace &ns, const std::string &text, nb::handle v) { return cast_value(ns.scope, text, v); })
      .def(
          "callback",
          [](const Namespace &ns, nb::handle sig, nb::handle fn, nb::handle on_error, bool allow_direct) {
            const CType *t = ctype_of(sig.ptr());
            if (!t) {
              if (!PyUnicode_Check(sig.ptr()))
                throw nb::type_error(
                    "callback(): the signature must be a C type string such as "
                    "'int(const void *, const void *)' or a CType");
              t = parse_or_raise(ns.scope, nb::cast<std::string>(sig));
            }
            const CType *ftype = t->kind == Kind::Pointer ? t->target : t;
            if (ftype->kind == Kind::Func && PyCallable_Check(fn.ptr()) &&
                !check_arity(fn.ptr(), ftype, "ndffi.callback()", TypeTable::get().pointer(ftype)->str()))
              throw nb::python_error();
            PyObject *cb = make_callback(t, fn.ptr(), on_error.ptr(), false, allow_direct);
            if (!cb) throw nb::python_error();
            return nb::steal(cb);
          },
          nb::arg("signature"), nb::arg("fn"), nb::arg("on_error").none() = nb::int_(0),
          nb::arg("allow_direct") = true);
}

}  // namespace ndffi::py
