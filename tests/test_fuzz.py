"""Smoke tests of the fuzzers: the committed parser corpus replays through the Python
cdef, and a short atheris run over the Python entry points (`make fuzz` runs both for
>= 1e6 executions)."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

import ndffi

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus" / "parser"


def test_parser_corpus_replays():
    files = sorted(CORPUS.iterdir())
    assert files, "empty corpus"
    outcomes = {"ok": 0, "CDefError": 0}
    for f in files:
        text = f.read_bytes().decode("utf-8", "replace")
        try:
            ndffi.Namespace().cdef(text)
            outcomes["ok"] += 1
        except ndffi.CDefError:
            outcomes["CDefError"] += 1
    # the corpus holds real declarations as well as rejected text
    assert outcomes["ok"] > 50 and outcomes["CDefError"] > 50, outcomes


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
def test_atheris_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "fuzz" / "atheris_entry.py"), "-runs=3000",
                           "-seed=1", "-timeout=5", f"-artifact_prefix={tmp_path}/"],
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "Done 3000 runs" in out, out[-4000:]


# ---- regressions found by the atheris run ------------------------------------------------

def test_element_of_array_of_arrays_is_a_bounded_pointer():
    # was: an uncaught C++ exception out of Pointer.__getitem__ (process abort)
    p = ndffi.new("unsigned long[4][6]")
    row = p[1]
    assert isinstance(row, ndffi.Pointer) and row.type == ndffi.typeof("unsigned long *")
    row[5] = 7
    assert row[5] == 7
    with pytest.raises(IndexError):
        row[6]


def test_views_of_owned_memory_keep_it_alive():
    import gc
    p = ndffi.new("int[3][2]")
    row = p[2]
    row[1] = 42
    ns = ndffi.Namespace()
    ns.cdef("struct S { int a; double b; };")
    s = ns.new("struct S *", {"a": 7})
    v = s[0]
    del p, s
    gc.collect()
    assert row[1] == 42 and v.a == 7


def test_cast_to_incomplete_enum_is_a_type_error():
    # was: RuntimeError out of cast()
    with pytest.raises(TypeError, match="incomplete type 'enum E'"):
        ndffi.cast("enum E", 1)
