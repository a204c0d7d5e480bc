"""GPEN's training set (``training/data_loader/dataset_face.py`` of yangxy/GPEN): GFPGAN's degradation with a
gray GT 20% of the time, no LQ color jitter, and the GT resized to the training resolution first."""
import cv2
import numpy as np

from ppgan_face.data import degradations as deg
from ppgan_face.data.data_util import DegradationDataset, bgr_to_chw_rgb, normalize, read_image
from ppgan_face.registry import DATASET_REGISTRY


@DATASET_REGISTRY.register()
class GPENDegradationDataset(DegradationDataset):
    """Each sample: read → resize to ``out_size`` (INTER_AREA, on 8 bits) → hflip (p 0.5) → [GT color shift
    (p color_jitter_prob; 0 in GPEN, the draw is still made)] → [GT to gray (p gray_prob)] → blur → downsample →
    noise → JPEG → LQ rounded to 8 bits → resize back (bilinear) → RGB CHW, (x - 0.5) / 0.5.
    Returns ``{lq, gt, gt_path}``."""

    def __init__(self, dataroot_gt, out_size, blur_kernel_size, kernel_list, kernel_prob, blur_sigma,
                 downsample_range, noise_range, jpeg_range, gray_prob, color_jitter_prob=0.0, color_jitter_shift=20,
                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), use_hflip=True, seed=None):
        super().__init__(dataroot_gt, out_size, blur_kernel_size, kernel_list, kernel_prob, blur_sigma,
                         downsample_range, noise_range, jpeg_range, mean, std, use_hflip, color_jitter_shift, seed)
        self.gray_prob = gray_prob
        self.color_jitter_prob = color_jitter_prob

    def sample(self, index, rng):
        """Sample ``index`` with the draws taken from ``rng``, in GPEN's order."""
        gt_path = self.paths[index]
        img_gt = cv2.resize(read_image(gt_path, float32=False), (self.out_size, self.out_size),
                            interpolation=cv2.INTER_AREA).astype(np.float32) / 255.
        if self.use_hflip and rng.uniform() > 0.5:
            img_gt = cv2.flip(img_gt, 1)
        h, w = img_gt.shape[:2]
        if rng.uniform() < self.color_jitter_prob:
            img_gt = deg.random_color_shift(rng, img_gt, self.color_jitter_shift)
        if rng.uniform() < self.gray_prob:
            img_gt = deg.to_gray3(img_gt)

        img_lq = deg.blur_downsample_noise_jpeg(rng, img_gt, **self.degradation)
        img_lq = np.clip((img_lq * 255.0).round(), 0, 255) / 255.
        img_lq = cv2.resize(img_lq, (w, h), interpolation=cv2.INTER_LINEAR)
        return {"lq": normalize(bgr_to_chw_rgb(img_lq), self.mean, self.std),
                "gt": normalize(bgr_to_chw_rgb(img_gt), self.mean, self.std), "gt_path": gt_path}
