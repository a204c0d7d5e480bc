"""Synthetic degradations of GFPGAN / GPEN training (BasicSR ``basicsr/data/degradations.py`` semantics).

Every random function takes an explicit ``rng`` (``np.random.Generator`` or ``np.random.RandomState``) so a
seeded dataset is reproducible and worker-safe. The draws are made in upstream's order and with upstream's
calls (``uniform``, ``standard_normal``), so ``np.random.RandomState(s)`` reproduces BasicSR under
``np.random.seed(s)``; upstream's one draw from Python's ``random`` (the kernel type) is taken from ``rng`` too,
with the same algorithm as ``random.choices``. Images are HWC float arrays in [0, 1], BGR as read by cv2.
"""
import bisect
import itertools
import math

import cv2
import numpy as np

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")


def choose(rng, population, weights):
    """``random.choices(population, weights)[0]`` with the uniform draw taken from ``rng``."""
    cum_weights = list(itertools.accumulate(weights))
    return population[bisect.bisect(cum_weights, rng.uniform() * cum_weights[-1], 0, len(population) - 1)]


def mesh_grid(kernel_size):
    """(K, K, 2) grid of (x, y) offsets from the kernel centre."""
    ax = np.arange(-kernel_size // 2 + 1., kernel_size // 2 + 1.)
    xx, yy = np.meshgrid(ax, ax)
    return np.stack((xx, yy), axis=-1)


def sigma_matrix2(sig_x, sig_y, theta):
    """Covariance of a Gaussian with axis sigmas ``sig_x``, ``sig_y`` rotated by ``theta`` radians."""
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return np.dot(rotation, np.dot(np.diag([sig_x**2, sig_y**2]), rotation.T))


def _quadratic_form(kernel_size, sig_x, sig_y, theta, isotropic):
    sigma = np.diag([sig_x**2, sig_x**2]) if isotropic else sigma_matrix2(sig_x, sig_y, theta)
    grid = mesh_grid(kernel_size)
    return np.sum(np.dot(grid, np.linalg.inv(sigma)) * grid, 2)


def bivariate_gaussian(kernel_size, sig_x, sig_y, theta, isotropic=True):
    """Normalised (an)isotropic Gaussian kernel; isotropic uses ``sig_x`` only."""
    kernel = np.exp(-0.5 * _quadratic_form(kernel_size, sig_x, sig_y, theta, isotropic))
    return kernel / np.sum(kernel)


def bivariate_generalized_gaussian(kernel_size, sig_x, sig_y, theta, beta, isotropic=True):
    """Normalised generalised Gaussian kernel exp(-0.5 q^beta) (beta = 1 is the Gaussian)."""
    kernel = np.exp(-0.5 * np.power(_quadratic_form(kernel_size, sig_x, sig_y, theta, isotropic), beta))
    return kernel / np.sum(kernel)


def bivariate_plateau(kernel_size, sig_x, sig_y, theta, beta, isotropic=True):
    """Normalised plateau kernel 1 / (1 + q^beta)."""
    kernel = np.reciprocal(np.power(_quadratic_form(kernel_size, sig_x, sig_y, theta, isotropic), beta) + 1)
    return kernel / np.sum(kernel)


def _random_shape(rng, sigma_x_range, sigma_y_range, rotation_range, isotropic):
    sigma_x = rng.uniform(sigma_x_range[0], sigma_x_range[1])
    if isotropic:
        return sigma_x, sigma_x, 0
    return sigma_x, rng.uniform(sigma_y_range[0], sigma_y_range[1]), rng.uniform(rotation_range[0], rotation_range[1])


def _random_beta(rng, beta_range):
    # upstream assumes beta_range[0] < 1 < beta_range[1]
    return rng.uniform(beta_range[0], 1) if rng.uniform() < 0.5 else rng.uniform(1, beta_range[1])


def _with_noise(rng, kernel, noise_range):
    if noise_range is not None:
        kernel = kernel * rng.uniform(noise_range[0], noise_range[1], size=kernel.shape)
    return kernel / np.sum(kernel)


def random_mixed_kernels(rng, kernel_list, kernel_prob, kernel_size=21, sigma_x_range=(0.6, 5),
                         sigma_y_range=(0.6, 5), rotation_range=(-math.pi, math.pi), betag_range=(0.5, 8),
                         betap_range=(0.5, 8), noise_range=None):
    """A random blur kernel of a type drawn from ``kernel_list`` with probabilities ``kernel_prob``.

    Plateau kernels ignore ``noise_range``, as upstream does.
    """
    if kernel_size % 2 != 1:
        raise ValueError(f"blur kernel size must be odd, got {kernel_size}")
    unknown = set(kernel_list) - set(KERNEL_TYPES)
    if unknown:
        raise ValueError(f"unknown kernel types {sorted(unknown)}; known: {', '.join(KERNEL_TYPES)}")
    kind = choose(rng, kernel_list, kernel_prob)
    isotropic = kind.endswith("iso") and not kind.endswith("aniso")
    sig_x, sig_y, theta = _random_shape(rng, sigma_x_range, sigma_y_range, rotation_range, isotropic)
    if kind in ("iso", "aniso"):
        kernel = bivariate_gaussian(kernel_size, sig_x, sig_y, theta, isotropic)
    elif kind.startswith("generalized"):
        kernel = bivariate_generalized_gaussian(kernel_size, sig_x, sig_y, theta, _random_beta(rng, betag_range),
                                                isotropic)
    else:
        kernel = bivariate_plateau(kernel_size, sig_x, sig_y, theta, _random_beta(rng, betap_range), isotropic)
        noise_range = None
    return _with_noise(rng, kernel, noise_range)


def filter2d(img, kernel):
    """Correlate every channel with ``kernel`` (cv2.filter2D, reflect-101 borders), keeping the dtype."""
    return cv2.filter2D(img, -1, kernel)


def random_downsample(rng, img, scale_range, interpolation=cv2.INTER_LINEAR):
    """Resize to ``(int(w // s), int(h // s))`` with s ~ U(scale_range)."""
    h, w = img.shape[:2]
    scale = rng.uniform(scale_range[0], scale_range[1])
    return cv2.resize(img, (int(w // scale), int(h // scale)), interpolation=interpolation)


def random_add_gaussian_noise(rng, img, sigma_range=(0, 1.0), gray_prob=0, clip=True, rounds=False):
    """Add N(0, sigma/255) noise, sigma ~ U(sigma_range); with probability ``gray_prob`` one noise map for all
    channels. Draws: sigma, the gray decision, then the noise (upstream's float32 noise, float64 result)."""
    sigma = rng.uniform(sigma_range[0], sigma_range[1])
    if rng.uniform() < gray_prob:
        noise = np.float32(rng.standard_normal(img.shape[:2])) * sigma / 255.
        noise = np.repeat(noise[:, :, None], 3, axis=2)
    else:
        noise = np.float32(rng.standard_normal(img.shape)) * sigma / 255.
    out = img + noise
    if clip and rounds:
        return np.clip((out * 255.0).round(), 0, 255) / 255.
    if clip:
        return np.clip(out, 0, 1)
    if rounds:
        return (out * 255.0).round() / 255.
    return out


def add_jpg_compression(img, quality=90):
    """JPEG-encode and decode with cv2 at ``quality``; returns float32 in [0, 1].

    Upstream passes the float quality straight to cv2; OpenCV <= 4.5.2 rounded it to the nearest integer
    (saturate_cast<int>), newer versions refuse it (BasicSR issue #578, mmagic PR #599), so we round.
    """
    # cv2 itself converts a float image to 8 bits with saturate_cast (round half to even), as np.rint does
    img = np.rint(np.clip(img, 0, 1) * 255.).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", img, [int(cv2.IMWRITE_JPEG_QUALITY), int(round(quality))])
    if not ok:
        raise RuntimeError("cv2 failed to JPEG-encode an image")
    return np.float32(cv2.imdecode(encoded, cv2.IMREAD_COLOR)) / 255.


def random_add_jpg_compression(rng, img, quality_range=(90, 100)):
    """JPEG artefacts with quality ~ U(quality_range)."""
    return add_jpg_compression(img, rng.uniform(quality_range[0], quality_range[1]))


def blur_downsample_noise_jpeg(rng, img, kernel_list, kernel_prob, blur_kernel_size, blur_sigma, downsample_range,
                               noise_range=None, jpeg_range=None):
    """The first-order degradation shared by GFPGAN and GPEN: blur with a random iso/aniso kernel (the same
    sigma range on both axes, any rotation), bilinear downsampling, Gaussian noise, JPEG. Returns the small image."""
    kernel = random_mixed_kernels(rng, kernel_list, kernel_prob, blur_kernel_size, blur_sigma, blur_sigma,
                                  (-math.pi, math.pi), noise_range=None)
    img = random_downsample(rng, filter2d(img, kernel), downsample_range)
    if noise_range is not None:
        img = random_add_gaussian_noise(rng, img, noise_range)
    if jpeg_range is not None:
        img = random_add_jpg_compression(rng, img, jpeg_range)
    return img


def random_color_shift(rng, img, shift):
    """Add one random offset in [-shift, shift] per channel, clip to [0, 1] (GFPGAN's ``color_jitter``)."""
    return np.clip(img + rng.uniform(-shift, shift, 3).astype(np.float32), 0, 1)


def to_gray3(img):
    """BGR -> gray (cv2 weights), repeated to 3 channels."""
    return np.tile(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[:, :, None], [1, 1, 3])


# ---- brightness / contrast / saturation / hue jitter on CHW float32 RGB in [0, 1] (torchvision semantics) ----

def _blend(img1, img2, ratio):
    return np.clip(ratio * img1 + (1.0 - ratio) * img2, 0, 1).astype(np.float32)


def rgb_to_gray(img):
    """torchvision's luma (0.2989, 0.587, 0.114) of a CHW RGB image, shape 1xHxW."""
    return (0.2989 * img[0] + 0.587 * img[1] + 0.114 * img[2])[None]


def adjust_brightness(img, factor):
    return _blend(img, np.zeros_like(img), factor)


def adjust_contrast(img, factor):
    return _blend(img, np.float32(rgb_to_gray(img).mean(dtype=np.float64)), factor)


def adjust_saturation(img, factor):
    return _blend(img, rgb_to_gray(img), factor)


def _rgb_to_hsv(img):
    r, g, b = img
    maxc, minc = img.max(axis=0), img.min(axis=0)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    divisor = np.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    h = ((maxc == r) * (bc - gc) + ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
         + ((maxc != g) & (maxc != r)) * (4.0 + gc - rc))
    return np.fmod(h / 6.0 + 1.0, 1.0).astype(np.float32), s, maxc


def _hsv_to_rgb(h, s, v):
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    table = np.stack([np.stack(c) for c in ((v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q))])
    return np.take_along_axis(table, np.broadcast_to(i[None, None], (3, 1) + i.shape), axis=1)[:, 0]


def adjust_hue(img, factor):
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue factor {factor} is not in [-0.5, 0.5]")
    h, s, v = _rgb_to_hsv(img)
    return _hsv_to_rgb(np.mod(h + factor, 1.0).astype(np.float32), s, v).astype(np.float32)


def random_color_jitter(rng, img, brightness=None, contrast=None, saturation=None, hue=None):
    """GFPGAN's ``color_jitter_pt``: the four adjustments in a random order, each with a factor ~ U(range);
    a ``None`` range skips that adjustment (its position in the order is still drawn)."""
    adjust = ((adjust_brightness, brightness), (adjust_contrast, contrast), (adjust_saturation, saturation),
              (adjust_hue, hue))
    for index in rng.permutation(4):
        fn, bounds = adjust[index]
        if bounds is not None:
            img = fn(img, rng.uniform(bounds[0], bounds[1]))
    return img
