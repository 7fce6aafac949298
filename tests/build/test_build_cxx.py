"""C++ sources in ndffi.inline and ndffi.build: their extern "C" functions are declared
whatever standard headers come first (<vector> alone holds definitions the reading of
statements must step over), and a function defined with C++ linkage is refused by
name, saying how to make it callable."""

import warnings

import pytest

import ndffi
from ndffi.building import declscan


@pytest.fixture(autouse=True)
def _own_cache(cache):
    """Every test builds into its own cache directory (conftest's ``cache``)."""


VECTOR = '#include <vector>\nextern "C" int n() { std::vector<int> v(3); return (int)v.size(); }\n'


def test_inline_cxx_with_vector_declares_its_extern_c_function():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ndffi.BuildWarning)  # "found no function to declare" before
        lib = ndffi.inline(VECTOR, lang="c++")
    assert lib.n() == 3


def test_inline_cxx_declares_each_form_of_c_linkage_after_vector():
    lib = ndffi.inline(
        "#include <vector>\n#include <numeric>\n"
        'extern "C" long total(const long *x, int n) { std::vector<long> v(x, x + n);'
        " return std::accumulate(v.begin(), v.end(), 0L); }\n"
        'extern "C" { int twice(int x) noexcept { return 2 * x; } }\n'
        "int mangled(int x) { return x; }\n"
        'extern "C" int after(void) { return 7; }\n',
        lang="c++",
    )
    import numpy as np

    assert lib.total(np.arange(5), 5) == 10
    assert lib.twice(21) == 42 and lib.after() == 7


def test_a_cxx_linkage_function_is_refused_by_name():
    lib = ndffi.inline(VECTOR + "int cxx_only(int x) { return x + (int)std::vector<int>(2).size(); }\n", lang="c++")
    assert lib.n() == 3
    with pytest.raises(AttributeError) as info:
        lib.cxx_only
    msg = str(info.value)
    assert "cxx_only()" in msg and "C++ linkage" in msg and 'extern "C"' in msg
    assert ".cpp:3" in msg  # where it is defined
    with pytest.raises(AttributeError, match="has no declaration of 'nothing'"):
        lib.nothing


def test_a_cxx_build_found_in_the_cache_refuses_the_same_way(tmp_path):
    src = tmp_path / "mixed.cpp"
    src.write_text(VECTOR + "double cxx_only(double r) { return r; }\n")
    ndffi.build([src])
    lib = ndffi.build([src])  # from the cache: no compiler run
    assert lib.n() == 3
    with pytest.raises(AttributeError, match=r"cxx_only\(\) at mixed.cpp:3 has C\+\+ linkage"):
        lib.cxx_only


def test_statements_end_after_a_definition_with_a_trailing_return_type():
    text = (
        "struct S { int a; S &operator=(const S &o) { a = o.a; return *this; } };\n"
        "template <typename T> auto first(T *p) -> T { return *p; }\n"
        'extern "C" int f(int x) { return x; }\n'
        "struct S s;\n"
        "int table[] = { 1, 2 };\n"
        "template <typename T> S &assign(S &a, const T &b) { return a.operator=(b); }\n"
        "S &S_assign(S &a, S &b) { return a = b; }\n"
        "bool operator==(const S &a, const S &b) { return a.a == b.a; }\n"
        'extern "C" int g(void) { return 1; }\n'
        "inline S &move_into(S &a, S &&b) noexcept { return a; }\n"
        'extern "C" int h(void) { return 2; }\n'
    )
    items = declscan._scan(text, cxx=True)
    functions = {it.name: it.extern_c for it in items if it.kind == "function"}
    assert functions.get("f") is True and functions.get("g") is True and functions.get("h") is True
