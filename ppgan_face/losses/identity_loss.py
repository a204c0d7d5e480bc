"""Identity losses: GFPGAN's (ResNetArcFace on gray 128×128, L1 between embeddings) and GPEN's (IR-SE50 on a
central crop pooled to 112×112, 1 − cosine). The recognition network is frozen and in eval mode."""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppgan_face.archs import build_arch
from ppgan_face.losses.basic_loss import frozen
from ppgan_face.registry import LOSS_REGISTRY

ARCFACE_RESNET18 = {"type": "ResNetArcFace", "block": "IRBlock", "layers": [2, 2, 2, 2], "use_se": False}
IR_SE50 = {"type": "IRSEBackbone", "input_size": 112, "num_layers": 50, "mode": "ir_se", "drop_ratio": 0.6,
           "affine": True}


def gray_resize(img, size=128):
    """GFPGAN's ``gray_resize_for_identity``: 0.2989 R + 0.5870 G + 0.1140 B, bilinear to size×size."""
    gray = (0.2989 * img[:, 0] + 0.5870 * img[:, 1] + 0.1140 * img[:, 2]).unsqueeze(1)
    return F.interpolate(gray, (size, size), mode="bilinear", align_corners=False)


@LOSS_REGISTRY.register()
class ArcFaceIdentityLoss(nn.Layer):
    """``loss_weight × L1(ArcFace(gray(out)), ArcFace(gray(gt)).detach())`` (GFPGAN, weight 10)."""

    def __init__(self, loss_weight=1.0, size=128, network=None, pretrained=None):
        super().__init__()
        self.loss_weight = loss_weight
        self.size = size
        self.net = frozen(build_arch(network or ARCFACE_RESNET18), pretrained)

    def forward(self, output, gt):
        self.net.eval()  # a parent model's train() reaches this network too; upstream keeps it in eval mode
        identity_gt = self.net(gray_resize(gt, self.size)).detach()
        return paddle.abs(self.net(gray_resize(output, self.size)) - identity_gt).mean() * self.loss_weight


@LOSS_REGISTRY.register()
class GPENIdentityLoss(nn.Layer):
    """``loss_weight × mean(1 − ⟨f(out), f(gt).detach()⟩)`` with f = IR-SE50 (unit-norm embeddings) of the
    crop ``[35s:−33s, 32s:−36s]`` (s = H // 256) adaptively average-pooled to 112×112 (GPEN, weight 1)."""

    def __init__(self, loss_weight=1.0, network=None, pretrained=None):
        super().__init__()
        self.loss_weight = loss_weight
        self.net = frozen(build_arch(network or IR_SE50), pretrained)

    def embed(self, x):
        h, w = x.shape[2:]
        if h != w or h < 256:
            raise ValueError(f"GPEN's identity crop needs square images of at least 256 px, got {h}x{w}")
        s = h // 256
        return self.net(F.adaptive_avg_pool2d(x[:, :, 35 * s:-33 * s, 32 * s:-36 * s], 112))

    def forward(self, output, gt):
        self.net.eval()  # as in ArcFaceIdentityLoss
        target = self.embed(gt).detach()
        return (1 - (self.embed(output) * target).sum(1)).mean() * self.loss_weight
