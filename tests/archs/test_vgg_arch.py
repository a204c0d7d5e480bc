"""VGGFeatureExtractor against BasicSR's, both loading the same torchvision-format ``vgg19-dcbb9e9d.pth``.

BasicSR reads the file from ``VGG_PRETRAIN_PATH`` into torchvision's VGG19 (our stand-in, random init, same
keys, classifier included); ours reads it through the ``torchvision_vgg19`` checkpoint adapter.
"""
import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official

PERCEPTUAL_LAYERS = ["conv1_2", "conv2_2", "conv3_4", "conv4_4", "conv5_4"]  # GFPGAN's perceptual loss


@pytest.fixture(scope="module")
def torchvision_file(tmp_path_factory):
    torch.manual_seed(0)
    vgg = official("basicsr.archs.vgg_arch").vgg.vgg19()  # torchvision.models.vgg, as BasicSR imports it
    randomize_(vgg.features)  # random biases too
    return save_official(vgg.state_dict(), tmp_path_factory.mktemp("vgg") / "vgg19-dcbb9e9d.pth")


def _pair(torchvision_file, **config):
    module = official("basicsr.archs.vgg_arch")
    default_path = module.VGG_PRETRAIN_PATH
    module.VGG_PRETRAIN_PATH = str(torchvision_file)
    try:
        theirs = module.VGGFeatureExtractor(**config)
    finally:
        module.VGG_PRETRAIN_PATH = default_path
    ours = build_arch({"type": "VGGFeatureExtractor", **config})
    load_official_into(ours, torchvision_file, adapter="torchvision_vgg19")
    return ours, theirs


def _compare(ours, theirs, image, names, what):
    with torch.no_grad():
        ref = theirs(torch.from_numpy(image))
    with paddle.no_grad():
        out = ours(paddle.to_tensor(image))
    assert list(out) == list(ref) == names
    for name in names:
        assert_close(out[name], ref[name], what=f"{name} {what}")


def test_perceptual_features(torchvision_file):
    """GFPGAN's perceptual-loss extractor; range_norm only acts in forward, so one pair serves both ways."""
    ours, theirs = _pair(torchvision_file, layer_name_list=PERCEPTUAL_LAYERS, vgg_type="vgg19",
                         use_input_norm=True, range_norm=True)
    assert all(p.stop_gradient for p in ours.parameters())
    image = np.random.RandomState(0).uniform(-1, 1, (2, 3, 64, 64)).astype("float32")
    _compare(ours, theirs, image, PERCEPTUAL_LAYERS, "range_norm=True")
    ours.range_norm = theirs.range_norm = False
    _compare(ours, theirs, (image + 1) / 2, PERCEPTUAL_LAYERS, "range_norm=False")


def test_relu_layers_without_pooling_or_input_norm(torchvision_file):
    layers = ["relu1_1", "relu3_4", "conv5_4"]
    ours, theirs = _pair(torchvision_file, layer_name_list=layers, use_input_norm=False, remove_pooling=True,
                         requires_grad=True)
    assert not any(p.stop_gradient for p in ours.parameters())
    assert not any(name.startswith("pool") for name, _ in ours.vgg_net.named_children())
    image = np.random.RandomState(1).uniform(0, 1, (1, 3, 12, 12)).astype("float32")
    _compare(ours, theirs, image, layers, "remove_pooling, no input norm")


def test_adapter_maps_every_torchvision_conv(torchvision_file):
    ours = build_arch({"type": "VGGFeatureExtractor", "layer_name_list": ["conv1_1"]})
    with pytest.raises(Exception, match="unexpected"):  # a shallower extractor has no place for deeper convs
        load_official_into(ours, torchvision_file, adapter="torchvision_vgg19")
