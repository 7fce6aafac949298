// The conversions of a call: what a call holds until C returns (Holds), messages that
// name the parameter (Where), to_c (one converter per Conv of the plan: convert_scalar.cpp,
// convert_pointer.cpp) and from_c for results.
#include <cstring>

#include "callback.h"
#include "convert.h"

#include <numpy/arrayscalars.h>

namespace ndffi::py {

// ---- Holds ------------------------------------------------------------------------

Holds::Held &Holds::held() {
  if (!held_ || held_ == only_first_view()) {
    bool first = held_ != nullptr;
    held_ = new Held();
    held_->first_view = first;
  }
  return *held_;
}

void Holds::keep(PyObject *o) { held().refs.push_back(o); }

Py_buffer *Holds::new_view() {
  if (!held_) {
    held_ = only_first_view();
    first_view_.obj = nullptr;
    return &first_view_;
  }
  Held &h = held();
  h.views.emplace_back(new Py_buffer());
  return h.views.back().get();
}

void Holds::release_held() {
  bool first = held_ == only_first_view();
  if (!first) {
    for (Keeps *k : held_->pins) unpin_keeps(k);
    first = held_->first_view;
  }
  if (first && first_view_.obj) PyBuffer_Release(&first_view_);
  if (held_ != only_first_view()) {
    for (auto &v : held_->views)
      if (v->obj) PyBuffer_Release(v.get());
    for (PyObject *o : held_->refs) Py_DECREF(o);
    delete held_;
  }
  held_ = nullptr;
}

// ---- messages ---------------------------------------------------------------------

std::string Where::str() const {
  if (outer)
    return outer->str() + (field ? " field '" + std::string(field) + "'" : " element " + std::to_string(element));
  if (!func) return what ? what : "value";
  std::string s = func->decl->name + "()";
  if (index < 0) return s + " result";
  s += " argument " + std::to_string(index + 1);
  if (size_t(index) < func->decl->param_names.size() && !func->decl->param_names[index].empty())
    s += " '" + func->decl->param_names[index] + "'";
  return s;
}

// The text of `s`, a new reference to a str that PyObject_Str or PyObject_Repr made
// (released here), or "?" when it failed.
std::string text_of(PyObject *s) {
  std::string r = s ? PyUnicode_AsUTF8(s) : "?";
  Py_XDECREF(s);
  PyErr_Clear();
  return r;
}

std::string dtype_name(PyArray_Descr *d) { return text_of(PyObject_Str((PyObject *)d)); }

std::string describe(PyObject *o) {
  if (o == Py_None) return "None";
  if (PyArray_Check(o)) return dtype_name(PyArray_DESCR((PyArrayObject *)o)) + " array";
  if (is_pointer(o)) return "pointer '" + ((PointerObject *)o)->type->str() + "'";
  if (is_value(o)) return "'" + ((ValueObject *)o)->type->str() + "' value";
  if (is_record(o)) return "a '" + ((RecordObject *)o)->type->str() + "' struct value";
  return Py_TYPE(o)->tp_name;
}

bool fail(const Where &w, PyObject *exc, const std::string &expected, const std::string &given) {
  std::string msg = w.str() + ": expected " + expected + ", got " + given;
  PyErr_SetString(exc, msg.c_str());
  return false;
}

bool number_value(const ArgSpec &a, PyObject *o, unsigned char *dst, const Where &w) {
  switch (a.conv) {
    case Conv::SInt:
    case Conv::UInt: return int_value(a, o, dst, w);
    case Conv::Bool: return bool_value(a, o, dst, w);
    default: return float_value(a, o, dst, w);
  }
}

bool to_c(const ArgSpec &a, const PyArgInfo &info, PyObject *o, unsigned char *dst, Holds &holds, const Where &w) {
  switch (a.conv) {
    case Conv::SInt:
    case Conv::UInt:
    case Conv::Bool:
    case Conv::Float:
    case Conv::Double:
    case Conv::LongDouble: return number_value(a, o, dst, w);
    case Conv::Pointer: return pointer_arg(a, info, o, dst, holds, w);
    case Conv::FuncPtr: return funcptr_arg(a, o, dst, holds, w);
    case Conv::Record: return record_arg(a, o, dst, holds, w);
    default:
      PyErr_Format(PyExc_TypeError, "%s: type '%s' cannot be passed", w.str().c_str(), type_str(w, a).c_str());
      return false;
  }
}

// ---- results ----------------------------------------------------------------------

PyObject *from_c(const ArgSpec &a, uint64_t raw) {
  switch (a.conv) {
    case Conv::Void: Py_RETURN_NONE;
    case Conv::Bool: return PyBool_FromLong(raw & 0xff);
    case Conv::SInt: return PyLong_FromLongLong(extend_signed(raw, a.size));
    case Conv::UInt: return PyLong_FromUnsignedLongLong(extend_unsigned(raw, a.size));
    case Conv::Float: {
      float f;
      uint32_t b = uint32_t(raw);
      memcpy(&f, &b, 4);
      return PyFloat_FromDouble(f);
    }
    case Conv::Double: {
      double d;
      memcpy(&d, &raw, 8);
      return PyFloat_FromDouble(d);
    }
    case Conv::Pointer:
    case Conv::FuncPtr: return make_pointer((void *)uintptr_t(raw), TypeTable::get().unqualified(a.type), nullptr);
    default:
      PyErr_Format(PyExc_TypeError, "results of type '%s' are not supported", a.type->str().c_str());
      return nullptr;
  }
}

}  // namespace ndffi::py
