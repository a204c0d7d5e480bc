"""Restorer speed against the official PyTorch code, same random weights, batch 1, measured in one run.

    python benchmarks/bench_infer.py                      # GFPGANv1Clean-512 and GPEN-512, 2 threads
    python benchmarks/bench_infer.py --models gpen_bfr_512 --repeats 7

For each model the official network is built at its public size (official init), saved as the official
checkpoint, exported with tools' exporter (Paddle Inference + ONNX) and loaded into Paddle dygraph. Then each
round times one forward of every engine in turn (official first), so load from other processes hits all
engines alike; the table gives medians, ratios to the official time, GMACs (torch's FLOP counter on the official model) and
how far bf16 is from fp32 (PSNR of the 8-bit images the pipeline writes, and relative L2 of the raw output).
Needs the official packages of tests/install_oracles.sh (torch, gfpgan, modelscope).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GPEN = "modelscope.models.cv.image_portrait_enhancement.gpen"
# config -> (official module, class, constructor kwargs, checkpoint key) at the public size
OFFICIAL = {
    "gfpgan_v1.4": ("gfpgan.archs.gfpganv1_clean_arch", "GFPGANv1Clean",
                    dict(out_size=512, num_style_feat=512, channel_multiplier=2, decoder_load_path=None,
                         fix_decoder=False, num_mlp=8, input_is_latent=True, different_w=True, narrow=1,
                         sft_half=True), "params_ema", dict(return_rgb=False, randomize_noise=False)),
    "gpen_bfr_512": (GPEN, "FullGenerator", dict(size=512, style_dim=512, n_mlp=8, channel_multiplier=2, narrow=1),
                     None, {}),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(OFFICIAL), choices=list(OFFICIAL))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (after one warm-up round)")
    parser.add_argument("--work_dir", help="keep exports here (default: a temporary folder)")
    return parser.parse_args()


def count_gmacs(module, x, call):
    """GMACs of one official forward (torch's FLOP counter: convolutions and matrix products; FLOPs / 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(torch.from_numpy(x), **call)
    return counter.get_total_flops() / 2e9


def to_uint8(y):
    """The pipeline's output image: clip to [-1, 1], map to [0, 255], round."""
    import numpy as np

    return np.round((np.clip(y, -1, 1) + 1) / 2 * 255)


def psnr(a, b):
    import numpy as np

    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def bench_model(name, args, work):
    import numpy as np
    import paddle
    import torch

    from ppgan_face.builder import create_model
    from ppgan_face.config import load_config
    from ppgan_face.inference import DygraphRunner, OnnxRunner, PaddleInferenceRunner
    from ppgan_face.inference.export import export_model
    from tests.oracles import official, save_official

    module, cls, kwargs, key, call = OFFICIAL[name]
    size = load_config(name)["restorer"]["input_size"]
    torch.manual_seed(0)
    theirs = getattr(official(module), cls)(**kwargs).eval()
    pth = save_official(theirs.state_dict(), str(work / f"{name}.pth"), key=key)
    export_dir = work / name
    if not (export_dir / "infer_cfg.yml").is_file():
        export_model(name, export_dir, weights=pth, onnx=True)
    ours = create_model(name, weights=pth)

    def official_run(x):
        with torch.no_grad():
            out = theirs(torch.from_numpy(x), **call)
        return (out[0] if isinstance(out, (tuple, list)) else out).numpy()

    engines = {
        "official PyTorch": official_run,
        "Paddle dygraph": DygraphRunner(ours),
        "Paddle Inference fp32 (oneDNN)": PaddleInferenceRunner(export_dir, cpu_threads=args.threads),
        "Paddle Inference bf16 (oneDNN)": PaddleInferenceRunner(export_dir, cpu_threads=args.threads,
                                                                precision="bf16"),
        "ONNX Runtime fp32": OnnxRunner(export_dir / "model.onnx", threads=args.threads),
    }
    x = np.random.RandomState(0).uniform(-1, 1, (1, 3, size, size)).astype(np.float32)
    times = {engine: [] for engine in engines}
    outputs = {}
    for round_ in range(args.repeats + 1):  # round 0 warms up (oneDNN primitive creation, allocations)
        for engine, run in engines.items():
            start = time.perf_counter()
            outputs[engine] = run(x)
            if round_:
                times[engine].append(time.perf_counter() - start)
        print(f"  {name} round {round_}: " + ", ".join(f"{e.split(' (')[0]} {t[-1]:.2f}s" for e, t in times.items()
                                                       if t), file=sys.stderr)
    ref = outputs["official PyTorch"]
    fp32, bf16 = outputs["Paddle Inference fp32 (oneDNN)"], outputs["Paddle Inference bf16 (oneDNN)"]
    rows = []
    official_time = statistics.median(times["official PyTorch"])
    for engine, values in times.items():
        median = statistics.median(values)
        rel = float(np.linalg.norm(outputs[engine] - ref) / np.linalg.norm(ref))
        rows.append((engine, median, median / official_time, rel))
    gmacs = count_gmacs(theirs, x, call)
    quality = dict(psnr=psnr(to_uint8(bf16), to_uint8(fp32)),
                   rel=float(np.linalg.norm(bf16 - fp32) / np.linalg.norm(fp32)),
                   bf16_vs_fp32=statistics.median(times["Paddle Inference bf16 (oneDNN)"])
                   / statistics.median(times["Paddle Inference fp32 (oneDNN)"]),
                   out_range=(float(ref.min()), float(ref.max())))
    return rows, gmacs, quality


def main():
    args = parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # Paddle dygraph's CPU threads
    import paddle
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="bench_infer-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"threads {args.threads}, {args.repeats} rounds (median), batch 1, random init (official), "
          f"paddle {paddle.__version__}, torch {torch.__version__}")
    for name in args.models:
        rows, gmacs, q = bench_model(name, args, work)
        print(f"\n### {name} (1x3x512x512, {gmacs:.1f} GMACs; official output range "
              f"[{q['out_range'][0]:.3g}, {q['out_range'][1]:.3g}])\n")
        print("| engine | median s | × official | GMAC/s | rel L2 vs official |")
        print("|---|---|---|---|---|")
        for engine, median, ratio, rel in rows:
            print(f"| {engine} | {median:.2f} | {ratio:.2f} | {gmacs / median:.0f} | {rel:.2e} |")
        print(f"\nbf16 / fp32 time: {q['bf16_vs_fp32']:.2f}; bf16 vs fp32: PSNR {q['psnr']:.1f} dB (8-bit images), "
              f"rel L2 {q['rel']:.2e} (raw output)")


if __name__ == "__main__":
    main()
