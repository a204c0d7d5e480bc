"""LPIPS (Zhang et al. 2018; the ``lpips`` package 0.1.4, ``version='0.1'``): a learned perceptual distance.

Both images go through a frozen ImageNet trunk (AlexNet or VGG16 features, torchvision's weights); at five
ReLU outputs the features are unit-normalised over channels, their squared difference is weighted per channel
by a 1x1 convolution (the "linear heads", calibrated on human judgements and shipped inside the lpips wheel as
``weights/v0.1/{alex,vgg}.pth``), averaged over space and summed over layers.

The trunk and the heads come from two different files, so they are two networks with their own configs and
checkpoints; :class:`LPIPS` joins them.
"""
import paddle
import paddle.nn as nn

from ppgan_face.registry import ARCH_REGISTRY


class NetLinLayer(nn.Layer):
    """Dropout (training only) then a 1x1 convolution to one channel without bias, named as upstream."""

    def __init__(self, channels):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2D(channels, 1, 1, bias_attr=False))

    def forward(self, x):
        return self.model(x)


@ARCH_REGISTRY.register()
class LPIPSHeads(nn.Layer):
    """The linear heads ``lin0`` ... ``lin{n-1}``, one per trunk layer.

    Args:
        channels (list[int]): channels of the trunk layers (Alex: 64, 192, 384, 256, 256).
    """

    def __init__(self, channels):
        super().__init__()
        self.channels = list(channels)
        for index, channels in enumerate(self.channels):
            self.add_sublayer(f"lin{index}", NetLinLayer(channels))

    def forward(self, squared_diffs):
        """Per-layer (N, C, H, W) squared feature differences -> (N, 1, 1, 1) distance."""
        total = 0
        for index, diff in enumerate(squared_diffs):
            total = total + getattr(self, f"lin{index}")(diff).mean(axis=[2, 3], keepdim=True)
        return total


def normalize_channels(x, eps=1e-10):
    """Unit length over channels, as upstream: x / (||x|| + eps)."""
    return x / (paddle.sqrt(paddle.sum(x ** 2, axis=1, keepdim=True)) + eps)


@ARCH_REGISTRY.register()
class LPIPS(nn.Layer):
    """LPIPS distance of two RGB batches in [-1, 1] -> (N, 1, 1, 1); lower is more similar.

    Args:
        trunk (dict): arch options of the feature trunk, which returns ``{name: feature}`` in network order.
        heads (dict): arch options of the :class:`LPIPSHeads`.
    """

    def __init__(self, trunk, heads):
        from ppgan_face.archs import build_arch  # the package imports this module while it registers archs

        super().__init__()
        self.trunk = build_arch(trunk)
        self.heads = build_arch(heads)
        # the ImageNet input normalisation of LPIPS v0.1 expressed for [-1, 1] inputs; constants, not saved
        self.register_buffer("shift", paddle.to_tensor([-0.030, -0.088, -0.188]).reshape([1, 3, 1, 1]),
                             persistable=False)
        self.register_buffer("scale", paddle.to_tensor([0.458, 0.448, 0.450]).reshape([1, 3, 1, 1]),
                             persistable=False)
        for param in self.parameters():
            param.stop_gradient = True
        self.eval()

    def forward(self, x, y):
        feats_x = self.trunk((x - self.shift) / self.scale).values()
        feats_y = self.trunk((y - self.shift) / self.scale).values()
        return self.heads([(normalize_channels(a) - normalize_channels(b)) ** 2 for a, b in zip(feats_x, feats_y)])
