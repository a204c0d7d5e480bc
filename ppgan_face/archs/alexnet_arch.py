"""AlexNet convolutional features (torchvision's ``alexnet().features``): the trunk of LPIPS-Alex.

Layers are named by role (``conv1`` ... ``pool5``) like VGGFeatureExtractor's; torchvision's
``alexnet-owt-7be5be79.pth`` loads through the ``torchvision_alexnet`` checkpoint adapter. Only the layers up
to the deepest requested one are built.
"""
import paddle.nn as nn

from ppgan_face.registry import ARCH_REGISTRY

ALEXNET_LAYER_NAMES = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3",
                       "conv4", "relu4", "conv5", "relu5", "pool5")
# name -> (in channels, out channels, kernel, stride, padding), as torchvision
_CONVS = {"conv1": (3, 64, 11, 4, 2), "conv2": (64, 192, 5, 1, 2), "conv3": (192, 384, 3, 1, 1),
          "conv4": (384, 256, 3, 1, 1), "conv5": (256, 256, 3, 1, 1)}


@ARCH_REGISTRY.register()
class AlexNetFeatureExtractor(nn.Layer):
    """AlexNet features of the named layers, returned as ``{name: feature}`` in network order.

    Args:
        layer_name_list (list[str]): layers whose outputs are returned, e.g. ['relu1', 'relu2'].
    """

    def __init__(self, layer_name_list):
        super().__init__()
        self.layer_name_list = list(layer_name_list)
        unknown = [name for name in self.layer_name_list if name not in ALEXNET_LAYER_NAMES]
        if unknown:
            raise ValueError(f"AlexNet has no layers {unknown}")
        last = max(ALEXNET_LAYER_NAMES.index(name) for name in self.layer_name_list)
        layers = []
        for name in ALEXNET_LAYER_NAMES[:last + 1]:
            if name in _CONVS:
                cin, cout, kernel, stride, padding = _CONVS[name]
                layers.append((name, nn.Conv2D(cin, cout, kernel, stride=stride, padding=padding)))
            elif name.startswith("relu"):
                layers.append((name, nn.ReLU()))
            else:
                layers.append((name, nn.MaxPool2D(kernel_size=3, stride=2)))
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        features = {}
        for name, layer in self.features.named_children():
            x = layer(x)
            if name in self.layer_name_list:
                features[name] = x
        return features
