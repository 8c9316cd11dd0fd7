#!/usr/bin/python3
"""bench/vgg16.py: VGG-16 (batch 1) through m7cc and the M7004 simulator.

Exports VGG-16 with PyTorch when bench/models/vgg16.onnx is not there
(bench/export_vgg16.py; needs `scripts/install-deps.sh --reference`), compiles
it with m7cc (wall time and peak memory), runs it on the simulator (wall time,
output checked against PyTorch) and prints one row per layer: shape, FLOPs,
cycles, efficiency, roofline bound, DMA bytes, predicted vs measured cycles;
then the totals the project's targets are stated in.  Variants rerun the
whole thing with one machine or compiler setting changed, to show what each
buys; the window variants run the default program on a machine that may
issue up to 8 or 48 instructions out of program order (docs/machine.md 5.3):
with a good emitted schedule they add little.

    /usr/bin/python3 bench/vgg16.py [--variants] [--build DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "bench", "models")
OUT = os.path.join(ROOT, "bench", "out")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, stdout=None):
    """Runs cmd; returns (wall seconds, peak RSS of that process in MB)."""
    t = time.time()
    p = subprocess.Popen(cmd, stdout=stdout)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.time() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise subprocess.CalledProcessError(p.returncode, cmd)
    return wall, usage.ru_maxrss / 1024.0


def parse_dump(text):
    """Per layer of --dump-ir: name, op, output shape, predicted cycles."""
    layers = {}
    for block in text.split("\nlayer ")[1:]:
        head = block.split("\n", 1)[0]
        m = re.match(r'\d+ (\S+) "(.*)" \((\S+)\)', head)
        if not m:
            continue
        op, name = m.group(1), m.group(2)
        out = re.search(r"\n  out \S+ f32 \[([0-9,]+)\]", block)
        pred = re.search(r"predicted (\d+) cycles", block)
        layers[name] = {
            "op": op,
            "shape": "x".join(out.group(1).split(",")) if out else "?",
            "pred": int(pred.group(1)) if pred else None,
        }
    return layers


def run_variant(m7cc, flags, label, args, run_flags=()):
    model = os.path.join(MODELS, "vgg16.onnx")
    inp = os.path.join(MODELS, "vgg16_input_0.pb")
    ref = os.path.join(MODELS, "vgg16_output_0.pb")
    exe = os.path.join(OUT, "vgg16" + ("_" + label if label else ""))
    with open(exe + ".ir.txt", "w") as f:
        sh([m7cc, model, "--dump-ir"] + flags, stdout=f)
    compile_s, compile_mb = timed([m7cc, model, "-o", exe] + flags)
    report = exe + ".json"
    run_s, run_mb = timed([exe, "-i", inp, "--expect", ref, "--json", report, "--quiet",
                           "--threads", str(args.threads)] + list(run_flags), stdout=subprocess.DEVNULL)
    with open(exe + ".ir.txt") as f:
        layers = parse_dump(f.read())
    with open(report) as f:
        rep = json.load(f)
    return {"label": label or "default", "flags": flags + [f"run: {' '.join(run_flags)}"] * bool(run_flags),
            "layers": layers, "rep": rep,
            "compile_s": compile_s, "compile_mb": compile_mb, "run_s": run_s, "run_mb": run_mb}


def print_table(v):
    rep, layers = v["rep"], v["layers"]
    print(f"\n## VGG-16 batch 1, {v['label']} ({' '.join(v['flags']) or 'default machine and options'})")
    print(f"{'layer':<28} {'op':<8} {'output':<14} {'GFLOP':>7} {'cycles':>10} {'eff%':>6} "
          f"{'bound%':>6} {'DDR MB':>8} {'predicted':>10} {'pred/meas':>9}")
    conv_eff, fc_of_bound, bound_cycles = [], [], 0.0
    for r in rep["regions"]:
        info = layers.get(r["name"], {"op": "?", "shape": "?", "pred": None})
        pred = info["pred"]
        ratio = f"{pred / r['cycles']:.2f}" if pred and r["cycles"] else "-"
        eff, bound = 100 * r["efficiency"], 100 * r["bound"]
        print(f"{r['name'][-28:]:<28} {info['op']:<8} {info['shape']:<14} {r['useful_flops'] / 1e9:7.3f} "
              f"{r['cycles']:10d} {eff:6.2f} {bound:6.2f} {r['dma_bytes']['ddr'] / 1e6:8.2f} "
              f"{pred if pred else '-':>10} {ratio:>9}")
        bound_cycles += max(r["compute_cycles"], r["dma_cycles"])  # the region at its roofline
        if info["op"] == "conv":
            conv_eff.append(eff)
        elif info["op"] == "fc":
            fc_of_bound.append(100 * r["efficiency"] / r["bound"] if r["bound"] else 0)
    total_flops = sum(r["useful_flops"] for r in rep["regions"])
    peak = rep["cores"] * 192
    print(f"{'total':<28} {'':<8} {'':<14} {total_flops / 1e9:7.3f} {rep['cycles']:10d} "
          f"{100 * total_flops / (rep['cycles'] * peak):6.2f}")
    avg = lambda xs: sum(xs) / len(xs) if xs else 0.0
    print(f"conv layers: average efficiency {avg(conv_eff):.2f}% over {len(conv_eff)} layers "
          f"(published hand-written bar: 86.62%); after the first, the lowest "
          f"{min(conv_eff[1:]) if len(conv_eff) > 1 else 0:.2f}% (target >= 93%)")
    print(f"FC layers: average {avg(fc_of_bound):.1f}% of their roofline bound over {len(fc_of_bound)} layers, "
          f"the lowest {min(fc_of_bound) if fc_of_bound else 0:.1f}% (target >= 97%)")
    print(f"whole network: {rep['cycles']} cycles = {rep['seconds'] * 1e3:.2f} ms at {rep['clock_ghz']} GHz, "
          f"efficiency {100 * total_flops / (rep['cycles'] * peak):.2f}%; "
          f"{100 * bound_cycles / rep['cycles']:.1f}% of its bound, every layer at its roofline "
          f"(the convs at peak, the FC layers streaming their weights once; target >= 95%)")
    print(f"host: m7cc compile {v['compile_s']:.2f} s, peak {v['compile_mb']:.0f} MB (target <= 15 s, "
          f"<= 2.5 GB); simulation {v['run_s']:.2f} s (target <= 5 s); output matches PyTorch (rtol 1e-4)")
    return avg(conv_eff), avg(fc_of_bound), rep["cycles"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--variants", action="store_true",
                    help="also one core, no double buffering, no weight sharing, and the default program "
                         "run with a scheduling window of 8 and 48 (what a reordering machine would add)")
    ap.add_argument("--threads", type=int, default=2, help="simulator host threads")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not os.path.exists(os.path.join(MODELS, "vgg16.onnx")):
        print("exporting VGG-16 with PyTorch (bench/export_vgg16.py) ...", flush=True)
        sh(["/usr/bin/python3", os.path.join(ROOT, "bench", "export_vgg16.py"),
            os.path.join(MODELS, "vgg16.onnx")])
    sh(["ninja", "-C", args.build], stdout=subprocess.DEVNULL)
    m7cc = os.path.join(args.build, "driver", "m7cc")
    cpu = open("/proc/cpuinfo").read()
    model_name = re.search(r"model name\s*:\s*(.*)", cpu)
    print(f"machine: {model_name.group(1) if model_name else '?'}, {os.cpu_count()} cores; "
          f"command: /usr/bin/python3 bench/vgg16.py{' --variants' if args.variants else ''}")
    variants = [([], "", [])]
    if args.variants:
        variants += [(["--machine", "cores=1"], "1core", []),
                     (["--no-double-buffer"], "nodb", []),
                     (["--no-weight-sharing"], "noshare", []),
                     ([], "window8", ["--machine", "window=8"]),
                     ([], "window48", ["--machine", "window=48"])]
    summary = []
    for flags, label, run_flags in variants:
        try:
            v = run_variant(m7cc, flags, label, args, run_flags)
        except subprocess.CalledProcessError as e:
            print(f"\n## variant {label}: {' '.join(map(str, e.cmd))} failed (exit {e.returncode})")
            continue
        summary.append((v["label"],) + print_table(v))
    if len(summary) > 1:
        base = summary[0][3]
        print(f"\n## what each buys (cycles relative to {summary[0][0]})\n"
              f"{'variant':<10} {'conv eff%':>10} {'FC % of bound':>14} {'cycles':>12} {'x default':>10}")
        for label, conv, fc, cycles in summary:
            print(f"{label:<10} {conv:10.2f} {fc:14.1f} {cycles:12d} {cycles / base:10.2f}")


if __name__ == "__main__":
    sys.exit(main())
