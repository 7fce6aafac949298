"""Write the parser fuzzer's seed corpus: real declarations from the tests and from
system headers, one small file each (file name = content hash, so reruns are idempotent).

    python fuzz/seed_corpus.py fuzz/corpus/parser
"""

import ast
import hashlib
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADERS = [
    "stdio.h",
    "string.h",
    "stdlib.h",
    "time.h",
    "math.h",
    "zlib.h",
    "sqlite3.h",
    "signal.h",
    "sys/stat.h",
    "dirent.h",
    "pthread.h",
    "ffi.h",
]
MAX_SIZE = 2048


def from_tests():
    # the first string of every row of test_parse.py's tables (read, not imported)
    tree = ast.parse((ROOT / "tests" / "cdef" / "test_parse.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
            for row in node.value.elts:
                if isinstance(row, ast.Tuple) and row.elts:
                    for item in row.elts[:2]:
                        if isinstance(item, ast.Constant) and isinstance(item.value, str):
                            yield item.value
    # prototypes of the C test libraries: the line of each function definition
    for c in sorted((ROOT / "tests" / "clib").glob("*.c")):
        text = c.read_text()
        for m in re.finditer(r"^[A-Za-z_][^;{}#\n]*\([^;{}#]*\)\s*(?=\{)", text, re.M):
            yield " ".join(m.group(0).split()) + ";"
        for m in re.finditer(r"^(?:typedef\s+)?(?:struct|union|enum)\b[^;]*?\{[^{}]*\}[^;{}]*;", text, re.M):
            yield m.group(0)


def split_declarations(text):
    """Top-level declarations of preprocessed C: split at ';' outside braces."""
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch == ";" and depth == 0:
            decl = text[start : i + 1].strip()
            start = i + 1
            if decl:
                yield decl


def from_headers():
    for h in HEADERS:
        proc = subprocess.run(
            ["cc", "-E", "-P", "-x", "c", "-"], input=f"#include <{h}>\n", capture_output=True, text=True
        )
        if proc.returncode != 0:
            continue
        decls = list(split_declarations(proc.stdout))
        # a sample of each header: groups of consecutive declarations
        step = max(1, len(decls) // 25)
        for i in range(0, len(decls), step):
            chunk = "\n".join(decls[i : i + 3])
            if len(chunk) <= MAX_SIZE:
                yield chunk


def main(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for text in list(from_tests()) + list(from_headers()):
        data = text.encode()
        name = hashlib.sha1(data).hexdigest()
        path = out / name
        if not path.exists():
            path.write_bytes(data)
            n += 1
    print(f"{n} new seed files in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "fuzz" / "corpus" / "parser")
