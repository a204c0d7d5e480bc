"""Alignment against facexlib's FaceRestoreHelper (GFPGAN) and modelscope's GPEN warp_and_crop_face."""
import cv2
import numpy as np
import pytest

from ppgan_face.config import load_config
from ppgan_face.face import FaceAligner, umeyama_similarity
from ppgan_face.face.align import center_face_index
from tests.face.photos import face_photo
from tests.oracles import official

FACES = [(90, 100, 40, 10), (260, 130, 70, -25), (200, 40, 30, 170)]  # the last one partly outside the photo


def _aligner(model, face_size):
    return FaceAligner(face_size, **load_config(model)["face_helper"]["align"])


@pytest.mark.parametrize("face_size", [512, 256])
def test_ffhq_alignment_matches_facexlib(face_size):
    photo, points = face_photo(200, 340, FACES)
    helper = official("facexlib.utils.face_restoration_helper").FaceRestoreHelper(
        2, face_size=face_size, use_parse=False, device="cpu")
    helper.input_img = photo
    helper.all_landmarks_5 = list(points)
    helper.align_warp_face()
    aligner = _aligner("gfpgan_v1.4", face_size)
    np.testing.assert_array_equal(aligner.template, helper.face_template)
    for pts, ref_matrix, ref_crop in zip(points, helper.affine_matrices, helper.cropped_faces):
        matrix = aligner.matrix(pts)
        np.testing.assert_array_equal(matrix, ref_matrix)
        np.testing.assert_array_equal(aligner.warp(photo, matrix), ref_crop)
    assert (helper.cropped_faces[2] == (135, 133, 132)).all(-1).any()  # the border value is exercised


@pytest.mark.parametrize("face_size", [512, 256])
def test_gpen_alignment_matches_modelscope(face_size):
    align_faces = official("modelscope.models.cv.image_portrait_enhancement.align_faces")
    photo, points = face_photo(200, 340, FACES, seed=3)
    aligner = _aligner("gpen_bfr_512", face_size)
    reference = align_faces.get_reference_facial_points((face_size, face_size), 0.25, (0, 0), True)
    np.testing.assert_allclose(aligner.template, reference, rtol=1e-12)
    for pts in points:
        # GPEN passes landmarks as (2, 5): x row then y row
        crop, _, ref_inverse = align_faces.warp_and_crop_face(photo, pts.T, crop_size=(face_size, face_size))
        ref_matrix, _ = align_faces.get_params(reference, pts.T, "smilarity")
        matrix = aligner.matrix(pts)
        np.testing.assert_allclose(matrix, ref_matrix, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(cv2.invertAffineTransform(matrix), ref_inverse, rtol=1e-5, atol=1e-3)
        diff = np.abs(aligner.warp(photo, matrix).astype(int) - crop)
        print(f"GPEN crop {face_size}: max diff {diff.max()}, pixels off by > 0: {(diff > 0).mean():.2e}")
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_umeyama_recovers_a_similarity():
    rng = np.random.RandomState(0)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.7, 2.5, np.array([10.0, -4.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * scale
    matrix = umeyama_similarity(src, src @ rot.T + shift)
    np.testing.assert_allclose(matrix, np.hstack([rot, shift[:, None]]), atol=1e-3)


def test_center_face_matches_facexlib():
    get_center_face = official("facexlib.utils.face_restoration_helper").get_center_face
    rng = np.random.RandomState(0)
    boxes = rng.uniform(0, 300, (7, 15)).astype(np.float32)
    assert center_face_index(boxes, 240, 320) == get_center_face(list(boxes), 240, 320)[1]
