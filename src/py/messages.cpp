// Messages that teach (messages.h): each is computed only when a value is refused.
#include "messages.h"

#include <climits>
#include <cstring>

#include "convert.h"
#include "callback.h"

namespace ndffi::py {

// ---- array layouts ----------------------------------------------------------------

static std::string strides_text(int ndim, const Py_ssize_t *strides) {
  std::string s = "(";
  for (int i = 0; i < ndim; i++) s += (i ? ", " : "") + std::to_string(strides[i]);
  return s + (ndim == 1 ? ",)" : ")");
}

std::string layout_problem(PyArrayObject *arr) {
  int f = PyArray_FLAGS(arr);
  if (f & NPY_ARRAY_C_CONTIGUOUS) return "";
  if (f & NPY_ARRAY_F_CONTIGUOUS) return "Fortran-ordered (F-contiguous)";
  return "not contiguous (strides " + strides_text(PyArray_NDIM(arr), PyArray_STRIDES(arr)) + ")";
}

std::string layout_problem(const Py_buffer &view) {
  if (PyBuffer_IsContiguous(&view, 'C')) return "";
  if (PyBuffer_IsContiguous(&view, 'F')) return "Fortran-ordered (F-contiguous)";
  if (!view.strides) return "not contiguous";
  return "not contiguous (strides " + strides_text(view.ndim, view.strides) + ")";
}

std::string with_article(const std::string &noun) {
  return (!noun.empty() && strchr("aeiou", noun[0]) ? "an " : "a ") + noun;
}

std::string same_spelling_hint(const CType *expected, const CType *given) {
  if (expected->str() != given->str()) return "";
  return " (two declarations of the same name: each library, and ndffi's own namespace, declares its own types; "
         "make the value with the types and cast of the library whose function takes it, e.g. lib.cast, "
         "lib.types, lib.callback)";
}

std::string contiguity_fix(bool writable, bool fortran) {
  std::string transposed = fortran ? ", or x.T (the same memory, C-ordered) if C expects column-major order" : "";
  if (!writable) return "pass np.ascontiguousarray(x)" + transposed;
  return "C writes through this pointer and a copy would not be seen by the caller: pass a C-contiguous "
         "array (make it with np.ascontiguousarray(x) or order='C', pass it and read the result from it)" +
         transposed;
}

// ---- numbers ----------------------------------------------------------------------

std::string not_a_number_hint(PyObject *o) {
  if (PyArray_Check(o)) {
    auto *arr = (PyArrayObject *)o;
    if (PyArray_NDIM(arr) == 0) return "";
    if (PyArray_SIZE(arr) == 1) return " (an array is not a number: pass a[0])";
    return " (an array is not a number: pass one element a[i], or call it on every element "
           "through .ufunc())";
  }
  if (PyList_Check(o) || PyTuple_Check(o)) {
    const char *kind = PyList_Check(o) ? "list" : "tuple";
    if (PySequence_Size(o) == 1) return std::string(" (a ") + kind + " is not a number: pass a scalar, x[0])";
    return std::string(" (a ") + kind + " is not a number: pass a scalar)";
  }
  if (PyUnicode_Check(o) || PyBytes_Check(o))
    return " (a string is not a number: convert it first, int(s) or float(s))";
  if (o == Py_None) return " (None is only accepted for pointers)";
  return "";
}

// ---- names ------------------------------------------------------------------------

std::string did_you_mean(const std::string &name, const std::vector<std::string> &names) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);  // the error being raised stays as it was
  std::string r;
  PyObject *difflib = PyImport_ImportModule("difflib");
  PyObject *list = PyList_New(0);
  for (const std::string &n : names) {
    PyObject *s = list ? PyUnicode_FromStringAndSize(n.data(), Py_ssize_t(n.size())) : nullptr;
    if (s) PyList_Append(list, s);
    Py_XDECREF(s);
  }
  PyObject *matches = difflib && list ? PyObject_CallMethod(difflib, "get_close_matches", "s#Oi", name.data(),
                                                            Py_ssize_t(name.size()), list, 3)
                                      : nullptr;
  Py_ssize_t n = matches && PyList_Check(matches) ? PyList_GET_SIZE(matches) : 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    const char *m = PyUnicode_AsUTF8(PyList_GET_ITEM(matches, i));
    if (!m) break;
    r += std::string(i == 0 ? "" : i == n - 1 ? " or " : ", ") + "'" + m + "'";
  }
  if (!r.empty()) r = "; did you mean " + r + "?";
  Py_XDECREF(matches), Py_XDECREF(list), Py_XDECREF(difflib);
  PyErr_Clear();
  PyErr_Restore(type, value, tb);
  return r;
}

// ---- callables --------------------------------------------------------------------

namespace {
// How many positional arguments a callable takes: [least, most] (most INT_MAX with
// *args); `stuck` names a keyword-only parameter without a default (no C call fills it).
struct Arity {
  int least = 0, most = 0;
  std::string stuck;
};

// From a Python function's code object: no Python code runs.
bool arity_of_function(PyObject *fn, int bound, Arity *a) {
  auto *code = (PyCodeObject *)PyFunction_GET_CODE(fn);
  PyObject *defaults = PyFunction_GET_DEFAULTS(fn), *kwdefaults = PyFunction_GET_KW_DEFAULTS(fn);
  int ndefaults = defaults ? int(PyTuple_GET_SIZE(defaults)) : 0;
  a->most = (code->co_flags & CO_VARARGS) ? INT_MAX : code->co_argcount - bound;
  a->least = std::max(code->co_argcount - ndefaults - bound, 0);
  int nkw = kwdefaults ? int(PyDict_GET_SIZE(kwdefaults)) : 0;
  if (code->co_kwonlyargcount > nkw) a->stuck = "?";  // named from its signature, below
  return a->most >= 0;
}

// From inspect.signature: false when it cannot be read (a builtin without a text
// signature, an object whose __signature__ fails): such a callable is accepted.
bool arity_of_signature(PyObject *fn, Arity *a) {
  PyObject *inspect = PyImport_ImportModule("inspect");
  PyObject *sig = inspect ? PyObject_CallMethod(inspect, "signature", "O", fn) : nullptr;
  PyObject *params = sig ? PyObject_GetAttrString(sig, "parameters") : nullptr;
  PyObject *values = params ? PyObject_CallMethod(params, "values", nullptr) : nullptr;
  PyObject *list = values ? PySequence_List(values) : nullptr;
  PyObject *empty = inspect ? PyObject_GetAttrString(inspect, "Parameter") : nullptr;
  PyObject *no_default = empty ? PyObject_GetAttrString(empty, "empty") : nullptr;
  bool ok = list && no_default;
  for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(list); i++) {
    PyObject *p = PyList_GET_ITEM(list, i);
    PyObject *kind = PyObject_GetAttrString(p, "kind"), *dflt = PyObject_GetAttrString(p, "default");
    long k = kind ? PyLong_AsLong(kind) : -1;  // inspect._ParameterKind is an IntEnum
    bool required = dflt == no_default;
    if (k == 0 || k == 1) {
      if (a->most != INT_MAX) a->most++;
      if (required) a->least = a->most;
    } else if (k == 2) {
      a->most = INT_MAX;
    } else if (k == 3 && required && a->stuck.empty()) {
      PyObject *name = PyObject_GetAttrString(p, "name");
      a->stuck = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : "?";
      Py_XDECREF(name);
    } else if (k < 0) {
      ok = false;
    }
    Py_XDECREF(kind), Py_XDECREF(dflt);
  }
  Py_XDECREF(no_default), Py_XDECREF(empty), Py_XDECREF(list), Py_XDECREF(values), Py_XDECREF(params);
  Py_XDECREF(sig), Py_XDECREF(inspect);
  PyErr_Clear();
  return ok;
}

// "<lambda>(a, b)": the callable's name and signature, for the message.
std::string shown(PyObject *fn) {
  std::string name = callable_name(fn);
  if (!strcmp(Py_TYPE(fn)->tp_name, "functools.partial")) {
    PyObject *inner = PyObject_GetAttrString(fn, "func");
    if (inner) name = "functools.partial(" + callable_name(inner) + ", ...)";
    Py_XDECREF(inner);
    PyErr_Clear();
  }
  PyObject *inspect = PyImport_ImportModule("inspect");
  PyObject *sig = inspect ? PyObject_CallMethod(inspect, "signature", "O", fn) : nullptr;
  PyObject *text = sig ? PyObject_Str(sig) : nullptr;
  const char *s = text ? PyUnicode_AsUTF8(text) : nullptr;
  std::string r = name + (s ? s : "");
  Py_XDECREF(text), Py_XDECREF(sig), Py_XDECREF(inspect);
  PyErr_Clear();
  return r;
}

std::string count_text(int n) { return std::to_string(n) + (n == 1 ? " argument" : " arguments"); }
}  // namespace

bool check_arity(PyObject *fn, const CType *ftype, const std::string &where, const std::string &spelling) {
  Arity a;
  int n = int(ftype->params.size());
  if (PyFunction_Check(fn)) {
    arity_of_function(fn, 0, &a);
  } else if (PyMethod_Check(fn) && PyFunction_Check(PyMethod_GET_FUNCTION(fn))) {
    if (!arity_of_function(PyMethod_GET_FUNCTION(fn), 1, &a)) a.most = -1;
  } else {
    if (!arity_of_signature(fn, &a)) return true;
  }
  if (n >= a.least && n <= a.most && a.stuck.empty()) return true;
  // The refusal: read the signature (once more, by inspect) to name what it takes.
  if (a.stuck == "?") {
    Arity full;
    arity_of_signature(fn, &full);
    a.stuck = full.stuck.empty() ? "?" : full.stuck;
  }
  std::string takes;
  if (!a.stuck.empty()) takes = "has a keyword-only parameter '" + a.stuck + "' without a default, which C cannot pass";
  else if (a.most < 0) takes = "takes no argument besides self";
  else if (a.most == INT_MAX) takes = "takes at least " + count_text(a.least);
  else if (a.least == a.most) takes = "takes " + count_text(a.least);
  else takes = "takes " + std::to_string(a.least) + " to " + count_text(a.most);
  PyErr_Format(PyExc_TypeError, "%s: expected a callable taking %s for '%s', got %s, which %s", where.c_str(),
               count_text(n).c_str(), spelling.c_str(), shown(fn).c_str(), takes.c_str());
  return false;
}

}  // namespace ndffi::py

namespace ndffi::py {

// ---- calls ------------------------------------------------------------------------

PyObject *wrong_argument_count(const FunctionObject *f, Py_ssize_t given, Py_ssize_t missing) {
  const Decl &d = *f->decl;
  Py_ssize_t n = Py_ssize_t(d.type->params.size());
  std::string msg = d.name + "() takes " + (d.type->variadic ? "at least " : "") + std::to_string(n) +
                    (n == 1 ? " argument" : " arguments") + " (" + std::to_string(given) + " given)";
  if (missing >= 0) {
    msg += ": missing argument " + std::to_string(missing + 1);
    if (!d.param_names[size_t(missing)].empty()) msg += " '" + d.param_names[size_t(missing)] + "'";
    msg += " of type '" + d.param_str(size_t(missing)) + "'";
  }
  msg += "; declared as '" + d.str() + "'";
  PyErr_SetString(PyExc_TypeError, msg.c_str());
  return nullptr;
}

PyObject *unexpected_keyword(const FunctionObject *f, PyObject *name) {
  const Decl &d = *f->decl;
  std::vector<std::string> names;
  for (const std::string &n : d.param_names)
    if (!n.empty()) names.push_back(n);
  Py_ssize_t len = 0;
  const char *s = PyUnicode_AsUTF8AndSize(name, &len);
  if (!s) return nullptr;
  const std::string kw(s, size_t(len));
  std::string msg = d.name + "() got an unexpected keyword argument " + text_of(PyObject_Repr(name));
  if (names.empty()) {
    msg += ": its declaration '" + d.str() + "' names no parameters, so pass the arguments by position";
    if (!d.type->params.empty()) msg += " (or name them in the declaration)";
  } else {
    msg += did_you_mean(kw, names) + " (parameters: ";
    for (size_t i = 0; i < names.size(); i++) msg += (i ? ", " : "") + names[i];
    msg += ")";
  }
  PyErr_SetString(PyExc_TypeError, msg.c_str());
  return nullptr;
}

}  // namespace ndffi::py

namespace ndffi::py {

// ---- declarations -----------------------------------------------------------------

std::vector<std::string> tag_names(const Scope &scope) {
  std::vector<std::string> r;
  for (const Record *rec : scope.tags())
    if (!rec->tag.empty())
      r.push_back(std::string(rec->is_enum ? "enum " : rec->is_union ? "union " : "struct ") + rec->tag);
  return r;
}

CDefError with_type_suggestion(const CDefError &e, const Scope &scope) {
  static const std::string unknown = "unknown type name '";
  if (e.message.compare(0, unknown.size(), unknown) != 0 || e.token.empty()) return e;
  std::vector<std::string> names = {"void",     "char",  "short", "int",    "long",  "float", "double", "signed",
                                    "unsigned", "_Bool", "bool",  "struct", "union", "enum",  "const",  "volatile"};
  for (const Scope *s : {&scope, &Scope::builtins(scope.target())}) {
    names.insert(names.end(), s->typedef_names().begin(), s->typedef_names().end());
    for (const std::string &t : tag_names(*s)) names.push_back(t);
  }
  std::string hint = did_you_mean(e.token, names);
  if (hint.empty()) return e;
  CDefError r(e.line, e.column, e.message + hint, e.token, e.source_line);
  r.previous = e.previous;
  return r;
}

}  // namespace ndffi::py
