"""Image files for the tools: reading with one-line reasons for refusal, and atomic writes.

Images are read unchanged (gray, BGRA and 16-bit stay so); the face pipeline decides how each mode is
processed. Writes go to a temporary file in the destination folder, then ``os.replace``: an interrupted run
never leaves a half-written image behind.
"""
import glob
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class ImageError(ValueError):
    """A file that cannot be used as an input image; the message is one line for the user."""


def read_image(path, min_side=32, max_side=8000):
    """Read ``path`` as an array (H, W), (H, W, 3) BGR or (H, W, 4) BGRA, uint8 or uint16."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as err:
        raise ImageError(f"cannot read the file ({err.strerror or err})") from None
    return decode_image(data, min_side, max_side)


def decode_image(data, min_side=32, max_side=8000):
    """:func:`read_image` of the bytes of an image file (``bytes`` or a uint8 array)."""
    data = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageError("not an image (or a format OpenCV cannot decode)")
    if image.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"unsupported pixel type {image.dtype} (8- or 16-bit images only)")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    height, width = image.shape[:2]
    if min(height, width) < min_side:
        raise ImageError(f"image too small ({width}x{height}; each side must be at least {min_side} px)")
    if max(height, width) > max_side:
        raise ImageError(f"image too large ({width}x{height}; each side must be at most {max_side} px)")
    return image


def write_image(path, image):
    """Encode by the extension of ``path`` and write atomically (creating folders)."""
    write_bytes(path, encode_image(image, Path(path).suffix))


def encode_image(image, suffix):
    """The file bytes of ``image`` in the format of ``suffix`` (``.png``, ``.jpg``, ...), OpenCV's default settings."""
    try:
        ok, encoded = cv2.imencode(suffix, image)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageError(f"cannot encode {image.dtype} {image.shape} as {suffix}")
    return encoded.tobytes()


def write_bytes(path, data):
    """Write ``data`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def fit_for_format(image, suffix):
    """Drop what a format cannot store: 16 bits and alpha in JPEG / WebP / BMP (8-bit BGR there)."""
    if suffix.lower() in (".png", ".tif", ".tiff"):
        return image
    if image.dtype == np.uint16:
        image = np.round(image / 257.0).astype(np.uint8)
    return image[:, :, :3] if image.ndim == 3 and image.shape[2] == 4 else image


def to_uint8(image):
    """An image for 8-bit files (faces, comparisons): rounded, clipped to [0, 255]."""
    return image if image.dtype == np.uint8 else np.clip(np.round(image), 0, 255).astype(np.uint8)


def list_images(spec):
    """Files of an input given as a file, a folder (its images, sorted) or a glob pattern."""
    path = Path(spec)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if path.exists():
        return [path]
    return sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
