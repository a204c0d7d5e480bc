"""PairedImageDataset: pairing by file name, layout, and its errors."""
import cv2
import numpy as np
import pytest

from ppgan_face.data import DatasetError, build_dataset
from tests.data.conftest import write_faces


def test_pairs_by_name_rgb_normalised(tmp_path):
    write_faces(tmp_path / "lq", 2)
    write_faces(tmp_path / "gt", 2)
    dataset = build_dataset({"type": "PairedImageDataset", "dataroot_lq": str(tmp_path / "lq"),
                             "dataroot_gt": str(tmp_path / "gt")})
    assert len(dataset) == 2
    sample = dataset[1]
    bgr = cv2.imread(str(tmp_path / "gt" / "00001.png")).astype(np.float32) / 255.
    np.testing.assert_allclose(sample["gt"], (bgr[:, :, ::-1].transpose(2, 0, 1) - 0.5) / 0.5, atol=1e-7)
    assert sample["lq_path"].endswith("00001.png") and sample["gt_path"].endswith("00001.png")


def test_unpaired_or_mis_sized_images_are_errors(tmp_path):
    write_faces(tmp_path / "lq", 3)
    write_faces(tmp_path / "gt", 2)
    options = {"type": "PairedImageDataset", "dataroot_lq": str(tmp_path / "lq"), "dataroot_gt": str(tmp_path / "gt")}
    with pytest.raises(DatasetError, match="no counterpart for 1 LQ image.*00002.png"):
        build_dataset(options)
    (tmp_path / "lq" / "00002.png").unlink()
    write_faces(tmp_path / "gt", 1, size=32, names=["00000.png"])
    with pytest.raises(DatasetError, match="00000.png: size"):
        build_dataset(options)[0]
