"""The functional StyleGAN2 ops against upstream's pure-torch versions (BasicSR)."""
import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs.stylegan2_arch import UpFirDnSmooth
from ppgan_face.archs.stylegan2_ops import (conv_transpose_stride2, fused_leaky_relu, make_resample_kernel,
                                          modulated_conv2d, upfirdn2d)
from tests.oracles import assert_close, official


def _pair(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return paddle.to_tensor(x), torch.from_numpy(x)


@pytest.mark.parametrize("up, down, pad, kernel", [
    (1, 1, (1, 1), [1, 3, 3, 1]),       # blur of an upsampling modulated conv
    (1, 1, (2, 2), [1, 3, 3, 1]),       # blur before a 3x3 stride-2 conv
    (2, 1, (2, 1), [1, 3, 3, 1]),       # ToRGB skip upsampling
    (1, 2, (1, 1), [1, 3, 3, 1]),       # plain FIR downsampling
    (2, 2, (1, 2), [1, 2, 1]),          # odd kernel, up and down together
    (3, 1, (0, 3), [1, 3, 3, 1]),       # factor 3
    (1, 1, (-1, 2), [1, 3, 3, 1]),      # negative padding crops
    (2, 1, (-2, -1), [1, 3, 3, 1]),
    (1, 2, (3, 0), "random2d"),         # asymmetric 2-D kernel: checks the flip
    (2, 1, (1, 2), "random2d"),
])
def test_upfirdn2d_matches_basicsr(up, down, pad, kernel):
    upfirdn = official("basicsr.ops.upfirdn2d.upfirdn2d")
    if kernel == "random2d":
        kernel = np.random.default_rng(1).random((4, 3)).astype(np.float32)
    k_pd = make_resample_kernel(kernel)
    k_pt = torch.from_numpy(k_pd.numpy())
    x_pd, x_pt = _pair((2, 5, 9, 7), seed=0)
    expected = upfirdn.upfirdn2d(x_pt, k_pt, up=up, down=down, pad=pad)
    assert_close(upfirdn2d(x_pd, k_pd, up=up, down=down, pad=pad), expected,
                 what=f"upfirdn2d up={up} down={down} pad={pad}")


def test_make_resample_kernel():
    ref = official("basicsr.archs.stylegan2_arch").make_resample_kernel([1, 3, 3, 1])
    assert_close(make_resample_kernel([1, 3, 3, 1]), ref, what="resample kernel")


@pytest.mark.parametrize("shape", [(2, 6), (2, 6, 5, 4)])
def test_fused_leaky_relu_forward_and_gradient(shape):
    fused_act = official("basicsr.ops.fused_act.fused_act")
    x_pd, x_pt = _pair(shape, seed=2)
    b_pd, b_pt = _pair((shape[1],), seed=3)
    g_pd, g_pt = _pair(shape, seed=4)
    x_pd.stop_gradient = b_pd.stop_gradient = False
    x_pt.requires_grad_(True)
    b_pt.requires_grad_(True)

    out_pt = fused_act.fused_leaky_relu(x_pt, b_pt)
    out_pt.backward(g_pt)
    out_pd = fused_leaky_relu(x_pd, b_pd)
    out_pd.backward(g_pd)

    assert_close(out_pd, out_pt.detach(), what="fused lrelu")
    assert_close(x_pd.grad, x_pt.grad, what="fused lrelu d/dx")
    assert_close(b_pd.grad, b_pt.grad, what="fused lrelu d/dbias")


@pytest.mark.parametrize("sample_mode, demodulate, kernel_size", [
    (None, True, 3), ("upsample", True, 3), ("downsample", True, 3), (None, False, 1)])
def test_modulated_conv2d_matches_grouped_upstream(sample_mode, demodulate, kernel_size):
    """The non-grouped form equals BasicSR's per-sample grouped conv (blur supplied as a callable)."""
    arch = official("basicsr.archs.stylegan2_arch")
    torch.manual_seed(0)
    layer = arch.ModulatedConv2d(6, 5, kernel_size, 8, demodulate=demodulate, sample_mode=sample_mode)
    x_pd, x_pt = _pair((2, 6, 8, 8), seed=5)
    _, w_pt = _pair((2, 8), seed=6)
    with torch.no_grad():
        expected = layer(x_pt, w_pt)
        style = paddle.to_tensor(layer.modulation(w_pt).numpy())
        weight = paddle.to_tensor((layer.weight[0] * layer.scale).numpy())
    blur = None
    if sample_mode:
        kernel = make_resample_kernel([1, 3, 3, 1]) * (4 if sample_mode == "upsample" else 1)
        blur = lambda t: upfirdn2d(t, kernel, pad=layer.smooth.pad)  # noqa: E731
    out = modulated_conv2d(x_pd, style, weight, demodulate=demodulate, sample_mode=sample_mode, blur=blur)
    assert_close(out, expected, what=f"modulated conv {sample_mode}")


def test_modulated_conv2d_rejects_unknown_mode():
    with pytest.raises(ValueError, match="sample_mode"):
        modulated_conv2d(paddle.ones([1, 2, 4, 4]), paddle.ones([1, 2]), paddle.ones([3, 2, 3, 3]),
                         sample_mode="up")


@pytest.mark.parametrize("kernel_size", [2, 3, 4, 5])
def test_conv_transpose_stride2_equals_paddle_transposed_conv(kernel_size):
    x = paddle.randn([2, 5, 7, 6])
    weight = paddle.randn([4, 5, kernel_size, kernel_size])
    expected = paddle.nn.functional.conv2d_transpose(x, weight.transpose([1, 0, 2, 3]), stride=2)
    np.testing.assert_allclose(conv_transpose_stride2(x, weight).numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_modulated_upsampling_has_a_double_gradient():
    """Path-length regularisation differentiates the generator's input gradient (Paddle's transposed and
    depthwise convs have no CPU double gradient; ours are built from ordinary convs)."""
    style = paddle.randn([2, 4])
    style.stop_gradient = False
    weight = paddle.randn([3, 4, 3, 3])
    weight.stop_gradient = False
    blur = UpFirDnSmooth((1, 3, 3, 1), upsample_factor=2, kernel_size=3)
    out = modulated_conv2d(paddle.randn([2, 4, 8, 8]), style, weight, sample_mode="upsample", blur=blur)
    grad, = paddle.grad((out * paddle.randn(out.shape)).sum(), style, create_graph=True)
    grad.pow(2).sum().backward()
    assert weight.grad is not None and float(weight.grad.abs().sum()) > 0
