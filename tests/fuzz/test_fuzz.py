"""Smoke tests of the fuzzers: the committed parser corpus replays through the Python
cdef, and a short atheris run over the Python entry points (`make fuzz` runs both for
>= 1e6 executions)."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

import ndffi

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fuzz" / "corpus" / "parser"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the fuzz corpus is in the repository, not the sdist")
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
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz" / "atheris_entry.py"),
            "-runs=3000",
            "-seed=1",
            "-timeout=5",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "Done 3000 runs" in out, out[-4000:]


def test_fuzz_report_fails_on_findings_and_early_stops(tmp_path):
    # the verdict at the end of `make fuzz`
    spec = importlib.util.spec_from_file_location("fuzz_report", ROOT / "fuzz" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a").write_bytes(b"int f(int);")
    done = "Done 1000 runs in 2 second(s)\nstat::number_of_executed_units: 1000\n"
    for name in ("parser", "atheris"):
        (tmp_path / f"{name}-artifacts").mkdir()
        (tmp_path / f"{name}.log").write_text(done)
    lines, status = report.report(tmp_path, corpus, 1000)
    assert status == 0, lines
    assert lines == ["parser: 1000 executions, 0 findings, corpus 1 files 0 KB", "atheris: 1000 executions, 0 findings"]
    assert report.report(tmp_path, corpus, 2000)[1] == 1  # fewer than asked
    (tmp_path / "atheris-artifacts" / "crash-1").write_bytes(b"x")
    lines, status = report.report(tmp_path, corpus, 1000)
    assert status == 1 and "atheris: 1000 executions, 1 findings" in lines
    (tmp_path / "atheris-artifacts" / "crash-1").unlink()
    (tmp_path / "parser.log").write_text("==1==ERROR: AddressSanitizer: heap-buffer-overflow\n")
    lines, status = report.report(tmp_path, corpus, 1000)
    assert status == 1 and any("parser stopped early" in line for line in lines)


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
