"""GFPGAN's training set: aligned HQ faces degraded on the fly (``gfpgan/data/ffhq_degradation_dataset.py``)."""
import json
from pathlib import Path

import cv2
import numpy as np

from ppgan_face.convert import CheckpointError, load_pth
from ppgan_face.data import degradations as deg
from ppgan_face.data.data_util import DatasetError, DegradationDataset, bgr_to_chw_rgb, normalize, read_image
from ppgan_face.registry import DATASET_REGISTRY

COMPONENTS = ("left_eye", "right_eye", "mouth")


def load_component_boxes(path, num_images):
    """Read GFPGAN's landmark file (``f'{index:08d}'`` -> {left_eye, right_eye, mouth: [cx, cy, half_len]}) and
    check it covers every image index. The official file is a PyTorch ``.pth``; a ``.json`` file of the same
    structure works too, so a landmark file for your own faces needs no PyTorch."""
    try:
        boxes = json.loads(Path(path).read_text()) if str(path).endswith(".json") else load_pth(path)
    except CheckpointError as err:
        raise DatasetError(f"landmark file {err}") from None
    except OSError as err:
        raise DatasetError(f"landmark file {path}: cannot read it ({err.strerror})") from None
    except ValueError as err:
        raise DatasetError(f"landmark file {path}: not valid JSON ({err})") from None
    if not isinstance(boxes, dict):
        raise DatasetError(f"{path}: the landmark file is not a dict of f'{{index:08d}}' entries")
    missing = [f"{i:08d}" for i in range(num_images) if f"{i:08d}" not in boxes]
    if missing:
        raise DatasetError(f"{path}: no landmarks for {len(missing)} of the {num_images} images (first: "
                           f"{missing[0]}); the file has {len(boxes)} entries; it does not match the image folder")
    for i in range(num_images):
        entry = boxes[f"{i:08d}"]
        if not isinstance(entry, dict) or any(np.size(entry.get(part, ())) < 3 for part in COMPONENTS):
            raise DatasetError(f"{path}: entry {i:08d} lacks [cx, cy, half_len] for one of {', '.join(COMPONENTS)}")
    return boxes


@DATASET_REGISTRY.register()
class FFHQDegradationDataset(DegradationDataset):
    """HQ faces (``dataroot_gt``, sorted; index i pairs with landmark entry i) and their synthetic LQ versions.

    Each sample: hflip (p 0.5) → random iso/aniso blur → downsample 1/U(downsample_range) → Gaussian noise →
    JPEG → resize back → [color shift (p color_jitter_prob, LQ only)] → [gray (p gray_prob; GT too if gt_gray)]
    → RGB CHW → [brightness/contrast/saturation/hue jitter (p color_jitter_pt_prob, LQ only)] → LQ rounded to
    8 bits → both normalised with mean/std. Returns ``{lq, gt, gt_path[, loc_left_eye, loc_right_eye,
    loc_mouth]}``, boxes as float32 [x1, y1, x2, y2] in GT pixels.

    Upstream's ``get_component_coordinates`` mirrors the loaded landmark entry in place on every flip, so in a
    long-lived worker an unflipped sample can get mirrored boxes; here each call starts from the file's values.
    """

    def __init__(self, dataroot_gt, out_size, blur_kernel_size, kernel_list, kernel_prob, blur_sigma,
                 downsample_range, noise_range, jpeg_range, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
                 use_hflip=True, color_jitter_prob=None, color_jitter_shift=20, color_jitter_pt_prob=None,
                 brightness=(0.5, 1.5), contrast=(0.5, 1.5), saturation=(0, 1.5), hue=(-0.1, 0.1), gray_prob=None,
                 gt_gray=False, crop_components=False, component_path=None, eye_enlarge_ratio=1, seed=None):
        super().__init__(dataroot_gt, out_size, blur_kernel_size, kernel_list, kernel_prob, blur_sigma,
                         downsample_range, noise_range, jpeg_range, mean, std, use_hflip, color_jitter_shift, seed)
        self.color_jitter_prob = color_jitter_prob
        self.color_jitter_pt_prob = color_jitter_pt_prob
        self.jitter_ranges = dict(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue)
        self.gray_prob = gray_prob
        self.gt_gray = gt_gray
        self.eye_enlarge_ratio = eye_enlarge_ratio
        self.components = None
        if crop_components:
            if component_path is None:
                raise DatasetError("FFHQDegradationDataset: crop_components needs component_path (the landmark file)")
            self.components = load_component_boxes(component_path, len(self.paths))

    def component_boxes(self, index, flipped):
        """[x1, y1, x2, y2] of the left eye, right eye and mouth; a flip swaps the eyes and mirrors x."""
        entry = {part: np.array(self.components[f"{index:08d}"][part]) for part in COMPONENTS}
        if flipped:
            entry["left_eye"], entry["right_eye"] = entry["right_eye"], entry["left_eye"]
            for part in COMPONENTS:
                entry[part][0] = self.out_size - entry[part][0]
        boxes = []
        for part in COMPONENTS:
            center, half_len = entry[part][0:2], entry[part][2]
            if "eye" in part:
                half_len *= self.eye_enlarge_ratio
            boxes.append(np.hstack((center - half_len + 1, center + half_len)).astype(np.float32))
        return boxes

    def sample(self, index, rng):
        """Sample ``index`` with the draws taken from ``rng`` (a Generator or RandomState), in upstream's order."""
        gt_path = self.paths[index]
        img_gt = read_image(gt_path)
        if self.components is not None and img_gt.shape[:2] != (self.out_size, self.out_size):
            raise DatasetError(f"{gt_path}: {img_gt.shape[1]}x{img_gt.shape[0]} image, but the component boxes are "
                               f"for out_size {self.out_size}")
        flipped = bool(self.use_hflip and rng.uniform() < 0.5)
        if flipped:
            img_gt = cv2.flip(img_gt, 1)
        h, w = img_gt.shape[:2]

        img_lq = deg.blur_downsample_noise_jpeg(rng, img_gt, **self.degradation)
        img_lq = cv2.resize(img_lq, (w, h), interpolation=cv2.INTER_LINEAR)
        if self.color_jitter_prob is not None and rng.uniform() < self.color_jitter_prob:
            img_lq = deg.random_color_shift(rng, img_lq, self.color_jitter_shift)
        if self.gray_prob and rng.uniform() < self.gray_prob:
            img_lq = deg.to_gray3(img_lq)
            if self.gt_gray:
                img_gt = deg.to_gray3(img_gt)

        img_gt, img_lq = bgr_to_chw_rgb(img_gt), bgr_to_chw_rgb(img_lq)
        if self.color_jitter_pt_prob is not None and rng.uniform() < self.color_jitter_pt_prob:
            img_lq = deg.random_color_jitter(rng, img_lq, **self.jitter_ranges)
        img_lq = np.clip((img_lq * 255.0).round(), 0, 255) / 255.

        out = {"lq": normalize(img_lq, self.mean, self.std), "gt": normalize(img_gt, self.mean, self.std),
               "gt_path": gt_path}
        if self.components is not None:
            out.update(zip(("loc_left_eye", "loc_right_eye", "loc_mouth"), self.component_boxes(index, flipped)))
        return out
