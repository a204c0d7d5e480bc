"""Pixel, pyramid and perceptual / style losses against BasicSR / GFPGAN / GPEN: values and input gradients."""
import types

import numpy as np
import paddle
import pytest
import torch

from ppgan_face.losses import build_loss
from tests.oracles import official, randomize_, save_official
from tests.training_oracles import (assert_value_and_grads, gfpgan_model_class, paddle_value_and_grads,
                                    torch_value_and_grads)

RS = np.random.RandomState(0)
PRED = RS.uniform(-1, 1, (2, 3, 8, 8)).astype("float32")
TARGET = RS.uniform(-1, 1, (2, 3, 8, 8)).astype("float32")
WEIGHTS = {"none": None, "one-channel": RS.uniform(0, 1, (2, 1, 8, 8)).astype("float32"),
           "per-channel": RS.uniform(0, 1, (2, 3, 8, 8)).astype("float32")}


@pytest.mark.parametrize("name", ["L1Loss", "MSELoss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", list(WEIGHTS))
def test_pixel_losses_match_basicsr(name, reduction, weight):
    theirs = getattr(official("basicsr.losses.basic_loss"), name)(loss_weight=0.7, reduction=reduction)
    ours = build_loss({"type": name, "loss_weight": 0.7, "reduction": reduction})
    w = WEIGHTS[weight]

    def run(loss, to_tensor):
        def fn(pred, target):
            out = loss(pred, target, None if w is None else to_tensor(w))
            return (out * out).sum() if reduction == "none" else out  # a scalar with every element's gradient
        return fn
    assert_value_and_grads(paddle_value_and_grads(run(ours, paddle.to_tensor), PRED, TARGET),
                           torch_value_and_grads(run(theirs, torch.from_numpy), PRED, TARGET),
                           f"{name} {reduction} weight={weight}")


def test_smooth_l1_matches_gpen():
    """GPEN's pixel loss is torch.nn.SmoothL1Loss() (beta 1, mean)."""
    pred = PRED * 2  # differences on both sides of beta
    assert_value_and_grads(paddle_value_and_grads(build_loss({"type": "SmoothL1Loss"}), pred, TARGET),
                           torch_value_and_grads(torch.nn.SmoothL1Loss(), pred, TARGET), "SmoothL1")


def test_bad_reduction_and_option():
    with pytest.raises(ValueError, match="unsupported reduction 'avg'"):
        build_loss({"type": "L1Loss", "reduction": "avg"})
    with pytest.raises(ValueError, match="has no option 'loss_weigth'; did you mean loss_weight"):
        build_loss({"type": "L1Loss", "loss_weigth": 1})


def test_image_pyramid_matches_gfpgan():
    """GFPGAN: GT halved bilinearly (construct_img_pyramid), L1 to each side output × pyramid_loss_weight."""
    rs = np.random.RandomState(1)
    gt = rs.uniform(-1, 1, (2, 3, 64, 64)).astype("float32")
    out_rgbs = [rs.uniform(-1, 1, (2, 3, s, s)).astype("float32") for s in (8, 16, 32, 64)]  # log_size 6
    model = gfpgan_model_class()
    l1 = official("basicsr.losses.basic_loss").L1Loss()

    def theirs(gt, *rgbs):
        pyramid = model.construct_img_pyramid(types.SimpleNamespace(gt=gt, log_size=6))
        return sum(l1(rgbs[i], pyramid[i]) * 0.5 for i in range(6 - 2))

    loss = build_loss({"type": "ImagePyramidL1Loss", "loss_weight": 0.5})
    assert_value_and_grads(paddle_value_and_grads(lambda gt, *rgbs: loss(list(rgbs), gt), gt, *out_rgbs),
                           torch_value_and_grads(theirs, gt, *out_rgbs), "pyramid L1")


GFPGAN_LAYERS = {"conv1_2": 0.1, "conv2_2": 0.1, "conv3_4": 1, "conv4_4": 1, "conv5_4": 1}


@pytest.fixture(scope="module")
def vgg_features(tmp_path_factory):
    """Random torchvision VGG19 ``features`` and a ``.pth`` of them (the classifier, which the port drops and
    nothing here uses, is left out to keep the file small)."""
    torch.manual_seed(0)
    features = randomize_(official("basicsr.archs.vgg_arch").vgg.vgg19().features)
    path = save_official(features.state_dict(), tmp_path_factory.mktemp("vgg") / "vgg19.pth", prefix="features.")
    return features, path


@pytest.mark.parametrize("criterion", ["l1", "fro"])
def test_perceptual_and_style_match_basicsr(vgg_features, criterion):
    features, vgg_file = vgg_features
    vgg_arch = official("basicsr.archs.vgg_arch")
    default, vgg_arch.VGG_PRETRAIN_PATH = vgg_arch.VGG_PRETRAIN_PATH, "/nonexistent/vgg19.pth"  # random init
    try:
        theirs = official("basicsr.losses.basic_loss").PerceptualLoss(
            GFPGAN_LAYERS, vgg_type="vgg19", use_input_norm=True, range_norm=True, perceptual_weight=1.0,
            style_weight=50, criterion=criterion)
    finally:
        vgg_arch.VGG_PRETRAIN_PATH = default
    for layer, source in zip(theirs.vgg.vgg_net, features):  # BasicSR keeps features[:deepest + 1] in order
        layer.load_state_dict(source.state_dict())
    ours = build_loss({"type": "PerceptualLoss", "layer_weights": GFPGAN_LAYERS, "range_norm": True,
                       "style_weight": 50, "criterion": criterion, "pretrained": str(vgg_file)})
    # L1 of features / Gram matrices: its gradient flips sign where an entry of x and gt nearly coincide, and
    # the frameworks' float rounding then decides the side; this input has no such near-tie
    rs = np.random.RandomState(0)
    x, gt = (rs.uniform(-1, 1, (1, 3, 32, 32)).astype("float32") for _ in range(2))
    for part in (0, 1):  # perceptual, style
        assert_value_and_grads(paddle_value_and_grads(lambda x, gt: ours(x, gt)[part], x, gt),
                               torch_value_and_grads(lambda x, gt: theirs(x, gt)[part], x, gt),
                               f"{'perceptual' if part == 0 else 'style'} ({criterion})")
    ours.style_weight = 0
    assert ours(paddle.to_tensor(x), paddle.to_tensor(gt))[1] is None
