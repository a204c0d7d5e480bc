"""Folder evaluation: pair restored and GT images by name, run the metrics, summarise, write CSV / JSON.

Images pair by file name without extension (``a.png`` with ``a.jpg``), so a lossless restored copy of a JPEG
GT still pairs. Every problem a user can cause (missing pair, unreadable file, size mismatch) raises
MetricError with one line naming the file.
"""
import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ppgan_face.metrics.base import MetricError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def list_images(folder, what):
    """``{stem: path}`` of the images in ``folder`` (not recursive)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MetricError(f"{what} folder {folder} not found")
    images = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_EXTENSIONS or not path.is_file():
            continue
        if path.stem in images:
            raise MetricError(f"{what} folder {folder} has two images named {path.stem}: "
                              f"{images[path.stem].name} and {path.name}")
        images[path.stem] = path
    if not images:
        raise MetricError(f"{what} folder {folder} has no images ({', '.join(IMAGE_EXTENSIONS)})")
    return images


def _names(stems, limit=5):
    stems = sorted(stems)
    return ", ".join(stems[:limit]) + (f", ... (+{len(stems) - limit})" if len(stems) > limit else "")


def pair_images(restored_dir, gt_dir=None):
    """``[(name, restored path, GT path or None)]`` sorted by name; every image must have its partner."""
    restored = list_images(restored_dir, "restored")
    if gt_dir is None:
        return [(stem, path, None) for stem, path in restored.items()]
    gt = list_images(gt_dir, "GT")
    for have, lack, folder, missing in (("restored", "GT", gt_dir, set(restored) - set(gt)),
                                        ("GT", "restored", restored_dir, set(gt) - set(restored))):
        if missing:
            raise MetricError(f"{len(missing)} {have} image(s) have no {lack} image of the same name in {folder}: "
                              f"{_names(missing)}")
    return [(stem, restored[stem], gt[stem]) for stem in sorted(restored)]


def read_image(path):
    """A BGR uint8 (H, W, 3) image; gray and alpha images are converted."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MetricError(f"{path}: cannot read the image (missing, damaged or not an image)")
    return image


def evaluate(pairs, metrics, on_image=None):
    """One row ``{"name": ..., metric name: value}`` per pair; ``on_image()`` is called after each (progress)."""
    rows = []
    for name, restored_path, gt_path in pairs:
        restored = read_image(restored_path)
        gt = read_image(gt_path) if gt_path is not None else None
        row = {"name": name}
        for metric_name, metric in metrics.items():
            try:
                row[metric_name] = float(metric(restored, gt))
            except ValueError as err:
                raise MetricError(f"{name}: {metric_name}: {err}") from None
        rows.append(row)
        if on_image:
            on_image()
    return rows


def summarize(rows, metrics):
    """Per metric: mean over the images where it is defined (NaN skipped), that count, and its direction."""
    summary = {}
    for metric_name, metric in metrics.items():
        values = np.array([row[metric_name] for row in rows], dtype=np.float64)
        defined = values[~np.isnan(values)]
        summary[metric_name] = {"mean": float(defined.mean()) if defined.size else float("nan"),
                                "count": int(defined.size), "higher_is_better": metric.higher_is_better}
    return summary


def format_table(summary, images):
    """A plain-text table: metric, mean, images it is defined on, direction."""
    lines = [f"{'metric':<8} {'mean':>12} {'images':>7}  better", "-" * 37]
    for name, item in summary.items():
        lines.append(f"{name:<8} {item['mean']:>12.6f} {item['count']:>4}/{images:<3} "
                     f"{'higher' if item['higher_is_better'] else 'lower'}")
    return "\n".join(lines)


def _write_atomic(path, text):
    """Write through a temporary file in the same folder, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_csv(rows, metric_names, path):
    """Per-image values, one row per image (``nan`` where a metric is undefined, ``inf`` for equal images)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", *metric_names])
    for row in rows:
        writer.writerow([row["name"], *(repr(row[name]) for name in metric_names)])
    return _write_atomic(path, buffer.getvalue())


def write_json(summary, path, **info):
    """The summary; a non-finite mean (PSNR of identical images, no defined value) is written as null."""
    metrics = {name: {**item, "mean": item["mean"] if math.isfinite(item["mean"]) else None}
               for name, item in summary.items()}
    return _write_atomic(path, json.dumps({**info, "metrics": metrics}, indent=2) + "\n")
