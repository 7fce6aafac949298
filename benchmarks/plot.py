"""Plot the results of `benchmarks/run.py --json FILE` as a bar chart (PNG).

    python benchmarks/run.py --json bench.json          # or --callgrind --json ...
    python benchmarks/plot.py bench.json -o docs/_static/bench.png

One group of bars per call (add, add_np, noop, dsum, vflip, vflip_tuple, slen, get,
snprintf, declare), one bar per contender, on a log scale: ns per call for a timing
run, instructions per call for a callgrind run.  `run.py --plot FILE` draws the same chart at the end of its run.
Needs matplotlib (the `docs` dependency group).
"""

import argparse
import json
import sys

# Left to right, as in the README's tables: the floors, ndffi, the other FFIs.
ORDER = ["floor_hold", "floor_release", "ndffi_gil", "ndffi", "nanobind", "pybind11", "cffi_api", "cffi_abi", "ctypes"]
LABELS = {
    "floor_hold": "floor (GIL held)",
    "floor_release": "floor (GIL released)",
    "ndffi_gil": "ndffi (GIL held)",
    "ndffi": "ndffi",
    "cffi_api": "cffi API",
    "cffi_abi": "cffi ABI",
}


CALL_LABELS = {
    "add": "int add(int, int)",
    "add_np": "int add(int, int)\nnp.int32",
    "noop": "void noop(void)",
    "dsum": "dsum(const double *, long)\n10 doubles",
    "vflip": "vec2 vflip(vec2)",
    "vflip_tuple": "vec2 vflip(vec2)\na tuple",
    "slen": "long slen(const char *)\nbytes",
    "get": "double *get(void)",
    "snprintf": 'snprintf(buf, n,\n"%d %f", 42, 3.5)',
    "declare": "declare + first call\nof a new function",
}


def load(path):
    with open(path) as fh:
        return values_of(json.load(fh))


def values_of(data):
    """(meta, key, {call: {contender: value}}) of run.py's results."""
    mode = data["meta"]["mode"]
    key = "ir_per_call" if mode == "callgrind" else "ns_per_call"
    values = {}  # call -> {contender: value}
    for row in data["results"]:
        if row["contender"] != "floor_buf" and row.get(key) is not None:
            values.setdefault(row["call"], {})[row["contender"]] = row[key]
    return data["meta"], key, values


def plot(meta, key, values, output):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    calls = [c for c in CALL_LABELS if c in values] + sorted(c for c in values if c not in CALL_LABELS)
    names = [n for n in ORDER if any(n in values[c] for c in calls)]
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(13, 5), dpi=100)
    cmap = plt.get_cmap("tab10")
    for i, name in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j, c in enumerate(calls) if name in values[c]]
        ys = [values[c][name] for c in calls if name in values[c]]
        ax.bar(
            xs,
            ys,
            width,
            label=LABELS.get(name, name),
            color=cmap(i % 10),
            edgecolor="black" if name.startswith("ndffi") else "none",
        )
    ax.set_yscale("log")
    ax.set_xticks(range(len(calls)))
    ax.set_xticklabels([CALL_LABELS.get(c, c) for c in calls], fontsize=8)
    ax.set_ylabel(
        "instructions per call (callgrind)"
        if key == "ir_per_call"
        else "ns per call (best of %s)" % meta.get("repeat", "?")
    )
    ax.set_title(
        "Calling C from Python: CPython %s, NumPy %s, %s (lower is better)"
        % (meta["python"], meta["numpy"], meta["machine"]),
        fontsize=10,
    )
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=5, loc="upper left")
    fig.tight_layout()
    # No timestamps in the PNG, so the same results give the same file.
    fig.savefig(output, metadata={"Software": None})
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", help="output of benchmarks/run.py --json")
    ap.add_argument("-o", "--output", default="bench.png", help="PNG to write (default bench.png)")
    args = ap.parse_args(argv)
    meta, key, values = load(args.json)
    if not values:
        print("error: %s has no results" % args.json, file=sys.stderr)
        return 1
    plot(meta, key, values, args.output)
    print("wrote %s" % args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
