"""PSNR and SSIM against BasicSR's calculate_psnr / calculate_ssim: the same numbers, bit for bit."""
import numpy as np
import pytest

from ppgan_face.metrics import build_metric, calculate_psnr, calculate_ssim
from tests.metrics.images import degrade, face_like
from tests.oracles import official

CASES = [(0, False), (0, True), (4, False), (4, True)]


def _basicsr():
    return official("basicsr.metrics.psnr_ssim")


@pytest.fixture(scope="module")
def pair():
    gt = face_like(40, 52, seed=3)
    return degrade(gt), gt


@pytest.mark.parametrize("crop_border,test_y_channel", CASES)
def test_same_numbers_as_basicsr(pair, crop_border, test_y_channel):
    restored, gt = pair
    ref_psnr = _basicsr().calculate_psnr(restored, gt, crop_border, test_y_channel=test_y_channel)
    ref_ssim = _basicsr().calculate_ssim(restored, gt, crop_border, test_y_channel=test_y_channel)
    assert 15 < ref_psnr < 40 and 0.3 < ref_ssim < 0.99  # a real difference is measured
    assert calculate_psnr(restored, gt, crop_border, test_y_channel=test_y_channel) == ref_psnr
    assert calculate_ssim(restored, gt, crop_border, test_y_channel=test_y_channel) == ref_ssim
    options = {"crop_border": crop_border, "test_y_channel": test_y_channel}
    assert build_metric("psnr", {"type": "PSNR", **options})(restored, gt) == ref_psnr
    assert build_metric("ssim", {"type": "SSIM", **options})(restored, gt) == ref_ssim


def test_chw_float_and_gray_inputs(pair):
    restored, gt = (img.astype(np.float32).transpose(2, 0, 1) for img in pair)
    for ours, theirs in ((calculate_psnr, _basicsr().calculate_psnr), (calculate_ssim, _basicsr().calculate_ssim)):
        assert ours(restored, gt, 2, input_order="CHW", test_y_channel=True) == \
            theirs(restored, gt, 2, input_order="CHW", test_y_channel=True)
        assert ours(restored[0], gt[0], 0) == theirs(restored[0], gt[0], 0)  # (H, W)


def test_identical_and_mismatched_images(pair):
    restored, gt = pair
    assert calculate_psnr(gt, gt) == _basicsr().calculate_psnr(gt, gt, 0) == float("inf")
    assert calculate_ssim(gt, gt) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes differ"):
        calculate_psnr(restored[:-1], gt)
    with pytest.raises(ValueError, match="input_order"):
        calculate_ssim(restored, gt, input_order="WHC")
