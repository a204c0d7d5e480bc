"""Seconds per training iteration at 512x512, batch 1, on CPU: upstream's step in PyTorch vs ours in Paddle.

    python benchmarks/bench_train.py [--threads 2] [--repeats 2] [--models gfpgan,gpen]

GFPGAN: the official ``GFPGANModel.optimize_parameters`` (gfpgan 1.3.8; networks, optimisers and losses set up
as in tests/models/test_gfpgan_model.py) vs ``GFPGANModel.optimize_parameters`` of configs/train/
gfpgan_v1_ffhq512.yml: G step (pixel, pyramid, perceptual + style on VGG19, GAN, three component GANs + style,
ArcFace identity), EMA, D step, component D steps. GPEN: GPEN ``train_simple.py``'s loop body re-composed in
torch (tests/models/test_gpen_model.py) vs ``GPENModel`` of configs/train/gpen_512_ffhq.yml without the
identity loss on both sides (the re-composition has none). Random weights (upstream's, converted), iteration 3
(no R1 / path-length step in either). Timed interleaved after a warm-up each, median reported; other
processes on the machine slow both alike. Needs the test oracles (tests/install_oracles.sh).
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.builder import build_network  # noqa: E402,F401  (first: it quiets Paddle's import warning)
import torch  # noqa: E402

from ppgan_face.config import load_config  # noqa: E402
from ppgan_face.models import build_model  # noqa: E402
from ppgan_face.models.base_model import bare  # noqa: E402
from ppgan_face.runtime import set_cpu_threads  # noqa: E402
from tests.models import test_gfpgan_model, test_gpen_model  # noqa: E402
from tests.models.oracle_nets import port  # noqa: E402
from tests.oracles import official  # noqa: E402

ITERATION = 3
PARTS = ("left_eye", "right_eye", "mouth")


def _batch(size, components):
    rs = np.random.RandomState(0)
    data = {"lq": rs.uniform(-1, 1, (1, 3, size, size)).astype(np.float32),
            "gt": rs.uniform(-1, 1, (1, 3, size, size)).astype(np.float32)}
    for part, (cx, cy, half) in zip(PARTS, ((190.0, 240.0, 56.0), (320.0, 240.0, 56.0), (256.0, 370.0, 60.0))):
        if components:
            data[f"loc_{part}"] = np.array([[cx - half + 1, cy - half + 1, cx + half, cy + half]], np.float32)
    return data


def gfpgan(folder):
    config = load_config("configs/train/gfpgan_v1_ffhq512.yml", ["path.pretrain_decoder=null",
                                                                 "losses.identity.pretrained=null"])
    config["losses"]["perceptual"]["pretrained"] = str(Path(folder) / "vgg19.pth")
    test_gfpgan_model._official_vgg_perceptual(config["losses"]["perceptual"], Path(folder))
    ours = build_model(config)
    theirs, _ = test_gfpgan_model._official_model(config, ours, Path(folder))
    bare(ours.net_g).eval()  # stored decoder noise on both sides
    data = _batch(512, components=True)
    ours.feed_data(data)
    theirs.lq, theirs.gt = torch.from_numpy(data["lq"]), torch.from_numpy(data["gt"])
    theirs.loc_left_eyes, theirs.loc_right_eyes, theirs.loc_mouths = (
        torch.from_numpy(data[f"loc_{part}"]) for part in PARTS)
    return lambda: theirs.optimize_parameters(ITERATION), lambda: ours.optimize_parameters(ITERATION)


def gpen(folder):
    config = load_config("configs/train/gpen_512_ffhq.yml", ["losses.identity=null"])
    ours = build_model(config)
    m, d_opt, t, schedule = config["model"], config["network_d"], config["train"], config["loss_schedule"]
    module = official("modelscope.models.cv.image_portrait_enhancement.gpen")
    torch.manual_seed(0)
    make_g = lambda: module.FullGenerator(m["size"], m["style_dim"], m["n_mlp"],  # noqa: E731
                                          channel_multiplier=m["channel_multiplier"], narrow=m["narrow"])
    g = port(make_g(), bare(ours.net_g), Path(folder) / "g.pth")
    d = port(module.Discriminator(d_opt["size"], channel_multiplier=d_opt["channel_multiplier"],
                                                  narrow=d_opt["narrow"]), bare(ours.net_d), Path(folder) / "d.pth")
    g_ema = make_g()
    g_ema.load_state_dict(g.state_dict())
    g_ratio, d_ratio = (schedule[k] / (schedule[k] + 1) for k in ("g_reg_every", "d_reg_every"))
    g_optim = torch.optim.Adam(g.parameters(), lr=t["optim_g"]["lr"] * g_ratio, betas=(0 ** g_ratio, 0.99 ** g_ratio))
    d_optim = torch.optim.Adam(d.parameters(), lr=t["optim_d"]["lr"] * d_ratio, betas=(0 ** d_ratio, 0.99 ** d_ratio))
    data = _batch(512, components=False)
    ours.feed_data(data)
    lq, gt = torch.from_numpy(data["lq"]), torch.from_numpy(data["gt"])
    return (lambda: test_gpen_model._torch_iteration(g, d, g_ema, g_optim, d_optim, lq, gt, ITERATION - 1, None,
                                                     config),
            lambda: ours.optimize_parameters(ITERATION))


MODELS = {"gfpgan": ("GFPGAN v1 (full) 512", gfpgan), "gpen": ("GPEN-BFR-512 (no identity loss)", gpen)}


def bench(name, repeats):
    title, factory = MODELS[name]
    with tempfile.TemporaryDirectory() as folder:
        theirs, ours = factory(folder)
        theirs(), ours()  # warm-up
        times = {"official": [], "ours": []}
        for _ in range(repeats):
            for key, step in (("official", theirs), ("ours", ours)):
                start = time.perf_counter()
                step()
                times[key].append(time.perf_counter() - start)
    return title, statistics.median(times["official"]), statistics.median(times["ours"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--models", default="gfpgan,gpen")
    args = parser.parse_args()
    threads = set_cpu_threads(args.threads)
    torch.set_num_threads(threads)
    rows = [bench(name, args.repeats) for name in args.models.split(",")]
    print(f"| training iteration, batch 1, CPU {threads} threads | official PyTorch s/iter | ppgan_face Paddle "
          f"s/iter | ratio |")
    print("|---|---|---|---|")
    for title, theirs, ours in rows:
        print(f"| {title} | {theirs:.2f} | {ours:.2f} | {ours / theirs:.2f}x |")


if __name__ == "__main__":
    main()
