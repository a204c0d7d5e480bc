"""Inverse affine, soft mask and paste-back against facexlib's FaceRestoreHelper (no parsing mask)."""
import cv2
import numpy as np
import pytest

from ppgan_face.config import load_config
from ppgan_face.face import FaceAligner, FacePaster, inverse_affine
from ppgan_face.face.helper import FacePipeline
from ppgan_face.face.paste import BlurredRectMask
from tests.archs.test_parsenet_arch import parsenet_pair
from tests.face.photos import assert_close_images, face_photo
from tests.oracles import official

FACES = [(90, 100, 40, 10), (250, 120, 60, -25), (170, 150, 30, 5)]  # the last two overlap


def _facexlib_helper(photo, points, upscale, parser=None):
    helper = official("facexlib.utils.face_restoration_helper").FaceRestoreHelper(
        upscale, face_size=512, use_parse=parser is not None, device="cpu")
    helper.face_parse = parser
    helper.input_img = photo
    helper.all_landmarks_5 = list(points)
    helper.align_warp_face()
    return helper


def _fake_restored(crops):
    """Stand-in restored faces: different from the crops (colour-shifted, mirrored), uint8."""
    return [np.ascontiguousarray(np.clip(c[:, ::-1].astype(int) + (40, -30, 10), 0, 255).astype(np.uint8))
            for c in crops]


@pytest.mark.parametrize("upscale", [1, 2, 1.5])
@pytest.mark.parametrize("with_background", [False, True])
def test_paste_matches_facexlib(upscale, with_background):
    photo, points = face_photo(200, 320, FACES, seed=1)
    helper = _facexlib_helper(photo, points, upscale)
    restored = _fake_restored(helper.cropped_faces)
    for face in restored:
        helper.add_restored_face(face)
    helper.get_inverse_affine()
    bg = cv2.resize(photo, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)[:, ::-1].copy() if with_background else None
    expected = helper.paste_faces_to_input_image(upsample_img=bg)

    settings = load_config("gfpgan_v1.4")["face_helper"]
    aligner = FaceAligner(512, **settings["align"])
    paster = FacePaster(**{**settings["paste"], "mask": "eroded_square"})
    matrices = [aligner.matrix(p) for p in points]
    inverses = [inverse_affine(m, upscale) for m in matrices]
    for mine, ref in zip(inverses, helper.inverse_affine_matrices):
        np.testing.assert_array_equal(mine, ref)  # facexlib adds its offset in place while pasting
    size = (int(320 * upscale), int(200 * upscale))
    background = cv2.resize(photo if bg is None else bg, size, interpolation=cv2.INTER_LANCZOS4)
    out = FacePipeline.finish(paster(background, restored, inverses, upscale), photo, None)
    assert out.dtype == expected.dtype == np.uint8
    np.testing.assert_array_equal(out, expected)
    assert not np.array_equal(out, background)  # faces were pasted


def test_parsing_mask_paste_matches_facexlib(tmp_path):
    """facexlib's use_parse=True paste-back, with the same random ParseNet on both sides."""
    ours_parser, theirs_parser = parsenet_pair(tmp_path)
    photo, points = face_photo(200, 320, FACES[:2], seed=11)
    helper = _facexlib_helper(photo, points, 2, parser=theirs_parser)
    restored = _fake_restored(helper.cropped_faces)
    for face in restored:
        helper.add_restored_face(face)
    helper.get_inverse_affine()
    expected = helper.paste_faces_to_input_image()

    settings = load_config("gfpgan_v1.4")["face_helper"]
    assert settings["paste"]["mask"] == "parsing"  # GFPGANer's default
    paster = FacePaster(**settings["paste"], parser=ours_parser)
    masks = [paster.mask.aligned_mask(face) for face in restored]
    assert all(0.05 < m.mean() < 0.95 for m in masks)  # the random parser gives a non-trivial mask
    aligner = FaceAligner(512, **settings["align"])
    inverses = [inverse_affine(aligner.matrix(p), 2) for p in points]
    background = cv2.resize(photo, (640, 400), interpolation=cv2.INTER_LANCZOS4)
    out = FacePipeline.finish(paster(background, restored, inverses, 2), photo, None)
    assert_close_images(out, expected, "parsing paste")  # measured: identical


def test_gpen_mask_is_a_soft_inset_square():
    mask = BlurredRectMask(**load_config("gpen_bfr_512")["face_helper"]["paste"]["masks"]["blurred_rect"]).mask
    assert mask.shape == (512, 512) and mask.dtype == np.float32
    assert mask[256, 256] == pytest.approx(1.0, abs=1e-6) and mask[0, 0] < 1e-4
    assert 0.3 < mask[256, 26] < 0.7  # the edge sits at the border, blurred
    np.testing.assert_allclose(mask, mask.T, atol=1e-6)
