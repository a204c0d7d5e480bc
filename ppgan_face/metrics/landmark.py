"""Landmark distance (LMD): how far the restored face's five landmarks moved from the GT's.

RetinaFace (``FaceDetector``) finds the five points (eyes, nose, mouth corners) on both images; the most
confident face of each is used. LMD is the mean Euclidean distance of corresponding points, in pixels, divided
by the GT's inter-ocular distance when ``normalize: interocular`` (so it does not depend on the face size; 0.1
is a tenth of the eye distance). It is NaN when either image has no detected face; means skip NaNs.
"""
import numpy as np

from ppgan_face.convert.errors import CheckpointError
from ppgan_face.face.detector import FaceDetector
from ppgan_face.metrics.base import FullReferenceMetric, MetricError
from ppgan_face.metrics.networks import weights_path
from ppgan_face.registry import METRIC_REGISTRY

NORMALIZATIONS = ("interocular", "none")


def landmark_distance(points, reference, normalize="interocular"):
    """Mean distance of two (5, 2) landmark sets; ``reference`` (the GT's) sets the inter-ocular scale."""
    distance = float(np.linalg.norm(points - reference, axis=1).mean())
    if normalize == "interocular":
        distance /= float(np.linalg.norm(reference[0] - reference[1]))
    return distance


@METRIC_REGISTRY.register()
class LandmarkDistance(FullReferenceMetric):
    """Mean five-point landmark distance between restored and GT (lower is better).

    Args:
        detector (str): RetinaFace config (``retinaface_resnet50``, ``retinaface_mobilenet0.25``).
        weights (str): its converted weights (default: the config's ``weights``).
        normalize (str): ``interocular`` or ``none`` (pixels).
        settings (dict): FaceDetector settings overriding the config's ``detector:`` section.
    """

    higher_is_better = False

    def __init__(self, detector="retinaface_resnet50", weights=None, normalize="interocular", settings=None):
        if normalize not in NORMALIZATIONS:
            raise MetricError(f"lmd: normalize must be one of {', '.join(NORMALIZATIONS)}, got {normalize!r}")
        from ppgan_face.config import load_config

        path = weights_path(load_config(detector), weights, what="lmd")
        try:
            self.detector = FaceDetector.from_config(detector, weights=str(path), **(settings or {}))
        except CheckpointError as err:
            raise MetricError(f"lmd: {err}") from None
        self.normalize = normalize

    def landmarks(self, images):
        """(5, 2) landmarks of the most confident face of each image, or None where none is found."""
        return [dets[0, 5:15].reshape(5, 2).astype(np.float64) if len(dets) else None
                for dets in self.detector.detect_batch(list(images))]

    def __call__(self, restored, gt):
        points, reference = self.landmarks([restored, gt])
        if points is None or reference is None:
            return float("nan")
        return landmark_distance(points, reference, self.normalize)
