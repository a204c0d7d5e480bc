"""Checkpoint adapters: rename or rework an official state dict whose keys differ from our networks'.

Most official checkpoints need no adapter (our parameter names equal upstream's). An adapter is named in a
config's ``checkpoint.adapter`` and receives / returns ``{key: numpy array}``.
"""
from ppgan_face.registry import Registry

CHECKPOINT_ADAPTERS = Registry("checkpoint adapter")


def _torchvision_features(state_dict, names, prefix):
    """torchvision ``features.{i}.*`` -> ``{prefix}.{names[i]}.*``; the classifier is dropped. Other keys are
    kept, so the converter reports them."""
    adapted = {}
    for key, value in state_dict.items():
        if key.startswith("classifier."):
            continue
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "features" and parts[1].isdigit() and int(parts[1]) < len(names):
            key = f"{prefix}.{names[int(parts[1])]}.{parts[2]}"
        adapted[key] = value
    return adapted


@CHECKPOINT_ADAPTERS.register()
def torchvision_vgg19(state_dict):
    """torchvision ``vgg19-dcbb9e9d.pth`` -> VGGFeatureExtractor (``vgg_net.conv1_1`` ...)."""
    from ppgan_face.archs.vgg_arch import vgg_layer_names

    return _torchvision_features(state_dict, vgg_layer_names("vgg19"), "vgg_net")


@CHECKPOINT_ADAPTERS.register()
def torchvision_vgg16(state_dict):
    """torchvision ``vgg16-397923af.pth`` -> VGGFeatureExtractor (LPIPS-VGG's trunk)."""
    from ppgan_face.archs.vgg_arch import vgg_layer_names

    return _torchvision_features(state_dict, vgg_layer_names("vgg16"), "vgg_net")


@CHECKPOINT_ADAPTERS.register()
def torchvision_alexnet(state_dict):
    """torchvision ``alexnet-owt-7be5be79.pth`` -> AlexNetFeatureExtractor (LPIPS-Alex's trunk)."""
    from ppgan_face.archs.alexnet_arch import ALEXNET_LAYER_NAMES

    return _torchvision_features(state_dict, ALEXNET_LAYER_NAMES, "features")
