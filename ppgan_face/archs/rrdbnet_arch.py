"""RRDBNet (ESRGAN / Real-ESRGAN / Real-ESRNet), BasicSR's layout: the whole-image background upsampler.

One class serves GFPGAN's ``RealESRGAN_x2plus.pth`` (num_feat 64) and GPEN's ``realesrnet_x2.pth``
(num_feat 32): both checkpoints use BasicSR's key names (``conv_first``, ``body.{i}.rdb{1,2,3}.conv{1..5}``,
``conv_body``, ``conv_up1``, ``conv_up2``, ``conv_hr``, ``conv_last``).
"""
import math

import paddle
import paddle.nn.functional as F
from paddle import nn

from ppgan_face.registry import ARCH_REGISTRY


def _scaled_kaiming_conv(cin, cout, scale):
    """3x3 conv with BasicSR's ``default_init_weights``: Kaiming-normal (fan_in) times ``scale``, bias 0.

    The small scale keeps the deep residual stack near identity at the start of training.
    """
    std = scale * math.sqrt(2.0 / (cin * 9))
    return nn.Conv2D(cin, cout, 3, 1, 1, weight_attr=nn.initializer.Normal(0.0, std),
                     bias_attr=nn.initializer.Constant(0.0))


class ResidualDenseBlock(nn.Layer):
    """Five densely connected 3x3 convs; the last one's output, scaled by 0.2, is added to the input."""

    def __init__(self, num_feat=64, num_grow_ch=32):
        super().__init__()
        for index in range(4):
            setattr(self, f"conv{index + 1}",
                    _scaled_kaiming_conv(num_feat + index * num_grow_ch, num_grow_ch, 0.1))
        self.conv5 = _scaled_kaiming_conv(num_feat + 4 * num_grow_ch, num_feat, 0.1)
        self.lrelu = nn.LeakyReLU(0.2)

    def forward(self, x):
        features = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            features.append(self.lrelu(conv(paddle.concat(features, axis=1))))
        return self.conv5(paddle.concat(features, axis=1)) * 0.2 + x


class RRDB(nn.Layer):
    """Residual in residual dense block: three dense blocks, residual scaled by 0.2."""

    def __init__(self, num_feat, num_grow_ch=32):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


def _pixel_unshuffle(x, factor):
    """Space to depth with torch's channel order (``c * factor**2 + i * factor + j``), by reshapes.

    Paddle's ``pixel_unshuffle`` op rejects unknown H and W when a graph is exported, so the export of a
    dynamic-size model would fail; reshapes with run-time sizes do not.
    """
    channels, size = x.shape[1], paddle.shape(x)
    height, width = size[2] // factor, size[3] // factor
    x = x.reshape([0, channels, height, factor, width, factor]).transpose([0, 1, 3, 5, 2, 4])
    return x.reshape([0, channels * factor * factor, height, width])


def _upsample2x(x):
    """Nearest-neighbour x2 by output size (export-friendly: no ``scale_factor``)."""
    return F.interpolate(x, size=paddle.shape(x)[2:] * 2, mode="nearest")


@ARCH_REGISTRY.register()
class RRDBNet(nn.Layer):
    """ESRGAN generator: a trunk of RRDBs at low resolution and two nearest x2 upsampling stages.

    The trunk always upsamples x4; for ``scale`` 2 and 1 the input is first pixel-unshuffled by 2 and 4
    (inputs must then have H and W divisible by 2 and 4). Input and output are RGB in [0, 1].
    """

    def __init__(self, num_in_ch, num_out_ch, scale=4, num_feat=64, num_block=23, num_grow_ch=32):
        super().__init__()
        unshuffle = {4: 1, 2: 2, 1: 4}
        if scale not in unshuffle:
            raise ValueError(f"scale must be 1, 2 or 4, got {scale}")
        self.scale = scale
        self.unshuffle = unshuffle[scale]
        self.conv_first = nn.Conv2D(num_in_ch * self.unshuffle ** 2, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2D(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2D(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2D(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2D(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2D(num_feat, num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.2)

    def forward(self, x):
        feat = _pixel_unshuffle(x, self.unshuffle) if self.unshuffle > 1 else x
        feat = self.conv_first(feat)
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(_upsample2x(feat)))
        feat = self.lrelu(self.conv_up2(_upsample2x(feat)))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))
