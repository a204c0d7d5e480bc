"""StyleGAN2GeneratorClean against GFPGAN's official clean StyleGAN2, through the official checkpoint format."""
import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official

# 64x64 covers a channel change (32 -> 16 at 64x64) at a small size
CONFIG = dict(out_size=64, num_style_feat=16, num_mlp=2, channel_multiplier=1, narrow=1 / 16)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    torch.manual_seed(0)
    theirs = official("gfpgan.archs.stylegan2_clean_arch").StyleGAN2GeneratorClean(**CONFIG).eval()
    randomize_(theirs)
    path = save_official(theirs.state_dict(), tmp_path_factory.mktemp("sg2") / "sg2.pth", key="params_ema")
    ours = build_arch({"type": "StyleGAN2GeneratorClean", **CONFIG})
    load_official_into(ours, path)
    ours.eval()
    return ours, theirs


def _codes(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def _run(model, framework, styles, **kwargs):
    if framework == "torch":
        with torch.no_grad():
            return model([torch.from_numpy(s) for s in styles], **kwargs)
    with paddle.no_grad():
        return model([paddle.to_tensor(s) for s in styles], **kwargs)


def test_stored_noise(pair):
    ours, theirs = pair
    z = [_codes(2, 16)]
    image, latent = _run(ours, "paddle", z)  # eval default: stored noise buffers
    ref, _ = _run(theirs, "torch", z, randomize_noise=False)
    assert latent is None
    assert_close(image, ref, what="stored noise, z input")
    image, _ = _run(ours, "paddle", z, randomize_noise=False)
    assert_close(image, ref, what="randomize_noise=False")


def test_given_noise_truncation_latents(pair):
    ours, theirs = pair
    w = [_codes(2, 16, seed=1)]
    mean_w = _codes(1, 16, seed=2)
    noise = [_codes(1, 1, 2**((i + 5) // 2), 2**((i + 5) // 2), seed=10 + i) for i in range(ours.num_layers)]
    kwargs = dict(input_is_latent=True, truncation=0.7, return_latents=True)
    image, latent = _run(ours, "paddle", w, noise=[paddle.to_tensor(n) for n in noise],
                         truncation_latent=paddle.to_tensor(mean_w), **kwargs)
    ref, ref_latent = _run(theirs, "torch", w, noise=[torch.from_numpy(n) for n in noise],
                           truncation_latent=torch.from_numpy(mean_w), **kwargs)
    assert_close(image, ref, what="given noise, truncation")
    assert_close(latent, ref_latent, what="latents")


def test_style_mixing_and_per_layer_codes(pair):
    ours, theirs = pair
    z = [_codes(2, 16, seed=3), _codes(2, 16, seed=4)]
    image, _ = _run(ours, "paddle", z, inject_index=3)
    ref, _ = _run(theirs, "torch", z, inject_index=3, randomize_noise=False)
    assert_close(image, ref, what="style mixing")
    w_plus = [_codes(2, ours.num_latent, 16, seed=5)]
    image, _ = _run(ours, "paddle", w_plus, input_is_latent=True)
    ref, _ = _run(theirs, "torch", w_plus, input_is_latent=True, randomize_noise=False)
    assert_close(image, ref, what="per-layer w codes")


def test_noise_follows_training_mode(pair):
    ours, _ = pair
    z = [_codes(1, 16, seed=6)]
    first, _ = _run(ours, "paddle", z)
    second, _ = _run(ours, "paddle", z)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    ours.train()
    try:
        fresh, _ = _run(ours, "paddle", z)
        assert np.abs(fresh.numpy() - first.numpy()).max() > 1e-3
    finally:
        ours.eval()


def test_keys_equal_upstream(pair):
    ours, theirs = pair
    assert set(ours.state_dict()) == set(theirs.state_dict())
