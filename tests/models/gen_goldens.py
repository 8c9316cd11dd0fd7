#!/usr/bin/python3
"""Regenerates the reference models and goldens under tests/models/.

For every model: tests/models/<name>/model.onnx (exported with
torch.onnx.export), input_0.pb and output_0.pb (ONNX TensorProto, named like
the graph input/output; the output is PyTorch's eval-mode float32 result) and
meta.txt (what it is, how it was exported, which ops the graph holds).

Run with the interpreter that has torch/onnx:  /usr/bin/python3 tests/models/gen_goldens.py
Deterministic: fixed seeds per model, 2 threads, deterministic algorithms,
so a rerun rewrites byte-identical files (checked with --check).
CI never runs this; it only reads the committed files.
"""
import argparse
import collections
import hashlib
import io
import os
import sys
import warnings

import numpy as np
import onnx
import onnx.checker
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx_ref

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_MODEL_BYTES = 300 * 1024
MAX_TOTAL_BYTES = 3 * 1024 * 1024


# ---------------------------------------------------------------- weights

def randomise(model):
    """Weights keep PyTorch's default (Kaiming-uniform) init; biases and all
    BatchNorm state get random non-zero values, so that a wrong BN fold or a
    dropped bias changes the result visibly."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
            with torch.no_grad():
                m.bias.uniform_(-0.5, 0.5)
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


# ---------------------------------------------------------------- models

class VggCifar(nn.Module):
    """VGG-style CIFAR net: 3x32x32 -> 3 stages of conv3x3+BN+ReLU with
    maxpools (16-32-48 channels) -> Flatten -> FC 32 -> ReLU -> Dropout -> FC 10."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(3, 16), *conv_bn_relu(16, 16), nn.MaxPool2d(2),
            *conv_bn_relu(16, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2),
            *conv_bn_relu(32, 48), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(48 * 4 * 4, 32), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class LeNet5(nn.Module):
    """LeNet-5 on 1x32x32: conv5x5(6)+ReLU+MaxPool, conv5x5(16)+ReLU+AvgPool,
    view(-1, 400) (a Reshape with a constant shape), FC 120-84-10 with Tanh."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.avg_pool2d(F.relu(self.c2(x)), 2)
        x = x.view(-1, 400)
        x = torch.tanh(self.f1(x))
        x = torch.tanh(self.f2(x))
        return self.f3(x)


class PoolSoftmax(nn.Module):
    """Pooling variants: AvgPool2d with padding counting the pad (exported as
    Pad + AveragePool), AvgPool2d with padding not counting it (pads on
    AveragePool), AvgPool2d and MaxPool2d with ceil_mode on odd sizes,
    AdaptiveAvgPool2d(1) (GlobalAveragePool), a 1x1 conv classifier, Flatten,
    Softmax(dim=1)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 12, 3, padding=1)
        self.p1 = nn.AvgPool2d(3, stride=1, padding=1)                       # count_include_pad
        self.c2 = nn.Conv2d(12, 20, 3)
        self.p2 = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.p3 = nn.AvgPool2d(2, stride=2, ceil_mode=True)
        self.p4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(20, 10, 1)

    def forward(self, x):                           # 1x3x27x27
        x = self.p1(F.relu(self.c1(x)))             # 12x27x27
        x = self.p2(F.relu(self.c2(x)))             # 20x25x25 -> 20x13x13
        x = self.p3(x)                              # 20x7x7 (ceil)
        x = self.p4(x)                              # 20x3x3 (ceil)
        x = self.fc(self.gap(x))                    # 10x1x1
        return torch.softmax(torch.flatten(x, 1), dim=1)


class Softmax4D(nn.Module):
    """Softmax over the channels of a 4-D tensor (dim=1, not the last axis):
    opset 13 Softmax(axis=1) normalises along channels only, while opset < 13
    Softmax coerces to 2-D, so the exporter must rewrite it there."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(6, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 4, 1)

    def forward(self, x):                           # 1x6x7x5
        return self.c2(torch.softmax(self.c1(x), dim=1))


class BasicBlock(nn.Module):
    """conv-bn-relu-conv-bn + shortcut, then relu.  The shortcut is the
    identity, or a 1x1 conv+BN projection when stride or width changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class Residual(nn.Module):
    """Stem conv, an identity-shortcut block (16->16), a projection-shortcut
    block (16->32, stride 2), global average pool, FC 10."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn_relu(3, 16))
        self.b1 = BasicBlock(16, 16, 1)
        self.b2 = BasicBlock(16, 32, 2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.b2(self.b1(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Batch8(nn.Module):
    """Small conv net on an 8x3x16x16 batch; flattens with view(x.size(0), -1),
    which (exported without constant folding) is a Shape/Gather/Unsqueeze/
    Concat/Reshape chain the frontend must fold itself."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(x.view(x.size(0), -1))


class LRNFn(torch.autograd.Function):
    """nn.LocalResponseNorm has no ONNX symbolic in torch 1.13: it is traced
    through its Python decomposition (Reshape to 5-D, Pad, 3-D AveragePool,
    Pow, Div ...).  This wrapper computes the same thing with
    F.local_response_norm but exports one ONNX LRN node.  For odd size the
    two definitions agree exactly (the channel window is centred); for even
    size they differ, so only odd sizes are allowed here."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        with warnings.catch_warnings():      # traced as one opaque node: its
            warnings.simplefilter("ignore")  # numel() check is not recorded
            return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class LRN(nn.LocalResponseNorm):
    def __init__(self, size, alpha, beta, k):
        assert size % 2 == 1, "ONNX LRN and PyTorch agree only for odd sizes"
        super().__init__(size, alpha, beta, k)

    def forward(self, x):
        return LRNFn.apply(x, self.size, self.alpha, self.beta, self.k)


class OddShapes(nn.Module):
    """Odd sizes and widths: 3x29x23 input; channels 5, 13, 37; stride-2
    k3 p1 convs on odd sizes; a dilation-2 conv; a depthwise conv
    (groups=C); LeakyReLU, Sigmoid, ReLU6 (Clip); a Concat of two branches
    along channels; LRN (size 5); a strided conv with asymmetric kernel."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 5, 3, stride=2, padding=1)          # 5x15x12
        self.c2 = nn.Conv2d(5, 13, 3, padding=2, dilation=2)       # 13x15x12
        self.dw = nn.Conv2d(13, 13, 3, padding=1, groups=13)       # depthwise
        self.a = nn.Conv2d(13, 11, 1)                              # branch a
        self.b = nn.Conv2d(13, 6, (3, 5), padding=(1, 2))          # branch b
        self.lrn = LRN(5, alpha=4.0, beta=0.75, k=1.0)  # strong, so the window matters
        self.c3 = nn.Conv2d(17, 37, 3, stride=2, padding=1)        # 37x8x6
        self.c4 = nn.Conv2d(37, 7, (1, 3), stride=(2, 1))          # 7x4x4
        self.leaky = nn.LeakyReLU(0.1)
        self.relu6 = nn.ReLU6()

    def forward(self, x):
        x = self.leaky(self.c1(x))
        x = self.relu6(self.c2(x))
        x = torch.sigmoid(self.dw(x))
        x = torch.cat([F.relu(self.a(x)), self.leaky(self.b(x))], dim=1)
        x = self.lrn(x)
        x = self.relu6(self.c3(x))
        return self.c4(x)


class Seq1D(nn.Module):
    """1-D conv net over a batch of sequences (2x4x50): Conv1d k5 p2 + BN +
    ReLU, MaxPool1d, a strided dilated Conv1d, AvgPool1d with padding, and a
    Linear head.  m7cc runs 1-D layers as 2-D ones with a 1-high window."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 16, 5, padding=2)                    # 16x50
        self.bn = nn.BatchNorm1d(16)
        self.c2 = nn.Conv1d(16, 40, 3, stride=2, padding=2, dilation=2)  # 40x13
        self.pool = nn.AvgPool1d(3, stride=2, padding=1)            # 40x7
        self.fc = nn.Linear(40 * 7, 10)

    def forward(self, x):
        x = F.max_pool1d(F.relu(self.bn(self.c1(x))), 2)            # 16x25
        x = self.pool(F.relu(self.c2(x)))
        return self.fc(x.flatten(1))


# ---------------------------------------------------------------- export

def export(model, x, opset, folding, training=torch.onnx.TrainingMode.EVAL):
    buf = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(model, (x,), buf, opset_version=opset,
                          do_constant_folding=folding, training=training,
                          input_names=["input"], output_names=["output"])
    msgs = sorted({str(w.message).split("\n")[0][:200] for w in caught
                   if not issubclass(w.category, (FutureWarning, DeprecationWarning))})
    return onnx.load_from_string(buf.getvalue()), msgs


def make_preserve(model, x, opset):
    """TrainingMode.PRESERVE keeps each module's own mode.  With the whole
    net in eval mode the exporter drops Dropout entirely (train=False is a
    no-op); with the whole net in train mode BatchNormalization is exported
    with training_mode=1 and 3 outputs (batch statistics).  So BN stays in
    eval mode and only Dropout is put in train mode: the exporter then emits
    Dropout(data, ratio, training_mode=Constant(true)), and we rewrite that
    constant to false, giving an inference-mode Dropout (identity) whose
    result equals the eval-mode golden."""
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    proto, msgs = export(model, x, opset, False, torch.onnx.TrainingMode.PRESERVE)
    model.eval()
    consts = {n.output[0]: n for n in proto.graph.node if n.op_type == "Constant"}
    inits = {t.name: t for t in proto.graph.initializer}
    flipped = 0
    for n in proto.graph.node:
        if n.op_type != "Dropout" or len(n.input) < 3:
            continue
        src = n.input[2]
        if src in consts:
            t = consts[src].attribute[0].t
        else:
            t = inits[src]
        assert bool(onnx.numpy_helper.to_array(t)), "Dropout exported with training_mode false"
        t.CopyFrom(onnx.numpy_helper.from_array(np.array(False), t.name))
        flipped += 1
    ops = {n.op_type for n in proto.graph.node}
    assert "BatchNormalization" in ops and "Dropout" in ops, ops
    for n in proto.graph.node:
        if n.op_type == "BatchNormalization":
            assert len(n.output) == 1, "training-mode BatchNormalization exported"
    assert flipped > 0
    msgs.append("postprocess: %d Dropout training_mode constant(s) rewritten true -> false" % flipped)
    return proto, msgs


def op_counts(proto):
    c = collections.Counter(n.op_type for n in proto.graph.node)
    return ", ".join("%s x%d" % (k, c[k]) for k in sorted(c))


def tensor_pb(arr, name):
    return onnx.numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name).SerializeToString()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def gen(name, desc, build, in_shape, opset, folding=True, preserve=False, seed=0):
    torch.manual_seed(seed)
    model = randomise(build()).eval()
    x = torch.randn(*in_shape, generator=torch.Generator().manual_seed(1000 + seed))
    with torch.no_grad():
        y = model(x)
        y64 = model.double()(x.double())
        model.float()
    if preserve:
        proto, msgs = make_preserve(model, x, opset)
        how = "torch.onnx.export(training=PRESERVE, do_constant_folding=False), BN modules eval, Dropout modules train"
    else:
        proto, msgs = export(model, x, opset, folding)
        how = "torch.onnx.export(training=EVAL, do_constant_folding=%s)" % folding
    onnx.checker.check_model(proto, full_check=True)
    produced = [(o.domain or "ai.onnx", o.version) for o in proto.opset_import]
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    assert y.std() > 1e-3, "degenerate output"
    yn = y.numpy()
    rel64 = float(((y64 - y.double()).abs() / (y64.abs() + 1e-6)).max())
    abs64 = float((y64 - y.double()).abs().max())

    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    gin, gout = proto.graph.input[0].name, proto.graph.output[0].name
    mbytes = proto.SerializeToString()
    write(os.path.join(d, "model.onnx"), mbytes)
    write(os.path.join(d, "input_0.pb"), tensor_pb(x.numpy(), gin))
    write(os.path.join(d, "output_0.pb"), tensor_pb(yn, gout))
    ort = check_onnxruntime(mbytes, gin, x.numpy(), yn)
    ref = onnx_ref.run(proto, {gin: x.numpy()})[gout]
    ref_abs = float(np.abs(ref - yn).max())
    ref_rel = float((np.abs(ref - yn) / (np.abs(ref) + 1e-6)).max())
    assert ref.shape == yn.shape and np.allclose(yn, ref, rtol=1e-4, atol=1e-6), \
        "%s: ONNX-spec evaluator disagrees with PyTorch: max abs %g rel %g" % (name, ref_abs, ref_rel)
    meta = [
        "name: %s" % name,
        "what: %s" % desc,
        "made by: tests/models/gen_goldens.py (torch %s, onnx %s), seed %d" % (torch.__version__, onnx.__version__, seed),
        "export: %s" % how,
        "opset requested: %d; opset_import produced: %s" % (opset, ", ".join("%s %d" % p for p in produced)),
        "ir_version: %d" % proto.ir_version,
        "input: %s %s float32 (torch.randn)" % (gin, list(x.shape)),
        "output: %s %s float32 (PyTorch eval mode, float32)" % (gout, list(y.shape)),
        "output range: min %.6g max %.6g std %.6g" % (yn.min(), yn.max(), yn.std()),
        "float32 vs float64 PyTorch: max abs diff %.3g, max rel diff %.3g" % (abs64, rel64),
        "ops: %s" % op_counts(proto),
        "initializers: %d, model.onnx %d bytes" % (len(proto.graph.initializer), len(mbytes)),
        "onnx.checker: ok (full_check)",
        "onnxruntime: %s" % ort,
        "onnx_ref.py (NumPy, ONNX spec, float64) vs golden: max abs diff %.3g, max rel diff %.3g" % (ref_abs, ref_rel),
    ]
    meta += ["exporter note: %s" % m for m in msgs]
    write(os.path.join(d, "meta.txt"), ("\n".join(meta) + "\n").encode())
    assert len(mbytes) < MAX_MODEL_BYTES, "%s: model.onnx is %d bytes" % (name, len(mbytes))
    print("%-20s opset %-3d %7d B  %s" % (name, produced[0][1], len(mbytes), op_counts(proto)))


def check_onnxruntime(mbytes, gin, x, y):
    """A second, independent reference when onnxruntime is installed."""
    try:
        import onnxruntime
    except ImportError:
        return "not installed, skipped"
    sess = onnxruntime.InferenceSession(mbytes, providers=["CPUExecutionProvider"])
    got = sess.run(None, {gin: x})[0]
    np.testing.assert_allclose(got, y, rtol=1e-4, atol=1e-5)
    return "agrees (rtol 1e-4, atol 1e-5)"


MODELS = [
    # name, description, constructor, input shape, opset, kwargs
    ("vgg_cifar", "VGG-style CIFAR net, BN folded into Conv by the exporter", VggCifar, (1, 3, 32, 32), 13, {}),
    ("vgg_cifar_preserve", "the vgg_cifar net (same seed/weights) with BatchNormalization and Dropout nodes kept",
     VggCifar, (1, 3, 32, 32), 13, {"preserve": True}),
    ("vgg_cifar_op11", "vgg_cifar at opset 11", VggCifar, (1, 3, 32, 32), 11, {}),
    ("lenet5", "LeNet-5, 1x32x32, conv5x5, max/avg pool, Reshape, FC 120-84-10 with Tanh", LeNet5, (1, 1, 32, 32), 13, {"seed": 1}),
    ("pool_softmax", "Pad+AveragePool, AveragePool with pads, ceil_mode Avg/MaxPool, GlobalAveragePool, Softmax",
     PoolSoftmax, (1, 3, 27, 27), 13, {"seed": 2}),
    ("pool_softmax_op11", "pool_softmax at opset 11", PoolSoftmax, (1, 3, 27, 27), 11, {"seed": 2}),
    ("pool_softmax_op9", "pool_softmax at opset 9", PoolSoftmax, (1, 3, 27, 27), 9, {"seed": 2}),
    ("softmax4d", "Softmax over channels (axis 1) of a 1x8x7x5 tensor", Softmax4D, (1, 6, 7, 5), 13, {"seed": 6}),
    ("softmax4d_op11", "softmax4d at opset 11 (Softmax coerces to 2-D there)", Softmax4D, (1, 6, 7, 5), 11, {"seed": 6}),
    ("residual", "residual blocks with Add: identity shortcut and 1x1 stride-2 projection shortcut",
     Residual, (1, 3, 16, 16), 14, {"seed": 3}),
    ("batch8", "small conv net, batch 8, flatten via Shape chain (no constant folding)", Batch8, (8, 3, 16, 16), 17,
     {"seed": 4, "folding": False}),
    ("odd_shapes", "odd sizes/widths, stride 2, dilation 2, depthwise, LeakyRelu, Sigmoid, ReLU6, Concat, LRN",
     OddShapes, (1, 3, 29, 23), 13, {"seed": 5}),
    ("odd_shapes_op9", "odd_shapes at opset 9 (Clip with attributes)", OddShapes, (1, 3, 29, 23), 9, {"seed": 5}),
    ("seq1d", "1-D conv net, batch 2: Conv1d+BN+ReLU, MaxPool1d, strided dilated Conv1d, padded AvgPool1d, Linear",
     Seq1D, (2, 4, 50), 13, {"seed": 7}),
]


def digest(top=HERE):
    """One hash of the golden files under top (for --check); also used by
    tests/train/gen_train_goldens.py."""
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(top)):
        dirs.sort()
        for f in sorted(files):
            if f.endswith((".onnx", ".pb", ".txt")):
                with open(os.path.join(root, f), "rb") as fh:
                    h.update(f.encode() + fh.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if regenerating changes any file")
    ap.add_argument("names", nargs="*", help="only these models")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    before = digest()
    for name, desc, build, shape, opset, kw in MODELS:
        if not args.names or name in args.names:
            gen(name, desc, build, shape, opset, **kw)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(HERE) for f in fs
                if f.endswith((".onnx", ".pb", ".txt")))
    print("total %d bytes" % total)
    assert total < MAX_TOTAL_BYTES, "tests/models is %d bytes" % total
    if args.check and digest() != before:
        sys.exit("regeneration changed the committed files")


if __name__ == "__main__":
    main()
