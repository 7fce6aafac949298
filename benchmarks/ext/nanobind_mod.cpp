// nanobind bindings of libbench.so (GIL held over the call, nanobind's default).
// dsum takes nb::ndarray<const double, nb::c_contig, nb::device::cpu> with
// .noconvert(): no implicit copy, so it checks like the other contenders.
// vec2 is a bound class (x, y read-write) passed and returned by value; slen takes
// nb::bytes; get returns the address as an int (a double* result would be
// dereferenced into a float); fmt(buf, n, i, d) calls snprintf with fixed types
// (a variadic C function cannot be bound for types chosen from Python), buf a
// writable 1-D uint8 array.
#include <cstdint>
#include <cstdio>
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include "bench.h"

namespace nb = nanobind;

using DArray = nb::ndarray<const double, nb::c_contig, nb::device::cpu>;
using BArray = nb::ndarray<uint8_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

NB_MODULE(_bench_nanobind, m) {
    nb::class_<vec2>(m, "vec2")
        .def(nb::init<>())
        .def("__init__", [](vec2 *v, double x, double y) { new (v) vec2{x, y}; })
        .def_rw("x", &vec2::x)
        .def_rw("y", &vec2::y);
    m.def("add", &add);
    m.def("noop", &noop);
    m.def(
        "dsum",
        [](DArray x, long n) {
            if (n < 0 || (size_t)n > x.size())
                throw nb::value_error("dsum(): n out of range for x");
            return dsum(x.data(), n);
        },
        nb::arg("x").noconvert(), nb::arg("n"));
    m.def("vflip", &vflip);
    m.def("slen", [](nb::bytes s) { return slen(s.c_str()); });
    m.def("get", []() { return reinterpret_cast<uintptr_t>(get()); });
    m.def(
        "fmt",
        [](BArray buf, size_t n, int i, double d) {
            if (n > buf.size())
                throw nb::value_error("fmt(): n out of range for buf");
            return std::snprintf(reinterpret_cast<char *>(buf.data()), n, "%d %f", i, d);
        },
        nb::arg("buf").noconvert(), nb::arg("n"), nb::arg("i"), nb::arg("d"));
}
