"""Paired LQ / GT faces for validation, e.g. the folders written by ``tools/make_degraded.py``."""
from pathlib import Path

from paddle.io import Dataset

from ppgan_face.data.data_util import DatasetError, bgr_to_chw_rgb, normalize, read_image, scan_images
from ppgan_face.registry import DATASET_REGISTRY


@DATASET_REGISTRY.register()
class PairedImageDataset(Dataset):
    """``dataroot_lq/NAME`` pairs with ``dataroot_gt/NAME`` (same file name). Returns ``{lq, gt, lq_path,
    gt_path}``, RGB CHW float32 normalised with mean/std."""

    def __init__(self, dataroot_lq, dataroot_gt, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
        super().__init__()
        lq = {Path(p).name: p for p in scan_images(dataroot_lq, "dataroot_lq folder")}
        gt = {Path(p).name: p for p in scan_images(dataroot_gt, "dataroot_gt folder")}
        for names, folder, other in ((set(lq) - set(gt), dataroot_gt, "LQ"), (set(gt) - set(lq), dataroot_lq, "GT")):
            if names:
                raise DatasetError(f"{folder}: no counterpart for {len(names)} {other} image(s), e.g. {min(names)}")
        self.pairs = [(lq[name], gt[name]) for name in sorted(lq)]
        self.mean, self.std = mean, std

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        lq_path, gt_path = self.pairs[index]
        img_lq, img_gt = read_image(lq_path), read_image(gt_path)
        if img_lq.shape != img_gt.shape:
            raise DatasetError(f"{lq_path}: size {img_lq.shape[:2]} differs from its GT's {img_gt.shape[:2]}")
        return {"lq": normalize(bgr_to_chw_rgb(img_lq), self.mean, self.std),
                "gt": normalize(bgr_to_chw_rgb(img_gt), self.mean, self.std), "lq_path": lq_path, "gt_path": gt_path}
