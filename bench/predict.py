#!/usr/bin/python3
"""bench/predict.py: the cost model against the simulator, layer by layer.

Compiles MODEL with --dump-ir (the predicted cycles of every layer) and -o,
runs the program on the simulator (checking its output when --expect is
given), and prints per region the measured and predicted cycles, their
ratio, and how many layers are within 3% (the target of the issue "the
emitted order is the schedule").

    /usr/bin/python3 bench/predict.py MODEL.onnx [-i INPUT.pb] [--expect OUTPUT.pb]
                                      [--build DIR] [--threads N]

ResNet-50: /usr/bin/python3 bench/export_vgg16.py --model resnet50, then
    /usr/bin/python3 bench/predict.py bench/models/resnet50.onnx \\
        -i bench/models/resnet50_input_0.pb --expect bench/models/resnet50_output_0.pb
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from vgg16 import OUT, parse_dump, sh, timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("-i", dest="input")
    ap.add_argument("--expect")
    ap.add_argument("--rtol", default="1e-3", help="of --expect (default 1e-3: deep nets differ from PyTorch "
                    "by float32 summation order)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    m7cc = os.path.join(args.build, "driver", "m7cc")
    os.makedirs(OUT, exist_ok=True)
    exe = os.path.join(OUT, os.path.splitext(os.path.basename(args.model))[0])
    dump = sh([m7cc, args.model, "--dump-ir"], capture_output=True, text=True).stdout
    layers = parse_dump(dump)
    compile_s, compile_mb = timed([m7cc, args.model, "-o", exe])
    run = [exe, "--json", exe + ".json", "--quiet", "--threads", str(args.threads)]
    run += ["-i", args.input] if args.input else []
    run += ["--expect", args.expect, "--rtol", args.rtol] if args.expect else []
    run_s, _ = timed(run, stdout=open(os.devnull, "w"))
    with open(exe + ".json") as f:
        rep = json.load(f)
    print(f"host: {os.cpu_count()} cores; command: /usr/bin/python3 "
          f"bench/predict.py {' '.join(sys.argv[1:])}")
    print(f"{'layer':<44} {'op':<12} {'cycles':>10} {'predicted':>10} {'pred/meas':>9}")
    within, total, worst = 0, 0, (1.0, "")
    for r in rep["regions"]:
        info = layers.get(r["name"])
        pred = info["pred"] if info else None
        ratio = pred / r["cycles"] if pred and r["cycles"] else None
        print(f"{r['name'][-44:]:<44} {(info['op'] if info else '-'):<12} {r['cycles']:10d} "
              f"{pred if pred else '-':>10} {f'{ratio:.3f}' if ratio else '-':>9}")
        if ratio:
            total += 1
            within += abs(ratio - 1) <= 0.03
            if abs(ratio - 1) > abs(worst[0] - 1):
                worst = (ratio, r["name"])
    print(f"\n{within} of {total} layers predicted within 3%; the worst {worst[0]:.3f} ({worst[1]})")
    print(f"whole program: {rep['cycles']} cycles; host: m7cc {compile_s:.1f} s, {compile_mb:.0f} MB; "
          f"simulation {run_s:.1f} s{f'; output matches (rtol {args.rtol})' if args.expect else ''}")


if __name__ == "__main__":
    sys.exit(main())
