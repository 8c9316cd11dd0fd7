"""A small ONNX evaluator in NumPy (float64), written from the ONNX operator
spec, for the ops the reference models use.  It is the second, independent
reference for the goldens when onnxruntime is not installed: the goldens are
PyTorch's results, and this checks that the exported graph means the same
thing under ONNX semantics (the semantics m7cc implements), e.g. for
AveragePool ceil_mode, the Pad/Clip/Softmax forms of older opsets, or LRN.
Unknown ops and unsupported attribute values raise, never guess.
"""
import numpy as np
import onnx
import onnx.numpy_helper
from onnx import helper


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def run(model, feeds):
    """Returns {output name: array} for the graph outputs."""
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    env = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    env.update({k: np.asarray(v, dtype=np.float64) for k, v in feeds.items()})
    for n in model.graph.node:
        fn = OPS.get(n.op_type)
        if fn is None:
            raise NotImplementedError("onnx_ref: op %s" % n.op_type)
        ins = [env[i] if i else None for i in n.input]
        outs = fn(ins, attrs(n), opset)
        if not isinstance(outs, tuple):
            outs = (outs,)
        for name, v in zip(n.output, outs):
            if name:
                env[name] = v
    return {o.name: env[o.name] for o in model.graph.output}


def f64(x):
    return x.astype(np.float64) if x.dtype.kind == "f" else x


# ---------------------------------------------------------------- windows

def out_size(size, k, s, pb, pe, d, ceil):
    eff = d * (k - 1) + 1
    num = size + pb + pe - eff
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= size + pb:   # last window must start inside
        o -= 1
    return o


def windows(x, kernel, strides, pads, dil, ceil, fill):
    """Yields (ky, kx, slice) for every kernel offset: slice is
    x[n, c, oy*sy + ky*dy - pt, ox*sx + kx*dx - pl] over all outputs, with
    `fill` outside the input."""
    H, W = x.shape[2:]
    (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dil
    pt, pl, pb, pr = pads
    oh = out_size(H, kh, sh, pt, pb, dh, ceil)
    ow = out_size(W, kw, sw, pl, pr, dw, ceil)
    eb = max(0, (oh - 1) * sh + dh * (kh - 1) + 1 - H - pt)
    er = max(0, (ow - 1) * sw + dw * (kw - 1) + 1 - W - pl)
    xp = np.pad(x, ((0, 0), (0, 0), (pt, eb), (pl, er)), constant_values=fill)
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            yield ky, kx, xp[:, :, y0:y0 + sh * (oh - 1) + 1:sh, x0:x0 + sw * (ow - 1) + 1:sw]


def spatial(a, x, kshape):
    k = list(a.get("kernel_shape", kshape))
    if len(k) != 2 or x.ndim != 4:
        raise NotImplementedError("onnx_ref: only 2-D windows")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("onnx_ref: auto_pad")
    return (k, list(a.get("strides", [1, 1])), list(a.get("pads", [0, 0, 0, 0])),
            list(a.get("dilations", [1, 1])))


def conv(i, a, _):
    x, w = f64(i[0]), f64(i[1])
    k, s, p, d = spatial(a, x, w.shape[2:])
    g = a.get("group", 1)
    N, C = x.shape[:2]
    M = w.shape[0]
    cg, mg = C // g, M // g
    y = None
    for ky, kx, win in windows(x, k, s, p, d, False, 0.0):
        # win: N, C, OH, OW -> per group contraction with w[:, :, ky, kx]
        wv = win.reshape(N, g, cg, *win.shape[2:])
        wk = w[:, :, ky, kx].reshape(g, mg, cg)
        t = np.einsum("ngchw,gmc->ngmhw", wv, wk).reshape(N, M, *win.shape[2:])
        y = t if y is None else y + t
    if len(i) > 2 and i[2] is not None:
        y = y + f64(i[2]).reshape(1, -1, 1, 1)
    return y


def as_2d(fn):
    """A 1-D conv or pool ([N, C, L]) is the 2-D one over [N, C, 1, L] with a
    window 1 high: the ONNX spec treats every spatial axis alike."""
    def run(i, a, opset):
        if i[0].ndim != 3:
            return fn(i, a, opset)
        a = dict(a)
        for key in ("kernel_shape", "strides", "dilations"):
            if key in a:
                a[key] = [1] + list(a[key])
        if "pads" in a:
            a["pads"] = [0, a["pads"][0], 0, a["pads"][1]]
        i = [v[:, :, None, :] if v is not None and v.ndim == 3 else v for v in i]
        return fn(i, a, opset)[:, :, 0, :]
    return run


def maxpool(i, a, _):
    x = f64(i[0])
    k, s, p, d = spatial(a, x, None)
    y = None
    for _, _, win in windows(x, k, s, p, d, a.get("ceil_mode", 0), -np.inf):
        y = win.copy() if y is None else np.maximum(y, win)
    return y


def avgpool(i, a, _):
    x = f64(i[0])
    k, s, p, d = spatial(a, x, None)
    ceil = a.get("ceil_mode", 0)
    # count_include_pad=1 counts the pads (not the ceil_mode overhang beyond
    # them): pad first, then pool without pads.  (This shifts the "last
    # window starts inside" ceil rule by the end pad; no model here hits it.)
    inside = np.ones((1, 1) + x.shape[2:])
    if a.get("count_include_pad", 0):
        inside = np.pad(inside, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=1.0)
        p = [0, 0, 0, 0]
        x = np.pad(x, ((0, 0), (0, 0), (a["pads"][0], a["pads"][2]), (a["pads"][1], a["pads"][3])))
    tot = cnt = None
    for (_, _, wx), (_, _, wm) in zip(windows(x, k, s, p, d, ceil, 0.0), windows(inside, k, s, p, d, ceil, 0.0)):
        tot = wx.copy() if tot is None else tot + wx
        cnt = wm.copy() if cnt is None else cnt + wm
    return tot / cnt


def pad(i, a, opset):
    x = f64(i[0])
    if opset < 11:
        pads, value = a["pads"], a.get("value", 0.0)
    else:
        pads = list(i[1])
        value = i[2].item() if len(i) > 2 and i[2] is not None else 0.0
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode not in ("constant", "reflect", "edge"):
        raise NotImplementedError("onnx_ref: Pad mode %s" % mode)
    r = x.ndim
    if min(pads) < 0:
        raise NotImplementedError("onnx_ref: negative pads")
    widths = [(pads[j], pads[j + r]) for j in range(r)]
    if mode != "constant":
        return np.pad(x, widths, mode=mode)
    return np.pad(x, widths, constant_values=value)


def gemm(i, a, _):
    A, B = f64(i[0]), f64(i[1])
    A = A.T if a.get("transA", 0) else A
    B = B.T if a.get("transB", 0) else B
    y = a.get("alpha", 1.0) * (A @ B)
    if len(i) > 2 and i[2] is not None:
        y = y + a.get("beta", 1.0) * f64(i[2])
    return y


def clip(i, a, opset):
    if opset < 11:
        lo, hi = a.get("min", -np.inf), a.get("max", np.inf)
    else:
        lo = i[1].item() if len(i) > 1 and i[1] is not None else -np.inf
        hi = i[2].item() if len(i) > 2 and i[2] is not None else np.inf
    return np.clip(f64(i[0]), lo, hi)


def softmax(i, a, opset):
    x = f64(i[0])
    ax = a.get("axis", 1 if opset < 13 else -1) % x.ndim
    if opset < 13:    # coerce to 2-D [prod(dims[:axis]), prod(dims[axis:])]
        x2 = x.reshape(int(np.prod(x.shape[:ax])), -1)
        e = np.exp(x2 - x2.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).reshape(x.shape)
    e = np.exp(x - x.max(axis=ax, keepdims=True))
    return e / e.sum(axis=ax, keepdims=True)


def batchnorm(i, a, _):
    if a.get("training_mode", 0):
        raise NotImplementedError("onnx_ref: training-mode BatchNormalization")
    x, sc, b, m, v = (f64(t) for t in i)
    sh = (1, -1) + (1,) * (x.ndim - 2)
    return (x - m.reshape(sh)) / np.sqrt(v.reshape(sh) + a.get("epsilon", 1e-5)) * sc.reshape(sh) + b.reshape(sh)


def dropout(i, a, opset):
    # opset 7-11: always inference; opset 12+: the optional training_mode input
    if opset >= 12 and len(i) > 2 and i[2] is not None and bool(i[2]):
        raise NotImplementedError("onnx_ref: training-mode Dropout")
    return i[0], np.ones(i[0].shape, dtype=bool)


def lrn(i, a, _):
    x = f64(i[0])
    n = a["size"]
    lo, hi = (n - 1) // 2, -(-(n - 1) // 2)           # floor / ceil of (size-1)/2
    sq = np.pad(x * x, ((0, 0), (lo, hi), (0, 0), (0, 0)))
    C = x.shape[1]
    s = sum(sq[:, j:j + C] for j in range(n))
    return x / (a.get("bias", 1.0) + a.get("alpha", 1e-4) / n * s) ** a.get("beta", 0.75)


def reshape(i, a, _):
    x, shape = i[0], [int(v) for v in i[1]]
    shape = [x.shape[j] if v == 0 and not a.get("allowzero", 0) else v for j, v in enumerate(shape)]
    return x.reshape(shape)


def unsqueeze(i, a, opset):
    axes = a["axes"] if opset < 13 else [int(v) for v in i[1]]
    r = i[0].ndim + len(axes)
    y = i[0]
    for ax in sorted(v % r for v in axes):
        y = np.expand_dims(y, ax)
    return y


def flatten(i, a, _):
    x = i[0]
    ax = a.get("axis", 1)
    ax = ax + x.ndim if ax < 0 else ax
    return x.reshape(int(np.prod(x.shape[:ax])), -1)


def constant(i, a, _):
    if "value" not in a:
        raise NotImplementedError("onnx_ref: Constant without a tensor value")
    return onnx.numpy_helper.to_array(a["value"])


OPS = {
    "Conv": as_2d(conv),
    "MaxPool": as_2d(maxpool),
    "AveragePool": as_2d(avgpool),
    "GlobalAveragePool": lambda i, a, o: f64(i[0]).mean(axis=(2, 3), keepdims=True),
    "Pad": pad,
    "Gemm": gemm,
    "Relu": lambda i, a, o: np.maximum(f64(i[0]), 0.0),
    "LeakyRelu": lambda i, a, o: np.where(i[0] >= 0, f64(i[0]), a.get("alpha", 0.01) * f64(i[0])),
    "Sigmoid": lambda i, a, o: 1.0 / (1.0 + np.exp(-f64(i[0]))),
    "Tanh": lambda i, a, o: np.tanh(f64(i[0])),
    "Clip": clip,
    "Add": lambda i, a, o: f64(i[0]) + f64(i[1]),
    "Concat": lambda i, a, o: np.concatenate(i, axis=a["axis"]),
    "Flatten": flatten,
    "Reshape": reshape,
    "Unsqueeze": unsqueeze,
    "Transpose": lambda i, a, o: np.transpose(i[0], a.get("perm")),
    "Softmax": softmax,
    "BatchNormalization": batchnorm,
    "Dropout": dropout,
    "LRN": lrn,
    "Constant": constant,
    "Identity": lambda i, a, o: i[0],
}
