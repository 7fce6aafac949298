"""The end of `make fuzz`: executions, findings and corpus size of both fuzzers, and an
exit status of 1 when either found something, stopped early or ran fewer executions
than asked.

    python fuzz/report.py BUILD_DIR CORPUS_DIR RUNS

BUILD_DIR holds parser.log, atheris.log and the artifact directories parser-artifacts/
and atheris-artifacts/ (a crash, leak, timeout or out-of-memory input each).
"""

import pathlib
import re
import sys


def executions(log):
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    return int(m.group(1)) if m else 0


def report(build, corpus, runs):
    """(lines to print, exit status)."""
    lines, ok = [], True
    for name in ("parser", "atheris"):
        log_path = build / f"{name}.log"
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
        artifacts = sorted(p for p in (build / f"{name}-artifacts").glob("*") if p.is_file())
        n = executions(log)
        line = f"{name}: {n} executions, {len(artifacts)} findings"
        if name == "parser":
            files = [p for p in corpus.iterdir() if p.is_file()]
            line += f", corpus {len(files)} files {sum(p.stat().st_size for p in files) // 1024} KB"
        lines.append(line)
        for a in artifacts:
            lines.append(f"  finding: {a}")
        if artifacts:
            ok = False
        if not re.search(r"Done \d+ runs", log) or n < runs:
            lines.append(f"  {name} stopped early (see {log_path})")
            ok = False
    return lines, 0 if ok else 1


def main(argv):
    build, corpus, runs = pathlib.Path(argv[1]), pathlib.Path(argv[2]), int(argv[3])
    lines, status = report(build, corpus, runs)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
