"""tools/export_model.py from the command line: a working export, and one-line errors that write nothing."""
import os
import subprocess
import sys
from pathlib import Path

import paddle
import pytest
import yaml

from tests.inference.small_models import SMALL, small_model

REPO = Path(__file__).resolve().parents[2]
RRDB = [arg for o in SMALL["realesrnet_x2"][0] for arg in ("-o", o)]


def run_tool(*args, cwd):
    env = {**os.environ, "GLOG_minloglevel": "2"}
    return subprocess.run([sys.executable, str(REPO / "tools" / "export_model.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def test_exports_with_onnx(tmp_path):
    proc = run_tool("-c", "realesrnet_x2", *RRDB, "--random_init", "--output_dir", "out", "--onnx",
                    "--input_size", "32", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "realesrnet_x2 (upsampler, input [None, 3, 32, 32]) -> out" in proc.stdout
    assert "random weights, for testing only" in proc.stderr
    meta = yaml.safe_load((tmp_path / "out" / "infer_cfg.yml").read_text())
    assert meta["files"]["onnx"] == "model.onnx" and (tmp_path / "out" / "model.onnx").is_file()
    assert meta["onnx"]["opset"] == 17


@pytest.mark.parametrize("args,message", [
    (["-c", "realesrnet_x2", *RRDB], "error: no --weights given"),
    (["-c", "realesrnet_x2", "--weights", "nope.pdparams"], "error: nope.pdparams: weights file not found"),
    (["-c", "realesrnet_x3", "--random_init"], "error: realesrnet_x3: no such config; did you mean realesrnet_x2"),
    (["-c", "realesrnet_x2", "-o", "model.num_blok=2", "--random_init"], "did you mean model.num_block"),
    (["-c", "gfpgan_v1", "--random_init", "--input_size", "256"], "fixed at 512x512 by the network"),
    (["-c", "realesrnet_x2", "--random_init", "--input_size", "1", "2", "3"], "--input_size takes one or two"),
    (["-c", "gfpgan_v1", "--random_init", "-o", "model.out_size=32", "-o", "model.num_style_feat=32", "-o",
      "model.narrow=0.0625"], "does not run on an input of shape [1, 3, 512, 512]"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    proc = run_tool(*args, "--output_dir", "out", cwd=tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr.strip().splitlines()[-1]
    if "argument" not in proc.stderr and "usage" not in proc.stderr:
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_export_is_kept(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "inference.json").write_text("{}")
    proc = run_tool("-c", "realesrnet_x2", *RRDB, "--random_init", "--output_dir", "out", cwd=tmp_path)
    assert proc.returncode == 1 and "holds an export already (pass --overwrite" in proc.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["inference.json"]


def test_tipc_style_arguments(tmp_path):
    """TIPC passes the weights and the output folder as ``-o Global.pretrained_model=<prefix>`` and
    ``-o Global.save_inference_dir=<dir>`` (its training output folder, which exists), and may give several
    overrides after one ``-o``."""
    paddle.save(small_model("realesrnet_x2").state_dict(), str(tmp_path / "latest.pdparams"))
    (tmp_path / "train").mkdir()
    proc = run_tool("-c", "realesrnet_x2", "-o", *SMALL["realesrnet_x2"][0], "-o",
                    "Global.pretrained_model=latest", "-o", "Global.save_inference_dir=train", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    meta = yaml.safe_load((tmp_path / "train" / "infer_cfg.yml").read_text())
    assert meta["weights"] == "latest.pdparams"
