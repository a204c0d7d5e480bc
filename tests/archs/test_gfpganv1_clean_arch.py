"""GFPGANv1Clean against GFPGAN's official code, through the official checkpoint format (``params_ema``)."""
import time

import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official

SMALL = [  # (config, batch): every switch both ways; narrow 1 only at 16x16 to stay cheap (Paddle's CPU conv is slow)
    (dict(out_size=64, num_style_feat=32, channel_multiplier=1, narrow=0.5, num_mlp=2, input_is_latent=True,
          different_w=True, sft_half=True), 2),
    (dict(out_size=64, num_style_feat=32, channel_multiplier=2, narrow=0.5, num_mlp=2, input_is_latent=False,
          different_w=False, sft_half=False), 1),
    (dict(out_size=16, num_style_feat=32, channel_multiplier=2, narrow=1, num_mlp=1, input_is_latent=True,
          different_w=True, sft_half=False), 2),
]
# the public GFPGAN v1.3 / v1.4 network
FULL = dict(out_size=512, num_style_feat=512, channel_multiplier=2, narrow=1, num_mlp=8, input_is_latent=True,
            different_w=True, sft_half=True)


def _official_module():
    return official("gfpgan.archs.gfpganv1_clean_arch")


def _pair(config, tmp_path, seed=0):
    """Random official model -> official checkpoint -> our converter -> our model (both in eval mode)."""
    torch.manual_seed(seed)
    theirs = _official_module().GFPGANv1Clean(**config, fix_decoder=False).eval()
    randomize_(theirs, seed=seed)
    path = save_official(theirs.state_dict(), tmp_path / "gfpgan.pth", key="params_ema")
    ours = build_arch({"type": "GFPGANv1Clean", **config, "fix_decoder": False})
    load_official_into(ours, path)
    ours.eval()
    return ours, theirs


def _face(batch, size, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (batch, 3, size, size)).astype("float32")


@pytest.mark.parametrize("config,batch", SMALL, ids=["64-half-w+-cm1-n0.5", "64-all-w1-cm2-n0.5", "16-all-w+-n1"])
def test_small_configs(config, batch, tmp_path):
    ours, theirs = _pair(config, tmp_path)
    x = _face(batch, config["out_size"])
    with paddle.no_grad():
        image, rgbs = ours(paddle.to_tensor(x), return_latents=True)
    with torch.no_grad():
        ref, ref_rgbs = theirs(torch.from_numpy(x), return_latents=True, randomize_noise=False)
    assert_close(image, ref, what=f"image {config['out_size']}")
    assert len(rgbs) == len(ref_rgbs) == int(np.log2(config["out_size"])) - 2
    for level, (rgb, ref_rgb) in enumerate(zip(rgbs, ref_rgbs)):
        assert_close(rgb, ref_rgb, what=f"out_rgbs[{level}]")
    with paddle.no_grad():
        image_only, no_rgbs = ours(paddle.to_tensor(x), return_rgb=False)
    assert no_rgbs == []
    np.testing.assert_array_equal(image_only.numpy(), image.numpy())


def test_eval_is_deterministic_and_training_draws_noise(tmp_path):
    config = dict(SMALL[0][0], out_size=32)
    ours, _ = _pair(config, tmp_path)
    x = paddle.to_tensor(_face(1, 32, seed=1))
    with paddle.no_grad():
        first, _ = ours(x)
        second, _ = ours(x)
        np.testing.assert_array_equal(first.numpy(), second.numpy())
        stored, _ = ours(x, randomize_noise=False)
        np.testing.assert_array_equal(first.numpy(), stored.numpy())
        ours.train()
        fresh, _ = ours(x)
        fresh_again, _ = ours(x)
        ours.eval()
    assert np.abs(fresh.numpy() - first.numpy()).max() > 1e-3
    assert np.abs(fresh.numpy() - fresh_again.numpy()).max() > 1e-3


def test_decoder_load_path_and_fix_decoder(tmp_path):
    config = SMALL[1][0]
    reference, theirs = _pair(config, tmp_path)  # its decoder came through the whole-model checkpoint
    expected = {k: v.numpy() for k, v in reference.stylegan_decoder.state_dict().items()}
    official_file = save_official(theirs.stylegan_decoder.state_dict(), tmp_path / "sg2_clean.pth", key="params_ema")
    pdparams = tmp_path / "decoder.pdparams"
    paddle.save(reference.stylegan_decoder.state_dict(), str(pdparams))

    for path, fix in ((official_file, True), (pdparams, False)):
        ours = build_arch({"type": "GFPGANv1Clean", **config, "decoder_load_path": str(path), "fix_decoder": fix})
        loaded = ours.stylegan_decoder.state_dict()
        assert set(loaded) == set(expected)
        for key, value in expected.items():
            np.testing.assert_array_equal(loaded[key].numpy(), value, err_msg=f"{path.name}: {key}")
        decoder_ids = {id(p) for p in ours.stylegan_decoder.parameters()}
        assert all(p.stop_gradient == (fix and id(p) in decoder_ids) for p in ours.parameters())


def test_full_size_public_config(tmp_path):
    ours, theirs = _pair(FULL, tmp_path)
    assert sum(int(np.prod(p.shape)) for p in ours.parameters()) == 86_444_252
    assert len(ours.state_dict()) == 285
    x = _face(1, 512, seed=2)
    with torch.no_grad():
        start = time.perf_counter()
        ref, _ = theirs(torch.from_numpy(x), return_rgb=False, randomize_noise=False)
        torch_seconds = time.perf_counter() - start
    with paddle.no_grad():
        start = time.perf_counter()
        image, _ = ours(paddle.to_tensor(x), return_rgb=False)
        paddle_seconds = time.perf_counter() - start
    print(f"GFPGANv1Clean 1x3x512x512 forward: torch {torch_seconds:.2f} s, paddle {paddle_seconds:.2f} s")
    assert_close(image, ref, what="GFPGANv1Clean 512 (v1.3/v1.4 config)")
