"""A synthetic face set drawn with OpenCV: smoke-test data for the lite training configs and TIPC, offline.

The faces are not realistic; they have the structure the losses look at (a face oval, two eyes, a mouth, a
smooth background), so a lite model visibly learns to restore them within a few hundred iterations.
"""
from pathlib import Path

import cv2
import numpy as np

from ppgan_face.utils.image_io import write_image


def draw_face(rs, size):
    """One face: skin-coloured ellipse, two eyes and a mouth at jittered places, on a vertical gradient."""
    img = np.zeros((size, size, 3), np.uint8)
    img[:] = np.linspace(rs.randint(40, 120), rs.randint(120, 200), size)[:, None, None].astype(np.uint8)
    c = size // 2
    skin = tuple(int(v) for v in rs.randint(120, 230, 3))
    cv2.ellipse(img, (c, c), (int(size * 0.32), int(size * 0.42)), 0, 0, 360, skin, -1)
    for x in (0.35, 0.65):
        cv2.circle(img, (int(size * x) + rs.randint(-1, 2), int(size * 0.45)), max(2, size // 16), (40, 30, 20), -1)
    cv2.ellipse(img, (c, int(size * 0.72)), (size // 8, size // 20), 0, 0, 360, (60, 50, 160), -1)
    return cv2.GaussianBlur(img, (3, 3), 0)


def write_synthetic_set(root, count=16, val_count=4, size=64, seed=0):
    """``root/hq`` (training faces) and ``root/val/{hq,lq}`` (validation pairs, LQ = blurred HQ); returns paths."""
    root, rs = Path(root), np.random.RandomState(seed)
    written = []
    for i in range(count):
        written.append(root / "hq" / f"{i:05d}.png")
        write_image(written[-1], draw_face(rs, size))
    for i in range(val_count):
        face = draw_face(rs, size)
        for kind, image in (("hq", face), ("lq", cv2.GaussianBlur(face, (7, 7), 2))):
            written.append(root / "val" / kind / f"{i:05d}.png")
            write_image(written[-1], image)
    return written
