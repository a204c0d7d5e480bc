"""GPEN FullGenerator / Discriminator against the official modules (ModelScope's copy), via the converter."""
import time

import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official


def _gpen():
    return official("modelscope.models.cv.image_portrait_enhancement.gpen")


def _port(theirs, ours, path):
    """Official random weights -> plain state dict file (GPEN's format) -> our converter -> our model."""
    randomize_(theirs).eval()
    load_official_into(ours, save_official(theirs.state_dict(), path))
    return ours.eval()


def _inputs(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return paddle.to_tensor(x), torch.from_numpy(x)


def _compare_full_generator(size, style_dim, n_mlp, tmp_path, batch=1, **kwargs):
    torch.manual_seed(0)
    theirs = _gpen().FullGenerator(size, style_dim, n_mlp, **kwargs)
    ours = _port(theirs, build_arch({"type": "FullGenerator", "size": size, "style_dim": style_dim,
                                     "n_mlp": n_mlp, **kwargs}), tmp_path / "gpen.pth")
    x_pd, x_pt = _inputs((batch, 3, size, size), seed=1)
    start = time.perf_counter()
    with torch.no_grad():
        image_pt, latent_pt = theirs(x_pt)
    torch_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with paddle.no_grad():
        image, latent = ours(x_pd)
    paddle_seconds = time.perf_counter() - start
    assert latent is None and latent_pt is None
    assert_close(image, image_pt, what=f"GPEN FullGenerator {size} {kwargs}")
    return theirs, ours, (x_pd, x_pt), image, torch_seconds, paddle_seconds


@pytest.mark.parametrize("size, style_dim, n_mlp, batch, kwargs", [
    (64, 64, 2, 1, dict(channel_multiplier=1, narrow=0.5)),     # GPEN-BFR-256's widths
    (64, 32, 2, 2, dict(channel_multiplier=2, narrow=0.125)),
    (128, 32, 3, 2, dict(channel_multiplier=2, narrow=0.0625)),
])
def test_full_generator_matches_official(size, style_dim, n_mlp, batch, kwargs, tmp_path):
    _, ours, (x, _), image, _, _ = _compare_full_generator(size, style_dim, n_mlp, tmp_path, batch=batch, **kwargs)
    with paddle.no_grad():
        np.testing.assert_array_equal(ours(x)[0].numpy(), image.numpy())  # deterministic


def test_full_generator_narrow_1(tmp_path):
    """Full-width channels at 32x32 and below (narrow 1) on a small output."""
    _compare_full_generator(32, 32, 1, tmp_path, channel_multiplier=1, narrow=1)


def test_full_generator_latents_and_truncation(tmp_path):
    theirs, ours, (x_pd, x_pt), *_ = _compare_full_generator(64, 32, 2, tmp_path, channel_multiplier=1,
                                                             narrow=0.125)
    mean_pd, mean_pt = _inputs((1, 32), seed=3)
    with torch.no_grad():
        image_pt, latent_pt = theirs(x_pt, return_latents=True, truncation=0.7, truncation_latent=mean_pt)
        as_latent_pt = theirs(x_pt, input_is_latent=True)[0]
    with paddle.no_grad():
        image, latent = ours(x_pd, return_latents=True, truncation=0.7, truncation_latent=mean_pd)
        as_latent = ours(x_pd, input_is_latent=True)[0]
    assert_close(image, image_pt, what="GPEN truncation image")
    assert_close(latent, latent_pt, what="GPEN latents")
    assert_close(as_latent, as_latent_pt, what="GPEN input_is_latent")
    with pytest.raises(ValueError, match="noise"):
        ours.generator([paddle.zeros([1, 32])])


def test_state_dict_keys_equal_official():
    """Every upstream entry, FIR kernels included, has a Paddle counterpart of the same shape."""
    theirs = _gpen().FullGenerator(64, 32, 2, channel_multiplier=1, narrow=0.125).state_dict()
    ours = build_arch({"type": "FullGenerator", "size": 64, "style_dim": 32, "n_mlp": 2, "channel_multiplier": 1,
                       "narrow": 0.125}).state_dict()
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


@pytest.mark.parametrize("size, batch, kwargs", [
    (64, 2, dict(channel_multiplier=1, narrow=0.5)),
    (128, 4, dict(channel_multiplier=2, narrow=0.0625)),
])
def test_discriminator_matches_official(size, batch, kwargs, tmp_path):
    torch.manual_seed(0)
    theirs = _gpen().Discriminator(size, **kwargs)
    ours = _port(theirs, build_arch({"type": "GPENDiscriminator", "size": size, **kwargs}), tmp_path / "d.pth")
    x_pd, x_pt = _inputs((batch, 3, size, size), seed=4)
    with torch.no_grad():
        expected = theirs(x_pt)
    with paddle.no_grad():
        assert_close(ours(x_pd), expected, what=f"GPEN Discriminator {size} {kwargs}")


def test_gpen_bfr_512_full_size(tmp_path):
    """GPEN-BFR-512 (size 512, cm 2, narrow 1), once, on one 512x512 face."""
    theirs, ours, *_, torch_seconds, paddle_seconds = _compare_full_generator(
        512, 512, 8, tmp_path, channel_multiplier=2, narrow=1)
    assert len(ours.state_dict()) == len(theirs.state_dict()) == 163
    print(f"GPEN-BFR-512 forward: torch {torch_seconds:.2f} s, paddle {paddle_seconds:.2f} s")
