#!/usr/bin/python3
"""Writes small models whose compiled training step test_train runs on the
simulator against the reference executor (no PyTorch goldens needed): forms
the PyTorch cases do not cover.

  mlp64    FC on the graph input (K a multiple of 32: dW rows from NCHW X)
  mlp48    the same with K = 48 (X copied to blocked first)
  strided  3x3 stride-2 conv without padding and a 1x1 stride-2 conv (dX by
           spreading dY), Tanh, a flattened FC
  wide     70 and 33 channels (partial vectors), a 3x5 kernel, AvgPool,
           global average pool

    /usr/bin/python3 tests/train/gen_machine_models.py
Files: models/NAME/model.onnx, models/NAME/input.pb (CI does not need torch).
"""
import os

import torch
import torch.nn as nn
from onnx import numpy_helper
import onnx

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")


class MLP(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.a, self.b = nn.Linear(k, 32), nn.Linear(32, 10)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


class Strided(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2)
        self.c3 = nn.Conv2d(16, 16, 1, stride=2)
        self.fc = nn.Linear(16 * 3 * 3, 5)

    def forward(self, x):
        return self.fc(torch.flatten(torch.tanh(self.c3(torch.relu(self.c2(torch.relu(self.c1(x)))))), 1))


class Wide(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(40, 70, 3, padding=1)
        self.p = nn.AvgPool2d(2)
        self.c2 = nn.Conv2d(70, 33, (3, 5), padding=(1, 2))
        self.g = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(33, 7)

    def forward(self, x):
        return self.fc(torch.flatten(self.g(torch.relu(self.c2(self.p(torch.relu(self.c1(x)))))), 1))


if __name__ == "__main__":
    torch.manual_seed(0)
    for name, net, shape in [("mlp64", MLP(64), (4, 64)), ("mlp48", MLP(48), (3, 48)),
                             ("strided", Strided(), (2, 3, 11, 11)), ("wide", Wide(), (2, 40, 10, 12))]:
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        x = torch.randn(*shape)
        torch.onnx.export(net.eval(), x, os.path.join(d, "model.onnx"), opset_version=13, input_names=["input"],
                          output_names=["output"])
        onnx.save_tensor(numpy_helper.from_array(x.numpy(), "input"), os.path.join(d, "input.pb"))
