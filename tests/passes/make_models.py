#!/usr/bin/python3
"""Writes the small PyTorch-exported models that test the canonicalisation
passes on real exporter output (tests/passes/models/<name>/: model.onnx,
input_0.pb, output_0.pb = PyTorch's eval-mode float32 result), for
test_models.c.  tests/models has the general reference models; these two
hold the patterns only the passes care about.

    /usr/bin/python3 tests/passes/make_models.py

Deterministic (fixed seeds, 1 thread); CI only reads the committed files.
"""
import io
import os

import numpy as np
import onnx
import onnx.checker
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")


class BnFold(nn.Module):
    """Real BatchNormalization nodes (exported with training=PRESERVE):
    conv+BN+relu, depthwise conv without bias + BN + relu6 (exported as
    Relu then Clip), conv + LeakyRelu, AvgPool2d(padding) (Pad +
    AveragePool), view(N, -1) as Reshape, Linear + BatchNorm1d + relu."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=1, bias=False, groups=8), nn.BatchNorm2d(8)
        self.c3 = nn.Conv2d(8, 6, 3, stride=2)
        self.ap = nn.AvgPool2d(3, stride=1, padding=1)
        self.fc, self.b3 = nn.Linear(54, 20), nn.BatchNorm1d(20)
        self.fc2 = nn.Linear(20, 5)

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        x = F.relu6(self.b2(self.c2(x)))
        x = F.leaky_relu(self.c3(x), 0.1)
        x = self.ap(x)
        x = x.view(x.size(0), -1)
        x = F.relu(self.b3(self.fc(x)))
        return self.fc2(x)


class PadFold(nn.Module):
    """Explicit pads the exporter keeps as Pad nodes: ZeroPad2d before a conv
    (asymmetric), a -inf pad before a max pool, a zero pad before a max pool
    (must stay: only right for non-negative inputs), AvgPool2d(padding).
    Exported at opset 9, where Pad keeps its pads as attributes: at 11 and
    13 torch 1.13 builds F.pad's pads with Shape/Slice/Concat arithmetic."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3)
        self.c2 = nn.Conv2d(6, 4, 3)

    def forward(self, x):
        x = self.c1(F.pad(x, (1, 2, 0, 1)))
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1), value=float("-inf")), 3, stride=1)
        x = F.max_pool2d(F.pad(x, (1, 0, 1, 0)), 2)
        x = F.avg_pool2d(x, 3, stride=1, padding=1)
        return self.c2(x)


def randomise(model):
    """Non-zero biases and BN state so a wrong fold shows."""
    torch.manual_seed(1)
    for m in model.modules():
        with torch.no_grad():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.uniform_(-0.5, 0.5)
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.uniform_(0.5, 2.0)
                m.bias.uniform_(-1, 1)
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.2, 3.0)
    return model


def tensor_bytes(arr, name):
    return onnx.numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name).SerializeToString()


def make(name, cls, shape, training, opset=13):
    torch.manual_seed(0)
    model = randomise(cls()).eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        y = model(x)
    buf = io.BytesIO()
    torch.onnx.export(model, (x,), buf, opset_version=opset, training=training,
                      do_constant_folding=True, input_names=["input"], output_names=["output"])
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    for file, data in (("model.onnx", buf.getvalue()), ("input_0.pb", tensor_bytes(x.numpy(), "input")),
                       ("output_0.pb", tensor_bytes(y.numpy(), "output"))):
        with open(os.path.join(out, file), "wb") as f:
            f.write(data)
    ops = sorted(n.op_type for n in proto.graph.node)
    print(name, len(buf.getvalue()), "bytes:", " ".join(ops))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    make("bn_fold", BnFold, (2, 3, 8, 8), torch.onnx.TrainingMode.PRESERVE)
    make("pad_fold", PadFold, (1, 3, 9, 8), torch.onnx.TrainingMode.EVAL, opset=9)


if __name__ == "__main__":
    main()
