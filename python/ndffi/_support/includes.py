"""Where an ``#include`` would have found a file that was not there: the *absences* a
cached build (:mod:`ndffi.building.cache`) and a cached header model
(:mod:`ndffi.headers.cache`) record, so that a header that appears earlier in the search
order makes them stale."""

from __future__ import annotations

import logging
import os
import re

__all__ = ["absences", "parse_search_list", "roots"]

log = logging.getLogger("ndffi.cache")


def roots(plan):
    """The directories a build's files are looked for relative to: the sources' and the
    header's (``"..."`` includes are found next to the file that includes them)."""
    files = [src for src, _ in plan.sources] + ([plan.header] if plan.header else [])
    return [os.path.dirname(os.path.abspath(f)) for f in files]


def _under(path, root):
    rel = os.path.relpath(path, root)
    return None if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


def parse_search_list(output):
    """(quote-only dirs, angle dirs) of a ``cc -E -v`` run's stderr, in search order."""
    quote, angle, cur = [], [], None
    for line in output.splitlines():
        if line.startswith('#include "..." search starts here'):
            cur = quote
        elif line.startswith("#include <...> search starts here"):
            cur = angle
        elif line.startswith("End of search list"):
            break
        elif cur is not None and line.startswith(" "):
            d = line.strip()
            if d.endswith(" (framework directory)"):
                d = d[: -len(" (framework directory)")]
            cur.append(os.path.normpath(os.path.abspath(d)))
    return quote, angle


_USER_DIR_FLAGS = ("-I", "-iquote", "-isystem", "-idirafter")
_HAS_INCLUDE = re.compile(rb'__has_include(?:_next)?\s*\(\s*(["<])([^">\n]+)[">]')


def _user_dirs(flags):
    """The include directories the build's own flags name."""
    out, it = set(), iter(flags)
    for f in it:
        for opt in _USER_DIR_FLAGS:
            if f == opt:
                nxt = next(it, None)
                if nxt is not None:
                    out.add(os.path.normpath(os.path.abspath(nxt)))
            elif f.startswith(opt) and not (opt == "-I" and f.startswith(("-iquote", "-isystem", "-idirafter"))):
                out.add(os.path.normpath(os.path.abspath(f[len(opt) :])))
    return out


def absences(deps, searches, flags, plan, started):
    """``[[path, [root index, relative path] or None], ...]`` of the paths where a file
    would have changed what compiled and none was: earlier in the search order than each
    header found (``searches``: per language, (quote dirs, angle dirs) of
    :func:`parse_search_list`), the including files' own directories, and what the
    project's files ``__has_include``.  None when one appeared while compiling."""
    if deps is None:
        return None
    user = _user_dirs(flags)
    dirs_all = []
    for quote, angle in searches:
        dirs_all.append(quote + angle)
    toolchain = {d for quote, angle in searches for d in angle if d not in user}
    own = [d[0] for d in deps if not any(_under(d[0], t) is not None for t in toolchain)]
    includers = sorted(set(roots(plan)) | {os.path.dirname(p) for p in own})
    probes = set()
    for path, *_ in deps:
        for dirs in dirs_all:
            for k, d in enumerate(dirs):
                rel = _under(path, d)
                if rel is None:
                    continue
                probes.update(os.path.join(e, rel) for e in dirs[:k])
                probes.update(os.path.join(x, rel) for x in includers)
    files = [src for src, _ in plan.sources] + ([plan.header] if plan.header else []) + own
    for f in files:
        try:
            with open(f, "rb") as fh:
                text = fh.read()
        except OSError:
            continue
        for kind, name in _HAS_INCLUDE.findall(text):
            name = os.fsdecode(name)
            for quote, angle in searches:
                places = angle + (quote + [os.path.dirname(os.path.abspath(f))] if kind == b'"' else [])
                probes.update(os.path.join(d, name) for d in places)
    known = {d[0] for d in deps}
    dirs = roots(plan)
    out = []
    for probe in sorted(probes - known):
        try:
            st = os.lstat(probe)
        except FileNotFoundError:
            root = next(([i, rel] for i, d in enumerate(dirs) if (rel := _under(probe, d)) is not None), None)
            out.append([probe, root])
            continue
        except OSError:
            continue
        if st.st_mtime_ns > started:
            log.debug("%s appeared while compiling: the result is not cached", probe)
            return None
    return out
