"""GANLoss, R1 and path-length regularisation against BasicSR's ``gan_loss.py`` (values and gradients)."""
import math

import numpy as np
import paddle
import pytest
import torch

from ppgan_face.losses import build_loss, g_path_regularize, r1_penalty
from tests.oracles import official
from tests.training_oracles import assert_value_and_grads, paddle_value_and_grads, torch_value_and_grads

PRED = np.random.RandomState(0).normal(0, 2, (3, 1, 4, 4)).astype("float32")


@pytest.mark.parametrize("gan_type", ["vanilla", "lsgan", "wgan", "wgan_softplus", "hinge"])
@pytest.mark.parametrize("real,is_disc", [(True, False), (True, True), (False, True)])
def test_gan_loss_matches_basicsr(gan_type, real, is_disc):
    theirs = official("basicsr.losses.gan_loss").GANLoss(gan_type, 0.9, 0.1, loss_weight=0.3)
    ours = build_loss({"type": "GANLoss", "gan_type": gan_type, "real_label_val": 0.9, "fake_label_val": 0.1,
                       "loss_weight": 0.3})
    assert_value_and_grads(paddle_value_and_grads(lambda p: ours(p, real, is_disc), PRED),
                           torch_value_and_grads(lambda p: theirs(p, real, is_disc), PRED),
                           f"{gan_type} real={real} disc={is_disc}")


def test_unknown_gan_type():
    with pytest.raises(ValueError, match="unsupported gan_type 'wgan-gp'"):
        build_loss({"type": "GANLoss", "gan_type": "wgan-gp"})


W1 = np.random.RandomState(1).normal(0, 0.3, (4, 3, 3, 3)).astype("float32")
W2 = np.random.RandomState(2).normal(0, 0.3, (1, 4, 3, 3)).astype("float32")
REAL = np.random.RandomState(3).uniform(-1, 1, (2, 3, 8, 8)).astype("float32")


def test_r1_penalty_matches_basicsr():
    """A small smooth discriminator (conv–tanh–conv) in both frameworks; the gradients of the penalty reach the
    image and the weights through a double backward."""
    r1 = official("basicsr.losses.gan_loss").r1_penalty

    def theirs(img, w1, w2):
        return r1(torch.nn.functional.conv2d(torch.tanh(torch.nn.functional.conv2d(img, w1)), w2), img) * 10 / 2 * 16

    def ours(img, w1, w2):
        return r1_penalty(paddle.nn.functional.conv2d(paddle.tanh(paddle.nn.functional.conv2d(img, w1)), w2),
                          img) * 10 / 2 * 16
    assert_value_and_grads(paddle_value_and_grads(ours, REAL, W1, W2), torch_value_and_grads(theirs, REAL, W1, W2),
                           "R1")


def test_path_length_matches_basicsr():
    """A small generator latents (N, 4, 6) -> tanh(linear) images (N, 3, 4, 4); same noise draw on both sides."""
    rs = np.random.RandomState(4)
    latents = rs.normal(size=(2, 4, 6)).astype("float32")
    weight = rs.normal(0, 0.3, (24, 48)).astype("float32")
    torch.manual_seed(0)
    noise = (torch.randn(2, 3, 4, 4) / math.sqrt(16)).numpy()
    results = {}

    def theirs(lat, w):
        torch.manual_seed(0)  # upstream draws its noise inside, with randn_like: the same values as ``noise``
        img = torch.tanh(lat.reshape(2, -1) @ w).reshape(2, 3, 4, 4)
        penalty, mean_length, path_mean = official("basicsr.losses.gan_loss").g_path_regularize(img, lat, 0.5)
        results["theirs"] = (mean_length.item(), path_mean.item())
        return penalty

    def ours(lat, w):
        img = paddle.tanh(lat.reshape([2, -1]) @ w).reshape([2, 3, 4, 4])
        penalty, mean_length, path_mean = g_path_regularize(img, lat, 0.5, noise=paddle.to_tensor(noise))
        results["ours"] = (float(mean_length), float(path_mean))
        return penalty
    assert_value_and_grads(paddle_value_and_grads(ours, latents, weight),
                           torch_value_and_grads(theirs, latents, weight), "path length")
    np.testing.assert_allclose(results["ours"], results["theirs"], rtol=1e-6)
    assert results["ours"][1] != 0.5  # the running mean moved
