"""Networks behind the learned metrics: their weights (with a how-to when missing) and their input tensors."""
from pathlib import Path

import numpy as np
import paddle

from ppgan_face.config import load_config
from ppgan_face.convert.errors import CheckpointError
from ppgan_face.metrics.base import MetricError


def weights_path(config, weights=None, what=None):
    """The weights file for ``config`` (``weights`` or the config's default), or a MetricError saying how to
    get it: the official file to download and the conversion command."""
    path = weights or config.get("weights")
    if path and Path(path).is_file():
        return Path(path)
    spec = config.get("checkpoint") or {}
    source = spec.get("file", "the official checkpoint")
    where = f" ({spec['url']})" if spec.get("url") else ""
    dst = f" --dst {path}" if weights else ""
    raise MetricError(f"{what or config['name']}: weights {path or '(none)'} not found; download {source}{where} "
                      f"and convert it: python tools/convert_weights.py --src {source} --arch {config['name']}{dst}")


def load_weights_into(net, config, weights=None, what=None):
    """Load a config's weights (converted ``.pdparams`` or the official ``.pth``) into ``net``."""
    from ppgan_face.builder import load_checkpoint

    path = weights_path(config, weights, what)
    try:
        load_checkpoint(net, config, path)
    except CheckpointError as err:
        raise MetricError(f"{what or config['name']}: {err}") from None
    net.eval()
    return net


def build_from_config(name, weights=None, what=None):
    """The network of a config (name or path), with its weights, in eval mode."""
    from ppgan_face.builder import build_network

    config = load_config(name)
    return load_weights_into(build_network(config), config, weights, what)


def bgr_to_tensor(images):
    """BGR uint8 images (H, W, 3), all of one size -> RGB float32 (N, 3, H, W) in [-1, 1]."""
    batch = np.stack([image[..., ::-1] for image in images]).astype(np.float32) / 255.0
    return paddle.to_tensor((batch.transpose(0, 3, 1, 2) - 0.5) / 0.5)
