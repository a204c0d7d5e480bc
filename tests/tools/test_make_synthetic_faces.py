"""tools/make_synthetic_faces.py writes what the lite training configs read."""
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import make_synthetic_faces  # noqa: E402

from ppgan_face.config import load_config  # noqa: E402
from ppgan_face.data import build_dataset  # noqa: E402


def test_writes_a_set_the_lite_config_trains_on(tmp_path):
    assert make_synthetic_faces.main(["-o", str(tmp_path), "--count", "5", "--val_count", "2"]) == 0
    hq = sorted((tmp_path / "hq").glob("*.png"))
    lq, val_hq = sorted((tmp_path / "val/lq").glob("*.png")), sorted((tmp_path / "val/hq").glob("*.png"))
    assert len(hq) == 5 and len(lq) == len(val_hq) == 2
    faces = [cv2.imread(str(p)) for p in hq]
    assert all(face.shape == (32, 32, 3) for face in faces)
    assert not np.array_equal(faces[0], faces[1])  # jittered, not one face five times
    assert np.abs(cv2.imread(str(lq[0])).astype(int) - cv2.imread(str(val_hq[0])).astype(int)).max() > 0
    options = dict(load_config("configs/train/gfpgan_v1_simple_lite.yml")["datasets"]["train"]["dataset"])
    options["dataroot_gt"] = str(tmp_path / "hq")
    sample = build_dataset(options)[0]
    assert sample["gt"].shape == (3, 32, 32) and sample["lq"].shape == (3, 32, 32)


def test_rejects_nonsense_sizes(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        make_synthetic_faces.main(["-o", str(tmp_path), "--size", "4"])
    assert exit_.value.code == 2
    assert "--size >= 16" in capsys.readouterr().err and not any(tmp_path.iterdir())
