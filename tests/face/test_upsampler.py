"""TiledUpsampler against Real-ESRGAN's RealESRGANer (tiles, pads, gray / BGRA / 16-bit), small RRDBNet."""
import numpy as np
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from ppgan_face.face import TiledUpsampler
from ppgan_face.inference import DygraphRunner
from tests.face.photos import assert_close_images
from tests.oracles import official, randomize_, save_official

SMALL = dict(num_in_ch=3, num_out_ch=3, num_feat=8, num_block=1, num_grow_ch=8, scale=2)


def upsampler_pair(tmp_path, tile, tile_pad, pre_pad, scale=2):
    """(ours, RealESRGANer) over the same random RRDBNet, saved and converted as ``params_ema``."""
    torch.manual_seed(0)
    net = randomize_(official("basicsr.archs.rrdbnet_arch").RRDBNet(**{**SMALL, "scale": scale}).eval())
    with torch.no_grad():
        net.conv_last.bias += 0.5  # outputs around mid-gray, not clipped at 0,
        net.conv_last.weight *= 10  # and varied (the random trunk attenuates its input)
    path = save_official(net.state_dict(), tmp_path / "rrdbnet.pth", key="params_ema")
    theirs = official("realesrgan.utils").RealESRGANer(scale, str(path), model=net, tile=tile, tile_pad=tile_pad,
                                                       pre_pad=pre_pad, device=torch.device("cpu"))
    ours = load_official_into(build_arch({"type": "RRDBNet", **SMALL, "scale": scale}), path)
    return TiledUpsampler(DygraphRunner(ours), scale, tile, tile_pad, pre_pad), theirs


def _image(mode, height=45, width=61, seed=0):
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[:height, :width]
    base = (np.sin(xx / 5.0) * np.cos(yy / 7.0) + 1) / 2
    channels = {"bgr": 3, "bgra": 4, "gray": 1, "bgr16": 3}[mode]
    image = np.stack([base * (0.5 + 0.5 * rng.rand()) + rng.rand(height, width) * 0.2 for _ in range(channels)], -1)
    image = np.clip(image, 0, 1)
    if mode == "bgr16":
        return (image * 65535).astype(np.uint16)
    image = (image * 255).astype(np.uint8)
    return image[:, :, 0] if mode == "gray" else image


def assert_matches(mine, ref, what):
    """Within one level everywhere (network outputs differ by ~1e-6 before rounding)."""
    levels = ref.std() / (np.iinfo(ref.dtype).max / 255)
    assert levels > 3 and (ref == 0).mean() < 0.1, f"{what}: flat output (std {levels:.2f} grey levels)"
    assert_close_images(mine, ref, what, max_frac=0.0, max_abs=1)


# even tile sides only: RRDBNet x2 needs them (upstream fails on odd ones too)
@pytest.mark.parametrize("tile,tile_pad,pre_pad", [(0, 10, 0), (16, 4, 0), (20, 4, 5)])
@pytest.mark.parametrize("mode", ["bgr", "bgra", "gray", "bgr16"])
def test_enhance_matches_realesrganer(tmp_path, tile, tile_pad, pre_pad, mode):
    ours, theirs = upsampler_pair(tmp_path, tile, tile_pad, pre_pad)
    image = _image(mode)
    for outscale in (2, 3):
        ref, _ = theirs.enhance(image, outscale=outscale)
        assert_matches(ours.enhance(image, outscale=outscale), ref, f"{mode} tile {tile} x{outscale}")


def test_tiling_is_exercised(tmp_path):
    """Tiles without context differ from the whole image at the seams: the tile parity above is not vacuous."""
    whole, _ = upsampler_pair(tmp_path, 0, 0, 0)
    tiled, _ = upsampler_pair(tmp_path, 16, 0, 0)
    image = _image("bgr", 48, 64)
    diff = np.abs(whole.enhance(image).astype(int) - tiled.enhance(image))
    assert diff.max() > 2
