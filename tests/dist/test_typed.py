"""ndffi is typed (py.typed): a user's script that uses load, cdef, new, cast, callback,
inline, wrap and ufunc passes `mypy --strict`, and runs."""

import pathlib
import re
import subprocess
import sys

import pytest

USER = pathlib.Path(__file__).resolve().parent / "typed_user.py"
REVEAL = pathlib.Path(__file__).resolve().parent / "typed_reveal.py"


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


def test_no_any_leaks_from_ndffi_api(tmp_path):
    """mypy --strict --warn-return-any reveals, for each object ndffi's API makes, the type
    written after it in typed_reveal.py (the stub of the compiled module included)."""
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--warn-return-any", "--no-error-summary", "--cache-dir",
         str(tmp_path / "mypy-cache"), str(REVEAL)],
        cwd=tmp_path, capture_output=True, text=True)
    lines = REVEAL.read_text().splitlines()
    revealed = {int(m.group(1)): m.group(2).replace("builtins.", "")
                for m in re.finditer(r':(\d+): note: Revealed type is "(.*)"', result.stdout)}
    expected = {n: line.split("# ", 1)[1].strip() for n, line in enumerate(lines, 1) if line.lstrip().startswith("reveal_type(")}
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert not errors, "\n".join(errors)
    assert revealed == expected, "\n".join(
        f"line {n}: {lines[n - 1].strip()}: mypy sees {revealed.get(n)}" for n in expected if revealed.get(n) != expected[n])
