#!/usr/bin/python3
"""bench/compile_time.py: how long m7cc takes to compile, per model.

For every reference model (tests/models/*/model.onnx) and each MODEL.onnx
named, runs `m7cc MODEL --dump-ir` (frontend, passes, backend: the tile
search is most of it) and `m7cc MODEL -o NAME.c` (the same plus code
generation, the weights file and the libclang check), REPEAT times each,
and prints the median wall seconds.  With
several --build folders the columns stand side by side (e.g. before and
after a change, built from two checkouts on the same machine); their runs
alternate.

    /usr/bin/python3 bench/compile_time.py [--build DIR]... [--repeat N] [MODEL.onnx ...]
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, cwd):
    """Wall seconds of one run; None if it failed."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0 if r.returncode == 0 else None


def measure(compilers, model, repeat):
    """[build][0 dump-ir, 1 -o C] median seconds (None: failed).  The builds
    take turns run by run, so a slow spell of the machine hits them alike."""
    runs = [[[], []] for _ in compilers]
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            for k, args in enumerate((["--dump-ir"], ["-o", "net.c"])):
                for i, c in enumerate(compilers):
                    runs[i][k].append(timed([c, model] + args, tmp))
    return [[None if None in r else statistics.median(r) for r in b] for b in runs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="append", help="build folder (repeatable; default build)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("models", nargs="*")
    a = ap.parse_args()
    builds = a.build or [os.path.join(ROOT, "build")]
    models = sorted(glob.glob(os.path.join(ROOT, "tests", "models", "*", "model.onnx"))) + a.models
    compilers = [os.path.join(os.path.abspath(b), "driver", "m7cc") for b in builds]
    for c in compilers:
        if not os.access(c, os.X_OK):
            sys.exit(f"compile_time.py: no m7cc at {c} (build it first)")
    print(f"machine: {os.uname().nodename}, {os.cpu_count()} CPUs; median of {a.repeat} runs")
    head = "| model |" + "".join(f" dump-ir s ({i}) | -o C s ({i}) |" for i in range(len(builds)))
    print("builds: " + ", ".join(f"({i}) {b}" for i, b in enumerate(builds)))
    print(head)
    print("|---|" + "---|---|" * len(builds))
    totals = [[0.0, 0.0] for _ in builds]
    for model in models:
        name = os.path.basename(os.path.dirname(model)) if model.endswith("/model.onnx") else os.path.basename(model)
        row = f"| {name} |"
        for i, medians in enumerate(measure(compilers, model, a.repeat)):
            for k, r in enumerate(medians):
                row += " failed |" if r is None else f" {r:.3f} |"
                totals[i][k] += r or 0.0
        print(row)
    print("| total |" + "".join(f" {t[0]:.3f} | {t[1]:.3f} |" for t in totals))


if __name__ == "__main__":
    main()
