"""The dataset fragments under configs/train/_base_/datasets build, and samples batch with paddle's DataLoader."""
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppgan_face.config import load_config
from ppgan_face.data import build_dataset

FRAGMENTS = sorted((Path(__file__).resolve().parents[2] / "configs/train/_base_/datasets").glob("*.yml"))


@pytest.mark.parametrize("path", FRAGMENTS, ids=lambda p: p.stem)
def test_train_section_builds_and_batches(path, faces, landmark_file):
    options = load_config(str(path), [f"datasets.train.dataset.dataroot_gt={faces}",
                                      "datasets.train.dataset.out_size=64"])
    train = dict(options["datasets"]["train"]["dataset"])
    if "component_path" in train:
        train["component_path"] = str(landmark_file)
    dataset = build_dataset(train)
    batch = next(iter(paddle.io.DataLoader(dataset, batch_size=2, shuffle=False)))
    assert batch["lq"].shape == [2, 3, 64, 64] and batch["gt"].dtype == paddle.float32
    assert -1 <= batch["gt"].numpy().min() and batch["gt"].numpy().max() <= 1
    if "component_path" in train:
        assert batch["loc_left_eye"].shape == [2, 4]
    np.testing.assert_array_equal(batch["gt"][1].numpy(), dataset[1]["gt"])
    assert options["datasets"]["val"]["dataset"]["type"] == "PairedImageDataset"
