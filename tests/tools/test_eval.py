"""tools/eval.py end to end on a tiny folder: every metric, the table, the CSV and JSON files, and the
one-line errors users can cause. PSNR / SSIM / NIQE values are checked against BasicSR's functions; the
network metrics' parity is tested in tests/metrics/, here random weights only show that the plumbing works."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import paddle
import pytest

from ppgan_face.builder import build_network
from ppgan_face.config import load_config
from tests.metrics.images import degrade, face_like
from tests.oracles import official
from tools import eval as eval_tool

REPO = Path(__file__).resolve().parents[2]
NAMES = ("face_a", "face_b")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    (root / "gt").mkdir()
    (root / "restored").mkdir()
    for seed, name in enumerate(NAMES):
        gt = face_like(192, 96, seed=seed)  # two 96x96 blocks: the smallest image NIQE takes
        cv2.imwrite(str(root / "gt" / f"{name}.png"), gt)
        cv2.imwrite(str(root / "restored" / f"{name}.png"), degrade(gt, seed=seed))
    return root


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Random Paddle weights for the networks (their parity is tested elsewhere); the lpips wheel's heads."""
    folder = tmp_path_factory.mktemp("weights")
    paths = {}
    for name in ("arcface_resnet18", "alexnet_features", "retinaface_mobilenet0.25"):
        paths[name] = folder / f"{name}.pdparams"
        paddle.save(build_network(load_config(name)).state_dict(), str(paths[name]))
    paths["lpips_alex"] = Path(official("lpips").__file__).parent / "weights" / "v0.1" / "alex.pth"
    return paths


def _overrides(weights):
    return ["-o", "metrics.lpips.net=lpips_alex", "-o", f"metrics.lpips.weights={weights['lpips_alex']}",
            "-o", f"metrics.lpips.trunk_weights={weights['alexnet_features']}",
            "-o", f"metrics.ids.weights={weights['arcface_resnet18']}",
            "-o", "metrics.lmd.detector=retinaface_mobilenet0.25",
            "-o", f"metrics.lmd.weights={weights['retinaface_mobilenet0.25']}",
            "-o", "metrics.lmd.settings.conf_threshold=0.0"]  # random weights are never confident


def test_every_metric_end_to_end(folders, weights, tmp_path, capsys):
    out_csv, out_json = tmp_path / "out" / "per_image.csv", tmp_path / "out" / "summary.json"
    argv = ["--restored", str(folders / "restored"), "--gt", str(folders / "gt"), "--csv", str(out_csv),
            "--json", str(out_json), "-o", "metrics.psnr.test_y_channel=true", "-o", "metrics.ssim.crop_border=4"]
    assert eval_tool.main(argv + _overrides(weights)) == 0
    table = capsys.readouterr().out
    metrics = ["psnr", "ssim", "lpips", "niqe", "ids", "lmd"]
    for name in metrics:
        assert any(line.startswith(name) for line in table.splitlines()), table

    with open(out_csv, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["name"] for row in rows] == list(NAMES)
    assert list(rows[0]) == ["name"] + metrics
    basicsr = official("basicsr.metrics.psnr_ssim")
    niqe = official("basicsr.metrics.niqe").calculate_niqe
    expected = {"psnr": [], "ssim": [], "niqe": []}
    for row in rows:
        restored = cv2.imread(str(folders / "restored" / f"{row['name']}.png"))
        gt = cv2.imread(str(folders / "gt" / f"{row['name']}.png"))
        expected["psnr"].append(basicsr.calculate_psnr(restored, gt, 0, test_y_channel=True))
        expected["ssim"].append(basicsr.calculate_ssim(restored, gt, 4))
        expected["niqe"].append(niqe(restored, 0))
        assert float(row["psnr"]) == expected["psnr"][-1]
        assert float(row["ssim"]) == expected["ssim"][-1]
        assert float(row["niqe"]) == pytest.approx(expected["niqe"][-1], rel=1e-4)
        assert 0 < float(row["lpips"]) < 1 and -1 <= float(row["ids"]) <= 1 and float(row["lmd"]) >= 0

    summary = json.loads(out_json.read_text())
    assert summary["images"] == 2 and list(summary["metrics"]) == metrics
    assert summary["metrics"]["psnr"]["mean"] == pytest.approx(np.mean(expected["psnr"]), rel=1e-12)
    assert summary["metrics"]["niqe"]["mean"] == pytest.approx(np.mean(expected["niqe"]), rel=1e-4)
    assert summary["metrics"]["niqe"]["higher_is_better"] is False
    assert all(item["count"] == 2 for item in summary["metrics"].values())
    assert sorted(p.name for p in out_csv.parent.iterdir()) == ["per_image.csv", "summary.json"]  # no temp files


def test_pairs_by_name_across_extensions_and_skips_undefined_values(folders, weights, tmp_path, capsys):
    restored = tmp_path / "restored"
    restored.mkdir()
    for name in NAMES:  # a JPEG copy still pairs with the PNG ground truth
        cv2.imwrite(str(restored / f"{name}.jpg"), cv2.imread(str(folders / "restored" / f"{name}.png")))
    out_json = tmp_path / "summary.json"
    argv = ["--restored", str(restored), "--gt", str(folders / "gt"), "--metrics", "psnr,lmd", "--json",
            str(out_json)] + _overrides(weights)[-6:] + ["-o", "metrics.lmd.settings.conf_threshold=1.0"]
    assert eval_tool.main(argv) == 0
    lmd = json.loads(out_json.read_text())["metrics"]["lmd"]
    assert lmd == {"mean": None, "count": 0, "higher_is_better": False}  # no face anywhere: NaN, skipped
    assert "0/2" in capsys.readouterr().out


def _break(folder, case):
    if case == "missing pair":
        (folder / "restored" / "face_b.png").unlink()
    elif case == "unreadable":
        (folder / "restored" / "face_b.png").write_bytes(b"not an image")
    elif case == "size mismatch":
        cv2.imwrite(str(folder / "restored" / "face_a.png"), face_like(96, 96))


ERRORS = {
    "missing pair": ([], "1 GT image(s) have no restored image of the same name"),
    "unreadable": ([], "face_b.png: cannot read the image"),
    "size mismatch": ([], "face_a: psnr: image shapes differ"),
    "missing weights": (["--metrics", "ids", "-o", "metrics.ids.weights=absent.pdparams"],
                        "ids: weights absent.pdparams not found; download arcface_resnet18.pth"),
    "unknown metric": (["--metrics", "psnr,fid"], "unknown metric(s) fid; known: psnr, ssim, lpips, niqe, ids, lmd"),
    "bad override": (["-o", "metrics.psnr.crop=4"], "did you mean metrics.psnr.crop_border"),
    "unknown option": (["-o", "+metrics.psnr.crop=4", "--metrics", "psnr"], "psnr: "),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_one_line(case, folders, tmp_path, capsys):
    work = tmp_path / "data"
    for sub in ("gt", "restored"):
        (work / sub).mkdir(parents=True)
        for path in (folders / sub).iterdir():
            (work / sub / path.name).write_bytes(path.read_bytes())
    _break(work, case)
    extra, message = ERRORS[case]
    metrics = [] if "--metrics" in extra else ["--metrics", "psnr,ssim"]
    argv = ["--restored", str(work / "restored"), "--gt", str(work / "gt"), "--csv", str(tmp_path / "o.csv")]
    assert eval_tool.main(argv + metrics + extra) == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # what precedes it is the progress bar clearing itself
    assert last.startswith("error: ") and message in last and "Traceback" not in err, err
    assert not (tmp_path / "o.csv").exists()


def test_script_runs_standalone_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "tools" / "eval.py"), "--restored", str(tmp_path / "none"),
                             "--gt", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"error: restored folder {tmp_path / 'none'} not found"
    assert "Traceback" not in result.stderr


def test_model_mode_restores_the_validation_faces_with_the_generator_and_scores_them(tmp_path, capsys):
    """``-c <model config> --weights`` (TIPC's eval step): the faces it writes are the generator's output on the
    LQ faces, and the printed means are BasicSR's PSNR / SSIM of those faces."""
    from basicsr.metrics.psnr_ssim import calculate_psnr, calculate_ssim

    from ppgan_face import create_model

    config = "configs/train/gpen_512_lite.yml"
    paddle.seed(3)
    model = create_model(config)
    paddle.save(model.net.state_dict(), str(tmp_path / "g.pdparams"))
    for sub in ("lq", "gt"):
        (tmp_path / sub).mkdir()
    for seed, name in enumerate(NAMES):
        gt = cv2.resize(face_like(64, 64, seed=seed), (32, 32), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(tmp_path / "gt" / f"{name}.png"), gt)
        cv2.imwrite(str(tmp_path / "lq" / f"{name}.png"), cv2.GaussianBlur(gt, (5, 5), 1.5))
    code = eval_tool.main(["-c", config, "-o", f"path.pretrain_network_g={tmp_path / 'g.pdparams'}", "--lq",
                           str(tmp_path / "lq"), "--gt", str(tmp_path / "gt"), "--save_dir", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    psnr, ssim = [], []
    for name in NAMES:
        lq = cv2.imread(str(tmp_path / "lq" / f"{name}.png"))
        x = paddle.to_tensor(((lq[:, :, ::-1] / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None].astype("float32"))
        with paddle.no_grad():
            y = model(x).numpy()[0]
        expected = ((np.clip(y, -1, 1) + 1) / 2 * 255.0).round().transpose(1, 2, 0)[:, :, ::-1].astype(np.uint8)
        restored = cv2.imread(str(tmp_path / "out" / f"{name}.png"))
        assert np.abs(restored.astype(int) - expected).max() <= 1
        gt = cv2.imread(str(tmp_path / "gt" / f"{name}.png"))
        psnr.append(calculate_psnr(restored, gt, crop_border=0))
        ssim.append(calculate_ssim(restored, gt, crop_border=0))
    assert f"Metric psnr: {np.mean(psnr):.4f}" in out.splitlines()
    assert f"Metric ssim: {np.mean(ssim):.4f}" in out.splitlines()


@pytest.mark.parametrize("args, message", [
    (["-c", "configs/train/gpen_512_lite.yml"], "model mode needs the generator's weights"),
    (["-c", "retinaface_resnet50", "--weights", "x.pdparams"], "not a face restorer config"),
    ([], "pass --restored DIR (folder mode) or -c MODEL_CONFIG"),
])
def test_model_mode_errors_are_one_line(args, message, capsys):
    assert eval_tool.main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
