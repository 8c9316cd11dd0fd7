#!/usr/bin/python3
"""Writes the golden files of tests/eval/test_eval.c: for each case, inputs
(random, fixed seed, float32) and the expected output computed by PyTorch
(torch.nn.functional) in float64 and rounded once to float32.  golden/cases.txt
lists the cases, one a line:  NAME OP N_IN key=value ...  (the attributes the
C test puts on the IR layer; lists are comma-separated).  Files:
golden/NAME.inK.pb and golden/NAME.out.pb.  CI does not run this; rerun it
with /usr/bin/python3 (torch, onnx) after changing a case."""
import os
import numpy as np
import torch
import torch.nn.functional as F
from onnx import numpy_helper

torch.manual_seed(7)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
os.makedirs(out, exist_ok=True)
manifest = []


def rnd(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).float()


def save(name, op, ins, y, **attrs):
    for k, t in enumerate(ins):
        a = t.detach().float().numpy()
        with open(os.path.join(out, f"{name}.in{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, f"in{k}").SerializeToString())
    with open(os.path.join(out, f"{name}.out.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y.detach().float().numpy(), "out").SerializeToString())
    kv = " ".join(f"{k}={','.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                  for k, v in attrs.items())
    manifest.append(f"{name} {op} {len(ins)} {kv}".strip())


def d(*ts):  # compute in float64
    return [t.double() for t in ts]


def act(y, a):
    if a is None:
        return y
    if a == "relu":
        return F.relu(y)
    if a.startswith("leaky:"):
        return F.leaky_relu(y, float(a[6:]))
    if a.startswith("clip:"):
        lo, hi = map(float, a[5:].split(":"))
        return y.clamp(lo, hi)
    if a == "sigmoid":
        return torch.sigmoid(y)


# ---- Conv: pads are top,left,bottom,right (applied with F.pad: left,right,top,bottom)
def conv(name, x, w, b, stride=(1, 1), pad=(0, 0, 0, 0), dil=(1, 1), group=1, a=None):
    xd, wd = d(x, w)
    xp = F.pad(xd, (pad[1], pad[3], pad[0], pad[2]))
    y = F.conv2d(xp, wd, b.double() if b is not None else None, stride, 0, dil, group)
    ins = [x, w] + ([b] if b is not None else [])
    kw = dict(stride=stride, pad=pad, dil=dil, group=group)
    if a:
        kw["act"] = a
    save(name, "conv", ins, act(y, a), **kw)


conv("conv_basic", rnd(1, 3, 7, 7), rnd(4, 3, 3, 3), rnd(4), pad=(1, 1, 1, 1))
conv("conv_s2_asym", rnd(2, 5, 9, 8), rnd(6, 5, 3, 2), rnd(6), stride=(2, 1), pad=(1, 0, 2, 1))
conv("conv_dil", rnd(1, 4, 11, 10), rnd(5, 4, 3, 3), None, dil=(2, 3), pad=(2, 2, 2, 2))
conv("conv_group", rnd(1, 6, 7, 7), rnd(9, 2, 3, 3), rnd(9), stride=(2, 2), pad=(1, 1, 1, 1), group=3)
conv("conv_dw_relu", rnd(1, 13, 7, 7), rnd(13, 1, 3, 3), rnd(13), pad=(1, 1, 1, 1), group=13, a="relu")
conv("conv_1x1_leaky", rnd(1, 13, 5, 6), rnd(7, 13, 1, 1), rnd(7), a="leaky:0.1")
conv("conv_5x5_clip", rnd(1, 16, 13, 13), rnd(32, 16, 5, 5, scale=0.1), rnd(32), stride=(2, 2),
     pad=(2, 2, 2, 2), a="clip:-0.5:0.5")


# ---- Pooling
def pool(name, op, x, k, stride, pad=(0, 0, 0, 0), ceil=0, cip=0, dil=(1, 1)):
    xd = x.double()
    if op == "maxpool":
        if pad[0] == pad[2] and pad[1] == pad[3]:
            y = F.max_pool2d(xd, k, stride, (pad[0], pad[1]), dil, bool(ceil))
        else:  # asymmetric: pad with -inf by hand
            y = F.max_pool2d(F.pad(xd, (pad[1], pad[3], pad[0], pad[2]), value=-np.inf), k,
                             stride, 0, dil, bool(ceil))
    else:
        y = F.avg_pool2d(xd, k, stride, (pad[0], pad[1]), bool(ceil), bool(cip))
    save(name, op, [x], y, kernel=k, stride=stride, pad=pad, ceil=ceil, cip=cip, dil=dil)


pool("mp_basic", "maxpool", rnd(1, 3, 8, 8), (2, 2), (2, 2))
pool("mp_ceil", "maxpool", rnd(1, 2, 8, 8), (3, 3), (2, 2), ceil=1)
pool("mp_ceil_drop", "maxpool", rnd(1, 3, 5, 5), (2, 2), (2, 2), pad=(1, 1, 1, 1), ceil=1)
pool("mp_dil", "maxpool", rnd(1, 2, 9, 9), (3, 3), (1, 1), pad=(1, 1, 1, 1), dil=(2, 2))
pool("mp_asym", "maxpool", rnd(1, 13, 7, 7), (3, 2), (2, 1), pad=(0, 1, 1, 0))
pool("mp_alexnet", "maxpool", rnd(1, 4, 13, 13), (3, 3), (2, 2), ceil=1)
pool("ap_cip", "avgpool", rnd(1, 3, 7, 7), (3, 3), (2, 2), pad=(1, 1, 1, 1), cip=1)
pool("ap_nocip", "avgpool", rnd(1, 3, 7, 7), (3, 3), (2, 2), pad=(1, 1, 1, 1), cip=0)
pool("ap_ceil_cip", "avgpool", rnd(1, 2, 6, 6), (3, 3), (2, 2), pad=(1, 1, 1, 1), ceil=1, cip=1)
pool("ap_ceil_nocip", "avgpool", rnd(1, 2, 6, 6), (3, 3), (2, 2), pad=(1, 1, 1, 1), ceil=1, cip=0)
pool("ap_ceil_drop", "avgpool", rnd(1, 3, 5, 5), (2, 2), (2, 2), pad=(1, 1, 1, 1), ceil=1, cip=1)
pool("ap_rect", "avgpool", rnd(2, 5, 9, 7), (2, 3), (1, 2))

x = rnd(1, 13, 7, 7)
save("gap", "global_avgpool", [x], x.double().mean((2, 3), keepdim=True))
x = rnd(2, 5, 3, 4)
save("gmp", "global_maxpool", [x], x.double().amax((2, 3), keepdim=True))

# ---- Matrix products
a, b, c = rnd(5, 3), rnd(4, 5), rnd(1, 4)
save("gemm_all", "gemm", [a, b, c], 0.5 * a.double().T @ b.double().T + 2.0 * c.double(),
     alpha=0.5, beta=2.0, ta=1, tb=1)
a, b, c = rnd(3, 5), rnd(5, 4), rnd(3, 4)
save("gemm_cmat", "gemm", [a, b, c], a.double() @ b.double() + c.double(), alpha=1.0, beta=1.0)
a, b, c = rnd(3, 5), rnd(5, 4), rnd(3, 1)
save("gemm_ccol_relu", "gemm", [a, b, c], F.relu(a.double() @ b.double() + 0.5 * c.double()),
     alpha=1.0, beta=0.5, act="relu")
a, b, c = rnd(3, 5), rnd(4, 5), rnd(4)
save("gemm_cvec_tb", "gemm", [a, b, c], a.double() @ b.double().T + c.double(), alpha=1.0,
     beta=1.0, tb=1)
a, b = rnd(3, 5), rnd(5, 4)
save("gemm_noc", "gemm", [a, b], 1.5 * a.double() @ b.double(), alpha=1.5, beta=1.0)
a, b = rnd(7, 13), rnd(13, 5)
save("matmul", "matmul", [a, b], a.double() @ b.double())
x, w, bb = rnd(2, 3, 2, 2), rnd(10, 12), rnd(10)
save("fc_relu", "fc", [x, w, bb], F.relu(F.linear(x.double().flatten(1), w.double(), bb.double())),
     act="relu")
x, w = rnd(3, 300), rnd(17, 300)
save("fc_nobias", "fc", [x, w], F.linear(x.double(), w.double()))

# ---- Normalisation
x, sc, bi, mu, var = rnd(2, 13, 5, 5), rnd(13), rnd(13), rnd(13), torch.rand(13) + 0.5
save("bn", "batchnorm", [x, sc, bi, mu, var],
     F.batch_norm(*d(x, mu, var), sc.double(), bi.double(), False, 0.0, 1e-3), eps=1e-3)
x = rnd(1, 13, 5, 5)
save("lrn5", "lrn", [x], F.local_response_norm(x.double(), 5, 0.1, 0.75, 2.0),
     size=5, alpha=0.1, beta=0.75, bias=2.0)
x = rnd(2, 7, 3, 4, scale=3.0)
save("lrn3", "lrn", [x], F.local_response_norm(x.double(), 3, 1e-2, 0.5, 1.0),
     size=3, alpha=0.01, beta=0.5, bias=1.0)

x = rnd(2, 13, scale=3.0)
save("sm_2d", "softmax", [x], F.softmax(x.double(), 1), axis=1, coerce=0)
x = rnd(2, 3, 4, 5, scale=3.0)
save("sm_axis1", "softmax", [x], F.softmax(x.double(), 1), axis=1, coerce=0)
save("sm_coerce1", "softmax", [x], F.softmax(x.double().reshape(2, 60), 1).reshape(2, 3, 4, 5),
     axis=1, coerce=1)
save("sm_axis3", "softmax", [x], F.softmax(x.double(), 3), axis=3, coerce=0)
save("sm_axis0", "softmax", [x], F.softmax(x.double(), 0), axis=0, coerce=0)

# ---- Element-wise
a, b = rnd(2, 3, 4, 5), rnd(2, 3, 4, 5)
save("add_same", "add", [a, b], a.double() + b.double())
a, b = rnd(2, 3, 4, 5), rnd(3, 1, 5)
save("add_bcast_relu", "add", [a, b], F.relu(a.double() + b.double()), act="relu")
a, b = rnd(1, 3, 1, 5), rnd(2, 1, 4, 1)
save("add_bcast2", "add", [a, b], a.double() + b.double())
a, b = rnd(2, 13, 4, 4), rnd(1, 13, 1, 1)
save("mul_chan", "mul", [a, b], a.double() * b.double())
a, b = rnd(3, 4), torch.tensor(1.75)
save("mul_scalar", "mul", [a, b], a.double() * b.double())

xs = [rnd(1, 2, 3, 3), rnd(1, 5, 3, 3), rnd(1, 1, 3, 3)]
save("concat_c", "concat", xs, torch.cat(d(*xs), 1), axis=1)
xs = [rnd(2, 3), rnd(2, 4)]
save("concat_neg", "concat", xs, torch.cat(d(*xs), 1), axis=-1)
xs = [rnd(2, 3), rnd(1, 3)]
save("concat_0", "concat", xs, torch.cat(d(*xs), 0), axis=0)

x = rnd(1, 3, 4, 5)
save("pad", "pad", [x], F.pad(x.double(), (2, 0, 1, 2), value=1.5),
     pads=(0, 0, 1, 2, 0, 0, 2, 0), value=1.5)
save("pad_crop", "pad", [x], F.pad(x.double(), (1, -2, -1, 0, 0, 1)),
     pads=(0, 0, -1, 1, 0, 1, 0, -2), value=0.0)

x = rnd(2, 13, 3, 3, scale=2.0)
save("relu", "relu", [x], F.relu(x.double()))
save("leaky", "leaky_relu", [x], F.leaky_relu(x.double(), 0.2), alpha=0.2)
save("clip", "clip", [x], x.double().clamp(-0.5, 0.7), lo=-0.5, hi=0.7)
save("sigmoid", "sigmoid", [x], torch.sigmoid(x.double()))
save("tanh", "tanh", [x], torch.tanh(x.double()))
save("transpose", "transpose", [x], x.double().permute(0, 3, 1, 2), perm=(0, 3, 1, 2))
save("reshape", "reshape", [x], x.double().reshape(26, 9), shape=(26, 9))
save("flatten", "flatten", [x], x.double().flatten(1), shape=(2, 117))

# ---- A chain of layers for ir_eval (graph built by hand in the test):
# conv 3x3 pad 1 + relu -> maxpool 2x2 s2 ceil -> fc -> softmax
x, w1, b1 = rnd(1, 3, 13, 13), rnd(8, 3, 3, 3), rnd(8)
w2, b2 = rnd(10, 8 * 7 * 7, scale=0.1), rnd(10)
h = F.relu(F.conv2d(*d(x, w1), b1.double(), padding=1))
h = F.max_pool2d(h, 2, 2, ceil_mode=True)
y = F.softmax(F.linear(h.flatten(1), w2.double(), b2.double()), 1)
save("chain", "chain", [x, w1, b1, w2, b2], y)

with open(os.path.join(out, "cases.txt"), "w") as f:
    f.write("\n".join(manifest) + "\n")
