"""Landmark distance: the formula on hand-made points, and the whole metric against facexlib's detector
(random-weight RetinaFace mobile0.25 saved as upstream publishes it) on tiny images."""
import math

import numpy as np
import pytest
import torch

from ppgan_face.metrics import MetricError, build_metric
from ppgan_face.metrics.landmark import landmark_distance
from tests.archs.test_retinaface_arch import facexlib_retinaface
from tests.metrics.images import face_like
from tests.oracles import save_official

REFERENCE = np.array([[10.0, 20.0], [30.0, 20.0], [20.0, 30.0], [12.0, 40.0], [28.0, 40.0]])


def test_distance_by_hand():
    shifted = REFERENCE + [3.0, 4.0]  # every point 5 px away; the eyes are 20 px apart
    assert landmark_distance(shifted, REFERENCE, "none") == 5.0
    assert landmark_distance(shifted, REFERENCE, "interocular") == 0.25
    one_moved = REFERENCE.copy()
    one_moved[2] += [6.0, 8.0]  # one point 10 px away: mean 2 px
    assert landmark_distance(one_moved, REFERENCE, "none") == 2.0


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    theirs = facexlib_retinaface("mobile0.25")
    path = save_official(theirs.state_dict(), tmp_path_factory.mktemp("det") / "mnet.pth", prefix="module.")
    return theirs, path


def _metric(path, **options):
    return build_metric("lmd", {"type": "LandmarkDistance", "detector": "retinaface_mobilenet0.25",
                                "weights": str(path), **options})


@pytest.mark.parametrize("normalize", ["interocular", "none"])
def test_matches_facexlib_landmarks(detector, normalize):
    theirs, path = detector
    gt = face_like(64, 80, seed=7)
    # random weights barely look at the content (their detections follow the anchors); another size moves them
    restored = face_like(72, 96, seed=8)
    top = []
    for image in (restored, gt):
        with torch.no_grad():
            dets = theirs.detect_faces(image, conf_threshold=0.0, nms_threshold=0.4)
        assert dets[0, 4] - dets[1, 4] > 1e-5  # a clear most-confident face: float32 noise cannot swap them
        top.append(dets[0, 5:15].reshape(5, 2).astype(np.float64))
    expected = np.mean(np.sqrt(((top[0] - top[1]) ** 2).sum(axis=1)))
    if normalize == "interocular":
        expected /= math.hypot(*(top[1][0] - top[1][1]))
    metric = _metric(path, normalize=normalize, settings={"conf_threshold": 0.0})
    value = metric(restored, gt)
    print(f"LMD ({normalize}): facexlib {expected:.6f}, ours {value:.6f}")
    assert expected > 1e-3
    assert value == pytest.approx(expected, rel=1e-4, abs=1e-5)
    assert metric(gt, gt) == 0.0


def test_no_face_gives_nan(detector):
    _, path = detector
    metric = _metric(path, settings={"conf_threshold": 1.0})
    assert math.isnan(metric(face_like(48, 48), face_like(48, 48, seed=1)))


def test_bad_options_and_missing_weights(detector, tmp_path):
    _, path = detector
    with pytest.raises(MetricError, match="normalize"):
        _metric(path, normalize="bbox")
    with pytest.raises(MetricError, match="convert_weights.py --src detection_mobilenet0.25_Final.pth"):
        _metric(tmp_path / "absent.pdparams")
