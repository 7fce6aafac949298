"""Every example of the documentation runs: the doctests of docs/*.rst, and README.md's
```python blocks.

README blocks run in order in one namespace (a later block uses an earlier one's
``lib``), from a directory holding what they load: ``build/libfoo.so`` (built from
``tests/docs/readme/foo.c``), ``build/libfibonacci.so`` with its header, and the sources
the build examples name.  A statement whose comment (on its last line, or the comment
lines right after it) starts with an exception name — ``# OverflowError: ldexp()
argument 2 'e': ...`` — must raise that exception with that message (``...`` matches
anything).  A block that is deliberately partial (names a library or variables it does
not define) is marked on the line before its fence with ``<!-- docs-test: skip (why) -->``;
one that shows what only ndffi's own x86-64 engine passes (libffi refuses it) with
``<!-- docs-test: engine (why) -->``, and runs where that engine serves calls.

Compilers, libclang, Numba and Dask are all required: the suite runs where they are.
"""

import ast
import doctest
import io
import pathlib
import re
import shutil
import tokenize
import traceback

import pytest

from conftest import ENGINE

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
FIXTURES = pathlib.Path(__file__).resolve().parent / "readme"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
SKIP_MARK = re.compile(r"<!--\s*docs-test:\s*skip\b.*-->")
ENGINE_MARK = re.compile(r"<!--\s*docs-test:\s*engine\b.*-->")
RAISES = re.compile(r"#\s*([A-Za-z_][\w.]*(?:Error|Exception|Warning)):\s?(.*)")
# Pages that are tables and prose only.
NO_EXAMPLES = {"api.rst", "performance.rst"}


@pytest.fixture(scope="module")
def _docs_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ndffi-docs-cache")


@pytest.fixture
def ndffi_cache(_docs_cache_dir, monkeypatch):
    """One build and header cache for the examples of this module (headers read once)."""
    monkeypatch.setenv("NDFFI_CACHE_DIR", str(_docs_cache_dir))
    return _docs_cache_dir


# ---- docs/*.rst ------------------------------------------------------------------------


def _pages():
    return sorted(p.name for p in DOCS.glob("*.rst"))


@pytest.mark.parametrize("page", _pages())
def test_doc_page_examples(page, tmp_path, monkeypatch, ndffi_cache):
    monkeypatch.chdir(tmp_path)
    text = (DOCS / page).read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {"__name__": "__docs__"}, page, str(DOCS / page), 0)
    if page in NO_EXAMPLES:
        assert not test.examples, f"{page} has examples: take it out of NO_EXAMPLES"
        return
    assert test.examples, f"docs/{page} has no examples to run"
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=out.write)
    assert result.failed == 0, f"docs/{page}: {result.failed} of {result.attempted} examples failed\n" + out.getvalue()


def test_guide_pages_are_all_in_the_toctree():
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^   (\w+)$", index, re.M))
    assert listed == {p[:-4] for p in _pages()} - {"index"}


# ---- README.md -------------------------------------------------------------------------


def readme_blocks(text, engine=ENGINE):
    """[(line of the first code line, code, skipped)] of the ```python blocks of ``text``
    (`engine`: whether ndffi's own engine serves calls here)."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            skipped = j >= 0 and bool(SKIP_MARK.search(lines[j]) or (not engine and ENGINE_MARK.search(lines[j])))
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            blocks.append((i + 2, "\n".join(lines[i + 1 : end]) + "\n", skipped))
            i = end
        i += 1
    return blocks


def _comments(code):
    """{line: comment text} of ``code``'s comments (lines from 1)."""
    found = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            found[tok.start[0]] = tok.string
    return found


def statements(code):
    """[(statement, expected exception name or None, expected message)] of a block: the
    exception a statement's comment says it raises."""
    tree = ast.parse(code)
    comments = _comments(code)
    src = code.splitlines()
    out = []
    for k, stmt in enumerate(tree.body):
        nxt = tree.body[k + 1].lineno if k + 1 < len(tree.body) else len(src) + 1
        # its last line's comment, then comment lines up to the next statement
        candidates = [stmt.end_lineno] + [
            n for n in range(stmt.end_lineno + 1, nxt) if src[n - 1].lstrip().startswith("#")
        ]
        expect, message = None, ""
        for n, line in enumerate(candidates):
            m = RAISES.match(comments.get(line, ""))
            if m:
                expect, message = m.group(1), m.group(2)
                # the message goes on in comment lines indented under it
                for cont in candidates[n + 1 :]:
                    c = comments.get(cont, "")
                    if not c.startswith("#  ") or RAISES.match(c):
                        break
                    message += " " + c[1:].strip()
                break
        out.append((stmt, expect, message.strip()))
    return out


def _message_matches(expected, got):
    # anywhere in the message: Numba puts its own lines around it
    want = "..." + (expected if expected.endswith("...") else expected + "...")
    return doctest.OutputChecker().check_output(want + "\n", got + "\n", FLAGS)


def run_block(code, first_line, namespace, filename="README.md"):
    """Run a block's statements; [failure descriptions]."""
    failures = []
    for stmt, expect, message in statements(code):
        line = first_line + stmt.lineno - 1
        module = ast.Module(body=[stmt], type_ignores=[])
        ast.increment_lineno(module, first_line - 1)
        try:
            exec(compile(module, filename, "exec"), namespace)
        except Exception as e:
            names = {c.__name__ for c in type(e).__mro__}
            if expect is None or expect.rsplit(".", 1)[-1] not in names:
                failures.append(
                    f"{filename}:{line}: raised\n" + "".join(traceback.format_exception(type(e), e, e.__traceback__))
                )
            elif message and not _message_matches(message, str(e)):
                failures.append(
                    f"{filename}:{line}: {type(e).__name__} as said, but its message\n"
                    f"  {str(e)!r}\nis not the one the comment gives\n  {message!r}"
                )
        else:
            if expect is not None:
                failures.append(f"{filename}:{line}: the comment says {expect}, nothing was raised")
    return failures


@pytest.fixture
def readme_dir(tmp_path, monkeypatch, ndffi_cache):
    """A directory with what README's blocks load, as its current directory."""
    import ndffi

    build = tmp_path / "build"
    examples = pathlib.Path(ndffi.__file__).parent / "examples"
    for name in ("shapes.cpp", "fast.c", "api.c", "api.h"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    shutil.copytree(FIXTURES / "inc", tmp_path / "inc")
    shutil.copy(examples / "fibonacci.c", tmp_path / "fibonacci.c")
    ndffi.build([FIXTURES / "foo.c"], libraries=["m"], output_dir=build)
    ndffi.build([examples / "fibonacci.c"], output_dir=build)
    ndffi.build([examples / "fibonacci.c"], output_dir=tmp_path / "tests" / "clib" / "build")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_examples(readme_dir):
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    run = [b for b in blocks if not b[2]]
    assert len(run) >= 10, "README's examples are mostly marked skip"
    namespace = {"__name__": "__readme__"}
    failures = []
    for first_line, code, _ in run:
        failures += run_block(code, first_line, namespace)
    assert not failures, "\n\n".join(failures)


def test_readme_skips_are_few_and_say_why():
    text = README.read_text(encoding="utf-8")
    marks = SKIP_MARK.findall(text)
    assert all(re.search(r"skip\s*\(.+\)", m) for m in marks), marks
    assert len(marks) <= 6


# ---- the extractor itself -------------------------------------------------------------


def test_extractor_finds_blocks_and_honours_the_skip_mark():
    text = (
        "intro\n```python\nx = 1\n```\n\n<!-- docs-test: skip (partial) -->\n"
        "```python\nundefined_name\n```\n```\nnot python\n```\n"
    )
    assert readme_blocks(text) == [(3, "x = 1\n", False), (8, "undefined_name\n", True)]
    engine_only = "<!-- docs-test: engine (packed) -->\n```python\nx = 2\n```\n"
    assert readme_blocks(engine_only, engine=True) == [(3, "x = 2\n", False)]
    assert readme_blocks(engine_only, engine=False) == [(3, "x = 2\n", True)]


def test_extractor_checks_what_the_comments_say():
    ns = {}
    ok = "x = int('7')   # 7\nint('a')   # ValueError: invalid literal for int() ...\n"
    assert run_block(ok, 1, ns) == [] and ns["x"] == 7
    # said to raise, does not
    assert "nothing was raised" in run_block("y = 1   # ValueError: no\n", 1, ns)[0]
    # raises another exception than said, or with another message
    assert "raised" in run_block("int('a')   # KeyError: x\n", 1, ns)[0]
    assert "message" in run_block("int('a')\n# ValueError: something else\n", 1, ns)[0]
    # a continued message
    cont = "int('a')\n# ValueError: invalid literal\n#   for int() with base 10: 'a'\n"
    assert run_block(cont, 1, ns) == []
    # failures name the README's line
    assert run_block("\n\n\n\nboom()\n", 10, ns)[0].startswith("README.md:14: raised")
