"""Face alignment: five landmarks → a similarity transform onto a template face, and the aligned crop.

GFPGAN (facexlib) fits the FFHQ template with ``cv2.estimateAffinePartial2D(..., method=cv2.LMEDS)``;
GPEN fits its reference points by least squares (Umeyama). The template, the fit and the warp settings
come from the ``face_helper.align`` section of a restorer config.
"""
import cv2
import numpy as np

INTERPOLATIONS = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
                  "area": cv2.INTER_AREA, "lanczos4": cv2.INTER_LANCZOS4}


def interpolation_flag(name):
    try:
        return INTERPOLATIONS[name]
    except KeyError:
        raise ValueError(f"unknown interpolation {name!r}; known: {', '.join(INTERPOLATIONS)}") from None


def umeyama_similarity(src, dst):
    """Least-squares similarity (rotation, uniform scale, translation) taking ``src`` points onto ``dst``,
    as a 2×3 matrix (Umeyama 1991; GPEN's ``_umeyama``, computed on float32 points as GPEN does)."""
    src, dst = np.float32(src), np.float32(dst)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    signs = np.ones(2)
    if np.linalg.det(cov) < 0:  # a reflection fits better: keep a proper rotation instead
        signs[-1] = -1
    u, s, vt = np.linalg.svd(cov)
    rotation = u @ np.diag(signs) @ vt
    scale = 1.0 / src_c.var(axis=0).sum() * (s @ signs)
    matrix = np.zeros((2, 3))
    matrix[:, :2] = rotation * scale
    matrix[:, 2] = dst_mean - scale * (rotation @ src_mean)
    return matrix


def _lmeds(src, dst):
    return cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)[0]


ESTIMATORS = {"lmeds": _lmeds, "umeyama": umeyama_similarity}


class FaceAligner:
    """Landmarks (5, 2) → affine matrix → square aligned crop of side ``face_size``.

    The template is given for a face of side ``template_size`` (plus ``template_offset``, GPEN's padding of
    its 96×112 reference points) and scaled to ``face_size``, as upstream does.
    """

    def __init__(self, face_size, template, template_size, template_offset=(0.0, 0.0), estimator="lmeds",
                 border_value=(0, 0, 0), interpolation="linear"):
        self.face_size = int(face_size)
        self.template = (np.asarray(template, dtype=np.float64) + np.asarray(template_offset)) * (
            face_size / template_size)
        if estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {estimator!r}; known: {', '.join(ESTIMATORS)}")
        self.estimate = ESTIMATORS[estimator]
        self.border_value = tuple(float(v) for v in border_value)
        self.flags = interpolation_flag(interpolation)

    def matrix(self, landmarks):
        """The 2×3 transform taking image coordinates to aligned-face coordinates."""
        return self.estimate(landmarks, self.template)

    def warp(self, image, matrix):
        """The aligned face crop (face_size × face_size); outside the photo is ``border_value``."""
        size = (self.face_size, self.face_size)
        return cv2.warpAffine(image, matrix, size, flags=self.flags, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=self.border_value)


def eye_distance(detection):
    """Distance between the two eye landmarks of a detection row ``[box, score, lx1, ly1, ...]``."""
    return np.linalg.norm([detection[5] - detection[7], detection[6] - detection[8]])


def center_face_index(detections, height, width):
    """Index of the detection whose box centre is nearest the image centre (facexlib's ``get_center_face``)."""
    centers = np.stack([(detections[:, 0] + detections[:, 2]) / 2, (detections[:, 1] + detections[:, 3]) / 2], 1)
    return int(np.argmin(np.linalg.norm(centers - np.array([width / 2, height / 2]), axis=1)))
