"""BasicSR StyleGAN2 generator / discriminator against the official modules, through the converter."""
import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official


def _arch():
    return official("basicsr.archs.stylegan2_arch")


def _port(theirs, ours, path, key="params_ema"):
    """Official random weights -> official checkpoint file -> our converter -> our model (eval mode)."""
    randomize_(theirs).eval()
    load_official_into(ours, save_official(theirs.state_dict(), path, key=key))
    return ours.eval()


def _inputs(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return paddle.to_tensor(x), torch.from_numpy(x)


GEN_CASES = [
    dict(out_size=64, num_style_feat=32, num_mlp=2, channel_multiplier=1, narrow=0.0625),
    dict(out_size=128, num_style_feat=16, num_mlp=3, channel_multiplier=2, narrow=0.03125),
]


@pytest.mark.parametrize("kwargs", GEN_CASES)
def test_generator_matches_official(kwargs, tmp_path):
    torch.manual_seed(0)
    theirs = _arch().StyleGAN2Generator(**kwargs)
    ours = _port(theirs, build_arch({"type": "StyleGAN2Generator", **kwargs}), tmp_path / "g.pth")
    z_pd, z_pt = _inputs((2, kwargs["num_style_feat"]), seed=1)
    with torch.no_grad():
        expected, latent_pt = theirs([z_pt], randomize_noise=False, return_latents=True)
    with paddle.no_grad():
        image, latent = ours([z_pd], return_latents=True)  # eval default: the stored noise
        again, _ = ours([z_pd])
    assert_close(image, expected, what=f"StyleGAN2Generator {kwargs['out_size']} image")
    assert_close(latent, latent_pt, what="StyleGAN2Generator latents")
    np.testing.assert_array_equal(image.numpy(), again.numpy())


def test_generator_latent_input_mixing_and_truncation(tmp_path):
    kwargs = GEN_CASES[0]
    torch.manual_seed(0)
    theirs = _arch().StyleGAN2Generator(**kwargs)
    ours = _port(theirs, build_arch({"type": "StyleGAN2Generator", **kwargs}), tmp_path / "g.pth")
    (w1_pd, w1_pt), (w2_pd, w2_pt) = _inputs((2, 32), seed=2), _inputs((2, 32), seed=3)
    mean_pd, mean_pt = _inputs((1, 32), seed=4)
    with torch.no_grad():
        mixed = theirs([w1_pt, w2_pt], input_is_latent=True, randomize_noise=False, inject_index=3)[0]
        truncated = theirs([w1_pt], randomize_noise=False, truncation=0.7, truncation_latent=mean_pt)[0]
    with paddle.no_grad():
        assert_close(ours([w1_pd, w2_pd], input_is_latent=True, inject_index=3)[0], mixed, what="style mixing")
        assert_close(ours([w1_pd], truncation=0.7, truncation_latent=mean_pd)[0], truncated, what="truncation")


def test_generator_noise_is_random_only_when_asked():
    paddle.seed(0)
    ours = build_arch({"type": "StyleGAN2Generator", **GEN_CASES[0]})
    for name, param in ours.named_parameters():
        if name.endswith("weight") and param.shape == [1]:
            param.set_value(paddle.ones([1]))  # noise strengths start at 0: make the noise visible
    z = paddle.randn([1, 32])
    with paddle.no_grad():
        ours.train()
        a, b = ours([z])[0], ours([z])[0]
        ours.eval()
        c, d = ours([z])[0], ours([z], randomize_noise=True)[0]
    assert not np.allclose(a.numpy(), b.numpy())
    assert not np.allclose(c.numpy(), d.numpy())
    assert len([k for k in ours.state_dict() if k.startswith("noises.noise")]) == ours.num_layers == 9


@pytest.mark.parametrize("kwargs, batch", [
    (dict(out_size=64, channel_multiplier=1, narrow=0.0625), 2),
    (dict(out_size=128, channel_multiplier=2, narrow=0.03125, stddev_group=2), 4),
])
def test_discriminator_matches_official(kwargs, batch, tmp_path):
    torch.manual_seed(0)
    theirs = _arch().StyleGAN2Discriminator(**kwargs)
    ours = _port(theirs, build_arch({"type": "StyleGAN2Discriminator", **kwargs}), tmp_path / "d.pth", key="params")
    x_pd, x_pt = _inputs((batch, 3, kwargs["out_size"], kwargs["out_size"]), seed=5)
    # The logits are sums of many terms that nearly cancel at random init (|logit| ~ 0.02), so their
    # relative error is ill-conditioned; the features entering final_linear are not. Compare both: the
    # features with the relative tolerance, the logits with the absolute one.
    features = {}
    theirs.final_linear.register_forward_hook(lambda m, args, out: features.__setitem__("theirs", args[0]))
    ours.final_linear.register_forward_pre_hook(lambda m, args: features.__setitem__("ours", args[0]))
    with torch.no_grad():
        expected = theirs(x_pt)
    with paddle.no_grad():
        logits = ours(x_pd)
    what = f"StyleGAN2Discriminator {kwargs['out_size']}"
    assert_close(features["ours"], features["theirs"], what=f"{what} features")
    assert_close(logits, expected, rel_l2=1e-4, what=f"{what} logits")


def test_discriminator_gradient_matches_official(tmp_path):
    """Input gradients (what the R1 penalty uses) agree too."""
    kwargs = dict(out_size=64, channel_multiplier=1, narrow=0.0625)
    torch.manual_seed(0)
    theirs = _arch().StyleGAN2Discriminator(**kwargs)
    ours = _port(theirs, build_arch({"type": "StyleGAN2Discriminator", **kwargs}), tmp_path / "d.pth")
    x_pd, x_pt = _inputs((2, 3, 64, 64), seed=6)
    x_pd.stop_gradient = False
    x_pt.requires_grad_(True)
    theirs(x_pt).sum().backward()
    ours(x_pd).sum().backward()
    assert_close(x_pd.grad, x_pt.grad, what="StyleGAN2Discriminator d/dx")


def test_r1_double_backward_matches_official(tmp_path):
    """R1 (gradient of the input-gradient norm) runs through our discriminator on CPU and equals upstream's."""
    kwargs = dict(out_size=32, channel_multiplier=1, narrow=0.0625)
    torch.manual_seed(0)
    theirs = _arch().StyleGAN2Discriminator(**kwargs)
    ours = _port(theirs, build_arch({"type": "StyleGAN2Discriminator", **kwargs}), tmp_path / "d.pth")
    x_pd, x_pt = _inputs((2, 3, 32, 32), seed=7)
    x_pd.stop_gradient = False
    x_pt.requires_grad_(True)
    grad_pt, = torch.autograd.grad(theirs(x_pt).sum(), x_pt, create_graph=True)
    grad_pd, = paddle.grad(ours(x_pd).sum(), x_pd, create_graph=True)
    grad_pt.pow(2).sum().backward()
    grad_pd.pow(2).sum().backward()
    # one vector of all parameter gradients: the leaky-ReLU biases' second-order gradients are ~0 (rounding
    # noise), which a per-tensor relative error would blow up
    theirs_grads = dict(theirs.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    def flat(grads, shapes):  # a parameter R1 does not reach (the last bias) has no gradient: zeros
        return np.concatenate([np.zeros(s).ravel() if g is None else g.numpy().ravel() for g, s in zip(grads, shapes)])

    shapes = [tuple(p.shape) for _, p in ours.named_parameters()]
    ours_flat = flat([p.grad for _, p in ours.named_parameters()], shapes)
    theirs_flat = flat([theirs_grads[n].grad for n in names], shapes)
    # second-order gradients carry the rounding of two backward passes: 1e-4 (measured 1.6e-5)
    assert_close(ours_flat, theirs_flat, rel_l2=1e-4, what="d R1 / d parameters")
