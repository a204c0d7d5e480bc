"""LPIPS against the official ``lpips`` package (0.1.4): its LPIPS class with a random-init torchvision trunk
(the stand-in, torchvision's layer layout) and the real linear heads shipped in its wheel.

The trunk is saved as torchvision publishes it (``features.{i}`` plus a classifier) and goes through our
converter's torchvision adapters; the heads file is the wheel's own ``weights/v0.1/{net}.pth``.
"""
import re
from pathlib import Path

import numpy as np
import paddle
import pytest
import torch

from ppgan_face.convert import convert_checkpoint
from ppgan_face.metrics import build_metric
from ppgan_face.metrics.lpips import build_lpips
from tests.metrics.images import degrade, face_like
from tests.oracles import assert_close, official, randomize_, save_official

TRUNK_CONFIGS = {"alex": "alexnet_features", "vgg": "vgg16_features"}


def official_lpips(net):
    """lpips.LPIPS with a random trunk (pnet_rand: nothing downloads) and the wheel's trained heads."""
    torch.manual_seed(0)
    model = official("lpips").LPIPS(net=net, pnet_rand=True, verbose=False)
    randomize_(model.net)  # random biases too (torchvision's init leaves VGG's at zero)
    return model.eval()


def heads_file(net):
    return Path(official("lpips").__file__).parent / "weights" / "v0.1" / f"{net}.pth"


def torchvision_file(model, path):
    """The trunk as torchvision's file has it: lpips keeps ``features[i]`` as ``net.slice{k}.{i}``."""
    state = {re.sub(r"^slice\d+\.", "features.", key): value for key, value in model.net.state_dict().items()}
    state["classifier.1.weight"] = torch.zeros(4, 9216)  # torchvision files carry a classifier; it is dropped
    state["classifier.1.bias"] = torch.zeros(4)
    return save_official(state, path)


@pytest.fixture(scope="module", params=["alex", "vgg"])
def pair(request, tmp_path_factory):
    net = request.param
    theirs = official_lpips(net)
    trunk = torchvision_file(theirs, tmp_path_factory.mktemp(net) / "trunk.pth")
    return net, theirs, trunk


def test_network_matches_official(pair):
    net, theirs, trunk = pair
    ours = build_lpips(f"lpips_{net}", weights=heads_file(net), trunk_weights=trunk)
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (2, 3, 64, 64)).astype("float32")
    y = np.clip(x + rng.normal(0, 0.3, x.shape), -1, 1).astype("float32")
    with torch.no_grad():
        ref = theirs(torch.from_numpy(x), torch.from_numpy(y))
    with paddle.no_grad():
        out = ours(paddle.to_tensor(x), paddle.to_tensor(y))
    assert float(ref.min()) > 1e-3  # a real distance is measured
    assert_close(out, ref, rel_l2=1e-5, max_abs=1e-6, what=f"LPIPS-{net}")


def test_metric_on_images_matches_official(pair):
    net, theirs, trunk = pair
    metric = build_metric("lpips", {"type": "LPIPS", "net": f"lpips_{net}", "weights": str(heads_file(net)),
                                    "trunk_weights": str(trunk)})
    gt = face_like(64, 80, seed=2)
    restored = degrade(gt)

    def rgb(image):  # BGR uint8 -> RGB [0, 1], the official call with normalize=True maps it to [-1, 1]
        return torch.from_numpy(image[..., ::-1].astype(np.float32).transpose(2, 0, 1).copy()[None] / 255.0)

    with torch.no_grad():
        ref = float(theirs(rgb(restored), rgb(gt), normalize=True))
    assert ref > 1e-3
    assert abs(metric(restored, gt) - ref) <= 1e-5 * ref
    assert metric(gt, gt) == 0.0


def test_converter_detects_both_checkpoints(pair, tmp_path):
    net, _, trunk = pair
    heads = convert_checkpoint(heads_file(net), tmp_path / "heads.pdparams")
    trunk_result = convert_checkpoint(trunk, tmp_path / "trunk.pdparams")
    assert (heads["config"], trunk_result["config"]) == (f"lpips_{net}", TRUNK_CONFIGS[net])
    converted = build_lpips(f"lpips_{net}", weights=heads["dst"], trunk_weights=trunk_result["dst"])
    direct = build_lpips(f"lpips_{net}", weights=heads_file(net), trunk_weights=trunk)
    for key, value in direct.state_dict().items():
        np.testing.assert_array_equal(converted.state_dict()[key].numpy(), value.numpy())
