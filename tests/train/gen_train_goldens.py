#!/usr/bin/python3
"""Writes the training goldens of tests/train: small PyTorch models exported
to ONNX, one batch and target, and what one SGD step gives in PyTorch: the
loss, every parameter's gradient (autograd) and the updated parameter.

    /usr/bin/python3 tests/train/gen_train_goldens.py [--check] [NAME ...]

Gradients are computed in float64 (model.double()) and rounded once to
float32, the exact answer a float32 implementation is compared with; the
float32 PyTorch gradients are recorded in meta.txt for scale.  The update
is torch.optim.SGD(lr) on the float32 parameters with those gradients.
Files per model (models/NAME/): model.onnx, input.pb, target.pb, loss.pb,
P.grad.pb and P.updated.pb for every parameter P (its ONNX initializer
name), meta.txt; models/cases.txt lists NAME LOSS LR per line for the C
test.  CI does not run this (no torch there); the files are committed.
"""
import argparse
import io
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from gen_goldens import digest  # noqa: E402  (one hash of a golden folder)

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
MAX_TOTAL_BYTES = 1 << 20


class ResCNN(nn.Module):
    """conv3x3+ReLU, MaxPool, a residual block (the pooled tensor has two
    readers: its gradient is a sum), a strided conv+LeakyReLU, AvgPool,
    flatten, FC+ReLU, FC: cross-entropy over 10 classes."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.r = nn.Conv2d(8, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.f1 = nn.Linear(16 * 2 * 2, 32)
        self.f2 = nn.Linear(32, 10)

    def forward(self, x):                               # 4x3x16x16
        x = F.max_pool2d(F.relu(self.c1(x)), 2)         # 8x8x8
        x = x + F.relu(self.r(x))
        x = F.leaky_relu(self.c2(x), 0.1)               # 16x4x4
        x = F.avg_pool2d(x, 2)                          # 16x2x2
        x = F.relu(self.f1(x.flatten(1)))
        return self.f2(x)


class GapMSE(nn.Module):
    """conv+Sigmoid, conv (no bias, dilated, grouped)+ReLU6, global average
    pool, FC+Tanh: mean squared error against a [N, 5] target."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 6, 3)
        self.c2 = nn.Conv2d(6, 6, 3, padding=2, dilation=2, groups=2, bias=False)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):                               # 3x2x9x7
        x = torch.sigmoid(self.c1(x))
        x = F.relu6(self.c2(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.tanh(self.fc(x))


class Seq1DSoftmax(nn.Module):
    """Conv1d+ReLU, MaxPool1d, FC and a final Softmax, which the
    cross-entropy loss takes over (it reads the logits)."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(4, 8, 5, padding=2)
        self.fc = nn.Linear(8 * 6, 3)

    def forward(self, x):                               # 2x4x12
        x = F.max_pool1d(F.relu(self.c(x)), 2)          # 8x6
        return torch.softmax(self.fc(x.flatten(1)), dim=1)


class BnCNN(nn.Module):
    """conv (no bias)+BatchNorm+ReLU, MaxPool, conv+BatchNorm+ReLU, global
    average pool, FC: cross-entropy.  The step uses batch statistics, as
    PyTorch's model.train() (the ONNX file is the eval-mode export)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 12, 3, padding=1)
        self.b2 = nn.BatchNorm2d(12)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):                               # 3x3x8x8
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.relu(self.b2(self.c2(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


MODELS = [
    # name, constructor, input shape, loss, lr, seed
    ("res_cnn_ce", ResCNN, (4, 3, 16, 16), "cross-entropy", 0.1, 1),
    ("gap_mse", GapMSE, (3, 2, 9, 7), "mse", 0.05, 2),
    ("seq1d_softmax_ce", Seq1DSoftmax, (2, 4, 12), "cross-entropy", 0.01, 3),
    ("bn_cnn_ce", BnCNN, (3, 3, 8, 8), "cross-entropy", 0.1, 4),
]


def tensor_pb(arr, name):
    return numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name).SerializeToString()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def loss_fn(kind, out, target, ends_in_softmax):
    if kind == "mse":
        return F.mse_loss(out, target)
    logits_logp = torch.log(out) if ends_in_softmax else F.log_softmax(out, dim=1)
    return -(target * logits_logp).sum(dim=1).mean()


def gen(name, build, shape, loss, lr, seed):
    torch.manual_seed(seed)
    model = build().eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(100 + seed))
    with torch.no_grad():
        y = model(x)
    ends_in_softmax = isinstance(model, Seq1DSoftmax)
    if loss == "mse":
        target = torch.randn(*y.shape, generator=torch.Generator().manual_seed(200 + seed)) * 0.5
    else:
        labels = torch.randint(0, y.shape[1], (y.shape[0],), generator=torch.Generator().manual_seed(200 + seed))
        target = F.one_hot(labels, y.shape[1]).float()

    # eval-mode export; PRESERVE (the model is in eval mode) keeps BatchNorm
    # apart from the conv instead of folding it in, so its scale and bias stay
    # parameters
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    buf = io.BytesIO()
    torch.onnx.export(model, (x,), buf, opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE if has_bn else torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["output"])
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    inits = {t.name for t in proto.graph.initializer}
    params = dict(model.named_parameters())
    missing = [p for p in params if p not in inits]
    assert not missing, "%s: parameters not initializers by name: %s" % (name, missing)

    # float64 gradients (the exact answer), float32 ones for scale
    m64 = build()
    m64.load_state_dict(model.state_dict())
    # BatchNorm: batch statistics in the step (train mode; nothing else here
    # depends on the mode)
    m64 = m64.double().train(has_bn)
    model.train(has_bn)
    l64 = loss_fn(loss, m64(x.double()), target.double(), ends_in_softmax)
    l64.backward()
    l32 = loss_fn(loss, model(x), target, ends_in_softmax)
    l32.backward()
    grad_diff = max(float((p.grad.double() - params64.grad).abs().max())
                    for p, params64 in zip(model.parameters(), m64.parameters()))

    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "model.onnx"), buf.getvalue())
    write(os.path.join(d, "input.pb"), tensor_pb(x.numpy(), "input"))
    write(os.path.join(d, "target.pb"), tensor_pb(target.numpy(), "target"))
    write(os.path.join(d, "loss.pb"), tensor_pb(np.array([l64.item()]), "loss"))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for (pname, p), p64 in zip(model.named_parameters(), m64.parameters()):
        g = p64.grad.float()
        write(os.path.join(d, pname + ".grad.pb"), tensor_pb(g.numpy(), pname + ".grad"))
        p.grad = g.clone()
    opt.step()
    for pname, p in model.named_parameters():
        write(os.path.join(d, pname + ".updated.pb"), tensor_pb(p.detach().numpy(), pname + ".updated"))
    meta = [
        "name: %s" % name,
        "what: %s" % build.__doc__.split("\n\n")[0].replace("\n   ", ""),
        "made by: tests/train/gen_train_goldens.py (torch %s, onnx %s), seed %d" % (torch.__version__, onnx.__version__, seed),
        "input: %s float32; target: %s (%s)" % (list(x.shape), list(target.shape),
                                               "one-hot labels" if loss != "mse" else "randn * 0.5"),
        "loss: %s (mean), float64 %.9g, float32 %.9g" % (loss, l64.item(), l32.item()),
        "sgd: lr %g; parameters: %s" % (lr, ", ".join(params)),
        "gradients: float64 rounded to float32; float32 autograd differs by at most %.3g" % grad_diff,
    ]
    write(os.path.join(d, "meta.txt"), ("\n".join(meta) + "\n").encode())
    print("%-18s %-13s loss %.6f  %d parameters" % (name, loss, l64.item(), len(params)))
    return "%s %s %g" % (name, loss, lr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if regenerating changes any file")
    ap.add_argument("names", nargs="*", help="only these models")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    before = digest(HERE) if os.path.isdir(HERE) else ""
    os.makedirs(HERE, exist_ok=True)
    cases = []
    for name, build, shape, loss, lr, seed in MODELS:
        if not args.names or name in args.names:
            cases.append(gen(name, build, shape, loss, lr, seed))
        else:
            cases.append("%s %s %g" % (name, loss, lr))
    write(os.path.join(HERE, "cases.txt"), ("\n".join(cases) + "\n").encode())
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(HERE) for f in fs)
    print("total %d bytes" % total)
    assert total < MAX_TOTAL_BYTES
    if args.check and digest(HERE) != before:
        sys.exit("regeneration changed the committed files")


if __name__ == "__main__":
    main()
