"""PSNR and SSIM, computing what BasicSR's ``calculate_psnr`` / ``calculate_ssim`` compute.

SSIM is Wang et al.'s MATLAB reference (11x11 Gaussian window, sigma 1.5, 'valid' border), per channel, then
averaged over channels.
"""
import cv2
import numpy as np

from ppgan_face.metrics.base import FullReferenceMetric
from ppgan_face.metrics.metric_util import crop, reorder_image, to_y_channel
from ppgan_face.registry import METRIC_REGISTRY


def _prepare(img, img2, border, input_order, test_y_channel):
    if img.shape != img2.shape:
        raise ValueError(f"image shapes differ: {img.shape} and {img2.shape}")
    pair = []
    for image in (img, img2):
        image = crop(reorder_image(image, input_order), border)
        if test_y_channel:
            image = to_y_channel(image)
        pair.append(image.astype(np.float64))
    return pair


def calculate_psnr(img, img2, crop_border=0, input_order="HWC", test_y_channel=False):
    """PSNR in dB of two images in [0, 255]; ``inf`` for identical images."""
    img, img2 = _prepare(img, img2, crop_border, input_order, test_y_channel)
    mse = np.mean((img - img2) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 * 255.0 / mse))


def _ssim_channel(img, img2):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    kernel = cv2.getGaussianKernel(11, 1.5)
    window = np.outer(kernel, kernel.transpose())

    def blur(x):
        return cv2.filter2D(x, -1, window)[5:-5, 5:-5]  # keep the 'valid' part of the 11x11 filter

    mu1, mu2 = blur(img), blur(img2)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 ** 2, mu2 ** 2, mu1 * mu2
    sigma1_sq = blur(img ** 2) - mu1_sq
    sigma2_sq = blur(img2 ** 2) - mu2_sq
    sigma12 = blur(img * img2) - mu1_mu2
    ssim_map = ((2 * mu1_mu2 + c1) * (2 * sigma12 + c2)) / ((mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2))
    return ssim_map.mean()


def calculate_ssim(img, img2, crop_border=0, input_order="HWC", test_y_channel=False):
    """SSIM of two images in [0, 255], the mean over channels of the per-channel SSIM."""
    img, img2 = _prepare(img, img2, crop_border, input_order, test_y_channel)
    return float(np.mean([_ssim_channel(img[..., c], img2[..., c]) for c in range(img.shape[2])]))


class _PixelMetric(FullReferenceMetric):
    """Options of BasicSR's metric functions, fixed from the config."""

    function = None

    def __init__(self, crop_border=0, test_y_channel=False, input_order="HWC"):
        self.options = dict(crop_border=crop_border, test_y_channel=test_y_channel, input_order=input_order)

    def __call__(self, restored, gt):
        return type(self).function(restored, gt, **self.options)


@METRIC_REGISTRY.register()
class PSNR(_PixelMetric):
    """Peak signal-to-noise ratio (dB)."""

    function = staticmethod(calculate_psnr)


@METRIC_REGISTRY.register()
class SSIM(_PixelMetric):
    """Structural similarity."""

    function = staticmethod(calculate_ssim)
