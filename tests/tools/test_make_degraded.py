"""tools/make_degraded.py: a paired set readable by PairedImageDataset, reproducible by seed, one-line errors."""
import cv2
import numpy as np
import pytest

from ppgan_face.data import build_dataset
from tests.data.conftest import write_faces
from tools.make_degraded import main


def test_writes_reproducible_pairs(tmp_path, capsys):
    hq = write_faces(tmp_path / "hq", 3, names=["a.png", "b.jpg", "c.png"])
    assert main(["-i", str(hq), "-o", str(tmp_path / "val"), "--seed", "1"]) == 0
    assert main(["-i", str(hq), "-o", str(tmp_path / "again"), "--seed", "1",
                 "--opt", "datasets.train.dataset.jpeg_range=[60, 100]"]) == 0
    assert "3 pairs" in capsys.readouterr().out
    pairs = build_dataset({"type": "PairedImageDataset", "dataroot_lq": str(tmp_path / "val" / "lq"),
                           "dataroot_gt": str(tmp_path / "val" / "gt")})
    again = build_dataset({"type": "PairedImageDataset", "dataroot_lq": str(tmp_path / "again" / "lq"),
                           "dataroot_gt": str(tmp_path / "again" / "gt")})
    assert len(pairs) == 3 and pairs[1]["gt_path"].endswith("b.png")
    for i in range(3):
        np.testing.assert_array_equal(pairs[i]["lq"], again[i]["lq"])
        assert np.abs(pairs[i]["lq"] - pairs[i]["gt"]).mean() > 0.005  # degraded
    source = build_dataset({"type": "PairedImageDataset", "dataroot_lq": str(hq), "dataroot_gt": str(hq)})
    np.testing.assert_allclose(pairs[0]["gt"], source[0]["gt"], atol=1e-6)  # the GFPGAN GT is the HQ face
    assert not list((tmp_path / "val" / "lq").glob(".*.tmp"))


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["-i", str(tmp_path / "none"), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "dataroot_gt folder not found" in err and err.count("\n") == 1
    hq = write_faces(tmp_path / "hq", 1)
    assert main(["-i", str(hq), "-o", str(tmp_path / "out"), "--opt", "datasets.train.dataset.jpeg_rang=[1, 2]"]) == 1
    assert "did you mean datasets.train.dataset.jpeg_range" in capsys.readouterr().err


def test_o_takes_the_output_folder_and_overrides_like_every_tool(tmp_path):
    hq = tmp_path / "hq"
    hq.mkdir()
    cv2.imwrite(str(hq / "a.png"), np.random.RandomState(0).randint(0, 256, (64, 64, 3)).astype(np.uint8))
    assert main(["-i", str(hq), "-o", str(tmp_path / "out"), "-o", "datasets.train.dataset.gray_prob=1.0",
                 "-o", "datasets.train.dataset.color_jitter_prob=null"]) == 0
    lq = cv2.imread(str(tmp_path / "out" / "lq" / "a.png"))
    assert (lq[:, :, 0] == lq[:, :, 1]).all() and (lq[:, :, 1] == lq[:, :, 2]).all()  # the override took effect
    with pytest.raises(SystemExit):
        main(["-i", str(hq), "-o", str(tmp_path / "x"), "-o", str(tmp_path / "y")])
