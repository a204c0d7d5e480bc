"""A tiny synthetic face set (drawn with cv2, nothing downloaded) and the config overrides that point a lite
training config at it."""
import cv2
import numpy as np
import torch

from ppgan_face.data.synthetic import draw_face

SIZE = 64


def landmarks(count, size=SIZE):
    return {f"{i:08d}": {"left_eye": np.array([0.35 * size, 0.45 * size, 0.06 * size]),
                         "right_eye": np.array([0.65 * size, 0.45 * size, 0.06 * size]),
                         "mouth": np.array([0.5 * size, 0.72 * size, 0.1 * size])} for i in range(count)}


def make_dataset(root, count=8, val_count=2, size=SIZE):
    """root/hq (training faces), root/landmarks.pth, root/val/{lq,hq} (paired validation faces)."""
    rs = np.random.RandomState(0)
    for folder in ("hq", "val/hq", "val/lq"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(root / "hq" / f"{i:05d}.png"), draw_face(rs, size))
    for i in range(val_count):
        face = draw_face(rs, size)
        cv2.imwrite(str(root / "val/hq" / f"{i:05d}.png"), face)
        cv2.imwrite(str(root / "val/lq" / f"{i:05d}.png"), cv2.GaussianBlur(face, (7, 7), 2))
    torch.save(landmarks(count, size), root / "landmarks.pth")
    return root


def data_overrides(root, components=False):
    """``-o`` overrides pointing a lite config at ``make_dataset(root)``."""
    out = [f"datasets.train.dataset.dataroot_gt={root / 'hq'}", f"datasets.val.dataset.dataroot_lq={root / 'val/lq'}",
           f"datasets.val.dataset.dataroot_gt={root / 'val/hq'}"]
    if components:
        out.append(f"datasets.train.dataset.component_path={root / 'landmarks.pth'}")
    return out
