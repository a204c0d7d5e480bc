"""MATLAB's ``imresize`` (bicubic, with anti-aliasing), as BasicSR's ``basicsr/utils/matlab_functions.py``.

NIQE halves the image with it, so its numbers depend on this exact kernel: MATLAB's cubic (a = -0.5),
stretched by 1/scale when shrinking, mirror-padded borders, one pass per axis. Arithmetic is float32, as
BasicSR's torch code; weights are applied one tap at a time.
"""
import math

import numpy as np


def _cubic(x):
    absx = np.abs(x)
    absx2 = absx * absx
    absx3 = absx2 * absx
    near = (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1)
    far = (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * ((absx > 1) & (absx <= 2))
    return (near + far).astype(np.float32)


def resize_weights(in_length, out_length, scale, antialiasing=True, kernel_width=4):
    """Per output pixel: float32 weights (out, taps) and the first input index of its taps, plus the
    mirror padding (before, after) those indices assume."""
    shrink = scale < 1 and antialiasing
    if shrink:
        kernel_width = kernel_width / scale  # a wider kernel interpolates and low-passes at once
    x = np.arange(1, out_length + 1, dtype=np.float32)
    # output pixel centres mapped into input coordinates (0.5 -> 0.5, 0.5 + scale -> 1.5)
    u = (x / np.float32(scale) + np.float32(0.5 * (1 - 1 / scale))).astype(np.float32)
    left = np.floor(u - np.float32(kernel_width / 2))
    taps = math.ceil(kernel_width) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float32)[None, :]
    distance = u[:, None] - indices
    weights = np.float32(scale) * _cubic(distance * np.float32(scale)) if shrink else _cubic(distance)
    weights = weights / weights.sum(axis=1, keepdims=True)
    # BasicSR drops columns whose weights are zero somewhere: the first and last one if the first column
    # has a zero, else the last two if the last column has one.
    zeros = (weights == 0).sum(axis=0)
    if zeros[0]:
        keep = slice(1, taps - 1)
    elif zeros[-1]:
        keep = slice(0, taps - 2)
    else:
        keep = slice(None)
    weights, indices = weights[:, keep], indices[:, keep]
    pad_before = int(-indices.min() + 1)
    pad_after = int(indices.max() - in_length)
    return weights, (indices[:, 0] + pad_before - 1).astype(np.int64), pad_before, pad_after


def _resize_axis(img, out_length, scale, antialiasing, axis):
    """Resize axis 0 or 1 of a float32 (H, W, C) array."""
    weights, starts, before, after = resize_weights(img.shape[axis], out_length, scale, antialiasing)
    img = np.moveaxis(img, axis, 0)
    padded = np.concatenate([img[:before][::-1], img, img[img.shape[0] - max(after, 0):][::-1]])
    out = np.zeros((out_length,) + img.shape[1:], np.float32)
    shape = (out_length,) + (1,) * (img.ndim - 1)
    for tap in range(weights.shape[1]):
        out += weights[:, tap].reshape(shape) * padded[starts + tap]
    return np.moveaxis(out, 0, axis)


def imresize(img, scale, antialiasing=True):
    """Resize a float (H, W) or (H, W, C) image in [0, 1] by ``scale`` (both axes); float32, not rounded."""
    squeeze = img.ndim == 2
    img = (img[..., None] if squeeze else img).astype(np.float32)
    out_h, out_w = math.ceil(img.shape[0] * scale), math.ceil(img.shape[1] * scale)
    out = _resize_axis(img, out_h, scale, antialiasing, axis=0)
    out = _resize_axis(out, out_w, scale, antialiasing, axis=1)
    return out[..., 0] if squeeze else out
