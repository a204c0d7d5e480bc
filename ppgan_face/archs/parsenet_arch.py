"""ParseNet (PSFRGAN's face parsing network, facexlib's ``parsing_parsenet.pth``): 19-class face parsing
for GFPGAN's paste-back mask. Same parameter names as facexlib, so the official file converts as is.

Encoder (stride-2 residual blocks down to ``min_feat_size``), residual body with a long skip, decoder
(nearest ×2 residual blocks), then two heads: the parsing logits and an auxiliary image. Convs use
reflection padding; channels are clipped to ``ch_range``.
"""
import math

import paddle.nn.functional as F
from paddle import nn

from ppgan_face.registry import ARCH_REGISTRY


def _norm(channels, norm_type):
    if norm_type == "bn":
        return nn.BatchNorm2D(channels)
    if norm_type == "none":
        return None
    raise ValueError(f"ParseNet norm_type {norm_type!r} is not supported (bn, none)")


def _activation(channels, relu_type):
    relu_type = relu_type.lower()
    if relu_type == "relu":
        return nn.ReLU()
    if relu_type == "leakyrelu":
        return nn.LeakyReLU(0.2)
    if relu_type == "prelu":
        return nn.PReLU(channels)
    if relu_type == "none":
        return None
    raise ValueError(f"ParseNet relu_type {relu_type!r} is not supported (relu, leakyrelu, prelu, none)")


class _Wrap(nn.Layer):
    """Holds a layer under upstream's attribute name (``norm.norm``, ``relu.func``)."""

    def __init__(self, name, layer):
        super().__init__()
        setattr(self, name, layer)
        self._inner = name

    def forward(self, x):
        return getattr(self, self._inner)(x)


class ConvLayer(nn.Layer):
    """[nearest ×2] → reflection pad → conv (stride 2 for ``down``) → [BatchNorm] → [activation]."""

    def __init__(self, in_channels, out_channels, kernel_size=3, scale="none", norm_type="none",
                 relu_type="none"):
        super().__init__()
        self.upsample = scale == "up"
        self.pad = math.ceil((kernel_size - 1) / 2)
        norm = _norm(out_channels, norm_type)
        self.conv2d = nn.Conv2D(in_channels, out_channels, kernel_size, 2 if scale == "down" else 1,
                                bias_attr=None if norm is None else False)
        act = _activation(out_channels, relu_type)
        self.norm = None if norm is None else _Wrap("norm", norm)
        self.relu = None if act is None else _Wrap("func", act)

    def forward(self, x):
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.conv2d(F.pad(x, [self.pad] * 4, mode="reflect"))
        if self.norm is not None:
            x = self.norm(x)
        return x if self.relu is None else self.relu(x)


class ResidualBlock(nn.Layer):
    """Two ConvLayers plus a shortcut (identity, or a plain ConvLayer when the shape changes)."""

    def __init__(self, c_in, c_out, relu_type="prelu", norm_type="bn", scale="none"):
        super().__init__()
        self.shortcut_func = None if scale == "none" and c_in == c_out else ConvLayer(c_in, c_out, 3, scale)
        first, second = {"down": ("none", "down"), "up": ("up", "none"), "none": ("none", "none")}[scale]
        self.conv1 = ConvLayer(c_in, c_out, 3, first, norm_type, relu_type)
        self.conv2 = ConvLayer(c_out, c_out, 3, second, norm_type, "none")

    def forward(self, x):
        identity = x if self.shortcut_func is None else self.shortcut_func(x)
        return identity + self.conv2(self.conv1(x))


@ARCH_REGISTRY.register()
class ParseNet(nn.Layer):
    """Face parsing: N×3×S×S RGB in [-1, 1] → (parsing logits N×parsing_ch×S×S, image N×3×S×S)."""

    def __init__(self, in_size=128, out_size=128, min_feat_size=32, base_ch=64, parsing_ch=19, res_depth=10,
                 relu_type="LeakyReLU", norm_type="bn", ch_range=(32, 256)):
        super().__init__()
        min_ch, max_ch = ch_range

        def clip(channels):
            return max(min_ch, min(channels, max_ch))

        min_feat_size = min(in_size, min_feat_size)
        act = dict(norm_type=norm_type, relu_type=relu_type)
        encoder, head = [ConvLayer(3, base_ch, 3)], base_ch
        for _ in range(int(math.log2(in_size // min_feat_size))):
            encoder.append(ResidualBlock(clip(head), clip(head * 2), scale="down", **act))
            head *= 2
        body = [ResidualBlock(clip(head), clip(head), **act) for _ in range(res_depth)]
        decoder = []
        for _ in range(int(math.log2(out_size // min_feat_size))):
            decoder.append(ResidualBlock(clip(head), clip(head // 2), scale="up", **act))
            head //= 2
        self.encoder = nn.Sequential(*encoder)
        self.body = nn.Sequential(*body)
        self.decoder = nn.Sequential(*decoder)
        self.out_img_conv = ConvLayer(clip(head), 3)
        self.out_mask_conv = ConvLayer(clip(head), parsing_ch)

    def forward(self, x):
        feat = self.encoder(x)
        x = self.decoder(feat + self.body(feat))
        return self.out_mask_conv(x), self.out_img_conv(x)
