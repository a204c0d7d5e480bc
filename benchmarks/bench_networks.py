"""Network forward time: official PyTorch vs ppgan_face in Paddle dygraph, same weights, same input.

    python benchmarks/bench_networks.py [--threads 2] [--repeats 3] [--models gfpgan_v1.4,gpen_bfr_512]

Both networks are built at their public configuration with random weights (the official model's, converted
through the official checkpoint format), timed interleaved (official, ours, official, ours, ...) after one
warm-up each, so that load from other processes hits both alike; the median is reported. GMACs are counted
on the official model by torch's FLOP counter (multiply-accumulates = FLOPs / 2), and the output difference
is printed so a fast-but-wrong result cannot go unnoticed. Needs the test oracles (tests/install_oracles.sh).
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.builder import build_network  # noqa: E402  (first: it quiets Paddle's import warning)
import paddle  # noqa: E402
import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from ppgan_face.config import load_config  # noqa: E402
from ppgan_face.convert import load_official_into  # noqa: E402
from ppgan_face.runtime import set_cpu_threads  # noqa: E402
from tests.oracles import compare, official, save_official  # noqa: E402

GPEN = "modelscope.models.cv.image_portrait_enhancement.gpen"

# config name -> (official network factory, official forward, checkpoint key)
MODELS = {
    "gfpgan_v1.4": (lambda: official("gfpgan.archs.gfpganv1_clean_arch").GFPGANv1Clean(
        out_size=512, channel_multiplier=2, input_is_latent=True, different_w=True, sft_half=True),
        lambda net, x: net(x, return_rgb=False, randomize_noise=False)[0], "params_ema"),
    "gfpgan_v1": (lambda: official("gfpgan.archs.gfpganv1_arch").GFPGANv1(
        out_size=512, channel_multiplier=1, fix_decoder=True, input_is_latent=True, different_w=True,
        sft_half=True), lambda net, x: net(x, return_rgb=False, randomize_noise=False)[0], "params_ema"),
    "gpen_bfr_512": (lambda: official(GPEN).FullGenerator(512, 512, 8, channel_multiplier=2, narrow=1),
                     lambda net, x: net(x)[0], None),
}


def gmacs(net, forward, x):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        forward(net, x)
    return counter.get_total_flops() / 2e9


def bench(name, threads, repeats):
    factory, forward, key = MODELS[name]
    torch.manual_seed(0)
    theirs = factory().eval()
    with tempfile.TemporaryDirectory() as folder:
        path = save_official(theirs.state_dict(), Path(folder) / "official.pth", key=key)
        config = load_config(name)
        ours = load_official_into(build_network(config), path).eval()
    kwargs = config["restorer"]["forward_kwargs"]
    size = config["restorer"]["input_size"]
    x = np.random.RandomState(0).uniform(-1, 1, (1, 3, size, size)).astype("float32")
    x_pt, x_pd = torch.from_numpy(x), paddle.to_tensor(x)

    def run_theirs():
        with torch.no_grad():
            return forward(theirs, x_pt)

    def run_ours():
        with paddle.no_grad():
            out = ours(x_pd, **kwargs)
        return (out[0] if isinstance(out, (tuple, list)) else out).numpy()

    expected, actual = run_theirs(), run_ours()  # warm-up, and the parity check
    times = {"official": [], "ours": []}
    for _ in range(repeats):
        for who, fn in (("official", run_theirs), ("ours", run_ours)):
            start = time.perf_counter()
            fn()
            times[who].append(time.perf_counter() - start)
    max_abs, rel_l2 = compare(actual, expected)
    t_official, t_ours = statistics.median(times["official"]), statistics.median(times["ours"])
    macs = gmacs(theirs, forward, x_pt)
    return (f"| {name} {size} | {t_official:.2f} | {t_ours:.2f} | {t_ours / t_official:.2f} | {macs:.1f} | "
            f"{macs / t_official:.0f} / {macs / t_ours:.0f} | {max_abs:.1e} / {rel_l2:.1e} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="gfpgan_v1.4,gpen_bfr_512")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_cpu_threads(args.threads)
    print(f"batch 1, {args.threads} threads, torch {torch.__version__}, paddle {paddle.__version__}, "
          f"median of {args.repeats}")
    print("| network | official s | Paddle dygraph s | ratio | GMACs | GMAC/s official / ours | "
          "max abs / rel L2 |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        print(bench(name, args.threads, args.repeats), flush=True)


if __name__ == "__main__":
    main()
