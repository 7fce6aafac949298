// The NumPy dtype of a C struct or union, and the check that a structured array is laid
// out exactly as a C record (every field at its offset, of its type).
#include <string>

#include "common.h"
#include "messages.h"
#include "nd_limits.h"

namespace ndffi::py {

// ---- dtypes -------------------------------------------------------------------------

PyArray_Descr *record_dtype(const CType *t);

// The dtype of a member type: scalars, char arrays as bytes, other arrays as subarrays,
// records nested, pointers as uintp.
static PyObject *member_format(const CType *t) {
  if (t->kind == Kind::Array) {
    std::vector<size_t> shape;
    const CType *e = t;
    while (e->kind == Kind::Array) {
      shape.push_back(e->length == CType::kUnknownLength ? 0 : e->length);
      e = e->target;
    }
    if (e->kind == Kind::Int && e->size == 1 && strip(e)->name == "char" && shape.size() == 1)
      return PyUnicode_FromFormat("S%zu", shape[0]);
    PyObject *base = member_format(e);
    if (!base) return nullptr;
    PyObject *tshape = PyTuple_New(Py_ssize_t(shape.size()));
    for (size_t i = 0; i < shape.size(); i++) PyTuple_SET_ITEM(tshape, Py_ssize_t(i), PyLong_FromSize_t(shape[i]));
    return Py_BuildValue("(NN)", base, tshape);
  }
  if (t->kind == Kind::Record) return (PyObject *)record_dtype(t);
  if (t->kind == Kind::Pointer) return (PyObject *)PyArray_DescrFromType(NPY_UINTP);
  return (PyObject *)dtype_of(t);
}

// A structured dtype with the C offsets and size.  Bit-fields have no NumPy type and
// are left out (the bytes stay, unnamed); a union's members all start at offset 0.
PyArray_Descr *record_dtype(const CType *t) {
  const Record *rec = t->record;
  if (rec->complex_of) return dtype_of(t);
  if (!rec->complete) {
    PyErr_Format(PyExc_TypeError, "'%s' is incomplete: it has no dtype", t->str().c_str());
    return nullptr;
  }
  if (stack_runs_low(t)) return nullptr;
  const std::vector<Record::Named> &fields = rec->named;
  PyObject *names = PyList_New(0), *formats = PyList_New(0), *offsets = PyList_New(0);
  PyObject *spec = nullptr;
  PyArray_Descr *descr = nullptr;
  for (auto &[f, off] : fields) {
    if (f->bit_width >= 0) continue;
    if (f->type->kind == Kind::Array && f->type->length == CType::kUnknownLength) continue;
    PyObject *fmt = member_format(f->type);
    if (!fmt) goto done;
    PyList_Append(names, PyUnicode_FromString(f->name.c_str()));
    Py_DECREF(PyList_GET_ITEM(names, PyList_GET_SIZE(names) - 1));
    PyList_Append(formats, fmt);
    Py_DECREF(fmt);
    PyObject *o = PyLong_FromSize_t(off);
    PyList_Append(offsets, o);
    Py_DECREF(o);
  }
  spec = Py_BuildValue("{sOsOsOsn}", "names", names, "formats", formats, "offsets", offsets, "itemsize",
                       Py_ssize_t(rec->size));
  if (spec && !PyArray_DescrConverter(spec, &descr)) descr = nullptr;
done:
  Py_XDECREF(spec);
  Py_DECREF(names);
  Py_DECREF(formats);
  Py_DECREF(offsets);
  return descr;
}

// ---- congruence of a structured array with a C record -------------------------------

static std::string type_label(PyArray_Descr *d) {
  PyObject *s = PyObject_Str((PyObject *)d);
  std::string r = s ? PyUnicode_AsUTF8(s) : "?";
  Py_XDECREF(s);
  PyErr_Clear();
  return r;
}

static bool member_matches(const CType *t, PyArray_Descr *d, std::string *why);

// Does descr `d` lay out record `t` exactly (itemsize, and every C field at its offset
// with its type)?  `why` names the first difference.
bool record_congruent(const CType *t, PyArray_Descr *d, std::string *why) {
  const Record *rec = t->record;
  if (rec->complex_of) return complex_congruent(t, d, why);
  if (stack_low()) {
    *why = "'" + t->str() + "' is nested too deeply for the stack of this thread to compare";
    return false;
  }
  if (!PyDataType_HASFIELDS(d)) {
    *why = "a plain " + type_label(d) + " array, not a structured array";
    return false;
  }
  const std::vector<Record::Named> &fields = rec->named;
  PyObject *dfields = PyDataType_FIELDS(d);
  for (auto &[f, off] : fields) {
    if (f->bit_width >= 0) continue;
    // An array field at the same offset.
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    PyArray_Descr *found = nullptr;
    std::string found_name;
    while (PyDict_Next(dfields, &pos, &key, &value)) {
      if (!PyTuple_Check(value) || PyTuple_GET_SIZE(value) < 2) continue;
      Py_ssize_t o = PyLong_AsSsize_t(PyTuple_GET_ITEM(value, 1));
      if (size_t(o) == off) {
        found = (PyArray_Descr *)PyTuple_GET_ITEM(value, 0);
        found_name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : "?";
        if (found_name == f->name) break;  // prefer the field of the same name
      }
    }
    PyArray_Descr *cd = f->type->kind == Kind::Array ? nullptr : dtype_of(f->type);
    if (!cd) PyErr_Clear();
    std::string ctext = "C has " + (cd ? type_label(cd) + " ('" + f->type->str() + "')" : "'" + f->type->str() + "'") +
                        " at offset " + std::to_string(off);
    Py_XDECREF(cd);
    if (!found) {
      *why = "field '" + f->name + "': " + ctext + ", the array has no field at that offset";
      // The array's field of that name, if it is elsewhere.
      PyObject *same = PyDict_GetItemString(dfields, f->name.c_str());
      if (same && PyTuple_Check(same) && PyTuple_GET_SIZE(same) >= 2) {
        Py_ssize_t o = PyLong_AsSsize_t(PyTuple_GET_ITEM(same, 1));
        if (o < 0 && PyErr_Occurred()) PyErr_Clear();
        *why += " ('" + f->name + "' is " + type_label((PyArray_Descr *)PyTuple_GET_ITEM(same, 0)) + " at offset " +
                std::to_string(o) + ")";
      }
      return false;
    }
    if (found_name != f->name) {  // a field of another name there: never this one's, found elsewhere
      PyObject *same = PyDict_GetItemString(dfields, f->name.c_str());
      if (same && PyTuple_Check(same) && PyTuple_GET_SIZE(same) >= 2) {
        Py_ssize_t o = PyLong_AsSsize_t(PyTuple_GET_ITEM(same, 1));
        if (o < 0 && PyErr_Occurred()) PyErr_Clear();
        *why = "field '" + f->name + "': C has it at offset " + std::to_string(off) + ", the array at offset " +
               std::to_string(o) + " (and '" + found_name + "' at " + std::to_string(off) + ")";
        return false;
      }
    }
    std::string inner;
    if (!member_matches(f->type, found, &inner)) {
      *why = "field '" + f->name + "': " + ctext + ", the array has " + type_label(found) +
             (found_name == f->name ? "" : " ('" + found_name + "')") + " at offset " + std::to_string(off) +
             (inner.empty() ? "" : " (" + inner + ")");
      return false;
    }
  }
  if (size_t(PyDataType_ELSIZE(d)) != rec->size) {
    *why = "records of " + std::to_string(PyDataType_ELSIZE(d)) + " bytes; C '" + t->str() + "' is " +
           std::to_string(rec->size) + " bytes";
    return false;
  }
  return true;
}

static bool member_matches(const CType *t, PyArray_Descr *d, std::string *why) {
  if (t->kind == Kind::Enum && t->record->enum_base) t = t->record->enum_base;
  if (t->kind == Kind::Record) return record_congruent(t, d, why);
  if (t->kind == Kind::Array) {
    size_t count = 1;
    const CType *e = t;
    while (e->kind == Kind::Array) count *= e->length, e = e->target;
    if (e->kind == Kind::Int && e->size == 1 && d->type_num == NPY_STRING) return size_t(PyDataType_ELSIZE(d)) == count;
    if (!PyDataType_HASSUBARRAY(d)) return false;
    PyArray_ArrayDescr *sub = PyDataType_SUBARRAY(d);
    size_t n = 1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(sub->shape); i++)
      n *= size_t(PyLong_AsSsize_t(PyTuple_GET_ITEM(sub->shape, i)));
    return n == count && member_matches(e, sub->base, why);
  }
  if (PyDataType_HASFIELDS(d) || PyDataType_HASSUBARRAY(d)) return false;
  if (!PyArray_ISNBO(d->byteorder)) return false;
  if (size_t(PyDataType_ELSIZE(d)) != t->byte_size()) return false;
  char k = d->kind;
  switch (t->kind) {
    case Kind::Bool: return k == 'b';
    case Kind::Float: return k == 'f';
    case Kind::Pointer: return k == 'u' || k == 'i';
    case Kind::Int:
      if (t->size == 1 && strip(t)->name == "char") return k == 'i' || k == 'u' || k == 'S';
      return k == (t->is_signed ? 'i' : 'u');
    default: return false;
  }
}

}  // namespace ndffi::py
