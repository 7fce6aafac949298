"""ndffi is typed (py.typed): a user's script that uses load, cdef, new, cast, callback,
inline, wrap and ufunc passes `mypy --strict`, and runs."""

import pathlib
import subprocess
import sys

import pytest

USER = pathlib.Path(__file__).resolve().parent / "typed_user.py"


def test_typed_user_script_runs(tmp_path, cache):
    subprocess.run([sys.executable, str(USER)], check=True, cwd=tmp_path)


def test_typed_user_script_passes_mypy_strict(tmp_path):
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir",
         str(tmp_path / "mypy-cache"), str(USER)],
        cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, (
        "mypy --strict rejects a user's script (ndffi's public API needs annotations):\n"
        + result.stdout + result.stderr)
