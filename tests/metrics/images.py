"""Small deterministic test images that look natural enough for image-quality statistics (NIQE needs texture)."""
import cv2
import numpy as np


def face_like(height, width, seed=0, noise=6.0):
    """BGR uint8: a smooth random field upsampled bicubically, plus mild noise."""
    rng = np.random.RandomState(seed)
    coarse = (rng.rand(max(height // 8, 2), max(width // 8, 2), 3) * 255).astype(np.uint8)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return np.clip(smooth + rng.randn(height, width, 3) * noise, 0, 255).astype(np.uint8)


def degrade(image, seed=1):
    """A 'restored' version of ``image``: blurred, noisier, JPEG-compressed."""
    rng = np.random.RandomState(seed)
    blurred = cv2.GaussianBlur(image, (5, 5), 1.2).astype(np.float32)
    noisy = np.clip(blurred + rng.randn(*image.shape) * 4, 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 40])[1], cv2.IMREAD_COLOR)
