// Struct and union values (ndffi.StructValue): made from C's bytes, from a tuple or dict
// of field values, read and written by field.  Their dtypes are in record_dtype.cpp.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "common.h"
#include "messages.h"
#include "nd_limits.h"

namespace ndffi::py {

bool stack_runs_low(const CType *t) {
  if (!stack_low()) return false;
  PyErr_Format(PyExc_TypeError,
               "'%s' is nested too deeply for the stack of this thread (%zu levels); "
               "use it from a thread with a larger stack (threading.stack_size)",
               t->str().c_str(), t->depth());
  return true;
}

// ---- fields -------------------------------------------------------------------------

// Find a member by name, anonymous struct/union members' included; `offset` is set to
// its offset from the start of the record.
static const Record::Field *find_field(const Record *rec, std::string_view name, size_t *offset) {
  for (const Record::Named &n : rec->named)
    if (n.field->name == name) {
      *offset = n.offset;
      return n.field;
    }
  return nullptr;
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
  const std::vector<Record::Named> &fields = t->record->named;
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
    Where fw = w.part(w, fields[size_t(i)].field->name.c_str());
    if (!set_member(fields[size_t(i)].field, p + fields[size_t(i)].offset, PyTuple_GET_ITEM(args, i), fw)) return false;
  }
  if (kwargs) {
    // A snapshot of the (name, value) pairs: a value's __index__ may change the dict.
    DictSnapshot items(kwargs);
    for (auto &[key, value] : items) {
      Py_ssize_t len = 0;
      const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &len) : nullptr;
      size_t off;
      const Record::Field *f = name ? find_field(t->record, std::string_view(name, size_t(len)), &off) : nullptr;
      if (!PyUnicode_Check(key)) {
        PyErr_Format(PyExc_TypeError, "%s: a field of '%s' is named by a str, got %R", w.str().c_str(),
                     t->str().c_str(), key);
        return false;
      }
      if (!name) return false;
      if (!f) {
        PyErr_Format(PyExc_TypeError, "%s: '%s' has no field %R", w.str().c_str(), t->str().c_str(), key);
        return false;
      }
      if (!set_member(f, p + off, value, w.part(w, name))) return false;
    }
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
  Py_ssize_t len;
  const char *n = PyUnicode_AsUTF8AndSize(name, &len);
  if (!n) return nullptr;
  size_t off;
  if (n[0] != '_' || n[1] != '_')
    if (const Record::Field *f = find_field(r->type->record, std::string_view(n, size_t(len)), &off))
      return get_member(r, f, r->data + off);
  return PyObject_GenericGetAttr(self, name);
}

static int record_setattro(PyObject *self, PyObject *name, PyObject *v) {
  auto *r = (RecordObject *)self;
  Py_ssize_t len;
  const char *n = PyUnicode_AsUTF8AndSize(name, &len);
  if (!n) return -1;
  size_t off;
  const Record::Field *f = find_field(r->type->record, std::string_view(n, size_t(len)), &off);
  if (!f) {
    PyErr_Format(PyExc_AttributeError, "'%s' has no field %R", r->type->str().c_str(), name);
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
  const std::vector<Record::Named> &fields = r->type->record->named;
  for (size_t i = 0; i < fields.size(); i++) {
    PyObject *v = get_member(r, fields[i].field, r->data + fields[i].offset);
    PyObject *rep = v ? PyObject_Repr(v) : nullptr;
    s += (i ? ", " : "") + fields[i].field->name + "=" + (rep ? PyUnicode_AsUTF8(rep) : "?");
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
  const std::vector<Record::Named> &fields = r->type->record->named;
  PyObject *l = PyList_New(0);
  for (auto &f : fields) {
    PyObject *s = PyUnicode_FromString(f.field->name.c_str());
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
