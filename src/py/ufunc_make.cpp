// Making ndffi's ufuncs (ufunc.h): a Function and the role of each of its parameters
// become a numpy.ufunc or generalized ufunc with one loop (ufunc_loops.cpp), a promoter
// that casts any operand types to it, a resolver for struct operands, and what pickling
// needs to make it again.
#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

// This file uses the NumPy 2.0 C API (promoters); the rest of the module builds for
// the default, older target.
#define NPY_TARGET_VERSION 0x00000012  // NPY_2_0_API_VERSION
#include "ufunc.h"

#include <numpy/dtype_api.h>
#include <numpy/ufuncobject.h>

namespace ndffi::py {
namespace {

constexpr const char *kCapsuleName = "ndffi.ufunc";

// ---- promotion: any operand types go to the one loop, by NumPy's casting rules ---

int promote_to_loop(PyObject *ufunc, PyArray_DTypeMeta *const op_dtypes[], PyArray_DTypeMeta *const signature[],
                    PyArray_DTypeMeta *new_op_dtypes[]) {
  auto *uf = (PyUFuncObject *)ufunc;
  (void)op_dtypes;
  for (int i = 0; i < uf->nargs; i++) {
    if (signature[i]) {
      Py_INCREF(signature[i]);
      new_op_dtypes[i] = signature[i];
      continue;
    }
    PyArray_Descr *descr = PyArray_DescrFromType(uf->types[i]);
    if (!descr) {
      for (int j = 0; j < i; j++) Py_CLEAR(new_op_dtypes[j]);
      return -1;
    }
    new_op_dtypes[i] = NPY_DTYPE(descr);
    Py_INCREF(new_op_dtypes[i]);
    Py_DECREF(descr);
  }
  return 0;
}

// Core dimensions that a C integer parameter receives must fit its type.
int check_core_dims(PyUFuncObject *ufunc, npy_intp *sizes) {
  const auto *d = static_cast<const UfuncData *>(ufunc->data[0]);
  for (size_t k = 0; k < d->dim_max.size(); k++) {
    if (sizes[k] >= 0 && int64_t(sizes[k]) > d->dim_max[k]) {
      PyErr_Format(PyExc_OverflowError, "%s: core dimension %zd of size %zd does not fit parameter '%s'",
                   d->name.c_str(), Py_ssize_t(k), Py_ssize_t(sizes[k]), d->dim_param[k].c_str());
      return -1;
    }
  }
  return 0;
}

void capsule_free(PyObject *cap) { delete static_cast<UfuncData *>(PyCapsule_GetPointer(cap, kCapsuleName)); }

int type_number(const CType *t, const char *what, const std::string &fname) {
  PyArray_Descr *descr = dtype_of(t);
  if (!descr) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "cannot make a ufunc of %s(): %s '%s' has no NumPy dtype", fname.c_str(), what,
                 t->str().c_str());
    return -1;
  }
  int tn = descr->type_num;
  bool whole = size_t(PyDataType_ELSIZE(descr)) == t->byte_size();
  Py_DECREF(descr);
  if (!whole) {  // bit-fields are not in a struct's dtype: its bytes would not all be copied
    PyErr_Format(PyExc_TypeError,
                 "cannot make a ufunc of %s(): %s '%s' has no dtype of its size "
                 "(bit-fields)",
                 fname.c_str(), what, t->str().c_str());
    return -1;
  }
  return tn;
}

// ---- record operands: their dtype is the C layout --------------------------------

// The dtypes of a ufunc with struct or union operands (NumPy's legacy resolution, which
// it uses for loops with a structured type): the operand's own dtype where it has the C
// layout, the type's dtype for outputs NumPy allocates; a record array of another
// layout, or a non-record array, is a TypeError naming the operand.  Numbers as usual.
int record_resolver(PyUFuncObject *ufunc, NPY_CASTING casting, PyArrayObject **operands, PyObject *type_tup,
                    PyArray_Descr **out_dtypes) {
  (void)type_tup;
  const auto *d = static_cast<const UfuncData *>(ufunc->data[0]);
  for (int i = 0; i < d->nargs; i++) {
    const CType *rec = d->records[size_t(i)];
    PyArray_Descr *have = operands[i] ? PyArray_DESCR(operands[i]) : nullptr;
    std::string why;
    if (rec && have && !record_congruent(rec, have, &why)) {
      for (int j = 0; j < i; j++) Py_CLEAR(out_dtypes[j]);
      PyObject *s = PyObject_Str((PyObject *)have);
      PyErr_Format(PyExc_TypeError, "%s: operand %d must be an array of '%s' records (dtype %s), got %s%s%s",
                   d->name.c_str(), i, rec->str().c_str(), "of the C layout", s ? PyUnicode_AsUTF8(s) : "?",
                   why.empty() ? "" : ": ", why.c_str());
      Py_XDECREF(s);
      return -1;
    }
    out_dtypes[i] = rec && have ? have : rec ? dtype_of(rec) : PyArray_DescrFromType(d->types[size_t(i)]);
    if (rec && have) Py_INCREF(have);
    if (!out_dtypes[i]) {
      for (int j = 0; j < i; j++) Py_CLEAR(out_dtypes[j]);
      return -1;
    }
  }
  if (PyUFunc_ValidateCasting(ufunc, casting, operands, out_dtypes) < 0) {
    for (int j = 0; j < d->nargs; j++) Py_CLEAR(out_dtypes[j]);
    return -1;
  }
  return 0;
}

// How a ufunc is made: make_ufunc's arguments, by keyword.
//   roles: one (role, index) per C parameter; role is "in" (a value operand), "inptr"
//   (a pointer to an input operand), "out" (a pointer to an output operand) or "dim"
//   (the size of core dimension `index`).
struct UfuncSpec {
  FunctionObject *function = nullptr;
  const char *name = nullptr;  // default: the C function's name
  const char *doc = "";
  PyObject *roles = nullptr;      // required
  int result = -1;                // the operand receiving the C result, -1 for none
  int nin = 0, nout = 0;          // required
  PyObject *signature = Py_None;  // a generalized ufunc's, e.g. "(n)->()"
  int threads = 1;
  Py_ssize_t min_chunk = 1 << 15;
  PyObject *spec = Py_None;  // how it was made, kept for pickling
};

bool parse_spec(PyObject *args, PyObject *kwargs, UfuncSpec *s) {
  static const char *kwlist[] = {"function", "name",      "doc",     "roles",     "result", "nin",
                                 "nout",     "signature", "threads", "min_chunk", "spec",   nullptr};
  PyObject *func;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$ssOiiiOinO:make_ufunc", const_cast<char **>(kwlist), &func,
                                   &s->name, &s->doc, &s->roles, &s->result, &s->nin, &s->nout, &s->signature,
                                   &s->threads, &s->min_chunk, &s->spec))
    return false;
  s->function = as_function(func);
  if (!s->function) {
    PyErr_Format(PyExc_TypeError, "make_ufunc() argument 1 must be an ndffi.Function, not %s", Py_TYPE(func)->tp_name);
    return false;
  }
  if (!s->roles) {
    PyErr_SetString(PyExc_TypeError, "make_ufunc() needs roles=: one (role, index) per C parameter");
    return false;
  }
  if (s->signature != Py_None && !PyUnicode_Check(s->signature)) {
    PyErr_SetString(PyExc_TypeError, "make_ufunc(): signature must be a str or None");
    return false;
  }
  if (!s->name) s->name = s->function->decl->name.c_str();
  return true;
}

// The C parameters' roles (one (role, index) per parameter): d->params, the operands'
// type numbers and record types, and the largest core dimension a parameter takes.
bool bind_params(const UfuncSpec &s, UfuncData &d, int *max_dim) {
  const FunctionObject *f = s.function;
  const CallPlan &plan = *f->plan;
  const std::string &fname = f->decl->name;
  PyObject *seq = snapshot(s.roles);  // an index's __index__ may change the list
  if (!seq) return false;
  Py_ssize_t nroles = PyTuple_GET_SIZE(seq);
  auto failed = [&]() {
    Py_DECREF(seq);
    return false;
  };
  if (size_t(nroles) != plan.args.size()) {
    PyErr_SetString(PyExc_ValueError, "one role per C parameter is needed");
    return failed();
  }
  for (Py_ssize_t k = 0; k < nroles; k++) {
    const char *role;
    int index;
    if (!PyArg_ParseTuple(PyTuple_GET_ITEM(seq, k), "si", &role, &index)) return failed();
    UParam u{Role::Value, index, plan.args[size_t(k)]};
    const CType *pt = f->decl->type->params[size_t(k)];
    const CType *elem = pt;
    if (!strcmp(role, "in")) u.role = Role::Value;
    else if (!strcmp(role, "inptr")) u.role = Role::InPtr;
    else if (!strcmp(role, "out")) u.role = Role::OutPtr;
    else if (!strcmp(role, "dim")) u.role = Role::Dim;
    else {
      PyErr_Format(PyExc_ValueError, "unknown role '%s'", role);
      return failed();
    }
    if (u.role == Role::Dim) {
      if (!(u.spec.conv == Conv::SInt || u.spec.conv == Conv::UInt) || index < 0) {
        PyErr_Format(PyExc_TypeError,
                     "cannot make a ufunc of %s(): parameter %zd takes a core "
                     "dimension but is '%s', not an integer",
                     fname.c_str(), k + 1, pt->str().c_str());
        return failed();
      }
      *max_dim = std::max(*max_dim, index);
      d.params.push_back(u);
      continue;
    }
    if (index < 0 || index >= d.nargs || (u.role == Role::OutPtr) != (index >= d.nin)) {
      PyErr_Format(PyExc_ValueError, "bad operand %d for parameter %zd", index, k + 1);
      return failed();
    }
    if (u.role != Role::Value) {
      if (u.spec.conv != Conv::Pointer) {
        PyErr_Format(PyExc_TypeError, "cannot make a ufunc of %s(): parameter %zd is '%s', not a pointer",
                     fname.c_str(), k + 1, pt->str().c_str());
        return failed();
      }
      elem = pt->target;
    } else if (!(pt->is_arith() || pt->kind == Kind::Record)) {
      PyErr_Format(PyExc_TypeError,
                   "cannot make a ufunc of %s(): parameter %zd '%s' is not a number "
                   "(pointer parameters are outputs or arrays of a generalized ufunc)",
                   fname.c_str(), k + 1, pt->str().c_str());
      return failed();
    }
    int tn = type_number(elem, "parameter type", fname);
    if (tn < 0) return failed();
    if (d.types[size_t(index)] != char(-1)) {
      PyErr_Format(PyExc_ValueError, "operand %d is used twice", index);
      return failed();
    }
    d.types[size_t(index)] = char(tn);
    if (elem->kind == Kind::Record) d.records[size_t(index)] = TypeTable::get().unqualified(elem);
    u.elsize = elem->byte_size();
    d.params.push_back(u);
  }
  Py_DECREF(seq);
  return true;
}

// The operand of the C result, and a check that every operand has its C parameter.
bool bind_result(const UfuncSpec &s, UfuncData &d) {
  const FunctionObject *f = s.function;
  if (d.ret_op >= 0) {
    if (f->plan->ret.conv == Conv::Void || d.ret_op < d.nin || d.ret_op >= d.nargs ||
        d.types[size_t(d.ret_op)] != char(-1)) {
      PyErr_SetString(PyExc_ValueError, "bad operand for the result");
      return false;
    }
    const CType *rt = f->decl->type->target;
    int tn = type_number(rt, "result type", f->decl->name);
    if (tn < 0) return false;
    d.types[size_t(d.ret_op)] = char(tn);
    if (rt->kind == Kind::Record) d.records[size_t(d.ret_op)] = TypeTable::get().unqualified(rt);
    d.ret_elsize = rt->byte_size();
  }
  for (int i = 0; i < d.nargs; i++)
    if (d.types[size_t(i)] == char(-1)) {
      PyErr_Format(PyExc_ValueError, "operand %d has no C parameter", i);
      return false;
    }
  return true;
}

// The loop: a typed one for plain value signatures, else the generic one.
Body choose_body(const UfuncData &d) {
  if (!d.core && d.ret_op == d.nin && d.nout == 1) {
    std::vector<TCode> codes;
    bool plain = true;
    for (size_t k = 0; k < d.params.size(); k++) {
      const UParam &u = d.params[k];
      if (u.role != Role::Value || u.index != int(k)) plain = false;
      codes.push_back(tcode(u.spec));
    }
    if (plain)
      if (Body b = typed_body_for(codes, tcode(d.plan->ret))) return b;
  }
  return generic_body;
}

// A generalized ufunc's core dimensions, as NumPy parsed its signature: per operand,
// and per dimension the largest size the C parameter receiving it holds.
bool bind_core_dims(const UfuncSpec &s, UfuncData &d, PyUFuncObject *u, int max_dim) {
  const FunctionObject *f = s.function;
  const std::string &fname = f->decl->name;
  if (max_dim >= u->core_num_dim_ix) {
    PyErr_SetString(PyExc_ValueError, "a parameter takes a core dimension the signature lacks");
    return false;
  }
  d.op_dims.resize(size_t(d.nargs));
  for (int op = 0; op < d.nargs; op++)
    for (int j = 0; j < u->core_num_dims[op]; j++)
      d.op_dims[size_t(op)].push_back(u->core_dim_ixs[u->core_offsets[op] + j]);
  d.dim_max.assign(size_t(u->core_num_dim_ix), INT64_MAX);
  d.dim_param.assign(size_t(u->core_num_dim_ix), "");
  for (size_t k = 0; k < d.params.size(); k++) {
    const UParam &p = d.params[k];
    if (p.role == Role::Dim) {
      int64_t mx = int64_t(std::min<uint64_t>(p.spec.max, uint64_t(INT64_MAX)));
      if (mx < d.dim_max[size_t(p.index)]) d.dim_max[size_t(p.index)] = mx;
      d.dim_param[size_t(p.index)] = f->decl->param_names[k];
    }
    if (p.role == Role::Value && !d.op_dims[size_t(p.index)].empty()) {
      PyErr_Format(PyExc_ValueError,
                   "cannot make a gufunc of %s(): parameter '%s' is a value, so its "
                   "operand must have no core dimensions ()",
                   fname.c_str(), f->decl->param_names[k].c_str());
      return false;
    }
  }
  if (d.ret_op >= 0 && !d.op_dims[size_t(d.ret_op)].empty()) {
    PyErr_Format(PyExc_ValueError,
                 "cannot make a gufunc of %s(): the C result is a scalar, so its "
                 "output must have no core dimensions ()",
                 fname.c_str());
    return false;
  }
  // NumPy >= 2.1 lets a gufunc check its core dimensions before the loop runs; the
  // hook is the field after _loops (the struct only grows across versions).
  if (PyArray_RUNTIME_VERSION >= 0x00000013) {
    auto **hook =
        reinterpret_cast<PyUFunc_ProcessCoreDimsFunc **>(reinterpret_cast<char *>(&u->_loops) + sizeof(PyObject *));
    *hook = check_core_dims;
  }
  return true;
}

// The ufunc keeps its data (and through it the Function and its library), and any
// operand types reach its one loop by NumPy's casting rules.  False with `uf` intact.
bool attach(PyObject *uf, std::unique_ptr<UfuncData> d) {
  auto *u = (PyUFuncObject *)uf;
  int nargs = d->nargs;
  UfuncData *raw = d.release();
  PyObject *cap = PyCapsule_New(raw, kCapsuleName, capsule_free);
  if (!cap) {
    delete raw;
    return false;
  }
  u->obj = cap;
  PyObject *promoter = PyCapsule_New((void *)&promote_to_loop, "numpy._ufunc_promoter", nullptr);
  PyObject *any = PyTuple_New(nargs);
  if (!promoter || !any) {
    Py_XDECREF(promoter);
    Py_XDECREF(any);
    return false;
  }
  for (int i = 0; i < nargs; i++) {
    Py_INCREF(Py_None);
    PyTuple_SET_ITEM(any, i, Py_None);
  }
  int rc = PyUFunc_AddPromoter(uf, any, promoter);
  Py_DECREF(any);
  Py_DECREF(promoter);
  return rc == 0;
}

// make_ufunc(function, *, name=None, doc="", roles, result=-1, nin, nout, signature=None,
//            threads=1, min_chunk=32768, spec=None) -> numpy.ufunc (see UfuncSpec)
PyObject *make_ufunc(PyObject *, PyObject *args, PyObject *kwargs) {
  UfuncSpec s;
  if (!parse_spec(args, kwargs, &s)) return nullptr;
  const FunctionObject *f = s.function;
  const std::string &fname = f->decl->name;
  auto d = std::make_unique<UfuncData>();
  d->plan = f->plan;
  d->nin = s.nin, d->nout = s.nout, d->nargs = s.nin + s.nout;
  d->ret_op = s.result;
  d->name = s.name;
  d->doc = s.doc;
  d->threads = std::max(1, s.threads);
  d->min_chunk = std::max<npy_intp>(1, npy_intp(s.min_chunk));
  d->core = s.signature != Py_None;
  if (d->core) {
    const char *sig = PyUnicode_AsUTF8(s.signature);
    if (!sig) return nullptr;
    d->signature = sig;
  }
  if (s.nin < 1 || s.nout < 1 || d->nargs > NPY_MAXARGS) {
    PyErr_Format(PyExc_ValueError, "cannot make a ufunc of %s(): needs at least one input and one output",
                 fname.c_str());
    return nullptr;
  }
  if (f->decl->type->variadic) {
    PyErr_Format(PyExc_TypeError, "cannot make a ufunc of variadic %s()", fname.c_str());
    return nullptr;
  }
  d->types.assign(size_t(d->nargs), char(-1));
  d->records.assign(size_t(d->nargs), nullptr);
  int max_dim = -1;
  if (!bind_params(s, *d, &max_dim) || !bind_result(s, *d)) return nullptr;
  d->body = choose_body(*d);
  d->functions[0] = ufunc_loop;
  d->data[0] = d.get();
  PyObject *uf =
      PyUFunc_FromFuncAndDataAndSignature(d->functions, d->data, d->types.data(), 1, s.nin, s.nout, PyUFunc_None,
                                          d->name.c_str(), d->doc.c_str(), 0, d->core ? d->signature.c_str() : nullptr);
  if (!uf) return nullptr;
  auto *u = (PyUFuncObject *)uf;
  for (const CType *rec : d->records)
    if (rec) u->type_resolver = record_resolver;
  if (d->core && !bind_core_dims(s, *d, u, max_dim)) {
    Py_DECREF(uf);
    return nullptr;
  }
  Py_INCREF((PyObject *)f);
  d->function = (PyObject *)f;
  Py_INCREF(s.spec);
  d->spec = s.spec;
  if (!attach(uf, std::move(d))) {
    Py_DECREF(uf);
    return nullptr;
  }
  return uf;
}

UfuncData *data_of(PyObject *o) {
  if (!PyObject_TypeCheck(o, &PyUFunc_Type)) return nullptr;
  PyObject *cap = ((PyUFuncObject *)o)->obj;
  if (!cap || !PyCapsule_IsValid(cap, kCapsuleName)) return nullptr;
  return static_cast<UfuncData *>(PyCapsule_GetPointer(cap, kCapsuleName));
}

PyObject *ufunc_spec(PyObject *, PyObject *o) {
  UfuncData *d = data_of(o);
  if (!d) Py_RETURN_NONE;
  Py_INCREF(d->spec);
  return d->spec;
}

PyObject *ufunc_info(PyObject *, PyObject *o) {
  UfuncData *d = data_of(o);
  if (!d) {
    PyErr_SetString(PyExc_TypeError, "not a ufunc made by ndffi");
    return nullptr;
  }
  return Py_BuildValue(
      "{s:N,s:i,s:s,s:n}", "function", face_of((FunctionObject *)d->function), "threads", d->threads, "loop",
      d->body == generic_body ? (d->plan->direct ? "generic (direct stub)" : "generic (libffi)") : "typed", "min_chunk",
      Py_ssize_t(d->min_chunk));
}

PyMethodDef methods[] = {
    {"make_ufunc", (PyCFunction)(void (*)(void))make_ufunc, METH_VARARGS | METH_KEYWORDS,
     "make_ufunc(function, *, name=None, doc='', roles, result=-1, nin, nout, signature=None, threads=1, "
     "min_chunk=32768, spec=None)\n--\n\nMake a numpy.ufunc calling a Function."},
    {"ufunc_spec", ufunc_spec, METH_O, "How an ndffi ufunc was made (None for other ufuncs)."},
    {"ufunc_info", ufunc_info, METH_O, "The Function, loop kind and threads of an ndffi ufunc."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int register_ufunc(PyObject *module) {
  if (_import_umath() < 0) return -1;
  return PyModule_AddFunctions(module, methods);
}

}  // namespace ndffi::py