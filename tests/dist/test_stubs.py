"""The checked-in stub of the compiled module (python/ndffi/_ndffi.pyi) is what nanobind's
stubgen makes of the module as built now, so type checkers see the extension as it is."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
STUB = ROOT / "python" / "ndffi" / "_ndffi.pyi"
# As `make stubs` runs it; values are left out (FORCE_LIBFFI depends on the environment).
STUBGEN = [sys.executable, "-m", "nanobind.stubgen", "-q", "--exclude-values", "-m", "ndffi._ndffi"]


def test_package_is_typed():
    assert (ROOT / "python" / "ndffi" / "py.typed").is_file()
    assert STUB.is_file(), "python/ndffi/_ndffi.pyi is missing: run `make stubs`"


def test_stub_is_current(tmp_path):
    pytest.importorskip("nanobind.stubgen")
    fresh = tmp_path / "_ndffi.pyi"
    subprocess.run(STUBGEN + ["-o", str(fresh)], check=True, cwd=tmp_path)
    assert fresh.read_text() == STUB.read_text(), (
        "python/ndffi/_ndffi.pyi is stale (the extension's API changed): run `make stubs` "
        "and commit the result")


def test_stub_names_what_the_module_has():
    from ndffi import _ndffi

    text = STUB.read_text()
    for name in ("CType", "Namespace", "MAX_NESTING", "MAX_TYPE_DEPTH", "errno", "set_errno"):
        assert hasattr(_ndffi, name)
        assert name in text, f"{name} is not in the stub"
