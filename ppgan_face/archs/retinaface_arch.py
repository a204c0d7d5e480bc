"""RetinaFace face detector network (facexlib / Pytorch_Retinaface / GPEN), ResNet-50 or MobileNet-0.25.

Parameter names equal the official state-dict keys (``body.*`` in torchvision's ResNet layout or
facexlib's MobileNetV1 layout, ``fpn.*``, ``ssh1..3.*``, ``ClassHead.*``, ``BboxHead.*``,
``LandmarkHead.*``), so the official checkpoints convert by name once their ``module.`` prefix is stripped.
Anchor decoding and NMS live in ``ppgan_face.face.detector``; this file is the network only.
"""
import paddle
import paddle.nn.functional as F
from paddle import nn

from ppgan_face.registry import ARCH_REGISTRY

# facexlib ``generate_config`` without its training-only entries. The anchor settings are data of the
# trained network, read by the detector; ``in_channel``/``out_channel`` size the FPN.
_ANCHORS = dict(min_sizes=[[16, 32], [64, 128], [256, 512]], steps=[8, 16, 32], variance=[0.1, 0.2], clip=False)
RETINAFACE_CONFIGS = {
    "resnet50": dict(in_channel=256, out_channel=256, **_ANCHORS),
    "mobile0.25": dict(in_channel=32, out_channel=64, **_ANCHORS),
}


def _conv_bn(cin, cout, kernel=3, stride=1, groups=1, leaky=None):
    """Conv (no bias) + BatchNorm, then LeakyReLU(``leaky``) unless ``leaky`` is None; as a layer list."""
    layers = [nn.Conv2D(cin, cout, kernel, stride, kernel // 2, groups=groups, bias_attr=False),
              nn.BatchNorm2D(cout)]
    return layers if leaky is None else layers + [nn.LeakyReLU(leaky)]


def _conv_dw(cin, cout, stride):
    """MobileNetV1 depthwise-separable block: 3x3 depthwise and 1x1 pointwise, each BN + LeakyReLU(0.1)."""
    return nn.Sequential(*_conv_bn(cin, cin, 3, stride, groups=cin, leaky=0.1),
                         *_conv_bn(cin, cout, 1, leaky=0.1))


class MobileNetV1Body(nn.Layer):
    """MobileNet-0.25 trunk; returns the outputs of its three stages (strides 8, 16, 32)."""

    def __init__(self):
        super().__init__()
        self.stage1 = nn.Sequential(
            nn.Sequential(*_conv_bn(3, 8, 3, 2, leaky=0.1)),
            _conv_dw(8, 16, 1), _conv_dw(16, 32, 2), _conv_dw(32, 32, 1), _conv_dw(32, 64, 2), _conv_dw(64, 64, 1))
        self.stage2 = nn.Sequential(_conv_dw(64, 128, 2), *[_conv_dw(128, 128, 1) for _ in range(5)])
        self.stage3 = nn.Sequential(_conv_dw(128, 256, 2), _conv_dw(256, 256, 1))

    def forward(self, x):
        c3 = self.stage1(x)
        c4 = self.stage2(c3)
        return [c3, c4, self.stage3(c4)]


class Bottleneck(nn.Layer):
    """torchvision's ResNet v1.5 bottleneck (stride on the 3x3 conv), same attribute names."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2D(inplanes, planes, 1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(planes)
        self.conv2 = nn.Conv2D(planes, planes, 3, stride, 1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(planes)
        self.conv3 = nn.Conv2D(planes, planes * self.expansion, 1, bias_attr=False)
        self.bn3 = nn.BatchNorm2D(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or inplanes != planes * self.expansion:
            self.downsample = nn.Sequential(
                nn.Conv2D(inplanes, planes * self.expansion, 1, stride, bias_attr=False),
                nn.BatchNorm2D(planes * self.expansion))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet50Body(nn.Layer):
    """torchvision ResNet-50 up to ``layer4`` (what IntermediateLayerGetter keeps); returns layer2..4."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2D(3, 64, 7, 2, 3, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2D(3, 2, 1)
        inplanes = 64
        for index, (planes, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
            layers = [Bottleneck(inplanes, planes, stride)]
            inplanes = planes * Bottleneck.expansion
            layers += [Bottleneck(inplanes, planes) for _ in range(1, blocks)]
            setattr(self, f"layer{index + 1}", nn.Sequential(*layers))

    def forward(self, x):
        c2 = self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        return [c3, c4, self.layer4(c4)]


class FPN(nn.Layer):
    """Top-down pyramid over the three trunk outputs, merged by nearest upsampling to the finer size."""

    def __init__(self, in_channels_list, out_channels):
        super().__init__()
        leaky = 0.1 if out_channels <= 64 else 0.0
        for index, cin in enumerate(in_channels_list):
            setattr(self, f"output{index + 1}", nn.Sequential(*_conv_bn(cin, out_channels, 1, leaky=leaky)))
        self.merge1 = nn.Sequential(*_conv_bn(out_channels, out_channels, leaky=leaky))
        self.merge2 = nn.Sequential(*_conv_bn(out_channels, out_channels, leaky=leaky))

    def forward(self, features):
        out1 = self.output1(features[0])
        out2 = self.output2(features[1])
        out3 = self.output3(features[2])
        # sizes as tensors so that an exported graph keeps H and W dynamic
        out2 = self.merge2(out2 + F.interpolate(out3, size=paddle.shape(out2)[2:], mode="nearest"))
        out1 = self.merge1(out1 + F.interpolate(out2, size=paddle.shape(out1)[2:], mode="nearest"))
        return [out1, out2, out3]


class SSH(nn.Layer):
    """Context module: 3x3, 5x5 (two 3x3) and 7x7 (three 3x3) branches concatenated, then ReLU.

    The ReLU is applied to each branch before the concat (the same values): Paddle 3.2.2's oneDNN cannot fuse
    a ReLU that follows a concat ("drr attr [fuse_activation] is not found"), and this way the exported
    detector runs with oneDNN.
    """

    def __init__(self, in_channel, out_channel):
        super().__init__()
        assert out_channel % 4 == 0, "SSH needs out_channel divisible by 4"
        leaky = 0.1 if out_channel <= 64 else 0.0
        quarter = out_channel // 4
        self.conv3X3 = nn.Sequential(*_conv_bn(in_channel, out_channel // 2))
        self.conv5X5_1 = nn.Sequential(*_conv_bn(in_channel, quarter, leaky=leaky))
        self.conv5X5_2 = nn.Sequential(*_conv_bn(quarter, quarter))
        self.conv7X7_2 = nn.Sequential(*_conv_bn(quarter, quarter, leaky=leaky))
        self.conv7x7_3 = nn.Sequential(*_conv_bn(quarter, quarter))

    def forward(self, x):
        branch5 = self.conv5X5_1(x)
        branch7 = self.conv7x7_3(self.conv7X7_2(branch5))
        return paddle.concat([F.relu(self.conv3X3(x)), F.relu(self.conv5X5_2(branch5)), F.relu(branch7)], axis=1)


class _Head(nn.Layer):
    """1x1 conv predicting ``values`` numbers per anchor; output (N, H*W*anchors, values), NHWC order."""

    def __init__(self, inchannels, num_anchors, values):
        super().__init__()
        self.values = values
        self.conv1x1 = nn.Conv2D(inchannels, num_anchors * values, 1)

    def forward(self, x):
        out = self.conv1x1(x).transpose([0, 2, 3, 1])
        return out.reshape([0, -1, self.values])  # 0: keep the (possibly dynamic) batch size


@ARCH_REGISTRY.register()
class RetinaFace(nn.Layer):
    """RetinaFace: trunk -> FPN -> SSH per level -> class / box / landmark heads (2 anchors per cell).

    ``forward`` returns ``(loc, conf, landmarks)`` of shapes (N, P, 4), (N, P, 2), (N, P, 10) over all P
    priors; in the ``'test'`` phase ``conf`` holds softmax probabilities (upstream's inference output),
    in ``'train'`` the raw logits. Built in eval mode like upstream: it is used as a frozen detector.
    """

    def __init__(self, network_name="resnet50", phase="test"):
        super().__init__()
        if network_name not in RETINAFACE_CONFIGS:
            raise ValueError(f"network_name must be one of {sorted(RETINAFACE_CONFIGS)}, got {network_name!r}")
        if phase not in ("test", "train"):
            raise ValueError(f"phase must be 'test' or 'train', got {phase!r}")
        cfg = RETINAFACE_CONFIGS[network_name]
        self.network_name = network_name
        self.phase = phase
        self.body = ResNet50Body() if network_name == "resnet50" else MobileNetV1Body()
        out_channels = cfg["out_channel"]
        self.fpn = FPN([cfg["in_channel"] * 2, cfg["in_channel"] * 4, cfg["in_channel"] * 8], out_channels)
        self.ssh1 = SSH(out_channels, out_channels)
        self.ssh2 = SSH(out_channels, out_channels)
        self.ssh3 = SSH(out_channels, out_channels)
        self.ClassHead = nn.LayerList([_Head(out_channels, 2, 2) for _ in range(3)])
        self.BboxHead = nn.LayerList([_Head(out_channels, 2, 4) for _ in range(3)])
        self.LandmarkHead = nn.LayerList([_Head(out_channels, 2, 10) for _ in range(3)])
        self.eval()

    def forward(self, x):
        pyramid = self.fpn(self.body(x))
        features = [self.ssh1(pyramid[0]), self.ssh2(pyramid[1]), self.ssh3(pyramid[2])]
        loc = paddle.concat([head(f) for head, f in zip(self.BboxHead, features)], axis=1)
        conf = paddle.concat([head(f) for head, f in zip(self.ClassHead, features)], axis=1)
        landmarks = paddle.concat([head(f) for head, f in zip(self.LandmarkHead, features)], axis=1)
        if self.phase == "test":
            conf = F.softmax(conf, axis=-1)
        return loc, conf, landmarks
