"""VGG feature extractor for perceptual and style losses (BasicSR ``basicsr/archs/vgg_arch.py``).

Layers are named like BasicSR's (``vgg_net.conv1_1`` ...), so a BasicSR state dict loads as is; torchvision's
``vgg19-dcbb9e9d.pth`` (``features.{i}``) loads through the ``torchvision_vgg19`` checkpoint adapter.
Only the layers up to the deepest requested one are built.
"""
import paddle
import paddle.nn as nn

from ppgan_face.registry import ARCH_REGISTRY

# convolutions per block of each VGG variant (blocks have 64, 128, 256, 512, 512 channels)
_BLOCK_CONVS = {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3),
                "vgg19": (2, 2, 4, 4, 4)}
_BLOCK_CHANNELS = (64, 128, 256, 512, 512)


def vgg_layer_names(vgg_type):
    """torchvision's ``features`` layers in order, named like BasicSR (conv/bn/relu{block}_{i}, pool{block})."""
    with_bn = vgg_type.endswith("_bn")
    names = []
    for block, num_convs in enumerate(_BLOCK_CONVS[vgg_type.replace("_bn", "")], start=1):
        for i in range(1, num_convs + 1):
            names += [f"conv{block}_{i}"] + ([f"bn{block}_{i}"] if with_bn else []) + [f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


@ARCH_REGISTRY.register()
class VGGFeatureExtractor(nn.Layer):
    """VGG features of the named layers.

    Args:
        layer_name_list (list[str]): layers whose outputs are returned, e.g. ['conv1_2', 'relu2_1'].
        vgg_type (str): vgg11/13/16/19, optionally with '_bn'.
        use_input_norm (bool): normalise a [0, 1] input with the ImageNet mean / std.
        range_norm (bool): map a [-1, 1] input to [0, 1] first.
        requires_grad (bool): train the VGG weights (normally frozen).
        remove_pooling (bool): drop the max-pooling layers.
        pooling_stride (int): stride of the max-pooling layers.
    """

    def __init__(self, layer_name_list, vgg_type="vgg19", use_input_norm=True, range_norm=False,
                 requires_grad=False, remove_pooling=False, pooling_stride=2):
        super().__init__()
        self.layer_name_list = list(layer_name_list)
        self.use_input_norm = use_input_norm
        self.range_norm = range_norm
        self.names = vgg_layer_names(vgg_type)
        unknown = [name for name in self.layer_name_list if name not in self.names]
        if unknown:
            raise ValueError(f"{vgg_type} has no layers {unknown}")
        last = max(self.names.index(name) for name in self.layer_name_list)

        layers, channels = [], 3
        for name in self.names[:last + 1]:
            if name.startswith("conv"):
                out_channels = _BLOCK_CHANNELS[int(name[4]) - 1]
                layers.append((name, nn.Conv2D(channels, out_channels, 3, padding=1)))
                channels = out_channels
            elif name.startswith("bn"):
                layers.append((name, nn.BatchNorm2D(channels)))
            elif name.startswith("relu"):
                layers.append((name, nn.ReLU()))
            elif not remove_pooling:
                layers.append((name, nn.MaxPool2D(kernel_size=2, stride=pooling_stride)))
        self.vgg_net = nn.Sequential(*layers)

        if requires_grad:
            self.vgg_net.train()
        else:
            self.vgg_net.eval()
            for param in self.parameters():
                param.stop_gradient = True
        if use_input_norm:
            # ImageNet statistics of [0, 1] images. Constants, so not saved (BasicSR saves them; nothing
            # publishes such a state dict, and torchvision's weights file has none).
            self.register_buffer("mean", paddle.to_tensor([0.485, 0.456, 0.406]).reshape([1, 3, 1, 1]),
                                 persistable=False)
            self.register_buffer("std", paddle.to_tensor([0.229, 0.224, 0.225]).reshape([1, 3, 1, 1]),
                                 persistable=False)

    def forward(self, x):
        """Return ``{layer name: feature}`` for the layers of ``layer_name_list``."""
        if self.range_norm:
            x = (x + 1) / 2
        if self.use_input_norm:
            x = (x - self.mean) / self.std
        features = {}
        for name, layer in self.vgg_net.named_children():
            x = layer(x)
            if name in self.layer_name_list:
                features[name] = x
        return features
