// Variadic calls: the C type each argument past the fixed ones travels as (C's default
// promotions, from its Python type and, for an int, its range), and a function's cache of
// call plans by the list of those types, so that a call with types seen before prepares
// nothing: no type is interned, no cif prepared, no string formatted.
#include "callback.h"
#include "convert.h"

#include <numpy/arrayscalars.h>

namespace ndffi::py {

// Plans a function keeps, replaced oldest first: a format string's few shapes fit.
constexpr unsigned kMaxVarPlans = 8;

struct VarPlans {
  VarPlan *slots[kMaxVarPlans] = {};
  unsigned next = 0;  // the slot the next new plan takes, round robin
};

void free_variadic_plans(VarPlans *c) {
  if (!c) return;
  for (VarPlan *vp : c->slots)
    if (vp) release_plan(vp);
  delete c;
}

// The C types Python values travel as through `...`, made once (interning formats a key).
struct VarTypes {
  const CType *int_, *long_, *ulong, *double_, *ldouble, *cstring, *voidp;
};
static const VarTypes &var_types() {
  static const VarTypes v = [] {
    TypeTable &T = TypeTable::get();
    return VarTypes{T.int_type(4, true, "int"),
                    T.int_type(sizeof(long), true, "long"),
                    T.int_type(sizeof(long), false, "unsigned long"),
                    T.float_type(8, "double"),
                    T.float_type(sizeof(long double), "long double"),
                    T.pointer(T.qualified(T.char_type(), QConst)),
                    T.pointer(T.void_type())};
  }();
  return v;
}

// What the C type of `o` is looked up by: the type itself, or what it is made from on a
// miss (resolve): a Value's, Pointer's or Callback's type as held (qualifiers are taken off
// then), a C function's function type (passed as a pointer to it).  nullptr with an
// exception naming `w` for a value with no C meaning through `...`.
static const CType *vararg_key(PyObject *o, const Where &w) {
  const VarTypes &V = var_types();
  if (is_value(o)) return ((ValueObject *)o)->type;
  if (is_pointer(o)) return ((PointerObject *)o)->type;
  if (PyBool_Check(o)) return V.int_;
  if (PyLong_Check(o)) {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (!overflow && v >= INT32_MIN && v <= INT32_MAX) return V.int_;
    if (!overflow) return V.long_;
    if (overflow > 0) {
      PyLong_AsUnsignedLongLong(o);
      if (!PyErr_Occurred()) return V.ulong;
    }
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError, "%s: int too large for any C integer type", w.str().c_str());
    return nullptr;
  }
  if (PyFloat_CheckExact(o)) return V.double_;
  if (PyBytes_CheckExact(o) || PyUnicode_CheckExact(o)) return V.cstring;
  // NumPy's own number types by identity, before the checks that walk a type's bases
  IntValue n;
  double d;
  if (numpy_int(o, &n)) return n.is_unsigned ? V.ulong : V.long_;
  if (numpy_real(o, &d)) return V.double_;
  // NumPy scalars with no C meaning through `...` (they would pass as buffers), after
  // the exact types above, which cost no walk of a type's bases.
  if (PyArray_IsScalar(o, Timedelta) || PyArray_IsScalar(o, Datetime) || PyArray_IsScalar(o, ComplexFloating) ||
      (PyArray_IsScalar(o, Generic) && !PyArray_IsScalar(o, Number) && !PyUnicode_Check(o) && !PyBytes_Check(o))) {
    PyErr_Format(PyExc_TypeError,
                 "%s: cannot pass %s as a variadic argument: it has no C type there; convert it (int(x), "
                 "float(x)) or give it one with ndffi.cast",
                 w.str().c_str(), Py_TYPE(o)->tp_name);
    return nullptr;
  }
  // A long double is not promoted: it travels as one, every digit kept.
  if (PyArray_IsScalar(o, LongDouble)) return V.ldouble;
  if (PyFloat_Check(o) || PyArray_IsScalar(o, Floating)) return V.double_;
  if (PyArray_IsScalar(o, UnsignedInteger)) return V.ulong;
  if (PyArray_IsScalar(o, Integer)) return V.long_;
  if (PyUnicode_Check(o) || PyBytes_Check(o)) return V.cstring;
  // A struct or union value travels by value, as C passes one through `...`; its
  // address is ndffi.cast("struct s *", v).
  if (is_record(o)) return ((RecordObject *)o)->type;
  // Function pointers: a Callback, or a C function (lib.twice), of its own C type.
  if (is_callback(o)) return ((CallbackObject *)o)->ptype;
  if (FunctionObject *f = as_function(o)) return f->decl->type;
  if (o == Py_None || PyArray_Check(o) || PyObject_CheckBuffer(o)) return V.voidp;
  if (PyCallable_Check(o)) {
    PyErr_Format(PyExc_TypeError,
                 "%s: a Python callable has no C signature to be passed as a variadic argument; "
                 "wrap it in ndffi.callback(\"sig\", f) with the C signature it is called with, "
                 "e.g. ndffi.callback(\"int(int)\", f)",
                 w.str().c_str());
    return nullptr;
  }
  if (PyTuple_Check(o) || PyList_Check(o) || PyDict_Check(o)) {
    PyErr_Format(
        PyExc_TypeError,
        "%s: cannot pass %s as a variadic argument (it has no C type): for a struct by value pass a struct value "
        "(lib.types.S(...) or lib.typeof(\"struct s\")(...)), for an array a NumPy array",
        w.str().c_str(), Py_TYPE(o)->tp_name);
    return nullptr;
  }
  PyErr_Format(PyExc_TypeError, "%s: cannot pass %s as a variadic argument (use ndffi.cast to give it a C type)",
               w.str().c_str(), Py_TYPE(o)->tp_name);
  return nullptr;
}

// The C type a key stands for.
static const CType *resolve(const CType *key) {
  return key->kind == Kind::Func ? TypeTable::get().pointer(key) : strip(key);
}

// A new plan for f's calls with variadic arguments of the types `key` (cold: once per list).
__attribute__((cold)) static VarPlan *new_plan(FunctionObject *f, const CType *const *key, Py_ssize_t n) {
  Py_ssize_t nfixed = Py_ssize_t(f->plan->args.size());
  std::vector<ArgSpec> extra;
  for (Py_ssize_t j = 0; j < n; j++) {
    try {
      extra.push_back(variadic_spec(resolve(key[j])));
    } catch (const std::exception &e) {  // a struct no engine passes (aligned above 64)
      PyErr_Format(PyExc_TypeError, "%s: %s", Where{f, int(nfixed + j)}.str().c_str(), e.what());
      return nullptr;
    }
  }
  auto vp = std::make_unique<VarPlan>();
  try {
    if (!make_variadic_plan(vp->plan, *f->plan, extra)) {
      PyErr_Format(PyExc_TypeError, "%s(): libffi cannot prepare this variadic call", f->decl->name.c_str());
      return nullptr;
    }
  } catch (const std::exception &e) {  // a struct only the engine passes, in a call libffi makes
    PyErr_Format(PyExc_TypeError, "%s(): %s", f->decl->name.c_str(), e.what());
    return nullptr;
  }
  vp->key.assign(key, key + n);
  vp->info.reset(new PyArgInfo[size_t(n) + 1]);
  for (Py_ssize_t j = 0; j < n; j++) {
    PyArgInfo &info = vp->info[j];
    // Any memory goes through `...` (C's format says what it is); a read-only buffer only
    // as a const pointer (ndffi.cast("const void *", x)): C may write through a void *.
    fill_arg_info(info, extra[size_t(j)].type, extra[size_t(j)].conv == Conv::Pointer);
  }
  return vp.release();
}

VarPlan *variadic_plan(FunctionObject *f, PyObject *const *extra, Py_ssize_t n) {
  constexpr Py_ssize_t kInline = 16;
  const CType *inline_key[kInline];
  std::vector<const CType *> big;
  const CType **key = n <= kInline ? inline_key : (big.resize(size_t(n)), big.data());
  Py_ssize_t nfixed = Py_ssize_t(f->plan->args.size());
  for (Py_ssize_t j = 0; j < n; j++)
    if (!(key[j] = vararg_key(extra[j], Where{f, int(nfixed + j)}))) return nullptr;
  // No Python code runs from here to the plan's use being counted: the cache is the GIL's.
  if (!f->varplans) f->varplans = new VarPlans();
  VarPlans &c = *f->varplans;
  for (VarPlan *vp : c.slots)
    if (vp && vp->key.size() == size_t(n) && std::equal(key, key + n, vp->key.data())) {
      vp->refs++;
      return vp;
    }
  VarPlan *vp = new_plan(f, key, n);
  if (!vp) return nullptr;
  VarPlan *&slot = c.slots[c.next];
  c.next = (c.next + 1) % kMaxVarPlans;
  if (slot) release_plan(slot);  // a call still running with it keeps it
  slot = vp;
  vp->refs++;
  return vp;
}

PyObject *variadic_plan_types(const FunctionObject *f) {
  PyObject *r = PyList_New(0);
  for (unsigned k = 0; r && f->varplans && k < kMaxVarPlans; k++) {
    const VarPlan *vp = f->varplans->slots[(f->varplans->next + k) % kMaxVarPlans];
    if (!vp) continue;
    PyObject *t = PyTuple_New(Py_ssize_t(vp->key.size()));
    for (size_t j = 0; t && j < vp->key.size(); j++) {
      PyObject *s = PyUnicode_FromString(vp->plan.args[f->plan->args.size() + j].type->str().c_str());
      if (!s) Py_CLEAR(t);
      else PyTuple_SET_ITEM(t, Py_ssize_t(j), s);
    }
    if (!t || PyList_Append(r, t) < 0) Py_CLEAR(r);
    Py_XDECREF(t);
  }
  if (!r) return nullptr;
  PyObject *t = PyList_AsTuple(r);
  Py_DECREF(r);
  return t;
}

}  // namespace ndffi::py
