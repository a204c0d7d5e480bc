"""Image folders, decoding and tensor layout shared by the datasets, with one-line errors for bad input."""
from pathlib import Path

import cv2
import numpy as np
from paddle.io import Dataset

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
# leading bytes of the formats above, to catch a damaged or mislabelled file before training starts
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"RIFF", b"II*\x00", b"MM\x00*")


class DatasetError(ValueError):
    """A dataset that cannot be used; ``str(err)`` is one line naming the file or folder and the problem."""


def scan_images(folder, what="image folder"):
    """Sorted image files of ``folder`` (not recursive), each checked to exist, be non-empty and look like an image."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: {what} not found")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not paths:
        raise DatasetError(f"{folder}: no images ({', '.join(IMAGE_EXTENSIONS)}) in the {what}")
    for path in paths:
        try:
            with open(path, "rb") as file:
                head = file.read(8)
        except OSError as err:
            raise DatasetError(f"{path}: cannot read ({err.strerror})") from None
        if not head.startswith(_SIGNATURES):
            raise DatasetError(f"{path}: {'empty file' if not head else 'not an image file'}")
    return [str(p) for p in paths]


def read_image(path, float32=True):
    """Read a colour image as HWC BGR, float32 in [0, 1] (or uint8), like BasicSR's ``imfrombytes``."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as err:
        raise DatasetError(f"{path}: cannot read ({err.strerror})") from None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise DatasetError(f"{path}: cannot decode the image")
    return img.astype(np.float32) / 255. if float32 else img


def bgr_to_chw_rgb(img):
    """HWC BGR float -> CHW RGB float32 (BasicSR's ``img2tensor``)."""
    if img.dtype == np.float64:
        img = img.astype(np.float32)
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)).astype(np.float32)


def normalize(img, mean, std):
    """(img - mean) / std per channel of a CHW float32 image."""
    mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
    std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
    return (img - mean) / std


class SeededSampling:
    """Per-sample random generators: ``seed`` fixed -> sample ``i`` of epoch ``e`` always degrades the same way,
    whichever worker draws it; ``seed=None`` -> fresh entropy. Call ``set_epoch`` before each epoch so epochs
    differ (as with a distributed sampler)."""

    def __init__(self, seed=None):
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def rng(self, index):
        if self.seed is None:
            return np.random.default_rng()
        return np.random.default_rng([int(self.seed), self.epoch, int(index)])


class DegradationDataset(Dataset, SeededSampling):
    """What GFPGAN's and GPEN's on-the-fly degradation sets share: the HQ faces of ``dataroot_gt``, the
    blur / downsample / noise / JPEG settings (``degradations.blur_downsample_noise_jpeg``), flip, colour shift
    and normalisation; sample ``i`` is ``sample(i, rng(i))``, written by each subclass in its upstream's order."""

    def __init__(self, dataroot_gt, out_size, blur_kernel_size, kernel_list, kernel_prob, blur_sigma,
                 downsample_range, noise_range, jpeg_range, mean, std, use_hflip, color_jitter_shift, seed):
        Dataset.__init__(self)
        SeededSampling.__init__(self, seed)
        self.paths = scan_images(dataroot_gt, "dataroot_gt folder")
        self.out_size = out_size
        self.mean, self.std = mean, std
        self.use_hflip = use_hflip
        self.degradation = dict(kernel_list=kernel_list, kernel_prob=kernel_prob, blur_kernel_size=blur_kernel_size,
                                blur_sigma=blur_sigma, downsample_range=downsample_range, noise_range=noise_range,
                                jpeg_range=jpeg_range)
        self.color_jitter_shift = color_jitter_shift / 255.

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return self.sample(index, self.rng(index))
