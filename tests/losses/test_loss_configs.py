"""The loss fragments under configs/train/_base_/losses build, and a missing pretrained file is a clear error."""
from pathlib import Path

import pytest

from ppgan_face.config import load_config
from ppgan_face.convert import CheckpointError
from ppgan_face.losses import build_loss

FRAGMENTS = sorted((Path(__file__).resolve().parents[2] / "configs/train/_base_/losses").glob("*.yml"))


@pytest.mark.parametrize("path", FRAGMENTS, ids=lambda p: p.stem)
def test_every_loss_builds(path):
    losses = load_config(str(path))["losses"]
    assert losses
    for name, options in losses.items():
        if "pretrained" in options:
            with pytest.raises(CheckpointError, match="weights file not found"):
                build_loss(options)
            options = dict(options, pretrained=None)
        assert build_loss(options) is not None, name


def test_gfpgan_numbers():
    losses = load_config(str(FRAGMENTS[0]))["losses"]
    assert losses["perceptual"]["layer_weights"] == {"conv1_2": 0.1, "conv2_2": 0.1, "conv3_4": 1, "conv4_4": 1,
                                                     "conv5_4": 1}
    assert (losses["perceptual"]["style_weight"], losses["pixel"]["loss_weight"], losses["gan"]["loss_weight"],
            losses["component_style"]["loss_weight"], losses["identity"]["loss_weight"]) == (50, 0.1, 0.1, 200, 10)
