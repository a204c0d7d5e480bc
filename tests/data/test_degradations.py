"""Degradations against BasicSR's ``basicsr/data/degradations.py`` with the same random draws.

Upstream draws the kernel type from Python's ``random`` and the rest from ``np.random``; with
``tests.training_oracles.NumpyDraws`` standing in for ``random`` both sides consume one ``np.random`` stream,
and ours gets the global RandomState (``np.random.seed(s)`` then the port with ``np.random.mtrand._rand``).
"""
import sys

import cv2
import numpy as np
import pytest
import torch

from ppgan_face.data import degradations as deg
from tests.oracles import official
from tests.training_oracles import NumpyDraws, round_jpeg_quality

GLOBAL = np.random.mtrand._rand


@pytest.fixture
def basicsr_deg(monkeypatch):
    module = official("basicsr.data.degradations")
    monkeypatch.setattr(module, "random", NumpyDraws)
    monkeypatch.setattr(module, "cv2", round_jpeg_quality(cv2))
    return module


def _face(seed=0, size=48):
    """A smooth random colour image (JPEG and blur behave as on photos, unlike white noise)."""
    small = np.random.RandomState(seed).uniform(0, 1, (6, 6, 3)).astype(np.float32)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 1)


@pytest.mark.parametrize("kinds", [[kind] for kind in deg.KERNEL_TYPES] + [["iso", "aniso"]], ids=str)
def test_random_mixed_kernels_match(basicsr_deg, kinds):
    for seed in range(4):
        args = (kinds, [1 / len(kinds)] * len(kinds), 21, (0.2, 3), (0.5, 4), (-np.pi, np.pi), (0.5, 4), (1, 2),
                (0.75, 1.25))
        np.random.seed(seed)
        theirs = basicsr_deg.random_mixed_kernels(*args)
        np.random.seed(seed)
        ours = deg.random_mixed_kernels(GLOBAL, *args)
        after = np.random.uniform()  # both consumed the same number of draws
        np.random.seed(seed)
        basicsr_deg.random_mixed_kernels(*args)
        assert np.random.uniform() == after
        print(f"{kinds} seed {seed}: max abs {np.abs(ours - theirs).max():.3g}")
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-15)


def test_kernel_choice_follows_probabilities():
    rng = np.random.default_rng(0)
    kinds = [deg.choose(rng, ["iso", "aniso"], [0.2, 0.8]) for _ in range(2000)]
    assert 0.15 < kinds.count("iso") / 2000 < 0.25


@pytest.mark.parametrize("gray_prob,clip,rounds", [(0, True, False), (1, True, True), (0.5, False, True),
                                                    (0, False, False)])
def test_gaussian_noise_matches(basicsr_deg, gray_prob, clip, rounds):
    img = _face(1)
    for seed in range(3):
        np.random.seed(seed)
        theirs = basicsr_deg.random_add_gaussian_noise(img, (0, 20), gray_prob, clip, rounds)
        np.random.seed(seed)
        ours = deg.random_add_gaussian_noise(GLOBAL, img, (0, 20), gray_prob, clip, rounds)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_jpeg_matches(basicsr_deg):
    img = _face(2)
    for seed in range(4):
        np.random.seed(seed)
        theirs = basicsr_deg.random_add_jpg_compression(img, (30, 95))
        np.random.seed(seed)
        ours = deg.random_add_jpg_compression(GLOBAL, img, (30, 95))
        assert ours.dtype == theirs.dtype == np.float32
        np.testing.assert_array_equal(ours, theirs)
    assert np.abs(ours - img).max() > 1 / 255  # the compression did something


def test_filter2d_and_downsample_match_gfpgan_steps():
    img = _face(3)
    kernel = deg.bivariate_gaussian(21, 2.0, 0.7, 0.4, isotropic=False)
    np.testing.assert_array_equal(deg.filter2d(img, kernel), cv2.filter2D(img, -1, kernel))
    np.random.seed(5)
    scale = np.random.uniform(0.8, 8)
    expected = cv2.resize(img, (int(48 // scale), int(48 // scale)), interpolation=cv2.INTER_LINEAR)
    np.random.seed(5)
    np.testing.assert_array_equal(deg.random_downsample(GLOBAL, img, (0.8, 8)), expected)


@pytest.mark.parametrize("name,factor", [("brightness", 1.3), ("contrast", 0.6), ("saturation", 1.4),
                                         ("hue", 0.08), ("hue", -0.1)])
def test_color_adjustments_match_torchvision(name, factor):
    """Against tests/torchvision_standin.py's transcription of torchvision's tensor functions."""
    official("basicsr.data.degradations")  # installs the stand-in
    tv = sys.modules["torchvision.transforms.functional"]
    img = _face(4).transpose(2, 0, 1).copy()
    img[:, :4, :4] = 0.5  # gray pixels: the hue conversion's max == min branch
    theirs = getattr(tv, f"adjust_{name}")(torch.from_numpy(img), factor).numpy()
    ours = getattr(deg, f"adjust_{name}")(img, factor)
    assert ours.dtype == np.float32
    print(f"{name} {factor}: max abs {np.abs(ours - theirs).max():.3g}")
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-7)
    assert np.abs(ours - img).max() > 0.01


def test_color_shift_and_gray():
    img = _face(5)
    np.random.seed(0)
    shift = np.random.uniform(-0.1, 0.1, 3).astype(np.float32)
    np.random.seed(0)
    np.testing.assert_array_equal(deg.random_color_shift(GLOBAL, img, 0.1), np.clip(img + shift, 0, 1))
    gray = deg.to_gray3(img)
    assert gray.shape == img.shape and np.array_equal(gray[..., 0], gray[..., 2])


def test_even_kernel_size_is_an_error():
    with pytest.raises(ValueError, match="odd"):
        deg.random_mixed_kernels(np.random.default_rng(0), ["iso"], [1], 20)
    with pytest.raises(ValueError, match="unknown kernel types"):
        deg.random_mixed_kernels(np.random.default_rng(0), ["sinc"], [1], 21)
