"""RetinaFace (ResNet-50, MobileNet-0.25) against facexlib's network, through the official checkpoint format.

The official checkpoints are plain state dicts whose keys carry DataParallel's ``module.`` prefix; the
converter strips it. GPEN's copy of the network (in modelscope) has the same keys and outputs.
"""
import time

import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.archs.retinaface_arch import RETINAFACE_CONFIGS
from ppgan_face.config import load_config
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official

OUTPUTS = ("loc", "conf", "landmarks")


def facexlib_retinaface(network_name, seed=0):
    """facexlib's RetinaFace with random weights; its constructor builds the network only (no weights)."""
    torch.manual_seed(seed)
    net = official("facexlib.detection.retinaface").RetinaFace(network_name=network_name, half=False, phase="test")
    return randomize_(net.eval(), seed=seed)


def convert(theirs, tmp_path, **model_kwargs):
    """Save ``theirs`` as upstream publishes it (``module.`` prefix), convert it into our network."""
    path = save_official(theirs.state_dict(), tmp_path / "retinaface.pth", prefix="module.")
    return load_official_into(build_arch({"type": "RetinaFace", **model_kwargs}), path)


def run_both(ours, theirs, x):
    with paddle.no_grad():
        mine = ours(paddle.to_tensor(x))
    with torch.no_grad():
        ref = theirs(torch.from_numpy(x))
    return mine, ref


def test_mobilenet_matches_facexlib(tmp_path):
    theirs = facexlib_retinaface("mobile0.25")
    ours = convert(theirs, tmp_path, network_name="mobile0.25")
    # odd size: the FPN's nearest upsampling to a non-integer ratio, ceil'd feature maps; batch of two
    x = np.random.RandomState(0).uniform(-120, 150, (2, 3, 75, 101)).astype("float32")
    mine, ref = run_both(ours, theirs, x)
    for name, a, b in zip(OUTPUTS, mine, ref):
        assert_close(a, b, what=f"mobile0.25 {name}")
    assert float(ref[1].std()) > 0.01  # the scores are not all alike: the comparison means something


def test_train_phase_returns_logits(tmp_path):
    theirs = facexlib_retinaface("mobile0.25")
    path = save_official(theirs.state_dict(), tmp_path / "retinaface.pth", prefix="module.")
    test_net = load_official_into(build_arch({"type": "RetinaFace", "network_name": "mobile0.25"}), path)
    train_net = load_official_into(
        build_arch({"type": "RetinaFace", "network_name": "mobile0.25", "phase": "train"}), path)
    x = paddle.to_tensor(np.random.RandomState(1).uniform(-100, 100, (1, 3, 40, 48)).astype("float32"))
    with paddle.no_grad():
        logits = train_net(x)[1]
        probs = test_net(x)[1]
    assert not np.allclose(logits.numpy(), probs.numpy())
    np.testing.assert_allclose(paddle.nn.functional.softmax(logits, -1).numpy(), probs.numpy(), atol=1e-6)


def test_resnet50_full_size_matches_facexlib(tmp_path):
    """The public configuration (``configs/retinaface_resnet50.yml``) at 640x640."""
    model = load_config("retinaface_resnet50")["model"]
    theirs = facexlib_retinaface(model["network_name"])
    # entry and parameter counts of the real torchvision layout: checks the torchvision stand-in too
    assert len(theirs.state_dict()) == 456 and sum(p.numel() for p in theirs.parameters()) == 27_293_600
    ours = convert(theirs, tmp_path, **{k: v for k, v in model.items() if k != "type"})
    x = np.random.RandomState(0).randn(1, 3, 640, 640).astype("float32")
    start = time.perf_counter()
    with paddle.no_grad():
        mine = ours(paddle.to_tensor(x))
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        ref = theirs(torch.from_numpy(x))
    print(f"RetinaFace-R50 1x3x640x640: Paddle {elapsed:.2f} s")
    assert ref[0].shape == (1, 16800, 4)
    for name, a, b in zip(OUTPUTS, mine, ref):
        assert_close(a, b, what=f"resnet50 {name}")


def test_gpen_copy_has_the_same_keys_and_outputs(tmp_path):
    """GPEN's RetinaFace (modelscope, ``RetinaFace-R50.pth``) converts into the same network."""
    module = official("modelscope.models.cv.image_portrait_enhancement.retinaface.models.retinaface")
    cfg = dict(name="Resnet50", pretrain=False, return_layers={"layer2": 1, "layer3": 2, "layer4": 3},
               in_channel=256, out_channel=256)
    torch.manual_seed(0)
    theirs = randomize_(module.RetinaFace(cfg=cfg).eval())
    ours = convert(theirs, tmp_path, network_name="resnet50")
    mine, ref = run_both(ours, theirs, np.random.RandomState(2).randn(1, 3, 48, 40).astype("float32"))
    for name, a, b in zip(OUTPUTS, mine, ref):
        assert_close(a, b, what=f"GPEN resnet50 {name}")


def test_configs_match_facexlib():
    generate_config = official("facexlib.detection.retinaface").generate_config
    for name, cfg in RETINAFACE_CONFIGS.items():
        assert cfg.items() <= generate_config(name).items()


def test_unknown_network_is_rejected():
    with pytest.raises(ValueError, match="network_name"):
        build_arch({"type": "RetinaFace", "network_name": "resnet18"})
