"""NIQE and its MATLAB-style imresize against BasicSR's calculate_niqe and matlab_functions.imresize.

BasicSR resizes in float32 with torch's matrix-vector products, whose summation order is the BLAS library's;
ours sums the taps one by one, so resized pixels may differ in the last float32 bit (everything else in
NIQE is computed exactly as BasicSR does, and agrees to ~1e-13 given the same resized image).
"""
import math

import numpy as np
import pytest

from ppgan_face.metrics import build_metric, calculate_niqe
from ppgan_face.metrics.matlab_resize import imresize, resize_weights
from ppgan_face.metrics.niqe import PRISTINE_PARAMS, _filter_nearest
from tests.metrics.images import face_like
from tests.oracles import official


@pytest.mark.parametrize("shape,convert_to,crop_border", [
    ((192, 96), "y", 0), ((100, 200), "gray", 2), ((200, 110), "y", 4)], ids=["y", "gray-crop2", "y-crop4"])
def test_niqe_matches_basicsr(shape, convert_to, crop_border):
    image = face_like(*shape, seed=sum(shape))
    ref = official("basicsr.metrics.niqe").calculate_niqe(image, crop_border, convert_to=convert_to)
    ours = calculate_niqe(image, crop_border, convert_to=convert_to)
    metric = build_metric("niqe", {"type": "NIQE", "crop_border": crop_border, "convert_to": convert_to})
    print(f"NIQE {shape} {convert_to}: basicsr {ref:.9f}, ours {ours:.9f}, diff {abs(ours - ref):.2g}")
    assert 3 < ref < 40
    assert abs(ours - ref) <= 1e-4 * ref
    assert metric(image, None) == ours


def test_niqe_of_a_ready_gray_image():
    image = face_like(96, 192, seed=5)[..., 1].astype(np.float32)
    ref = official("basicsr.metrics.niqe").calculate_niqe(image, 0, input_order="HW")
    assert abs(calculate_niqe(image, input_order="HW") - ref) <= 1e-4 * ref


def test_niqe_needs_two_blocks():
    with pytest.raises(ValueError, match="two 96x96 blocks"):
        calculate_niqe(face_like(96, 150))


@pytest.mark.parametrize("length,scale", [(192, 0.5), (97, 0.5), (20, 2.0), (31, 0.75)])
def test_resize_weights_match_basicsr(length, scale):
    out = math.ceil(length * scale)
    weights, indices, before, after = official("basicsr.utils.matlab_functions").calculate_weights_indices(
        length, out, scale, "cubic", 4, True)
    ours = resize_weights(length, out, scale)
    if scale == 0.5:  # NIQE's: bit-identical
        np.testing.assert_array_equal(ours[0], weights.numpy())
    else:  # the row normalisation's float32 sum may round differently (numpy's vs torch's summation order)
        np.testing.assert_allclose(ours[0], weights.numpy(), rtol=0, atol=2e-7)
    np.testing.assert_array_equal(ours[1], indices.numpy()[:, 0].astype(np.int64))
    assert ours[2:] == (before, after)


@pytest.mark.parametrize("shape,scale", [((192, 96), 0.5), ((41, 30, 3), 0.5), ((20, 16), 2.0)])
def test_imresize_matches_basicsr(shape, scale):
    image = np.random.RandomState(0).rand(*shape).astype(np.float32)
    ref = official("basicsr.utils.matlab_functions").imresize(image, scale)
    ours = imresize(image, scale)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=0, atol=3e-7)  # at most a couple of float32 ulps at 1.0


def test_gaussian_filter_matches_scipy():
    from scipy.ndimage import convolve

    window = np.load(PRISTINE_PARAMS)["gaussian_window"]
    image = np.round(np.random.RandomState(1).rand(30, 41).astype(np.float32) * 255)
    asymmetric = np.random.RandomState(2).rand(5, 3)  # the kernel flip matters
    for kernel in (window, asymmetric):
        ref = convolve(image, kernel, mode="nearest")
        ours = _filter_nearest(image, kernel)
        assert ours.dtype == ref.dtype == np.float32
        np.testing.assert_array_equal(ours, ref)


def test_pristine_parameters_are_basicsrs():
    theirs = np.load(str(official("basicsr.metrics.niqe").__file__).replace("niqe.py", "niqe_pris_params.npz"))
    ours = np.load(PRISTINE_PARAMS)
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key])
