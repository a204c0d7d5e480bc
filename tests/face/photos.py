"""Synthetic photos with drawn faces (no downloads): known five-point landmarks, varied backgrounds; and the
image comparison the pipeline tests share."""
import cv2
import numpy as np

# Where a face's five points sit relative to its eye distance (eyes, nose, mouth corners), roughly FFHQ's.
_UNIT_FACE = (np.array([[193.0, 240.0], [319.0, 240.0], [257.0, 314.0], [201.0, 371.0], [313.0, 371.0]])
              - [256.0, 300.0]) / 126.0


def landmarks(cx, cy, eye_dist, angle_deg, jitter=0.0, seed=0):
    """Five (x, y) points of a face centred at (cx, cy), rotated, with optional random jitter (float32)."""
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    points = _UNIT_FACE @ rot.T * eye_dist + [cx, cy]
    points += np.random.RandomState(seed).randn(5, 2) * jitter
    return points.astype(np.float32)


def face_photo(height, width, faces, seed=0):
    """A BGR uint8 photo with one cartoon face per ``(cx, cy, eye_dist, angle_deg)``; returns the photo and
    the faces' landmarks (N, 5, 2) float32 (jittered by 1.5 px so the fits are not exact)."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[:height, :width]
    photo = np.stack([xx * 200.0 / width + 30, yy * 180.0 / height + 40, np.full((height, width), 110.0)], -1)
    photo += rng.randn(height, width, 3) * 12
    points = []
    for k, (cx, cy, eye_dist, angle) in enumerate(faces):
        pts = landmarks(cx, cy, eye_dist, angle, jitter=1.5, seed=seed + k)
        axes = (int(eye_dist * 1.3), int(eye_dist * 1.7))
        cv2.ellipse(photo, (int(cx), int(cy)), axes, angle, 0, 360, (120, 160, 215), -1)
        for x, y in pts[:2]:
            cv2.circle(photo, (int(x), int(y)), max(2, int(eye_dist / 8)), (40, 30, 20), -1)
        cv2.line(photo, tuple(int(v) for v in pts[3]), tuple(int(v) for v in pts[4]), (60, 50, 160),
                 max(1, int(eye_dist / 12)))
        cv2.circle(photo, tuple(int(v) for v in pts[2]), max(1, int(eye_dist / 14)), (90, 120, 180), -1)
        points.append(pts)
    return np.clip(photo, 0, 255).astype(np.uint8), np.asarray(points, dtype=np.float32).reshape(-1, 5, 2)


def detections(points, score=0.99):
    """Detection rows ``[x1, y1, x2, y2, score, 10 landmark coordinates]`` (float32) around the landmarks."""
    rows = []
    for pts in points:
        lo, hi = pts.min(0) - 20, pts.max(0) + 20
        rows.append(np.concatenate([lo, hi, [score], pts.reshape(-1)]))
    return np.asarray(rows, dtype=np.float32).reshape(-1, 15)


def assert_close_images(mine, ref, what, max_frac=1e-4, max_abs=1):
    """Same dtype and shape, and within one grey level on almost every pixel: prints the max difference and
    the fractions of pixels off by more than 1 and by anything, and bounds them."""
    assert mine.dtype == ref.dtype and mine.shape == ref.shape, (
        f"{what}: {mine.dtype}{mine.shape} vs {ref.dtype}{ref.shape}")
    diff = np.abs(mine.astype(np.int64) - ref.astype(np.int64))
    frac = float((diff > 1).mean())
    print(f"{what}: max abs {diff.max()}, fraction off by > 1: {frac:.2e}, off by > 0: {(diff > 0).mean():.2e}")
    assert frac <= max_frac and diff.max() <= max_abs, what
