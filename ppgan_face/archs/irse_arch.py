"""IR-SE ResNet face recognition backbone (InsightFace_Pytorch ``Backbone``): GPEN's identity-loss network.

Ported from facexlib ``recognition/arcface_arch.py`` / GPEN ``training/loss/model_irse.py`` (the GPEN copy
adds ``input_size`` and ``affine``, which are kept). ``model_ir_se50.pth`` is ``IRSEBackbone(112, 50,
'ir_se')``; parameter names equal the checkpoint's keys (``input_layer``, ``body``, ``output_layer``).
Upstream calls the class ``Backbone``; it is registered here under a name that says what it is.
"""
import paddle
import paddle.nn as nn

from ppgan_face.registry import ARCH_REGISTRY

# blocks per stage (the first block of each stage halves the resolution); output channels 64, 128, 256, 512
_STAGE_UNITS = {50: (3, 4, 14, 3), 100: (3, 13, 30, 3), 152: (3, 8, 36, 3)}
_STAGE_DEPTHS = (64, 128, 256, 512)


class SEModule(nn.Layer):
    """Squeeze-and-excitation with 1x1 convs (no bias)."""

    def __init__(self, channels, reduction):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.fc1 = nn.Conv2D(channels, channels // reduction, 1, bias_attr=False)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2D(channels // reduction, channels, 1, bias_attr=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))


class BottleneckIR(nn.Layer):
    """Pre-activation IR unit: BN - conv3x3 - PReLU - conv3x3(stride) - BN [- SE], plus the shortcut.

    The shortcut subsamples (max-pool of size 1) when the depth is kept, else is a strided 1x1 conv + BN.
    """

    def __init__(self, in_channel, depth, stride, use_se):
        super().__init__()
        if in_channel == depth:
            self.shortcut_layer = nn.MaxPool2D(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2D(in_channel, depth, 1, stride, bias_attr=False),
                                                nn.BatchNorm2D(depth))
        layers = [nn.BatchNorm2D(in_channel), nn.Conv2D(in_channel, depth, 3, 1, 1, bias_attr=False),
                  nn.PReLU(depth), nn.Conv2D(depth, depth, 3, stride, 1, bias_attr=False), nn.BatchNorm2D(depth)]
        if use_se:
            layers.append(SEModule(depth, 16))
        self.res_layer = nn.Sequential(*layers)

    def forward(self, x):
        return self.res_layer(x) + self.shortcut_layer(x)


@ARCH_REGISTRY.register()
class IRSEBackbone(nn.Layer):
    """ArcFace IR / IR-SE ResNet on RGB faces; returns the L2-normalised (b, 512) embedding.

    Args:
        input_size (int): 112 or 224 (the flattened output feature map is 7x7 or 14x14).
        num_layers (int): 50, 100 or 152.
        mode (str): 'ir' or 'ir_se' (with squeeze-and-excitation).
        drop_ratio (float): dropout before the embedding layer (training only).
        affine (bool): learnable scale/shift in the final BatchNorm1D.
    """

    def __init__(self, input_size=112, num_layers=50, mode="ir", drop_ratio=0.4, affine=True):
        super().__init__()
        if input_size not in (112, 224):
            raise ValueError(f"input_size must be 112 or 224, got {input_size}")
        if num_layers not in _STAGE_UNITS:
            raise ValueError(f"num_layers must be 50, 100 or 152, got {num_layers}")
        if mode not in ("ir", "ir_se"):
            raise ValueError(f"mode must be 'ir' or 'ir_se', got {mode!r}")
        self.input_layer = nn.Sequential(nn.Conv2D(3, 64, 3, 1, 1, bias_attr=False), nn.BatchNorm2D(64),
                                         nn.PReLU(64))
        units, in_channel = [], 64
        for depth, num_units in zip(_STAGE_DEPTHS, _STAGE_UNITS[num_layers]):
            for k in range(num_units):
                units.append(BottleneckIR(in_channel, depth, 2 if k == 0 else 1, use_se=mode == "ir_se"))
                in_channel = depth
        self.body = nn.Sequential(*units)
        side = input_size // 16
        bn_attr = None if affine else False
        self.output_layer = nn.Sequential(nn.BatchNorm2D(512), nn.Dropout(drop_ratio), nn.Flatten(),
                                          nn.Linear(512 * side * side, 512),
                                          nn.BatchNorm1D(512, weight_attr=bn_attr, bias_attr=bn_attr))

    def forward(self, x):
        x = self.output_layer(self.body(self.input_layer(x)))
        return x / paddle.linalg.norm(x, p=2, axis=1, keepdim=True)
