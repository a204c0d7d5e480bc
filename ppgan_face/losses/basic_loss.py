"""Pixel, image-pyramid and perceptual / style losses (BasicSR ``basic_loss.py``, GFPGAN's pyramid loss,
GPEN's SmoothL1)."""
from pathlib import Path

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppgan_face.archs.vgg_arch import VGGFeatureExtractor
from ppgan_face.convert import CheckpointError, load_weights, map_state_dict, read_state_dict, set_weights
from ppgan_face.losses.loss_util import check_reduction, weight_reduce_loss
from ppgan_face.registry import LOSS_REGISTRY


class _PixelLoss(nn.Layer):
    """``loss_weight × reduce(weight × elementwise(pred, target))``."""

    def __init__(self, loss_weight=1.0, reduction="mean"):
        super().__init__()
        self.loss_weight = loss_weight
        self.reduction = check_reduction(reduction)

    def elementwise(self, pred, target):
        raise NotImplementedError

    def forward(self, pred, target, weight=None):
        return self.loss_weight * weight_reduce_loss(self.elementwise(pred, target), weight, self.reduction)


@LOSS_REGISTRY.register()
class L1Loss(_PixelLoss):
    """Mean absolute error (GFPGAN's pixel loss ×0.1, and the criterion of its pyramid / style / identity losses)."""

    def elementwise(self, pred, target):
        return paddle.abs(pred - target)


@LOSS_REGISTRY.register()
class MSELoss(_PixelLoss):
    def elementwise(self, pred, target):
        return (pred - target) ** 2


@LOSS_REGISTRY.register()
class SmoothL1Loss(_PixelLoss):
    """torch.nn.SmoothL1Loss (GPEN's pixel loss): 0.5·d²/beta below ``beta``, d − 0.5·beta above."""

    def __init__(self, loss_weight=1.0, reduction="mean", beta=1.0):
        super().__init__(loss_weight, reduction)
        self.beta = beta

    def elementwise(self, pred, target):
        diff = paddle.abs(pred - target)
        return paddle.where(diff < self.beta, 0.5 * diff * diff / self.beta, diff - 0.5 * self.beta)


def image_pyramid(img, levels):
    """[img / 2^(levels-1), …, img / 2, img], each level bilinearly halved (align_corners=False)."""
    pyramid = [img]
    for _ in range(levels - 1):
        pyramid.insert(0, F.interpolate(pyramid[0], scale_factor=0.5, mode="bilinear", align_corners=False))
    return pyramid


@LOSS_REGISTRY.register()
class ImagePyramidL1Loss(nn.Layer):
    """GFPGAN's intermediate restoration loss: L1 between each side output ``out_rgbs[i]`` (8×8 … out_size)
    and the GT halved to its size, summed, × ``loss_weight``. GFPGAN sets the weight to 1e-12 after
    ``remove_pyramid_loss`` iterations (so the side outputs keep a gradient); the model assigns ``loss_weight``."""

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, out_rgbs, gt):
        pyramid = image_pyramid(gt, len(out_rgbs))
        return sum(paddle.abs(rgb - level).mean() * self.loss_weight for rgb, level in zip(out_rgbs, pyramid))


def gram_matrix(feat):
    """Gram matrix of N×C×H×W features, divided by C·H·W."""
    n, c, h, w = feat.shape
    flat = feat.reshape([n, c, h * w])
    return paddle.bmm(flat, flat.transpose([0, 2, 1])) / (c * h * w)


def frozen(net, pretrained=None):
    """Load ``pretrained`` (``.pdparams`` or the official ``.pth``) into a loss network and freeze it in eval mode."""
    if pretrained is not None:
        load_weights(net, pretrained)
    net.eval()
    for param in net.parameters():
        param.stop_gradient = True
    return net


def load_vgg_weights(vgg, path):
    """Load full VGG weights (``.pdparams`` or torchvision's ``.pth``) into an extractor that stops at its
    deepest requested layer: the deeper layers' weights are left out."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    own = vgg.state_dict()
    if path.suffix == ".pdparams":
        weights = {k: v for k, v in paddle.load(str(path)).items() if k in own}
    else:
        state_dict = {k: v for k, v in read_state_dict(path, adapter="torchvision_vgg19").items() if k in own}
        weights = map_state_dict(state_dict, vgg, path.name)
    return set_weights(vgg, weights, path.name)


@LOSS_REGISTRY.register()
class PerceptualLoss(nn.Layer):
    """VGG perceptual and style losses, each a sum over ``layer_weights`` ({layer: weight}, layers before ReLU).

    ``criterion`` 'l1' (mean absolute error per layer) or 'fro' (Frobenius norm). Returns
    ``(perceptual or None, style or None)``; a zero weight disables that part. ``pretrained``: VGG weights
    (``vgg19.pdparams`` or torchvision's ``vgg19-dcbb9e9d.pth``); without it the VGG stays random (tests only).
    """

    def __init__(self, layer_weights, vgg_type="vgg19", use_input_norm=True, range_norm=False, perceptual_weight=1.0,
                 style_weight=0., criterion="l1", pretrained=None):
        super().__init__()
        if criterion not in ("l1", "fro"):
            raise ValueError(f"unsupported perceptual criterion {criterion!r}; supported: l1, fro")
        self.layer_weights = dict(layer_weights)
        self.perceptual_weight = perceptual_weight
        self.style_weight = style_weight
        self.criterion = criterion
        self.vgg = VGGFeatureExtractor(list(self.layer_weights), vgg_type=vgg_type, use_input_norm=use_input_norm,
                                       range_norm=range_norm)
        if pretrained is not None:
            load_vgg_weights(self.vgg, pretrained)
        frozen(self.vgg)

    def _distance(self, a, b):
        return paddle.sqrt(((a - b) ** 2).sum()) if self.criterion == "fro" else paddle.abs(a - b).mean()

    def _weighted_sum(self, x_feats, gt_feats, transform):
        return sum(self._distance(transform(x_feats[k]), transform(gt_feats[k])) * self.layer_weights[k]
                   for k in x_feats)

    def forward(self, x, gt):
        x_feats = self.vgg(x)
        gt_feats = self.vgg(gt.detach())
        percep = style = None
        if self.perceptual_weight > 0:
            percep = self._weighted_sum(x_feats, gt_feats, lambda f: f) * self.perceptual_weight
        if self.style_weight > 0:
            style = self._weighted_sum(x_feats, gt_feats, gram_matrix) * self.style_weight
        return percep, style
