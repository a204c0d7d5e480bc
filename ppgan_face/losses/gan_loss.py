"""Adversarial losses and the StyleGAN2 regularisers (BasicSR ``gan_loss.py``; GPEN's logistic loss is
``wgan_softplus``)."""
import math

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppgan_face.registry import LOSS_REGISTRY

GAN_TYPES = ("vanilla", "lsgan", "wgan", "wgan_softplus", "hinge")


@LOSS_REGISTRY.register()
class GANLoss(nn.Layer):
    """``forward(pred, target_is_real, is_disc=False)``.

    vanilla: BCE with logits against real/fake labels; lsgan: MSE to the labels; wgan: ∓mean;
    wgan_softplus (StyleGAN2 logistic / non-saturating): softplus(−pred) for real, softplus(pred) for fake;
    hinge: relu(1 ∓ pred) for D, −mean(pred) for G. ``loss_weight`` only scales generator losses.
    """

    def __init__(self, gan_type, real_label_val=1.0, fake_label_val=0.0, loss_weight=1.0):
        super().__init__()
        if gan_type not in GAN_TYPES:
            raise ValueError(f"unsupported gan_type {gan_type!r}; supported: {', '.join(GAN_TYPES)}")
        self.gan_type = gan_type
        self.real_label_val = real_label_val
        self.fake_label_val = fake_label_val
        self.loss_weight = loss_weight

    def _label(self, pred, target_is_real):
        return paddle.full_like(pred, self.real_label_val if target_is_real else self.fake_label_val)

    def forward(self, pred, target_is_real, is_disc=False):
        if self.gan_type == "vanilla":
            loss = F.binary_cross_entropy_with_logits(pred, self._label(pred, target_is_real))
        elif self.gan_type == "lsgan":
            loss = ((pred - self._label(pred, target_is_real)) ** 2).mean()
        elif self.gan_type == "wgan":
            loss = -pred.mean() if target_is_real else pred.mean()
        elif self.gan_type == "wgan_softplus":
            loss = F.softplus(-pred).mean() if target_is_real else F.softplus(pred).mean()
        elif is_disc:  # hinge, discriminator
            loss = F.relu(1 + (-pred if target_is_real else pred)).mean()
        else:  # hinge, generator
            loss = -pred.mean()
        return loss if is_disc else loss * self.loss_weight


def r1_penalty(real_pred, real_img):
    """R1: mean over the batch of ‖∂ΣD(x)/∂x‖² at real images (``real_img`` must not stop gradients).
    StyleGAN2 / GFPGAN / GPEN use ``r1 / 2 · penalty · d_reg_every`` every ``d_reg_every`` steps."""
    grad = paddle.grad(outputs=real_pred.sum(), inputs=real_img, create_graph=True)[0]
    return (grad ** 2).reshape([grad.shape[0], -1]).sum(1).mean()


def g_path_regularize(fake_img, latents, mean_path_length, decay=0.01, noise=None):
    """StyleGAN2 path-length regulariser.

    ``noise`` defaults to N(0, 1)/√(H·W) like ``fake_img`` (pass one to reproduce a draw). Returns
    ``(penalty, mean path length (detached), updated running mean (detached))``; GPEN weights the penalty by
    ``path_regularize · g_reg_every``.
    """
    if noise is None:
        noise = paddle.randn(fake_img.shape, dtype=fake_img.dtype) / math.sqrt(fake_img.shape[2] * fake_img.shape[3])
    grad = paddle.grad(outputs=(fake_img * noise).sum(), inputs=latents, create_graph=True)[0]
    path_lengths = paddle.sqrt((grad ** 2).sum(2).mean(1))
    path_mean = mean_path_length + decay * (path_lengths.mean() - mean_path_length)
    penalty = ((path_lengths - path_mean) ** 2).mean()
    return penalty, path_lengths.detach().mean(), path_mean.detach()
