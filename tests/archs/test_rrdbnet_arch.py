"""RRDBNet against BasicSR's, through the official checkpoint format (``params_ema``)."""
import time

import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.config import load_config
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official

SMALL = [  # (constructor kwargs, input shape): every scale, odd sizes where the scale allows them
    (dict(scale=1, num_feat=16, num_block=2, num_grow_ch=8), (2, 3, 16, 24)),
    (dict(scale=2, num_feat=16, num_block=2, num_grow_ch=8), (1, 3, 18, 10)),
    (dict(scale=4, num_feat=32, num_block=1, num_grow_ch=16), (1, 3, 9, 7)),
]


def _pair(kwargs, tmp_path, seed=0):
    """Random BasicSR model -> ``{'params_ema': ...}`` checkpoint -> our converter -> our model."""
    torch.manual_seed(seed)
    theirs = randomize_(official("basicsr.archs.rrdbnet_arch").RRDBNet(3, 3, **kwargs).eval(), seed=seed)
    path = save_official(theirs.state_dict(), tmp_path / "rrdbnet.pth", key="params_ema")
    ours = load_official_into(build_arch({"type": "RRDBNet", "num_in_ch": 3, "num_out_ch": 3, **kwargs}), path)
    return ours.eval(), theirs


def _check(kwargs, shape, tmp_path, what):
    ours, theirs = _pair(kwargs, tmp_path)
    x = np.random.RandomState(0).uniform(0, 1, shape).astype("float32")
    start = time.perf_counter()
    with paddle.no_grad():
        out = ours(paddle.to_tensor(x))
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        ref = theirs(torch.from_numpy(x))
    scale = kwargs.get("scale", 4)
    assert tuple(ref.shape) == (shape[0], 3, shape[2] * scale, shape[3] * scale)
    print(f"{what} {'x'.join(map(str, shape))}: Paddle {elapsed:.2f} s")
    assert_close(out, ref, what=what)


@pytest.mark.parametrize("kwargs,shape", SMALL, ids=["x1-nf16", "x2-nf16", "x4-nf32"])
def test_small_configs(kwargs, shape, tmp_path):
    _check(kwargs, shape, tmp_path, f"RRDBNet x{kwargs['scale']} nf{kwargs['num_feat']}")


@pytest.mark.parametrize("name,shape", [("realesrgan_x2plus", (1, 3, 64, 64)), ("realesrnet_x2", (1, 3, 32, 32))])
def test_public_configs(name, shape, tmp_path):
    """GFPGAN's background upsampler (nf 64) and GPEN's Real-ESRNet (nf 32), both 23 blocks, x2."""
    model = load_config(name)["model"]
    _check({k: v for k, v in model.items() if k not in ("type", "num_in_ch", "num_out_ch")}, shape, tmp_path, name)


def test_unsupported_scale_is_rejected():
    with pytest.raises(ValueError, match="scale"):
        build_arch({"type": "RRDBNet", "num_in_ch": 3, "num_out_ch": 3, "scale": 3})
