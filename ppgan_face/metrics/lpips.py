"""LPIPS between restored and GT faces, computing what the official ``lpips`` package (0.1.4) computes.

Images go in as RGB in [-1, 1] (``lpips.LPIPS(...)(x, y)`` with ``normalize=False``, as BasicSR's
``scripts/metrics/calculate_lpips.py``, which uses the VGG trunk). The network joins two checkpoints: the
torchvision trunk and the lpips wheel's linear heads (configs ``lpips_vgg`` / ``lpips_alex``).
"""
import paddle

from ppgan_face.archs import build_arch
from ppgan_face.config import load_config
from ppgan_face.metrics.base import FullReferenceMetric
from ppgan_face.metrics.networks import bgr_to_tensor, load_weights_into
from ppgan_face.registry import METRIC_REGISTRY


def build_lpips(net="lpips_vgg", weights=None, trunk_weights=None):
    """LPIPS network of a heads config (``lpips_vgg`` / ``lpips_alex``) and the trunk config it names."""
    heads = load_config(net)
    trunk = load_config(heads["lpips"]["trunk"])
    model = build_arch({"type": "LPIPS", "trunk": trunk["model"], "heads": heads["model"]})
    load_weights_into(model.trunk, trunk, trunk_weights, what=f"lpips trunk ({trunk['name']})")
    load_weights_into(model.heads, heads, weights, what=f"lpips heads ({heads['name']})")
    return model


@METRIC_REGISTRY.register(name="LPIPS")
class LPIPSMetric(FullReferenceMetric):
    """Learned perceptual distance (lower is better).

    Args:
        net (str): heads config, ``lpips_vgg`` or ``lpips_alex``.
        weights (str): converted heads (default: the config's ``weights``).
        trunk_weights (str): converted trunk (default: the trunk config's ``weights``).
    """

    higher_is_better = False

    def __init__(self, net="lpips_vgg", weights=None, trunk_weights=None):
        self.model = build_lpips(net, weights, trunk_weights)

    def __call__(self, restored, gt):
        if restored.shape != gt.shape:
            raise ValueError(f"image shapes differ: {restored.shape} and {gt.shape}")
        with paddle.no_grad():
            return float(self.model(bgr_to_tensor([restored]), bgr_to_tensor([gt])).item())
