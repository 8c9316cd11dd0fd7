#!/usr/bin/python3
"""Writes tests/train/models/refuse_overlap_pool/model.onnx: a conv, a 3x3
stride-2 MaxPool (overlapping windows, whose backward the machine does not
run yet) and an FC; test_train checks that `m7cc --train -o` refuses it,
naming the layer.  /usr/bin/python3 tests/train/gen_refusals.py"""
import os

import torch
import torch.nn as nn

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "refuse_overlap_pool")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2)
        self.fc = nn.Linear(8 * 3 * 3, 4)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.c(x))), 1))


if __name__ == "__main__":
    torch.manual_seed(0)
    os.makedirs(HERE, exist_ok=True)
    torch.onnx.export(Net().eval(), torch.randn(2, 3, 8, 8), os.path.join(HERE, "model.onnx"), opset_version=13,
                      input_names=["input"], output_names=["output"])
