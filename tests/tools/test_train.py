"""tools/train.py on lite configs and a tiny synthetic face set: losses go down, killing and resuming continues
the same loss curve, the exported EMA generator loads with create_model, bad input fails in one line."""
import json
import os
import subprocess
import sys

import numpy as np
import paddle
import pytest
import torch

from ppgan_face import create_model
from tests.models.synthetic import data_overrides, make_dataset
from tools import train

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GFPGAN_SIMPLE = "configs/train/gfpgan_v1_simple_lite.yml"
GFPGAN_FULL = "configs/train/gfpgan_v1_lite.yml"
GPEN = "configs/train/gpen_512_lite.yml"


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("tiny"), size=32)


def run(config, out, faces, *overrides, resume=None, components=False):
    argv = ["-c", os.path.join(ROOT, config), "--output_dir", str(out), "--threads", "2"]
    for item in data_overrides(faces, components) + list(overrides):
        argv += ["-o", item]
    if resume is not None:
        argv += ["--resume"] + ([] if resume is True else [str(resume)])
    return train.main(argv)


def losses(out):
    """{iteration: losses} from losses.jsonl (a resumed run's later lines win)."""
    rows = {}
    for line in (out / "losses.jsonl").read_text().splitlines():
        row = json.loads(line)
        rows[row.pop("iter")] = row
    return rows


@pytest.mark.parametrize("config, key", [(GFPGAN_SIMPLE, "l_g_pix"), (GPEN, "l_g_pix")])
def test_lite_training_lowers_the_pixel_loss(config, key, faces, tmp_path):
    iters = 40
    assert run(config, tmp_path, faces, f"train.total_iter={iters}", f"val.val_freq={iters}",
               "logger.save_checkpoint_freq=20") == 0
    curve = np.array([losses(tmp_path)[i][key] for i in range(1, iters + 1)])
    early, late = curve[:10].mean(), curve[-10:].mean()
    print(f"{config}: mean {key} of iterations 1-10 {early:.4f}, of {iters - 9}-{iters} {late:.4f}")
    assert late < 0.6 * early
    # the last two checkpoints are kept, each with its EMA export, which create_model loads
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "iter_00000020.pdparams", "iter_00000040.pdparams"]
    assert (tmp_path / "visualization" / f"{iters:08d}.png").is_file()
    assert "validation @ 40: psnr" in (tmp_path / "train.log").read_text()
    restorer = create_model(str(tmp_path / "config.yml"), weights=tmp_path / "models" / "net_g_ema_00000040.pdparams")
    out = restorer(paddle.zeros([1, 3, 32, 32]))
    assert out.shape == [1, 3, 32, 32] and np.isfinite(out.numpy()).all()
    # the fixed-name copy of the last EMA generator (TIPC's train_model_name) holds the same weights
    latest = paddle.load(str(tmp_path / "models" / "net_g_ema_latest.pdparams"))
    final = paddle.load(str(tmp_path / "models" / "net_g_ema_00000040.pdparams"))
    assert latest.keys() == final.keys() and all(np.array_equal(latest[k].numpy(), final[k].numpy()) for k in final)


@pytest.mark.parametrize("config", [GFPGAN_SIMPLE, GPEN])
def test_killed_and_resumed_training_continues_the_same_loss_curve(config, faces, tmp_path):
    """Uninterrupted: 8 iterations. Interrupted: killed after iteration 6 whose checkpoint never got written
    (the work since the checkpoint at 4 is lost), resumed from the latest: iterations 5-8 must be the same."""
    common = ("logger.save_checkpoint_freq=4", "val.val_freq=0")
    assert run(config, tmp_path / "straight", faces, "train.total_iter=8", *common) == 0
    assert run(config, tmp_path / "killed", faces, "train.total_iter=6", *common) == 0
    (tmp_path / "killed" / "checkpoints" / "iter_00000006.pdparams").unlink()
    assert run(config, tmp_path / "killed", faces, "train.total_iter=8", *common, resume=True) == 0
    straight, resumed = losses(tmp_path / "straight"), losses(tmp_path / "killed")
    for it in range(5, 9):
        for name, value in straight[it].items():
            assert resumed[it][name] == pytest.approx(value, rel=1e-6, abs=1e-9), (it, name)
    assert "resumed from" in (tmp_path / "killed" / "train.log").read_text()
    a = paddle.load(str(tmp_path / "straight" / "models" / "net_g_ema_00000008.pdparams"))
    b = paddle.load(str(tmp_path / "killed" / "models" / "net_g_ema_00000008.pdparams"))
    assert all(np.allclose(a[k].numpy(), b[k].numpy(), rtol=1e-6, atol=1e-8) for k in a)


def test_full_gfpgan_lite_trains_with_components_and_identity(faces, tmp_path):
    assert run(GFPGAN_FULL, tmp_path, faces, "train.total_iter=2", "val.val_freq=0", components=True) == 0
    last = losses(tmp_path)[2]
    for name in ("l_g_gan_left_eye", "l_g_comp_style_loss", "l_identity", "l_d_mouth", "l_g_percep"):
        assert np.isfinite(last[name]), name


def test_amp_bfloat16_on_cpu(faces, tmp_path):
    assert run(GPEN, tmp_path, faces, "train.total_iter=2", "val.val_freq=0", "amp.enable=true",
               "amp.dtype=bfloat16") == 0
    assert all(np.isfinite(v) for row in losses(tmp_path).values() for v in row.values())


def _bad_landmarks(faces, tmp_path):
    path = tmp_path / "landmarks.pth"
    full = torch.load(faces / "landmarks.pth", weights_only=False)
    torch.save({k: v for k, v in full.items() if k != "00000003"}, path)
    return path


@pytest.mark.parametrize("case, message", [
    ("missing folder", "dataroot_gt folder not found"),
    ("unreadable image", "not an image file"),
    ("landmark mismatch", "no landmarks for 1 of the 8 images"),
    ("override typo", "did you mean train.total_iter"),
    ("missing pretrained", "losses.perceptual.pretrained: pretrained file"),
])
def test_bad_input_fails_before_training_in_one_line(case, message, faces, tmp_path, capsys):
    overrides, components = [], False
    if case == "missing folder":
        overrides.append(f"datasets.train.dataset.dataroot_gt={tmp_path / 'nowhere'}")
    elif case == "unreadable image":
        bad = tmp_path / "hq"
        bad.mkdir()
        for image in (faces / "hq").iterdir():
            (bad / image.name).write_bytes(image.read_bytes())
        (bad / "00009.png").write_bytes(b"not really a png")
        overrides.append(f"datasets.train.dataset.dataroot_gt={bad}")
    elif case == "landmark mismatch":
        components = True
        overrides.append(f"datasets.train.dataset.component_path={_bad_landmarks(faces, tmp_path)}")
    elif case == "override typo":
        overrides.append("train.total_iters=3")
    else:
        overrides.append(f"losses.perceptual.pretrained={tmp_path / 'vgg19.pdparams'}")
    config = GFPGAN_FULL if components else GFPGAN_SIMPLE
    args = ["-c", os.path.join(ROOT, config), "--output_dir", str(tmp_path / "out")]
    for item in data_overrides(faces, components) + overrides:
        args += ["-o", item]
    assert train.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err, err
    assert not (tmp_path / "out" / "losses.jsonl").exists()


def test_two_cpu_processes_with_paddle_distributed_launch(faces, tmp_path):
    """``python -m paddle.distributed.launch --nproc_per_node 2`` on CPU (gloo): both ranks train, rank 0
    writes the checkpoint, and the two ranks end with the same generator (DataParallel averaged the grads)."""
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir",
           str(tmp_path / "log"), os.path.join(ROOT, "tools/train.py"), "-c", os.path.join(ROOT, GPEN),
           "--output_dir", str(tmp_path / "out"), "--threads", "1", "-o", "train.total_iter=2", "-o",
           "val.val_freq=0"]
    for item in data_overrides(faces):
        cmd += ["-o", item]
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    logs = "\n".join(p.read_text() for p in sorted((tmp_path / "log").glob("workerlog.*")))
    assert result.returncode == 0, result.stderr[-2000:] + logs[-3000:]
    assert "2 process(es)" in (tmp_path / "out" / "train.log").read_text()
    assert (tmp_path / "out" / "checkpoints" / "iter_00000002.pdparams").is_file()
