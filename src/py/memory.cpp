// Who keeps the memory behind a Pointer or a struct value alive, and what the pointers
// stored into it keep: one mechanism for Pointers, struct values, ndffi.new memory,
// buffer exports and calls.
#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "common.h"
#include "messages.h"

namespace ndffi::py {

// ---- Keeps ----------------------------------------------------------------------------

struct Keeps {
  std::map<const char *, Kept> at;   // by slot address
  int pins = 0;                      // calls in flight that reach this memory
  uint64_t walk = 0;                 // the last pinning walk that visited it
  std::vector<PyObject *> deferred;  // owners let go while pinned
};

// Lets go of `o`: now, or when the last call that reaches the memory returns.  `later`
// collects what to release once the map is no longer being changed (a release may run
// Python code).
static void let_go(Keeps *k, PyObject *o, std::vector<PyObject *> &later) {
  if (k->pins) k->deferred.push_back(o);
  else later.push_back(o);
}

static void release_all(std::vector<PyObject *> &later) {
  for (PyObject *o : later) Py_DECREF(o);
  later.clear();
}

void free_keeps(Keeps *k) {
  if (!k) return;
  std::vector<PyObject *> later = std::move(k->deferred);
  for (auto &e : k->at) later.push_back(e.second.owner);
  delete k;
  release_all(later);
}

int traverse_keeps(Keeps *k, visitproc visit, void *arg) {
  if (!k) return 0;
  for (auto &e : k->at) Py_VISIT(e.second.owner);
  for (PyObject *o : k->deferred) Py_VISIT(o);
  return 0;
}

// Where `home` keeps what is stored into its memory; nullptr if it cannot (an array's,
// a buffer's memory: ndffi cannot tie anything to their lifetime).
static Keeps **keeps_slot(PyObject *home) {
  if (!home) return nullptr;
  if (is_pointer(home)) return &((PointerObject *)home)->keeps;
  if (is_record(home) && ((RecordObject *)home)->owns) {
    // a call's struct result starts untracked (make_record_inline): what it keeps is seen
    if (!PyObject_GC_IsTracked(home)) PyObject_GC_Track(home);
    return &((RecordObject *)home)->keeps;
  }
  return nullptr;
}

static Keeps *keeps_of(PyObject *home) {
  Keeps **k = keeps_slot(home);
  return k ? *k : nullptr;
}

PyObject *home_of(PyObject *o) {
  if (is_pointer(o)) {
    auto *p = (PointerObject *)o;
    return p->owner ? p->owner : o;
  }
  auto *r = (RecordObject *)o;
  return r->owns || !r->owner ? o : r->owner;
}

// Entries whose 8-byte slot overlaps [lo, hi).
template <class F>
static void for_slots(Keeps *k, const char *lo, const char *hi, F f) {
  auto it = k->at.lower_bound(lo - (sizeof(void *) - 1));
  while (it != k->at.end() && it->first < hi) it = f(it);
}

void forget_stored(PyObject *home, char *lo, char *hi) {
  Keeps *k = keeps_of(home);
  if (!k || k->at.empty()) return;
  std::vector<PyObject *> later;
  for_slots(k, lo, hi, [&](auto it) {
    let_go(k, it->second.owner, later);
    return k->at.erase(it);
  });
  release_all(later);
}

// ---- buffer exports -------------------------------------------------------------------

// An export of an object's buffer, held for as long as a Pointer into it (or anything
// made from one) lives: the object refuses to resize or close meanwhile.
struct ExportObject {
  PyObject_HEAD Py_buffer view;
};

static int export_traverse(PyObject *self, visitproc visit, void *arg) {
  Py_VISIT(((ExportObject *)self)->view.obj);
  return 0;
}

static int export_clear(PyObject *self) {
  auto *e = (ExportObject *)self;
  if (e->view.obj) PyBuffer_Release(&e->view);
  return 0;
}

static void export_dealloc(PyObject *self) {
  PyObject_GC_UnTrack(self);
  export_clear(self);
  PyObject_GC_Del(self);
}

PyTypeObject ExportType = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "ndffi._Export";
  t.tp_basicsize = sizeof(ExportObject);
  t.tp_dealloc = export_dealloc;
  t.tp_traverse = export_traverse;
  t.tp_clear = export_clear;
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
  t.tp_doc = "An exported buffer, held while a Pointer into it lives.";
  return t;
}();

static PyObject *export_of(PyObject *o, Span *span) {
  if (PyType_Ready(&ExportType) < 0) return nullptr;
  auto *e = PyObject_GC_New(ExportObject, &ExportType);
  if (!e) return nullptr;
  e->view.obj = nullptr;
  if (PyObject_GetBuffer(o, &e->view, PyBUF_SIMPLE) < 0) {
    e->view.obj = nullptr;
    Py_DECREF(e);
    return nullptr;
  }
  PyObject_GC_Track(e);
  *span = Span::of(e->view.buf, size_t(e->view.len), e->view.readonly);
  return (PyObject *)e;
}

std::string describe_memory(PyObject *owner, const Span &span) {
  std::string ro = span.readonly ? "read-only " : "";
  if (!owner) return span.bounded ? "C memory of " + std::to_string(span.hi - span.lo) + " bytes" : "C memory";
  if (is_pointer(owner)) return ((PointerObject *)owner)->owns_memory ? ro + "ndffi.new memory" : "C memory";
  if (is_record(owner)) return ro + "a '" + ((RecordObject *)owner)->type->str() + "' value";
  if (PyArray_Check(owner)) return (span.readonly ? "a read-only " : "a ") + describe(owner);
  if (PyBytes_Check(owner)) return "bytes (immutable)";
  if (PyUnicode_Check(owner)) return "a str's UTF-8 (immutable)";
  PyObject *base = Py_TYPE(owner) == &ExportType ? ((ExportObject *)owner)->view.obj : owner;
  return (span.readonly ? "a read-only " : "a ") + std::string(base ? Py_TYPE(base)->tp_name : "buffer");
}

static bool refuse_keep(PyObject *home, const Where &w, PyObject *value) {
  std::string where = home ? describe_memory(home, Span()) : "memory ndffi does not own";
  PyErr_Format(PyExc_TypeError,
               "%s: cannot store %s here: the memory written to (%s) cannot keep it alive; "
               "pointers to Python memory go into a struct value or ndffi.new() memory, which "
               "keep what their pointers point to",
               w.str().c_str(), describe(value).c_str(), where.c_str());
  return false;
}

bool keeps_owners(PyObject *home) { return keeps_slot(home) != nullptr; }

// A Pointer into C's memory, which keeps nothing Python owns (unless stored through it).
static bool is_c_memory(PyObject *o) {
  return is_pointer(o) && !((PointerObject *)o)->owner && !((PointerObject *)o)->owns_memory;
}

// ... and nothing stored through it keeps Python memory (yet): a copy of its address into
// memory that cannot keep owners loses nothing.
static bool keeps_nothing(PyObject *o) {
  if (!is_c_memory(o)) return false;
  Keeps *k = ((PointerObject *)o)->keeps;
  return !k || k->at.empty();
}

bool keep_stored(PyObject *home, char *slot, void *addr, PyObject *owner, const Span &span, const Where &w,
                 PyObject *value) {
  if (!owner || (!keeps_slot(home) && !w.holds && is_c_memory(owner))) {
    forget_stored(home, slot, slot + sizeof(void *));
    return true;
  }
  Keeps **ks = keeps_slot(home);
  if (!ks) {
    if (!w.holds) return refuse_keep(home, w, value);
    Py_INCREF(owner);
    w.holds->keep(owner);
    return true;
  }
  if (!*ks) *ks = new Keeps();
  Keeps *k = *ks;
  std::vector<PyObject *> later;
  for_slots(k, slot, slot + sizeof(void *), [&](auto it) {
    let_go(k, it->second.owner, later);
    return k->at.erase(it);
  });
  Py_INCREF(owner);
  k->at[slot] = Kept{addr, owner, span};
  release_all(later);
  return true;
}

// n bytes were copied from src (memory held by src_home) to dst (held by dst_home): so
// are the owners their pointers keep.  Gathered before dst's are let go, since the two
// may be the same memory.
static void copy_stored(PyObject *dst_home, char *dst, PyObject *src_home, const char *src, size_t n) {
  Keeps *from = keeps_of(src_home);
  std::vector<std::pair<const char *, Kept>> copies;
  if (from)
    for_slots(from, src, src + n, [&](auto it) {
      if (it->first >= src && it->first + sizeof(void *) <= src + n) {
        Py_INCREF(it->second.owner);
        copies.push_back({dst + (it->first - src), it->second});
      }
      return std::next(it);
    });
  forget_stored(dst_home, dst, dst + n);
  Keeps **ks = keeps_slot(dst_home);
  std::vector<PyObject *> later;
  for (auto &[slot, kept] : copies) {
    void *now;
    memcpy(&now, slot, sizeof now);
    if (!ks || now != kept.addr) {  // C changed the source since
      later.push_back(kept.owner);
      continue;
    }
    if (!*ks) *ks = new Keeps();
    auto [it, fresh] = (*ks)->at.emplace(slot, kept);
    if (!fresh) later.push_back(kept.owner);
  }
  release_all(later);
}

// Does [src, src + n) of memory held by src_home keep owners that hold Python memory?
static bool has_stored(PyObject *src_home, const char *src, size_t n) {
  Keeps *k = keeps_of(src_home);
  if (!k || k->at.empty()) return false;
  bool any = false;
  for_slots(k, src, src + n, [&](auto it) {
    if (keeps_nothing(it->second.owner)) return std::next(it);
    any = true;
    return k->at.end();
  });
  return any;
}

bool can_take_stored(PyObject *src_home, const char *src, size_t n, const Where &w, PyObject *value) {
  if (keeps_slot(w.home) || w.holds || !has_stored(src_home, src, n)) return true;
  return refuse_keep(w.home, w, value);
}

void take_stored(PyObject *src_home, const char *src, char *dst, size_t n, const Where &w) {
  if (keeps_slot(w.home) || !w.holds) copy_stored(w.home, dst, src_home, src, n);
  else w.holds->pin(src_home);  // a call's copy: what the source keeps lives until it returns
}

// Fills known[t] for t and every type it holds by value (array elements, fields), the
// parts before the whole, without recursion: a chain of nested structs may be deeper
// than a small thread's stack.  compute(t) reads the parts' entries from `known`.
template <class Known, class Compute>
static void fill_bottom_up(const CType *root, Known &known, Compute compute) {
  std::vector<std::pair<const CType *, bool>> stack{{root, false}};
  while (!stack.empty()) {
    auto [t, expanded] = stack.back();
    if (known.count(t)) {
      stack.pop_back();
    } else if (expanded) {
      stack.pop_back();
      known.emplace(t, compute(t));
    } else {
      stack.back().second = true;
      if (t->kind == Kind::Array) stack.push_back({t->target, false});
      else if (t->kind == Kind::Record && t->record->complete)
        for (const Record::Field &f : t->record->fields) stack.push_back({f.type, false});
    }
  }
}

bool holds_pointers(const CType *t) {
  static std::unordered_map<const CType *, bool> known;  // under the GIL
  auto it = known.find(t);
  if (it != known.end()) return it->second;
  fill_bottom_up(t, known, [&](const CType *u) {
    if (u->kind == Kind::Pointer) return true;
    if (u->kind == Kind::Array) return known.at(u->target);
    if (u->kind == Kind::Record && u->record->complete)
      for (const Record::Field &f : u->record->fields)
        if (known.at(f.type)) return true;
    return false;
  });
  return known.at(t);
}

bool find_stored(PyObject *home, const char *slot, PyObject **owner, Span *span) {
  Keeps *k = keeps_of(home);
  if (!k) return false;
  auto it = k->at.find(slot);
  if (it == k->at.end()) return false;
  void *now;
  memcpy(&now, slot, sizeof now);
  if (now != it->second.addr) return false;
  *owner = it->second.owner;
  Py_INCREF(*owner);
  *span = it->second.span;
  return true;
}

// ---- pinning memory for a call --------------------------------------------------------

void Holds::pin(PyObject *home) {
  Keeps *k = keeps_of(home);
  if (!k || k->at.empty()) return;
  static uint64_t walks = 0;
  uint64_t walk = ++walks;
  std::vector<PyObject *> todo{home};
  while (!todo.empty()) {
    PyObject *h = todo.back();
    todo.pop_back();
    Keeps *kh = keeps_of(h);
    if (!kh || kh->walk == walk) continue;
    kh->walk = walk;
    kh->pins++;
    Held &held_now = held();
    Py_INCREF(h);
    held_now.refs.push_back(h);  // released after the unpinning
    held_now.pins.push_back(kh);
    for (auto &e : kh->at) todo.push_back(e.second.owner);
  }
}

void unpin_keeps(Keeps *k) {
  if (--k->pins || k->deferred.empty()) return;
  std::vector<PyObject *> later = std::move(k->deferred);
  k->deferred.clear();
  release_all(later);
}

// ---- the memory an object exposes -----------------------------------------------------

// An array's bytes, from its lowest to its highest (any strides).
static Span array_span(PyArrayObject *a) {
  char *b = PyArray_BYTES(a);
  npy_intp n = PyArray_SIZE(a);
  char *lo = b, *hi = b + (n ? PyArray_ITEMSIZE(a) : 0);
  for (int d = 0; d < PyArray_NDIM(a) && n; d++) {
    npy_intp span = (PyArray_DIM(a, d) - 1) * PyArray_STRIDE(a, d);
    if (span < 0) lo += span;
    else hi += span;
  }
  return Span{lo, hi, true, !PyArray_ISWRITEABLE(a)};
}

bool memory_of(PyObject *o, PyObject **owner, Span *span) {
  if (is_pointer(o)) {
    *owner = home_of(o);
    *span = ((PointerObject *)o)->span;
  } else if (is_record(o)) {
    *owner = home_of(o);
    *span = ((RecordObject *)o)->span;
  } else if (PyArray_Check(o)) {
    if (!plain_data(PyArray_DESCR((PyArrayObject *)o))) {
      PyErr_Format(PyExc_TypeError, "%s holds Python objects or pointers NumPy manages, not data C can be given: %s",
                   describe(o).c_str(), kObjectArrayFix);
      return false;
    }
    *owner = o;
    *span = array_span((PyArrayObject *)o);
  } else if (PyBytes_Check(o)) {  // with its terminating NUL
    *owner = o;
    *span = Span::of(PyBytes_AS_STRING(o), size_t(PyBytes_GET_SIZE(o)) + 1, true);
  } else if (PyUnicode_Check(o)) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (!s) return false;
    *owner = o;
    *span = Span::of(s, size_t(n) + 1, true);
  } else if (PyObject_CheckBuffer(o)) {
    *owner = export_of(o, span);
    return *owner != nullptr;
  } else {
    PyErr_Format(PyExc_TypeError, "%s exposes no memory", describe(o).c_str());
    return false;
  }
  Py_INCREF(*owner);
  return true;
}

// An array NumPy made from an `__array_interface__` whose data is a buffer object keeps
// that object but holds no export of it (so it could be resized or closed under C), and
// NumPy does not check that the shape fits in the buffer.  Returns a view of the same
// memory held through an export (a new reference; `arr`'s is taken), or nullptr with
// ValueError when the array claims bytes the buffer does not have.
PyArrayObject *hold_buffer_base(PyArrayObject *arr) {
  PyObject *base = PyArray_BASE(arr);
  while (base && PyArray_Check(base)) base = PyArray_BASE((PyArrayObject *)base);
  if (!base || Py_TYPE(base) == &ExportType || !PyObject_CheckBuffer(base))
    return arr;  // NumPy's own memory, or ndffi's export
  // (a memoryview too: one the user gave could be released under C)
  Span buf;
  PyObject *exp = export_of(base, &buf);
  if (!exp) {
    Py_DECREF(arr);
    return nullptr;
  }
  Span s = array_span(arr);
  if (PyArray_SIZE(arr) && (s.lo < buf.lo || s.hi > buf.hi)) {
    PyErr_Format(PyExc_ValueError, "its __array_interface__ claims %zd bytes at offset %zd of a %s of %zd bytes",
                 Py_ssize_t(s.hi - s.lo), Py_ssize_t(s.lo - buf.lo), Py_TYPE(base)->tp_name,
                 Py_ssize_t(buf.hi - buf.lo));
    Py_DECREF(exp), Py_DECREF(arr);
    return nullptr;
  }
  PyArray_Descr *d = PyArray_DESCR(arr);
  Py_INCREF(d);
  int flags = PyArray_FLAGS(arr) & NPY_ARRAY_WRITEABLE;
  if (buf.readonly) flags = 0;
  PyObject *view = PyArray_NewFromDescr(&PyArray_Type, d, PyArray_NDIM(arr), PyArray_DIMS(arr), PyArray_STRIDES(arr),
                                        PyArray_DATA(arr), flags, nullptr);
  Py_DECREF(arr);
  if (!view || PyArray_SetBaseObject((PyArrayObject *)view, exp) < 0) {  // the export is the view's
    Py_XDECREF(view);
    if (view == nullptr) Py_DECREF(exp);
    return nullptr;
  }
  return (PyArrayObject *)view;
}

// ---- pointers C returns or stores into the memory of a call's arguments ---------------

// The offsets of the pointers in a value of type t (fields, elements, union members).
static const std::vector<size_t> &pointer_slots(const CType *t) {
  static std::unordered_map<const CType *, std::vector<size_t>> known;  // under the GIL
  auto it = known.find(t);
  if (it != known.end()) return it->second;
  fill_bottom_up(t, known, [&](const CType *u) {
    std::vector<size_t> slots;
    if (u->kind == Kind::Pointer) {
      slots.push_back(0);
    } else if (u->kind == Kind::Array && u->length != CType::kUnknownLength && holds_pointers(u->target)) {
      const std::vector<size_t> &inner = known.at(u->target);
      size_t es = u->target->byte_size();
      for (size_t i = 0; i < u->length; i++)
        for (size_t s : inner) slots.push_back(i * es + s);
    } else if (u->kind == Kind::Record && u->record->complete) {
      for (const Record::Field &f : u->record->fields)
        if (f.bit_width < 0)
          for (size_t s : known.at(f.type)) slots.push_back(f.offset + s);
      std::sort(slots.begin(), slots.end());
      slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
    }
    return slots;
  });
  return known.at(t);
}

// The memory among args (but `skip`'s) that addr points into: its owner (a new
// reference) and span.
static bool argument_memory(const char *addr, PyObject *const *args, Py_ssize_t n, PyObject *skip, PyObject **owner,
                            Span *span) {
  // Memory the address is inside first; only then memory it is one past the end of (two
  // arguments may be adjacent: big[:4] and big[4:]).
  bool at_an_end = false;  // seen in the first pass: a second one is needed
  for (int past_end = 0; past_end < (at_an_end ? 2 : 1); past_end++)
    for (Py_ssize_t i = 0; i < n; i++) {
      PyObject *o = args[i];
      if (o == skip || o == Py_None || PyLong_Check(o) || PyFloat_Check(o) || PyArray_IsScalar(o, Generic)) continue;
      auto within = [&](const char *lo, const char *hi) {
        at_an_end |= addr == hi;
        return addr >= lo && (addr < hi || (past_end && addr == hi));
      };
      if (is_pointer(o) || is_record(o) || PyArray_Check(o) || PyBytes_Check(o) || PyUnicode_Check(o)) {
        if (is_pointer(o) && !((PointerObject *)o)->span.bounded) continue;  // C's memory
        PyObject *own;
        Span s;
        if (!memory_of(o, &own, &s)) {
          PyErr_Clear();
          continue;
        }
        if (s.bounded && within(s.lo, s.hi)) {
          *owner = own, *span = s;
          return true;
        }
        Py_DECREF(own);
      } else if (PyObject_CheckBuffer(o)) {  // test first: an export is made only when needed
        Py_buffer v;
        if (PyObject_GetBuffer(o, &v, PyBUF_SIMPLE) < 0) {
          PyErr_Clear();
          continue;
        }
        bool in = within((const char *)v.buf, (const char *)v.buf + v.len);
        PyBuffer_Release(&v);
        if (in && memory_of(o, owner, span)) return true;
        PyErr_Clear();
      }
    }
  return false;
}

// Pointers C stored into the slots of memory `home` holds (at base, `count` values of
// type t) that point into another argument's memory keep it.
static void adopt_slots(PyObject *home, char *base, const CType *t, size_t count, PyObject *const *args, Py_ssize_t n,
                        PyObject *skip) {
  const std::vector<size_t> &slots = pointer_slots(t);
  if (slots.empty()) return;
  size_t es = t->byte_size();
  Where w{nullptr, -1, "a pointer C stored"};
  for (size_t k = 0; k < count; k++)
    for (size_t off : slots) {
      char *slot = base + k * es + off;
      void *addr;
      memcpy(&addr, slot, sizeof addr);
      PyObject *owner;
      Span span;
      if (!addr) continue;
      if (find_stored(home, slot, &owner, &span)) {  // already known
        Py_DECREF(owner);
        continue;
      }
      if (!argument_memory((const char *)addr, args, n, skip, &owner, &span)) continue;
      if (owner != home && !keep_stored(home, slot, addr, owner, span, w, owner)) PyErr_Clear();
      Py_DECREF(owner);
    }
}

void adopt_argument_memory(PyObject *result, PyObject *const *args, Py_ssize_t n) {
  if (result && is_pointer(result)) {
    auto *p = (PointerObject *)result;
    PyObject *owner;
    Span span;
    if (p->addr && !p->owner && argument_memory((const char *)p->addr, args, n, nullptr, &owner, &span)) {
      p->owner = owner;  // the reference is the pointer's
      p->span = span;
    }
  } else if (result && is_record(result)) {
    auto *r = (RecordObject *)result;
    adopt_slots(result, r->data, r->type, 1, args, n, nullptr);
  }
  // Out-parameters: ndffi memory an argument gave C, into which C stored pointers.
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *o = args[i];
    if (is_record(o)) {
      auto *r = (RecordObject *)o;
      PyObject *home = home_of(o);
      if (keeps_owners(home) && holds_pointers(r->type)) adopt_slots(home, r->data, r->type, 1, args, n, o);
    } else if (is_pointer(o)) {
      auto *p = (PointerObject *)o;
      PyObject *home = home_of(o);
      if (!p->addr || !p->span.bounded || !keeps_owners(home)) continue;
      const CType *t = TypeTable::get().unqualified(p->type->target);  // after the cheap tests: it may intern
      if (!t->is_complete() || !holds_pointers(t)) continue;
      size_t es = t->byte_size(), avail = size_t(p->span.hi - (const char *)p->addr);
      adopt_slots(home, (char *)p->addr, t, es ? avail / es : 0, args, n, o);
    }
  }
}

}  // namespace ndffi::py
