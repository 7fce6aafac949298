// Struct and union values (ndffi.StructValue), their NumPy dtypes, and the check that a
// structured array is laid out exactly as a C record.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>

#include "common.h"
#include "messages.h"
#include "nd_limits.h"

namespace ndffi::py {

static const CType *strip(const CType *t) {  // no call for an unqualified scalar or record
  return t->quals || t->kind == Kind::Array ? TypeTable::get().unqualified(t) : t;
}

// The walks below recurse once per level of records held by value, at most about
// kMaxTypeDepth deep (the parser refuses deeper types); on a thread whose stack runs
// low before that, the walk stops with this TypeError instead of overflowing it.
static bool stack_runs_low(const CType *t) {
  if (!stack_low()) return false;
  PyErr_Format(PyExc_TypeError,
               "'%s' is nested too deeply for the stack of this thread (%zu levels); "
               "use it from a thread with a larger stack (threading.stack_size)",
               t->str().c_str(), t->depth());
  return true;
}

// ---- fields -------------------------------------------------------------------------

// Find a member by name, looking into anonymous struct/union members; `offset` is set
// to the member's offset from the start of the outermost record.
static const Record::Field *find_field(const Record *rec, const char *name, size_t *offset) {
  for (const Record::Field &f : rec->fields) {
    if (f.name.empty() && f.type->kind == Kind::Record) {
      size_t inner;
      if (const Record::Field *g = find_field(f.type->record, name, &inner)) {
        *offset = f.offset + inner;
        return g;
      }
    } else if (f.name == name) {
      *offset = f.offset;
      return &f;
    }
  }
  return nullptr;
}

// The named fields in order, anonymous members flattened: (field, offset).
static void flat_fields(const Record *rec, size_t base, std::vector<std::pair<const Record::Field *, size_t>> &out) {
  for (const Record::Field &f : rec->fields) {
    if (f.name.empty() && f.type->kind == Kind::Record) flat_fields(f.type->record, base + f.offset, out);
    else if (!f.name.empty()) out.push_back({&f, base + f.offset});
  }
}

static uint64_t read_bits(const char *p, int bit_offset, int width) {
  uint64_t v = 0;
  int nbytes = (bit_offset + width + 7) / 8;
  unsigned char buf[16] = {0};
  memcpy(buf, p, size_t(nbytes));
  for (int i = width - 1; i >= 0; i--) {
    int bit = bit_offset + i;
    v = (v << 1) | ((buf[bit / 8] >> (bit % 8)) & 1);
  }
  return v;
}

static void write_bits(char *p, int bit_offset, int width, uint64_t v) {
  for (int i = 0; i < width; i++) {
    int bit = bit_offset + i;
    unsigned char mask = (unsigned char)(1u << (bit % 8));
    if ((v >> i) & 1) p[bit / 8] = char((unsigned char)p[bit / 8] | mask);
    else p[bit / 8] = char((unsigned char)p[bit / 8] & ~mask);
  }
}

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
  std::vector<std::pair<const Record::Field *, size_t>> fields;
  flat_fields(rec, 0, fields);
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
  std::vector<std::pair<const Record::Field *, size_t>> fields;
  flat_fields(rec, 0, fields);
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

// ---- StructValue ----------------------------------------------------------------------

// A struct value is made by every call that returns one: a few freed ones are kept for
// reuse, as for Pointers (pointer.cpp), sparing the allocator and the GC's bookkeeping.
// Used with the GIL held.
#ifndef Py_GIL_DISABLED
constexpr int kFreeRecords = 16;
static RecordObject *free_records[kFreeRecords];
static int n_free_records = 0;
#endif

static inline __attribute__((always_inline)) RecordObject *new_record_object() {
#ifndef Py_GIL_DISABLED
  if (n_free_records > 0) {
    RecordObject *r = free_records[--n_free_records];
    revive((PyObject *)r, &RecordType);
    return r;
  }
#endif
  return PyObject_GC_New(RecordObject, &RecordType);
}

PyObject *make_record_inline(const CType *t, const uint64_t *src) {
  if (t->record->complex_of) return complex_object(t, src);
  auto *r = new_record_object();
  if (!r) return nullptr;
  size_t size = t->record->size;
  r->type = t;
  r->owner = nullptr;
  r->keeps = nullptr;
  r->weakrefs = nullptr;
  r->data = r->inline_data;
  static_assert(RecordObject::kInlineRecord == 32);
  if (size <= 16) memcpy(r->data, src, 16);  // fixed sizes: a couple of moves, no memcpy call
  else memcpy(r->data, src, 32);
  r->owns = true;
  r->span = Span::of(r->data, size);
  // Not tracked by the GC: it refers to nothing until a pointer is stored into it, when
  // keeps_slot (memory.cpp) tracks it.
  return (PyObject *)r;
}

PyObject *make_record(const CType *t, const void *src) {
  if (is_complex(t)) return src ? complex_object(t, src) : PyComplex_FromDoubles(0, 0);
  auto *r = new_record_object();
  if (!r) return nullptr;
  size_t size = t->byte_size(), align = t->alignment();
  r->type = strip(t);
  r->owner = nullptr;
  r->keeps = nullptr;
  r->weakrefs = nullptr;
  if (size <= RecordObject::kInlineRecord && align <= alignof(RecordObject)) {
    r->data = r->inline_data;
    if (src) memcpy(r->data, src, size);
    else memset(r->data, 0, size);
  } else {
    r->data = alloc_aligned(size, align);
    if (!r->data) {
      r->owns = false;
      Py_DECREF(r);
      return PyErr_NoMemory();
    }
    if (src) memcpy(r->data, src, size);
  }
  r->owns = true;
  r->span = Span::of(r->data, size);
  PyObject_GC_Track(r);
  return (PyObject *)r;
}

PyObject *make_record_view(const CType *t, void *data, PyObject *owner, const Span &span) {
  if (is_complex(t)) return complex_object(t, data);  // a value: C's complex is a number
  auto *r = new_record_object();
  if (!r) return nullptr;
  r->type = strip(t);
  r->data = (char *)data;
  r->owner = owner;
  Py_XINCREF(owner);
  r->owns = false;
  r->span = span;
  r->keeps = nullptr;
  r->weakrefs = nullptr;
  PyObject_GC_Track(r);
  return (PyObject *)r;
}

static int record_traverse(PyObject *self, visitproc visit, void *arg) {
  Py_VISIT(((RecordObject *)self)->owner);
  return traverse_keeps(((RecordObject *)self)->keeps, visit, arg);
}

static int record_clear(PyObject *self) {
  auto *r = (RecordObject *)self;
  Keeps *k = r->keeps;
  r->keeps = nullptr;
  free_keeps(k);
  Py_CLEAR(r->owner);
  return 0;
}

static void record_dealloc(PyObject *self) {
  auto *r = (RecordObject *)self;
  PyObject_GC_UnTrack(self);
  if (r->weakrefs) PyObject_ClearWeakRefs(self);
  if (r->owner || r->keeps) record_clear(self);
  if (r->owns && r->data != r->inline_data) free_aligned(r->data);
#ifndef Py_GIL_DISABLED
  if (Py_TYPE(self) == &RecordType && n_free_records < kFreeRecords) {
    free_records[n_free_records++] = r;
    return;
  }
#endif
  PyObject_GC_Del(self);
}

// An array of pointers (or of records holding them) is read as a Pointer to its first
// element, so that its elements come back with what their stores kept.
static bool decays_to_pointer(const CType *leaf) {
  return leaf->kind == Kind::Pointer || (leaf->kind == Kind::Record && holds_pointers(leaf));
}

// The value of a member at `p` (a view for records and arrays, which stay in place).
static PyObject *get_member(RecordObject *r, const Record::Field *f, char *p) {
  const CType *t = f->type;
  if (f->bit_width >= 0) {
    const CType *base = t->kind == Kind::Enum ? t->record->enum_base : t;
    uint64_t v = read_bits(p, f->bit_offset, f->bit_width);
    if (base->kind == Kind::Bool) return PyBool_FromLong(long(v));
    if (base->is_signed && f->bit_width > 0 && f->bit_width < 64 && (v >> (f->bit_width - 1)) & 1)
      return PyLong_FromLongLong(int64_t(v | (~uint64_t(0) << f->bit_width)));
    return base->is_signed ? PyLong_FromLongLong(int64_t(v)) : PyLong_FromUnsignedLongLong(v);
  }
  PyObject *home = home_of((PyObject *)r);
  if (t->kind == Kind::Record) return make_record_view(t, p, home, r->span);
  if (t->kind == Kind::Array) {
    const CType *e = t;
    std::vector<npy_intp> shape;
    while (e->kind == Kind::Array) {
      shape.push_back(npy_intp(e->length == CType::kUnknownLength ? 0 : e->length));
      e = e->target;
    }
    if (e->kind == Kind::Int && e->size == 1 && strip(e)->name == "char" && shape.size() == 1)
      return PyBytes_FromStringAndSize(p, Py_ssize_t(strnlen(p, size_t(shape[0]))));
    if (decays_to_pointer(e)) return load_c(t, p, home, r->span);
    PyArray_Descr *d = e->kind == Kind::Record ? record_dtype(e) : dtype_of(e);
    if (!d) return nullptr;
    int flags = r->span.readonly ? NPY_ARRAY_CARRAY_RO : NPY_ARRAY_CARRAY;
    PyObject *arr = PyArray_NewFromDescr(&PyArray_Type, d, int(shape.size()), shape.data(), nullptr, p, flags, nullptr);
    if (!arr) return nullptr;
    Py_INCREF(r);
    if (PyArray_SetBaseObject((PyArrayObject *)arr, (PyObject *)r) < 0) {
      Py_DECREF(arr);
      return nullptr;
    }
    return arr;
  }
  return load_c(t, p, home, r->span);
}

bool set_record(const CType *t, char *p, PyObject *v, const Where &w);

// Writes into zeroed staging memory first, which keeps what its pointers need, so that a
// failure leaves p as it was; then the bytes and what they keep move to p.
template <class Fill>
static bool staged(const CType *t, char *p, const Where &w, Fill fill) {
  size_t size = t->byte_size();
  char *mem = alloc_aligned(size, t->alignment());
  if (!mem) return PyErr_NoMemory(), false;
  PyObject *stage = make_pointer(mem, TypeTable::get().pointer(t), nullptr, 1);
  if (!stage) return free_aligned(mem), false;
  ((PointerObject *)stage)->owns_memory = true;
  Where ws = w;
  ws.home = stage, ws.holds = nullptr;
  bool ok = fill(mem, ws) && can_take_stored(stage, mem, size, w, stage);
  if (ok) {
    memcpy(p, mem, size);
    take_stored(stage, mem, p, size, w);
  }
  Py_DECREF(stage);
  return ok;
}

// The elements of an array from a list or tuple of them, each stored (and kept) as a
// single one would be, so that every element gets the checks of its type (no str parsed
// as a number, no float truncated to an int) and messages name it.  An array holding
// pointers may be given fewer values (the rest are NULL, as in C); an array of data takes
// exactly its length.
static bool set_elements(const CType *t, char *p, PyObject *v, const Where &w) {
  if (!PyList_Check(v) && !PyTuple_Check(v))
    return PyErr_Format(PyExc_TypeError, "%s: expected a list of %zu values for '%s', got %s", w.str().c_str(),
                        t->length, t->str().c_str(), describe(v).c_str()),
           false;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
  if (size_t(n) > t->length || (size_t(n) < t->length && !holds_pointers(t)))
    return PyErr_Format(PyExc_ValueError, "%s: expected %zu values for '%s', got %zd", w.str().c_str(), t->length,
                        t->str().c_str(), n),
           false;
  PyObject *items = PySequence_Tuple(v);  // a snapshot: the list may change while its items convert
  if (!items) return false;
  bool ok = staged(t, p, w, [&](char *mem, const Where &ws) {
    const CType *e = t->target;
    size_t es = e->byte_size();
    for (Py_ssize_t i = 0; i < n; i++) {
      Where wi = ws.part(w, nullptr, i);
      if (!store_c(e, mem + size_t(i) * es, PyTuple_GET_ITEM(items, i), wi)) return false;
    }
    return true;
  });
  Py_DECREF(items);
  return ok;
}

// A C array (a field, an element of an array of arrays, ndffi.new memory) from bytes (for
// 1-byte elements), a list or tuple of its elements, or an array (or buffer, or array by
// protocol) converted by NumPy's safe casting, of exactly its size.
bool set_array(const CType *t, char *p, PyObject *v, const Where &w) {
  size_t size = t->byte_size();
  const CType *e = t;
  while (e->kind == Kind::Array) e = e->target;
  e = strip(e);
  if (e->kind == Kind::Int && e->size == 1 && (PyBytes_Check(v) || PyByteArray_Check(v))) {
    Py_ssize_t n = PyBytes_Check(v) ? PyBytes_GET_SIZE(v) : PyByteArray_GET_SIZE(v);
    const char *s = PyBytes_Check(v) ? PyBytes_AS_STRING(v) : PyByteArray_AS_STRING(v);
    if (size_t(n) > size) {
      PyErr_Format(PyExc_ValueError, "%s: %zd bytes do not fit in '%s'", w.str().c_str(), n, t->str().c_str());
      return false;
    }
    forget_stored(w.home, p, p + size);
    memset(p, 0, size);
    memcpy(p, s, size_t(n));
    return true;
  }
  if (PyList_Check(v) || PyTuple_Check(v) || holds_pointers(e)) return set_elements(t, p, v, w);
  bool is_char = e->kind == Kind::Int && e->size == 1;
  if (!PyArray_Check(v) && !PyObject_CheckBuffer(v) && !PyObject_HasAttrString(v, "__array_interface__") &&
      !PyObject_HasAttrString(v, "__array_struct__") && !PyObject_HasAttrString(v, "__dlpack__")) {
    PyErr_Format(PyExc_TypeError, "%s: expected %sa list of %zu values or an array for '%s', got %s%s", w.str().c_str(),
                 is_char ? "bytes, " : "", t->length, t->str().c_str(), describe(v).c_str(),
                 is_char && PyUnicode_Check(v) ? " (encode it: s.encode())" : "");
    return false;
  }
  PyArray_Descr *d = e->kind == Kind::Record ? record_dtype(e) : dtype_of(e);
  if (!d) return false;
  PyArrayObject *src = (PyArrayObject *)PyArray_FromAny(v, d, 0, 0, NPY_ARRAY_CARRAY, nullptr);
  if (!src) {  // NumPy's reason, with where and what
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : nullptr;
    PyErr_Format(PyExc_TypeError,
                 "%s: expected an array of %zu elements convertible to '%s' by NumPy's safe "
                 "casting, got %s: %s",
                 w.str().c_str(), size / std::max<size_t>(1, e->byte_size()), t->str().c_str(), describe(v).c_str(),
                 s ? PyUnicode_AsUTF8(s) : "?");
    Py_XDECREF(s), Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
    return false;
  }
  bool ok = size_t(PyArray_NBYTES(src)) == size;
  if (ok) forget_stored(w.home, p, p + size), memcpy(p, PyArray_DATA(src), size);
  else
    PyErr_Format(PyExc_ValueError, "%s: expected %zu elements for '%s', got an array of %zd", w.str().c_str(),
                 size / std::max<size_t>(1, e->byte_size()), t->str().c_str(), Py_ssize_t(PyArray_SIZE(src)));
  Py_DECREF(src);
  return ok;
}

static bool set_member(const Record::Field *f, char *p, PyObject *v, const Where &w) {
  const CType *t = f->type;
  if (f->bit_width >= 0) {
    const CType *base = t->kind == Kind::Enum ? t->record->enum_base : t;
    if (!PyLong_Check(v)) {
      PyErr_Format(PyExc_TypeError, "%s: expected int for a %d-bit field, got %s", w.str().c_str(), f->bit_width,
                   Py_TYPE(v)->tp_name);
      return false;
    }
    int bw = f->bit_width;
    bool is_signed = base->is_signed && base->kind != Kind::Bool;
    long long lo = !is_signed ? 0 : bw >= 64 ? LLONG_MIN : -(1LL << (bw - 1));
    unsigned long long hi = is_signed ? (bw >= 64 ? (unsigned long long)LLONG_MAX : (1ULL << (bw - 1)) - 1)
                                      : (bw >= 64 ? ~0ULL : (1ULL << bw) - 1);
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    uint64_t bits = uint64_t(x);
    bool ok = !overflow && x >= lo && (x < 0 || (unsigned long long)x <= hi);
    if (overflow > 0 && !is_signed) {  // above LLONG_MAX: fits an unsigned 64-bit field
      unsigned long long ux = PyLong_AsUnsignedLongLong(v);
      if (ux == (unsigned long long)-1 && PyErr_Occurred()) PyErr_Clear();
      else ok = ux <= hi, bits = ux;
    }
    if (!ok) {
      if (!PyErr_Occurred())
        PyErr_Format(PyExc_OverflowError, "%s: expected int in [%lld, %llu] for a %d-bit field, got %R",
                     w.str().c_str(), lo, hi, bw, v);
      return false;
    }
    forget_stored(w.home, p, p + (f->bit_offset + bw + 7) / 8);
    write_bits(p, f->bit_offset, bw, bits);
    return true;
  }
  if (t->kind == Kind::Record) return set_record(t, p, v, w);
  if (t->kind == Kind::Array) return set_array(t, p, v, w);
  return store_c(t, p, v, w);
}

// Fill a record in place from positional values, keyword values or both.
static bool init_record(const CType *t, char *p, PyObject *args, PyObject *kwargs, const Where &w) {
  std::vector<std::pair<const Record::Field *, size_t>> fields;
  flat_fields(t->record, 0, fields);
  Py_ssize_t n = args ? PyTuple_GET_SIZE(args) : 0;
  if (t->record->is_union && n + (kwargs ? PyDict_Size(kwargs) : 0) > 1) {
    PyErr_Format(PyExc_TypeError, "%s: a union takes one initializer", w.str().c_str());
    return false;
  }
  if (size_t(n) > fields.size()) {
    PyErr_Format(PyExc_TypeError, "%s: '%s' has %zu fields, got %zd values", w.str().c_str(), t->str().c_str(),
                 fields.size(), n);
    return false;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    Where fw = w.part(w, fields[size_t(i)].first->name.c_str());
    if (!set_member(fields[size_t(i)].first, p + fields[size_t(i)].second, PyTuple_GET_ITEM(args, i), fw)) return false;
  }
  if (kwargs) {
    // A snapshot of the (name, value) pairs: a value's __index__ may change the dict.
    PyObject *items = snapshot_items(kwargs);
    if (!items) return false;
    bool ok = true;
    for (Py_ssize_t k = 0; ok && k < PyList_GET_SIZE(items); k++) {
      PyObject *key = PyTuple_GET_ITEM(PyList_GET_ITEM(items, k), 0);
      PyObject *value = PyTuple_GET_ITEM(PyList_GET_ITEM(items, k), 1);
      Py_ssize_t len = 0;
      const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &len) : nullptr;
      size_t off;
      const Record::Field *f = name && strlen(name) == size_t(len) ? find_field(t->record, name, &off) : nullptr;
      if (!PyUnicode_Check(key)) {
        PyErr_Format(PyExc_TypeError, "%s: a field of '%s' is named by a str, got %R", w.str().c_str(),
                     t->str().c_str(), key);
        ok = false;
      } else if (!name) {
        ok = false;
      } else if (!f) {
        PyErr_Format(PyExc_TypeError, "%s: '%s' has no field %R", w.str().c_str(), t->str().c_str(), key);
        ok = false;
      } else {
        ok = set_member(f, p + off, value, w.part(w, name));
      }
    }
    Py_DECREF(items);
    return ok;
  }
  return true;
}

// Store a value of record type t at p: a StructValue of the same type, a tuple/list of
// field values, or a dict of them.
bool set_record(const CType *t, char *p, PyObject *v, const Where &w) {
  t = strip(t);
  size_t size = t->byte_size();
  if (t->record->complex_of) return store_complex(t, p, v, w);
  if (is_record(v)) {
    auto *r = (RecordObject *)v;
    if (r->type->record != t->record) {
      PyErr_Format(PyExc_TypeError, "%s: expected '%s', got '%s'%s", w.str().c_str(), t->str().c_str(),
                   r->type->str().c_str(), same_spelling_hint(t, r->type).c_str());
      return false;
    }
    PyObject *src_home = home_of(v);
    if (!can_take_stored(src_home, r->data, size, w, v)) return false;
    memmove(p, r->data, size);
    take_stored(src_home, r->data, p, size, w);  // a copy keeps what the original keeps
    return true;
  }
  if (stack_runs_low(t)) return false;
  bool is_seq = PyTuple_Check(v) || PyList_Check(v), is_dict = PyDict_Check(v);
  if (!is_seq && !is_dict) {
    PyErr_Format(PyExc_TypeError, "%s: expected '%s' (a struct value, tuple or dict), got %s", w.str().c_str(),
                 t->str().c_str(), describe(v).c_str());
    return false;
  }
  // a snapshot of a sequence (init_record takes one of a dict's items): the values'
  // conversions may change the container
  PyObject *args = is_seq ? snapshot(v) : nullptr, *kwargs = is_dict ? v : nullptr;
  if (is_seq && !args) return false;
  Py_XINCREF(kwargs);
  bool ok;
  if (holds_pointers(t)) {
    ok = staged(t, p, w, [&](char *mem, const Where &ws) { return init_record(t, mem, args, kwargs, ws); });
  } else {
    // all or nothing: p changes only on success
    alignas(16) char small[64] = {};
    std::vector<char> large(size > sizeof small ? size : 0, 0);
    char *tmp = size > sizeof small ? large.data() : small;
    ok = init_record(t, tmp, args, kwargs, w);
    if (ok) forget_stored(w.home, p, p + size), memcpy(p, tmp, size);
  }
  Py_XDECREF(args);
  Py_XDECREF(kwargs);
  return ok;
}

static PyObject *record_getattro(PyObject *self, PyObject *name) {
  auto *r = (RecordObject *)self;
  const char *n = PyUnicode_AsUTF8(name);
  if (!n) return nullptr;
  size_t off;
  if (n[0] != '_' || n[1] != '_')
    if (const Record::Field *f = find_field(r->type->record, n, &off)) return get_member(r, f, r->data + off);
  return PyObject_GenericGetAttr(self, name);
}

static int record_setattro(PyObject *self, PyObject *name, PyObject *v) {
  auto *r = (RecordObject *)self;
  const char *n = PyUnicode_AsUTF8(name);
  if (!n) return -1;
  size_t off;
  const Record::Field *f = find_field(r->type->record, n, &off);
  if (!f) {
    PyErr_Format(PyExc_AttributeError, "'%s' has no field '%s'", r->type->str().c_str(), n);
    return -1;
  }
  if (!v) {
    PyErr_SetString(PyExc_TypeError, "fields cannot be deleted");
    return -1;
  }
  std::string where = "field '" + std::string(n) + "' of '" + r->type->str() + "'";
  if (r->span.readonly) {
    PyErr_Format(PyExc_TypeError, "cannot set %s: the value views read-only memory (%s)", where.c_str(),
                 describe_memory(r->owner, r->span).c_str());
    return -1;
  }
  if (f->type->is_const()) {  // as in C: initialised when the value is made, not assigned
    PyErr_Format(PyExc_TypeError, "cannot set %s: it is const ('%s'); give it when the value is made", where.c_str(),
                 f->type->str().c_str());
    return -1;
  }
  Where w{nullptr, -1, where.c_str()};
  w.home = home_of(self);
  return set_member(f, r->data + off, v, w) ? 0 : -1;
}

static PyObject *record_repr(PyObject *self) {
  auto *r = (RecordObject *)self;
  std::string s = "<ndffi.StructValue '" + r->type->str() + "' {";
  // A member's repr is this function again: deep nesting is elided where the stack runs low.
  if (stack_low()) return PyUnicode_FromString((s + "...}>").c_str());
  std::vector<std::pair<const Record::Field *, size_t>> fields;
  flat_fields(r->type->record, 0, fields);
  for (size_t i = 0; i < fields.size(); i++) {
    PyObject *v = get_member(r, fields[i].first, r->data + fields[i].second);
    PyObject *rep = v ? PyObject_Repr(v) : nullptr;
    s += (i ? ", " : "") + fields[i].first->name + "=" + (rep ? PyUnicode_AsUTF8(rep) : "?");
    Py_XDECREF(rep);
    Py_XDECREF(v);
    PyErr_Clear();
  }
  return PyUnicode_FromString((s + "}>").c_str());
}

static PyObject *record_bytes(PyObject *self, PyObject *) {
  auto *r = (RecordObject *)self;
  return PyBytes_FromStringAndSize(r->data, Py_ssize_t(r->type->byte_size()));
}

static PyObject *record_richcompare(PyObject *a, PyObject *b, int op) {
  if (!is_record(b) || (op != Py_EQ && op != Py_NE)) Py_RETURN_NOTIMPLEMENTED;
  auto *x = (RecordObject *)a, *y = (RecordObject *)b;
  bool eq = x->type->record == y->type->record && !memcmp(x->data, y->data, x->type->byte_size());
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *record_dir(PyObject *self, PyObject *) {
  auto *r = (RecordObject *)self;
  std::vector<std::pair<const Record::Field *, size_t>> fields;
  flat_fields(r->type->record, 0, fields);
  PyObject *l = PyList_New(0);
  for (auto &f : fields) {
    PyObject *s = PyUnicode_FromString(f.first->name.c_str());
    PyList_Append(l, s);
    Py_DECREF(s);
  }
  return l;
}

// The value's memory as a writable buffer of bytes: memoryview(v), np.frombuffer(v, ...).
static int record_getbuffer(PyObject *self, Py_buffer *view, int flags) {
  auto *r = (RecordObject *)self;
  return PyBuffer_FillInfo(view, self, r->data, Py_ssize_t(r->type->byte_size()), r->span.readonly, flags);
}

static PyBufferProcs record_as_buffer = {record_getbuffer, nullptr};

static PyObject *record_get_ctype(PyObject *self, void *) { return ctype_object(((RecordObject *)self)->type); }

static PyGetSetDef record_getset[] = {{"__ctype__", record_get_ctype, nullptr, "the value's C type", nullptr},
                                      {nullptr}};

static PyMethodDef record_methods[] = {{"__bytes__", record_bytes, METH_NOARGS, "the value's bytes, as C has them"},
                                       {"__dir__", record_dir, METH_NOARGS, nullptr},
                                       {nullptr}};

PyTypeObject RecordType = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "ndffi.StructValue";
  t.tp_basicsize = sizeof(RecordObject);
  t.tp_dealloc = record_dealloc;
  t.tp_repr = record_repr;
  t.tp_getattro = record_getattro;
  t.tp_setattro = record_setattro;
  t.tp_richcompare = record_richcompare;
  t.tp_traverse = record_traverse;
  t.tp_clear = record_clear;
  t.tp_weaklistoffset = offsetof(RecordObject, weakrefs);
  t.tp_methods = record_methods;
  t.tp_getset = record_getset;
  t.tp_as_buffer = &record_as_buffer;
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
  t.tp_doc = "A C struct or union value: fields are attributes; bytes(v) is its memory.";
  return t;
}();

// CType(...) for a record type: a new zeroed value, then the initializers.
PyObject *new_record_value(const CType *t, PyObject *args, PyObject *kwargs) {
  if (!t->is_complete()) {
    PyErr_Format(PyExc_TypeError, "'%s' is incomplete: its size is unknown", t->str().c_str());
    return nullptr;
  }
  PyObject *v = make_record(t, nullptr);
  if (!v) return nullptr;
  std::string where = t->str() + "()";
  Where w{nullptr, -1, where.c_str()};
  w.home = v;
  if (!init_record(strip(t), ((RecordObject *)v)->data, args, kwargs, w)) {
    Py_DECREF(v);
    return nullptr;
  }
  return v;
}

}  // namespace ndffi::py
