#!/usr/bin/python3
"""bench/train_vgg.py: one SGD step of a VGG-like net on the M7004 simulator.

The net: six 3x3 convs (64, 64, 128, 128, 256, 256 channels, ReLU, a 2x2
max pool after each pair), then FC 1024 + ReLU, FC 1024 + ReLU, FC 10.

Exports (bench/models/train_vgg.onnx, with a batch, a one-hot target and
PyTorch's loss, gradients and updated parameters in float64 rounded to
float32), compiles `m7cc --train -o`, runs the step on the simulator with
--expect for every output and prints one row per region: cycles, efficiency,
the roofline bound and the cost model's prediction; then the average
efficiency per kind of layer (forward conv, conv_grad_x, conv_grad_w, and the
same for FC) and per layer type over forward + backward, the figures the
published bar is stated in (conv training 69.63%, FC training 81.98%).

    /usr/bin/python3 bench/train_vgg.py [--batch N] [--size S] [--build DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from vgg16 import parse_dump, timed  # noqa: E402

MODELS = os.path.join(ROOT, "bench", "models")
OUT = os.path.join(ROOT, "bench", "out")
LR = 0.05


def export(path, batch, size):
    import numpy as np
    import onnx
    import torch
    import torch.nn as nn
    from onnx import numpy_helper

    def block(ci, co):
        return [nn.Conv2d(ci, co, 3, padding=1), nn.ReLU()]

    torch.manual_seed(0)
    net = nn.Sequential(*block(3, 64), *block(64, 64), nn.MaxPool2d(2),
                        *block(64, 128), *block(128, 128), nn.MaxPool2d(2),
                        *block(128, 256), *block(256, 256), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(256 * (size // 8) ** 2, 1024), nn.ReLU(),
                        nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
    x = torch.randn(batch, 3, size, size)
    t = torch.zeros(batch, 10)
    t[torch.arange(batch), torch.arange(batch) % 10] = 1.0
    torch.onnx.export(net.eval(), x, path, opset_version=13, input_names=["input"], output_names=["output"])
    names = [i.name for i in onnx.load(path).graph.initializer]
    params = dict(net.named_parameters())
    # ONNX initializer names are the module's parameter names here ("0.weight", ...)
    net64 = net.double()
    loss = nn.functional.cross_entropy(net64(x.double()), t.double())
    loss.backward()
    base = os.path.splitext(path)[0]

    def save(a, name, fname):
        onnx.save_tensor(numpy_helper.from_array(np.asarray(a, dtype=np.float32), name), base + "_" + fname + ".pb")

    save(x.numpy(), "input", "input")
    save(t.numpy(), "target", "target")
    save(np.array([loss.item()]), "loss", "loss")
    for n in names:
        p = params[n]
        g = p.grad.detach().numpy().astype(np.float32)
        w = p.detach().numpy().astype(np.float32)
        save(w - np.float32(LR) * g, n + ".updated", n + ".updated")
        save(g, n + ".grad", n + ".grad")


def kind(name, op):
    if op in ("conv", "conv_grad_x", "conv_grad_w", "fc", "fc_grad_x", "fc_grad_w"):
        return op
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(MODELS, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    model = os.path.join(MODELS, f"train_vgg3fc_b{args.batch}_s{args.size}.onnx")
    base = os.path.splitext(model)[0]
    if not os.path.exists(model):
        export(model, args.batch, args.size)
    subprocess.run(["ninja", "-C", args.build], check=True, stdout=subprocess.DEVNULL)
    m7cc = os.path.join(args.build, "driver", "m7cc")
    exe = os.path.join(OUT, os.path.basename(base))
    flags = ["--train", "--lr", str(LR)]
    dump = subprocess.run([m7cc, model, "--dump-ir"] + flags, check=True, capture_output=True, text=True).stdout
    layers = parse_dump(dump)
    compile_s, compile_mb = timed([m7cc, model, "-o", exe] + flags)
    outs = re.search(r"Outputs \(\d+\): (.*)", subprocess.run([exe, "--help"], capture_output=True,
                                                              text=True).stdout).group(1).split()
    cmd = [exe, "-i", base + "_input.pb", "-i", base + "_target.pb", "--json", exe + ".json", "--quiet",
           "--threads", str(args.threads), "--rtol", "1e-3", "--atol", "1e-4"]
    for o in outs:
        cmd += ["--expect", base + "_" + o + ".pb"]
    run_s, _ = timed(cmd)
    rep = json.load(open(exe + ".json"))
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    print(f"host: {cpu.group(1) if cpu else '?'}; command: /usr/bin/python3 bench/train_vgg.py --batch {args.batch} "
          f"--size {args.size}; m7cc {compile_s:.1f} s, simulation {run_s:.1f} s; every output matches PyTorch "
          f"(rtol 1e-3, atol 1e-4: float32 sums against float64 ones)")
    print(f"\n{'region':<34} {'op':<12} {'MFLOP':>8} {'cycles':>9} {'eff%':>6} {'bound%':>6} {'pred':>9} {'p/m':>5}")
    sums = {}
    for r in rep["regions"]:
        info = layers.get(r["name"], {"op": "-", "pred": None})
        pred = info["pred"]
        print(f"{r['name'][-34:]:<34} {info['op']:<12} {r['useful_flops'] / 1e6:8.1f} {r['cycles']:9d} "
              f"{100 * r['efficiency']:6.2f} {100 * r['bound']:6.2f} {pred or '-':>9} "
              f"{(pred / r['cycles']) if pred and r['cycles'] else 0:5.2f}")
        k = kind(r["name"], info["op"])
        if k:
            s = sums.setdefault(k, [0, 0, []])
            s[0] += r["useful_flops"]
            s[1] += r["cycles"]
            s[2].append(100 * r["efficiency"])
    peak = rep["cores"] * 192
    total = sum(r["useful_flops"] for r in rep["regions"])
    print(f"\nwhole step: {rep['cycles']} cycles = {rep['seconds'] * 1e3:.2f} ms, "
          f"{100 * total / (rep['cycles'] * peak):.2f}% of peak")
    for group, ks in (("conv", ("conv", "conv_grad_x", "conv_grad_w")), ("FC", ("fc", "fc_grad_x", "fc_grad_w"))):
        for k in ks:
            if k in sums:
                e = sums[k][2]
                print(f"  {k:<12} average efficiency {sum(e) / len(e):6.2f}% over {len(e)} layers")
        e = [x for k in ks if k in sums for x in sums[k][2]]
        if e:
            print(f"{group} training (forward + backward layers): average {sum(e) / len(e):.2f}% "
                  f"(published bar {'69.63' if group == 'conv' else '81.98'}%)")


if __name__ == "__main__":
    main()
