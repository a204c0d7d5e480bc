"""ResNetArcFace (``gfpgan/archs/arcface_arch.py``): the face-recognition network of GFPGAN's identity loss.

It embeds a 1x128x128 gray face into a 512-d identity feature (``arcface_resnet18.pth``: IRBlock,
layers [2, 2, 2, 2], no SE). Parameter names equal upstream's.

Upstream also defines BasicBlock and Bottleneck, but ResNetArcFace cannot build them (it only resolves the
name 'IRBlock' and passes ``use_se`` to every block), so they are not ported.
"""
import paddle.nn as nn

from ppgan_face.registry import ARCH_REGISTRY


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2D(in_planes, out_planes, 3, stride=stride, padding=1, bias_attr=False)


class SEBlock(nn.Layer):
    """Squeeze-and-excitation: rescale channels by a gate computed from their global average."""

    def __init__(self, channel, reduction=16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Sequential(nn.Linear(channel, channel // reduction), nn.PReLU(),
                                nn.Linear(channel // reduction, channel), nn.Sigmoid())

    def forward(self, x):
        gate = self.fc(self.avg_pool(x).reshape([0, -1]))
        return x * gate.unsqueeze([2, 3])


class IRBlock(nn.Layer):
    """Improved residual block: BN - conv - BN - PReLU - conv(stride) - BN [- SE], plus the shortcut.

    One PReLU (a single slope) is shared by the inner activation and the output, as upstream.
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, use_se=True):
        super().__init__()
        self.bn0 = nn.BatchNorm2D(inplanes)
        self.conv1 = conv3x3(inplanes, inplanes)
        self.bn1 = nn.BatchNorm2D(inplanes)
        self.prelu = nn.PReLU()
        self.conv2 = conv3x3(inplanes, planes, stride)
        self.bn2 = nn.BatchNorm2D(planes)
        self.downsample = downsample
        self.use_se = use_se
        if use_se:
            self.se = SEBlock(planes)

    def forward(self, x):
        out = self.prelu(self.bn1(self.conv1(self.bn0(x))))
        out = self.bn2(self.conv2(out))
        if self.use_se:
            out = self.se(out)
        residual = x if self.downsample is None else self.downsample(x)
        return self.prelu(out + residual)


@ARCH_REGISTRY.register()
class ResNetArcFace(nn.Layer):
    """ArcFace ResNet on 1x128x128 gray faces; returns the (b, 512) embedding (after fc5 and bn5).

    Args:
        block (str): residual block type; only 'IRBlock' (as upstream).
        layers (list[int]): blocks per stage.
        use_se (bool): squeeze-and-excitation in each block.
    """

    def __init__(self, block, layers, use_se=True):
        super().__init__()
        if block != "IRBlock":
            raise ValueError(f"ResNetArcFace supports block='IRBlock' only, got {block!r}")
        self.inplanes = 64
        self.use_se = use_se
        self.conv1 = nn.Conv2D(1, 64, 3, padding=1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(64)
        self.prelu = nn.PReLU()
        self.maxpool = nn.MaxPool2D(kernel_size=2, stride=2)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.bn4 = nn.BatchNorm2D(512)
        self.dropout = nn.Dropout()
        self.fc5 = nn.Linear(512 * 8 * 8, 512)
        self.bn5 = nn.BatchNorm1D(512)

    def _make_layer(self, planes, num_blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2D(self.inplanes, planes, 1, stride=stride, bias_attr=False),
                                       nn.BatchNorm2D(planes))
        blocks = [IRBlock(self.inplanes, planes, stride, downsample, use_se=self.use_se)]
        self.inplanes = planes
        blocks += [IRBlock(planes, planes, use_se=self.use_se) for _ in range(1, num_blocks)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.prelu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(self.bn4(x))
        return self.bn5(self.fc5(x.reshape([0, -1])))
