"""Image preparation shared by the pixel metrics, as BasicSR's ``basicsr/metrics/metric_util.py`` does it.

Images are numpy arrays in [0, 255] (uint8 or float), BGR channel order (``cv2.imread``).
"""
import numpy as np

# ITU-R BT.601 luma of MATLAB's rgb2ycbcr, for B, G, R in [0, 1] (BasicSR's bgr2ycbcr with y_only=True).
_Y_FROM_BGR = (24.966, 128.553, 65.481)


def reorder_image(img, input_order="HWC"):
    """Return an (H, W, C) view: (H, W) gains a channel axis, 'CHW' is transposed."""
    if input_order not in ("HWC", "CHW"):
        raise ValueError(f"input_order must be 'HWC' or 'CHW', got {input_order!r}")
    if img.ndim == 2:
        img = img[..., None]
    return img.transpose(1, 2, 0) if input_order == "CHW" else img


def crop(img, border):
    """Drop ``border`` pixels on each side of the first two axes."""
    return img[border:-border, border:-border, ...] if border else img


def to_y_channel(img):
    """(H, W, 3) BGR in [0, 255] -> (H, W, 1) float32 Y in [16, 235], unrounded; other images pass as float32.

    The dtypes follow BasicSR (float32 in, float64 matrix product, float32 out) so results agree to the bit.
    """
    img = img.astype(np.float32) / 255.0
    if img.ndim == 3 and img.shape[2] == 3:
        y = np.dot(img, _Y_FROM_BGR) + 16.0
        img = (y / 255.0).astype(np.float32)[..., None]
    return img * 255.0
