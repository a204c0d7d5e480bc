"""NIQE (Mittal et al., "Making a 'Completely Blind' Image Quality Analyzer"), as BasicSR's ``calculate_niqe``.

Lower is better. The image (Y of YCbCr, or gray) is split into 96x96 blocks; each block gives 18 natural-scene
statistics at full and half resolution (MATLAB-style bicubic halving); their Gaussian fit is compared with the
pristine model. ``niqe_pris_params.npz`` (the pristine model and the 7x7 Gaussian window) comes from BasicSR
1.4.2 (Apache-2.0, Copyright XPixel / BasicSR authors), which took it from the official MATLAB release.

The dtypes follow BasicSR's (float32 image, float64 statistics): the AGGD shape is picked on a 0.001 grid by
argmin, and other rounding could move it by one step. Needs no scipy: the Gaussian filtering and the gamma
function are written here.
"""
import math
from pathlib import Path

import cv2
import numpy as np

from ppgan_face.metrics.base import NoReferenceMetric
from ppgan_face.metrics.matlab_resize import imresize
from ppgan_face.metrics.metric_util import crop, reorder_image, to_y_channel
from ppgan_face.registry import METRIC_REGISTRY

PRISTINE_PARAMS = Path(__file__).with_name("niqe_pris_params.npz")
_gamma = np.vectorize(math.gamma, otypes=[np.float64])
# AGGD shape grid and its moment ratio Γ(2/α)² / (Γ(1/α) Γ(3/α)), as the MATLAB code tabulates it
_ALPHAS = np.arange(0.2, 10.001, 0.001)
_RATIOS = np.square(_gamma(2 / _ALPHAS)) / (_gamma(1 / _ALPHAS) * _gamma(3 / _ALPHAS))


def _filter_nearest(img, window):
    """``scipy.ndimage.convolve(img, window, mode='nearest')``: float64 sums, output in the input's dtype."""
    kh, kw = window.shape
    padded = np.pad(img.astype(np.float64), ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode="edge")
    flipped = window[::-1, ::-1]
    out = np.zeros(img.shape, np.float64)
    for dy in range(kh):
        for dx in range(kw):
            out += flipped[dy, dx] * padded[dy:dy + img.shape[0], dx:dx + img.shape[1]]
    return out.astype(img.dtype)


def aggd_params(block):
    """Asymmetric generalised Gaussian fit of a block's values: (shape α, left scale, right scale)."""
    block = block.flatten()
    left_std = np.sqrt(np.mean(block[block < 0] ** 2))
    right_std = np.sqrt(np.mean(block[block > 0] ** 2))
    gammahat = left_std / right_std
    rhat = (np.mean(np.abs(block))) ** 2 / np.mean(block ** 2)
    rhatnorm = (rhat * (gammahat ** 3 + 1) * (gammahat + 1)) / ((gammahat ** 2 + 1) ** 2)
    alpha = _ALPHAS[np.argmin((_RATIOS - rhatnorm) ** 2)]
    spread = np.sqrt(math.gamma(1 / alpha) / math.gamma(3 / alpha))
    return alpha, left_std * spread, right_std * spread


def block_features(block):
    """18 statistics: the AGGD fit of the normalised values, then of their products with the horizontal,
    vertical and two diagonal neighbours (shape, mean, left and right scales)."""
    alpha, beta_l, beta_r = aggd_params(block)
    features = [alpha, (beta_l + beta_r) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        alpha, beta_l, beta_r = aggd_params(block * np.roll(block, shift, axis=(0, 1)))
        mean = (beta_r - beta_l) * (math.gamma(2 / alpha) / math.gamma(1 / alpha))
        features += [alpha, mean, beta_l, beta_r]
    return features


def niqe(img, mu_pris, cov_pris, window, block_size=96):
    """NIQE of a float32 (H, W) image in [0, 255]; needs at least two blocks (the covariance of one is undefined)."""
    if img.ndim != 2:
        raise ValueError(f"NIQE needs a single-channel (H, W) image, got {img.shape}")
    rows, cols = img.shape[0] // block_size, img.shape[1] // block_size
    if rows * cols < 2:
        raise ValueError(f"NIQE needs at least two {block_size}x{block_size} blocks, got an image of {img.shape}")
    img = img[:rows * block_size, :cols * block_size]
    scales = []
    for scale in (1, 2):
        mu = _filter_nearest(img, window)
        sigma = np.sqrt(np.abs(_filter_nearest(np.square(img), window) - np.square(mu)))
        normalised = (img - mu) / (sigma + 1)
        size = block_size // scale
        scales.append(np.array([block_features(normalised[r * size:(r + 1) * size, c * size:(c + 1) * size])
                                for c in range(cols) for r in range(rows)]))
        if scale == 1:
            img = imresize(img / 255.0, scale=0.5, antialiasing=True) * 255.0
    features = np.concatenate(scales, axis=1)
    mu_dist = np.nanmean(features, axis=0)
    cov_dist = np.cov(features[~np.isnan(features).any(axis=1)], rowvar=False)
    diff = mu_pris - mu_dist
    quality = diff @ np.linalg.pinv((cov_pris + cov_dist) / 2) @ diff.T
    return float(np.squeeze(np.sqrt(quality)))


def calculate_niqe(img, crop_border=0, input_order="HWC", convert_to="y"):
    """NIQE of a BGR image in [0, 255] ('HWC' or 'CHW'; 'HW' for a ready gray / Y image).

    ``convert_to``: 'y' (MATLAB's YCbCr luma) or 'gray' (OpenCV's). The image is rounded first, as MATLAB's.
    """
    params = np.load(PRISTINE_PARAMS)
    img = img.astype(np.float32)
    if input_order != "HW":
        img = reorder_image(img, input_order)
        if convert_to == "y":
            img = to_y_channel(img)
        elif convert_to == "gray":
            img = cv2.cvtColor(img / 255.0, cv2.COLOR_BGR2GRAY) * 255.0
        else:
            raise ValueError(f"convert_to must be 'y' or 'gray', got {convert_to!r}")
        img = np.squeeze(img)
    img = crop(img, crop_border).round()
    return niqe(img, params["mu_pris_param"], params["cov_pris_param"], params["gaussian_window"])


@METRIC_REGISTRY.register()
class NIQE(NoReferenceMetric):
    """Natural image quality evaluator of the restored image (lower is better)."""

    higher_is_better = False

    def __init__(self, crop_border=0, convert_to="y"):
        self.options = dict(crop_border=crop_border, convert_to=convert_to)

    def __call__(self, restored, gt=None):
        return calculate_niqe(restored, **self.options)
