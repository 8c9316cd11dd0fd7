#!/usr/bin/python3
"""bench/fc_batch.py: VGG-16's classifier (FC 25088-4096-4096-1000 with ReLU)
at several batch sizes, through m7cc and the M7004 simulator.

At batch 1 an FC layer reads every weight once for 2 FLOPs: DDR-bound
(VGG-16 at batch 1 shows ~1.2% efficiency, ~100% of its roofline bound).  The
published hand-written FC figure (93.17% inference) is a compute-bound one;
this table shows from which batch m7cc's FC kernel is compute-bound and how
close it gets.  Weights are random (PyTorch's default init, seed 0): only
shapes matter for the timing; the output is checked against PyTorch anyway.

    /usr/bin/python3 bench/fc_batch.py [--batches 1,16,64,256] [--build DIR]
"""
import argparse
import io
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out", "fc_batch")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return os.uname().machine


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", default="1,16,64,256")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", default="2")
    args = ap.parse_args()
    m7cc = os.path.join(args.build, "driver", "m7cc")
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
                        nn.Linear(4096, 1000)).eval()
    print("host: %s, %d cores; simulated: the default M7004 (4 cores); command: "
          "/usr/bin/python3 bench/fc_batch.py --batches %s" % (cpu_name(), os.cpu_count(), args.batches))
    print("%-6s %-22s %12s %8s %8s %9s" % ("batch", "layer", "cycles", "eff%", "bound%", "pred/meas"))
    summary = []
    for b in [int(x) for x in args.batches.split(",")]:
        x = torch.randn(b, 25088)
        with torch.no_grad():
            y = net(x)
        buf = io.BytesIO()
        torch.onnx.export(net, (x,), buf, opset_version=13, input_names=["input"], output_names=["output"])
        base = os.path.join(OUT, "fc_b%d" % b)
        with open(base + ".onnx", "wb") as f:
            f.write(buf.getvalue())
        for name, arr in (("in", x), ("out", y)):
            with open("%s.%s.pb" % (base, name), "wb") as f:
                f.write(numpy_helper.from_array(arr.numpy().astype(np.float32), name).SerializeToString())
        dump = subprocess.run([m7cc, base + ".onnx", "--dump-ir"], check=True, capture_output=True, text=True).stdout
        pred = [int(l.split("predicted ")[1].split()[0]) for l in dump.splitlines() if "predicted " in l]
        t = time.time()
        subprocess.run([m7cc, base + ".onnx", "-o", base], check=True)
        subprocess.run([base, "-i", base + ".in.pb", "--expect", base + ".out.pb", "--json", base + ".json",
                        "--quiet", "--threads", args.threads], check=True, stdout=subprocess.DEVNULL)
        with open(base + ".json") as f:
            rep = json.load(f)
        fc = [r for r in rep["regions"] if ":" not in r["name"]]
        for k, r in enumerate(fc):
            p = pred[k] / r["cycles"] if k < len(pred) and r["cycles"] else float("nan")
            print("%-6d %-22s %12d %8.2f %8.2f %9.2f" % (b, r["name"][-22:], r["cycles"], 100 * r["efficiency"],
                                                       100 * r["bound"], p))
        flops = sum(r["useful_flops"] for r in fc)
        cyc = sum(r["cycles"] for r in fc)
        eff = flops / (cyc * rep["cores"] * 192)
        summary.append((b, eff, time.time() - t))
    print()
    for b, eff, s in summary:
        print("batch %-4d FC layers together: %.2f%% efficiency (compile + simulate %.0f s; output matches PyTorch)"
              % (b, 100 * eff, s))


if __name__ == "__main__":
    sys.exit(main())
