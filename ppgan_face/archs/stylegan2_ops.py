"""Functional building blocks of the equalised-learning-rate StyleGAN2 (BasicSR and rosinality/GPEN).

Both upstream copies run the same three operations through CUDA extensions with a pure-torch fallback:
``upfirdn2d`` (upsample, FIR filter, downsample), ``fused_leaky_relu`` (bias + leaky ReLU + gain) and the
modulated convolution. They are written here once, in plain Paddle ops that export (no per-sample weights,
no ``F.pad``, no random ops), and the two families' layer classes call them.
"""

import numpy as np
import paddle
import paddle.nn.functional as F


def make_resample_kernel(k):
    """2-D FIR kernel from a 1-D (separable, outer product) or 2-D magnitude list, normalised to sum 1."""
    k = np.asarray(k, dtype=np.float32)
    if k.ndim == 1:
        k = np.outer(k, k)
    return paddle.to_tensor(k / k.sum())


def interleave(parts, axis):
    """Interleave equally shaped tensors along ``axis`` (>= 1): ``out[.., i*n + p, ..] = parts[p][.., i, ..]``."""
    stacked = paddle.stack(parts, axis=axis + 1)
    shape = stacked.shape
    return stacked.reshape([0] * axis + [shape[axis] * len(parts)] + shape[axis + 2:])


def zero_insert(x, up):
    """Follow every sample of the last two axes by ``up - 1`` zeros (upstream's upsampling layout)."""
    zeros = [paddle.zeros_like(x)] * (up - 1)
    x = interleave([x] + zeros, axis=2)
    return interleave([x] + [paddle.zeros_like(x)] * (up - 1), axis=3)


def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
    """Upsample by zero insertion, pad, filter with ``kernel``, keep every ``down``-th sample.

    Equals upstream ``upfirdn2d(input, kernel, up, down, pad)`` (``pad = (before, after)`` on both spatial
    axes; negative values crop). The filter is a true convolution, i.e. a cross-correlation with the flipped
    kernel; zero padding and the down-sampling stride happen inside that convolution. Every channel is
    filtered alike, so in dygraph the channels are folded into the batch and one single-channel conv does the
    work: unlike Paddle's depthwise (and transposed) convs it has a double gradient on CPU, which R1 and
    path-length regularisation need, and it is no slower there. Exported graphs (never differentiated) filter
    with a depthwise conv instead, which oneDNN runs about twice as fast. Spatial sizes must be static (they
    are, in the fixed-size StyleGAN2 networks).
    """
    channels = x.shape[1]
    pad_before, pad_after = pad
    depthwise = up == 1 and not paddle.in_dynamic_mode()
    if not depthwise:
        x = x.reshape([-1, 1, x.shape[2], x.shape[3]])
    if up > 1:
        x = zero_insert(x, up)
    if pad_before < 0 or pad_after < 0:
        crop0, crop1 = max(-pad_before, 0), max(-pad_after, 0)
        x = x[:, :, crop0:x.shape[2] - crop1, crop0:x.shape[3] - crop1]
        pad_before, pad_after = max(pad_before, 0), max(pad_after, 0)
    kh, kw = kernel.shape
    weight = paddle.flip(kernel, [0, 1]).astype(x.dtype).reshape([1, 1, kh, kw])
    padding = [pad_before, pad_after, pad_before, pad_after]
    if depthwise:
        return F.conv2d(x, weight.tile([channels, 1, 1, 1]), stride=down, padding=padding, groups=channels)
    out = F.conv2d(x, weight, stride=down, padding=padding)
    return out.reshape([-1, channels, out.shape[2], out.shape[3]])


def depth_to_space(x):
    """``[b, 4c, h, w]`` whose channel ``4i + 2py + px`` is parity (py, px) of output channel i -> ``[b, c, 2h, 2w]``.

    ``F.pixel_shuffle`` in exported graphs (Paddle Inference's bf16 passes break the same reshape / transpose
    written out); reshape / transpose in dygraph, where pixel_shuffle has no double gradient (path-length
    regularisation differentiates twice). The two are the same permutation.
    """
    if not paddle.in_dynamic_mode():
        return F.pixel_shuffle(x, 2)
    channels, rows, cols = x.shape[1] // 4, x.shape[2], x.shape[3]
    x = x.reshape([-1, channels, 2, 2, rows, cols]).transpose([0, 1, 4, 2, 5, 3])
    return x.reshape([-1, channels, 2 * rows, 2 * cols])


def conv_transpose_stride2(x, weight):
    """``F.conv2d_transpose(x, weight.transpose([1, 0, 2, 3]), stride=2)`` as one ordinary convolution.

    Output pixel ``2m + p`` (per axis) only sees the kernel taps ``p, p + 2, ...``: each of the four parities
    is a plain conv of ``x`` with the flipped sub-kernel. The sub-kernels, zero-padded on their leading side
    to ``ceil(k / 2)`` taps, make one conv with 4× the output channels, put in place by :func:`depth_to_space`.
    Why not the transposed conv: Paddle has no double gradient for it on CPU (path-length regularisation needs
    one). Why one conv rather than four interleaved ones: exported and run with oneDNN it is 2-5× faster (the
    interleaving copies dominated), although it spends ``4 ceil(k/2)² / k²`` of the MACs (16/9 for k = 3);
    dygraph speed is about the same. ``weight`` is ``[c_out, c_in, k, k]`` with k >= 2; the output is
    ``2h + k - 2`` pixels high.
    """
    height, width, k = x.shape[2], x.shape[3], weight.shape[-1]
    if k < 2:
        raise ValueError(f"a stride-2 transposed conv needs a kernel of at least 2 taps, got {k}")
    taps = (k + 1) // 2
    subs = []
    for py in range(2):
        for px in range(2):
            sub = paddle.flip(weight[:, :, py::2, px::2], [2, 3])
            # odd k: the odd parity has one tap less; zeros go first (concat, not F.pad: pad3d exports badly on
            # Paddle 3.3, PADDLE3.md)
            if sub.shape[2] < taps:
                sub = paddle.concat([paddle.zeros_like(sub[:, :, :1]), sub], axis=2)
            if sub.shape[3] < taps:
                sub = paddle.concat([paddle.zeros_like(sub[:, :, :, :1]), sub], axis=3)
            subs.append(sub)
    kernel = paddle.stack(subs, axis=1).reshape([-1, weight.shape[1], taps, taps])  # [c_out * 4, c_in, t, t]
    out = depth_to_space(F.conv2d(x, kernel, padding=[taps - 1, taps - 1]))
    return out[:, :, :2 * height + k - 2, :2 * width + k - 2]


def fused_leaky_relu(x, bias=None, negative_slope=0.2, scale=2 ** 0.5):
    """``leaky_relu(x + bias, negative_slope) * scale`` with ``bias`` on axis 1 (the channels of NCHW)."""
    if bias is not None:
        x = x + bias.reshape([1, -1] + [1] * (x.ndim - 2))
    return F.leaky_relu(x, negative_slope) * scale


def modulated_conv2d(x, style, weight, demodulate=True, sample_mode=None, blur=None, eps=1e-8):
    """StyleGAN2 modulated convolution without per-sample weights.

    Upstream scales a copy of ``weight`` per sample and runs a grouped conv. Modulating the input channels
    and demodulating the output channels instead is the same linear map and exports with any batch size:
    ``y = conv(x * s, w) * d`` with ``d = rsqrt(s^2 @ sum_k(w^2)^T + eps)``.

    Args:
        x: input ``[b, c_in, h, w]``.
        style: per-sample input-channel scales ``[b, c_in]`` (the output of the modulation layer).
        weight: ``[c_out, c_in, k, k]``, already multiplied by the equalised-lr scale.
        demodulate: normalise each output channel to unit expected variance.
        sample_mode: None (same size, padding k//2), ``"upsample"`` (stride-2 transposed conv, then
            ``blur``) or ``"downsample"`` (``blur``, then stride-2 conv).
        blur: the FIR smoothing layer used with up/down-sampling.
    """
    scale_in = style.unsqueeze([2, 3])
    if sample_mode == "upsample":
        out = conv_transpose_stride2(x * scale_in, weight)
    elif sample_mode == "downsample":
        out = F.conv2d(blur(x) * scale_in, weight, stride=2)
    elif sample_mode is None:
        out = F.conv2d(x * scale_in, weight, padding=weight.shape[-1] // 2)
    else:
        raise ValueError(f"sample_mode must be 'upsample', 'downsample' or None, not {sample_mode!r}")
    if demodulate:
        energy = paddle.matmul(style * style, (weight * weight).sum([2, 3]), transpose_y=True)
        out = out * paddle.rsqrt(energy + eps).unsqueeze([2, 3])
    if sample_mode == "upsample":
        out = blur(out)
    return out
