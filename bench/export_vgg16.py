#!/usr/bin/python3
"""Exports torchvision's VGG-16 (or another torchvision model: --model NAME,
e.g. resnet50) with random weights to ONNX for the benchmarks.

    /usr/bin/python3 bench/export_vgg16.py [--model NAME] [out.onnx]
                                          (default bench/models/NAME.onnx, NAME vgg16)

Writes out.onnx (opset 13, ~553 MB, so never committed: bench/models/ is
gitignored), and next to it <stem>_input_0.pb (1x3x224x224, seeded randn)
and <stem>_output_0.pb (PyTorch's eval-mode float32 output), both ONNX
TensorProtos named like the graph input/output.  Deterministic: fixed seeds.
"""
import io
import os
import sys
import time

import numpy as np
import onnx
import onnx.checker
import onnx.numpy_helper
import torch
import torchvision

OPSET = 13


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args, name = sys.argv[1:], "vgg16"
    if args[:1] == ["--model"] and len(args) >= 2:
        name, args = args[1], args[2:]
    if len(args) > 1 or (args and args[0].startswith("-")) or not hasattr(torchvision.models, name):
        sys.exit("usage: export_vgg16.py [--model NAME] [out.onnx]   (NAME: a torchvision model, e.g. resnet50)")
    out = args[0] if args else os.path.join(root, "bench", "models", name + ".onnx")
    stem = out[:-5] if out.endswith(".onnx") else out
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)

    t0 = time.time()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    # torchvision zero-initialises the biases; random non-zero ones make a
    # dropped or misplaced bias visible in the output.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and m.bias is not None:
                m.bias.uniform_(-0.1, 0.1)
    model.eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1234))
    with torch.no_grad():
        y = model(x)
    t_run = time.time()

    buf = io.BytesIO()
    torch.onnx.export(model, (x,), buf, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input"], output_names=["output"])
    proto = onnx.load_from_string(buf.getvalue())
    t_export = time.time()
    onnx.checker.check_model(proto)   # in memory: fine below the 2 GB proto limit
    with open(out, "wb") as f:
        f.write(buf.getvalue())
    for suffix, arr, tname in (("_input_0.pb", x, "input"), ("_output_0.pb", y, "output")):
        t = onnx.numpy_helper.from_array(arr.numpy().astype(np.float32), tname)
        with open(stem + suffix, "wb") as f:
            f.write(t.SerializeToString())
    ops = sorted({n.op_type for n in proto.graph.node})
    print("%s: %s (%.1f MB), opset %d, ops %s" % (name, out, len(buf.getvalue()) / 1e6,
                                                   proto.opset_import[0].version, " ".join(ops)))
    print("time: build+run %.1f s, export %.1f s, total %.1f s" %
          (t_run - t0, t_export - t_run, time.time() - t0))


if __name__ == "__main__":
    main()
