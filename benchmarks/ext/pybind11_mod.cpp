// pybind11 bindings of libbench.so (GIL held over the call, pybind11's default).
// dsum takes py::array_t<double, c_style> with .noconvert(): the array must
// already be float64 and C-contiguous, so it checks like the other contenders
// instead of silently copying.
// vec2 is a bound class (x, y read-write) passed and returned by value; slen takes
// py::bytes; get returns the address as an int (a double* result would be
// dereferenced into a float); fmt(buf, n, i, d) calls snprintf with fixed types
// (a variadic C function cannot be bound for types chosen from Python), buf a
// writable uint8 array.
#include <cstdint>
#include <cstdio>
#include <pybind11/pybind11.h>
#include <pybind11/numpy.h>
#include "bench.h"

namespace py = pybind11;

PYBIND11_MODULE(_bench_pybind11, m) {
    py::class_<vec2>(m, "vec2")
        .def(py::init<>())
        .def(py::init([](double x, double y) { return vec2{x, y}; }))
        .def_readwrite("x", &vec2::x)
        .def_readwrite("y", &vec2::y);
    m.def("add", &add);
    m.def("noop", &noop);
    m.def(
        "dsum",
        [](py::array_t<double, py::array::c_style> x, long n) {
            if (n < 0 || n > x.size())
                throw py::value_error("dsum(): n out of range for x");
            return dsum(x.data(), n);
        },
        py::arg("x").noconvert(), py::arg("n"));
    m.def("vflip", &vflip);
    m.def("slen", [](py::bytes s) { return slen(PyBytes_AS_STRING(s.ptr())); });
    m.def("get", []() { return reinterpret_cast<uintptr_t>(get()); });
    m.def(
        "fmt",
        [](py::array_t<uint8_t, py::array::c_style> buf, size_t n, int i, double d) {
            if (n > (size_t)buf.size())
                throw py::value_error("fmt(): n out of range for buf");
            return std::snprintf(reinterpret_cast<char *>(buf.mutable_data()), n, "%d %f", i, d);
        },
        py::arg("buf").noconvert(), py::arg("n"), py::arg("i"), py::arg("d"));
}
