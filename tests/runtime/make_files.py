#!/usr/bin/python3
"""Writes the small tensor files tests/runtime/test_tensor_file.c reads, with
numpy and onnx (not with the code under test).  Values follow v[i] = i/4 - 1
so the C test can check them by formula.  Run: /usr/bin/python3 make_files.py"""
import os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
os.makedirs(out, exist_ok=True)

def vals(n, dt):
    return (np.arange(n) / 4.0 - 1.0).astype(dt) if dt == np.float32 else np.arange(n, dtype=dt) * 3 - 5

def save_npy(name, a, version=None):
    with open(os.path.join(out, name), "wb") as f:
        np.lib.format.write_array(f, a, version=version)

def save_pb(name, t):
    with open(os.path.join(out, name), "wb") as f:
        f.write(t.SerializeToString())

save_npy("f32_2x3x4.npy", vals(24, np.float32).reshape(2, 3, 4))
save_npy("i64_5.npy", vals(5, np.int64))
save_npy("scalar.npy", np.array(2.5, dtype=np.float32))
save_npy("v2_f32_3x2.npy", vals(6, np.float32).reshape(3, 2), version=(2, 0))
save_npy("bad_f64.npy", vals(4, np.float64))
save_npy("bad_bigendian.npy", vals(4, np.float32).astype(">f4"))
save_npy("bad_fortran.npy", np.asfortranarray(vals(6, np.float32).reshape(2, 3)))

# TensorProto with typed (packed) fields instead of raw_data.
save_pb("typed_f32_2x3.pb", helper.make_tensor("typed", TensorProto.FLOAT, [2, 3], vals(6, np.float32)))
save_pb("typed_i64_4.pb", helper.make_tensor("ti", TensorProto.INT64, [4], vals(4, np.int64)))
save_pb("raw_f32_3x1x2.pb", numpy_helper.from_array(vals(6, np.float32).reshape(3, 1, 2), "raw"))
save_pb("bad_double.pb", helper.make_tensor("d", TensorProto.DOUBLE, [2], [1.0, 2.0]))
ext = numpy_helper.from_array(vals(2, np.float32), "ext")
ext.ClearField("raw_data")
ext.data_location = TensorProto.EXTERNAL
e = ext.external_data.add(); e.key = "location"; e.value = "weights.bin"
save_pb("bad_external.pb", ext)
