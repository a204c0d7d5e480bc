"""The whole-photo pipeline against GFPGAN's GFPGANer.enhance (facexlib FaceRestoreHelper + RetinaFace).

Both sides run the same converted random weights: a narrow GFPGANv1Clean at out_size 512 (the pipeline's
face size), RetinaFace MobileNet-0.25, a small RRDBNet. Landmarks are injected into both pipelines through a
fixed detector, except in the detector-path test. Most tests paste with facexlib's mask without parsing
(``use_parse=False``; ours: ``eroded_square``); one runs GFPGANer's default ParseNet mask (a small random
ParseNet on both sides). Upstream difference pinned in the oracle: GFPGANer draws fresh StyleGAN noise on
every call (``randomize_noise`` defaults to True) while inference configs use the stored noise buffers, so
the oracle is called with stored noise.
"""
import cv2
import numpy as np
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.builder import Restorer
from ppgan_face.config import load_config
from ppgan_face.convert import load_official_into
from ppgan_face.face import FaceDetector, FacePipeline
from ppgan_face.inference import DygraphRunner
from tests.archs.test_parsenet_arch import parsenet_pair
from tests.archs.test_retinaface_arch import convert as convert_retinaface
from tests.archs.test_retinaface_arch import facexlib_retinaface
from tests.face.photos import assert_close_images, detections, face_photo
from tests.face.test_detector import _threshold_for
from tests.face.test_upsampler import upsampler_pair
from tests.oracles import official, randomize_, save_official

SMALL_GFPGAN = dict(out_size=512, num_style_feat=32, channel_multiplier=1, narrow=0.125, num_mlp=1,
                    input_is_latent=True, different_w=True, sft_half=True, fix_decoder=False)
FACES = [(80, 90, 36, 8), (235, 110, 56, -20), (150, 175, 24, 175)]  # the last one near the border


class _StoredNoise(torch.nn.Module):
    """The official network called with its stored noise buffers (GFPGANer would draw random noise)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, **kwargs):
        return self.net(x, **{**kwargs, "randomize_noise": False})


class _FixedDetector:
    """The same detections for both pipelines: facexlib's ``detect_faces`` and our ``detect_large``."""

    def __init__(self, dets):
        self.dets = dets

    def detect_faces(self, image, conf_threshold=None, *args, **kwargs):
        return self.dets.copy()

    def detect_large(self, image):
        return self.dets.copy()


@pytest.fixture(scope="module")
def restorers(tmp_path_factory):
    """(our restorer runner, the official network) with the same random weights."""
    torch.manual_seed(0)
    theirs = official("gfpgan.archs.gfpganv1_clean_arch").GFPGANv1Clean(**SMALL_GFPGAN).eval()
    randomize_(theirs, seed=0)
    path = save_official(theirs.state_dict(), tmp_path_factory.mktemp("gfpgan") / "gfpgan.pth", key="params_ema")
    ours = load_official_into(build_arch({"type": "GFPGANv1Clean", **SMALL_GFPGAN}), path)
    forward_kwargs = load_config("gfpgan_v1.4")["restorer"]["forward_kwargs"]
    return DygraphRunner(Restorer(ours, forward_kwargs)), _StoredNoise(theirs)


def gfpganer(net, face_det, upscale=2, bg_upsampler=None, parser=None):
    """GFPGANer around given networks (its constructor would build the full network and read files)."""
    module = official("gfpgan.utils")
    restorer = module.GFPGANer.__new__(module.GFPGANer)
    restorer.upscale, restorer.bg_upsampler, restorer.device, restorer.gfpgan = upscale, bg_upsampler, "cpu", net
    restorer.face_helper = official("facexlib.utils.face_restoration_helper").FaceRestoreHelper(
        upscale, face_size=512, det_model="retinaface_resnet50", use_parse=parser is not None, device="cpu")
    restorer.face_helper.face_det, restorer.face_helper.face_parse = face_det, parser
    return restorer


def pipeline(runner, detector, upsampler=None, parser=None, **settings):
    config = load_config("gfpgan_v1.4")
    config["face_helper"].update(settings)
    if parser is None:
        config["face_helper"]["paste"]["mask"] = "eroded_square"
    pipe = FacePipeline.from_config(config, runner, parser=parser)
    pipe.detector, pipe.upsampler = detector, upsampler
    return pipe


def _faces_restored(theirs_faces, mine_faces, what):
    assert len(mine_faces) == len(theirs_faces) > 0
    for k, (mine, ref) in enumerate(zip(mine_faces, theirs_faces)):
        assert_close_images(mine, ref, f"{what} face {k}")


@pytest.mark.parametrize("upscale", [2, 1])
def test_photo_matches_gfpganer(restorers, upscale):
    ours, theirs = restorers
    photo, points = face_photo(200, 320, FACES, seed=2)
    dets = detections(points)
    dets[2, 5:7] = dets[2, 7:9] + 2  # eyes 2.8 px apart: skipped by the eye-distance threshold on both sides
    crops, faces, expected = gfpganer(theirs, _FixedDetector(dets), upscale).enhance(photo)
    result = pipeline(ours, _FixedDetector(dets), upscale=upscale, batch_size=2).enhance(photo)
    assert len(result.cropped_faces) == len(crops) == 2
    for mine, ref in zip(result.cropped_faces, crops):
        np.testing.assert_array_equal(mine, ref)
    _faces_restored(faces, result.restored_faces, "restored")
    assert_close_images(result.restored_image, expected, f"photo x{upscale}")
    assert np.abs(result.restored_image.astype(int) - cv2.resize(
        photo, expected.shape[1::-1], interpolation=cv2.INTER_LANCZOS4)).max() > 50  # faces were pasted


def test_photo_with_parsing_mask_matches_gfpganer(restorers, tmp_path):
    """GFPGANer's default paste-back: the ParseNet mask (blurred face classes)."""
    ours, theirs = restorers
    ours_parser, theirs_parser = parsenet_pair(tmp_path, seed=1)
    photo, points = face_photo(200, 320, FACES[:2], seed=12)
    dets = detections(points)
    _, faces, expected = gfpganer(theirs, _FixedDetector(dets), parser=theirs_parser).enhance(photo)
    result = pipeline(ours, _FixedDetector(dets), parser=ours_parser).enhance(photo)
    _faces_restored(faces, result.restored_faces, "parsing")
    assert_close_images(result.restored_image, expected, "photo with the parsing mask")


@pytest.mark.parametrize("network_name,head_scale", [("mobile0.25", 1.0), ("resnet50", 0.01)])
def test_detector_path_matches_gfpganer(restorers, tmp_path, network_name, head_scale):
    """Real RetinaFace detections on both sides (random weights, so a low threshold, set on both; the
    random ResNet-50 heads are scaled down, else every score is 1)."""
    ours, theirs = restorers
    retina = facexlib_retinaface(network_name, seed=0)
    with torch.no_grad():
        for head in [*retina.ClassHead, *retina.BboxHead, *retina.LandmarkHead]:
            head.conv1x1.weight *= head_scale
    photo, _ = face_photo(160, 200, [(70, 80, 40, 5), (150, 90, 36, -10)], seed=4)
    threshold, _ = _threshold_for(retina, photo, 10)  # in a gap of the scores: 3 faces, one with eyes 2 px apart

    class _Threshold:  # GFPGANer hard-codes 0.97, which random weights never reach
        def detect_faces(self, image, conf_threshold, *args, **kwargs):
            with torch.no_grad():
                return retina.detect_faces(image, conf_threshold=threshold)

    detector = FaceDetector(DygraphRunner(convert_retinaface(retina, tmp_path, network_name=network_name)),
                            network_name, conf_threshold=threshold)
    crops, faces, expected = gfpganer(theirs, _Threshold()).enhance(photo)
    result = pipeline(ours, detector).enhance(photo)
    print(f"{network_name} detector path: {len(faces)} faces")
    assert len(result.cropped_faces) == len(crops) >= 2
    for k, (mine, ref) in enumerate(zip(result.cropped_faces, crops)):
        assert_close_images(mine, ref, f"crop {k}", max_frac=1e-3, max_abs=2)  # landmarks differ by ~1e-5 px
    _faces_restored(faces, result.restored_faces, "detected")
    assert_close_images(result.restored_image, expected, f"photo via {network_name}")


def test_aligned_face_matches_gfpganer(restorers):
    ours, theirs = restorers
    face, _ = face_photo(300, 300, [(150, 160, 90, 0)], seed=5)
    crops, faces, expected = gfpganer(theirs, None).enhance(face, has_aligned=True)
    result = pipeline(ours, None).enhance(face, aligned=True)
    assert expected is None and result.restored_image is None
    np.testing.assert_array_equal(result.cropped_faces[0], crops[0])
    _faces_restored(faces, result.restored_faces, "aligned")


def test_rgba_with_background_upsampler_matches_gfpganer(restorers, tmp_path):
    """BGRA photo, tiled RRDBNet background: the alpha channel is upscaled by the network and kept."""
    ours, theirs = restorers
    upsampler, realesrganer = upsampler_pair(tmp_path, tile=48, tile_pad=6, pre_pad=0)
    photo, points = face_photo(120, 160, FACES[:1], seed=6)
    alpha = cv2.GaussianBlur(np.where(np.arange(160)[None] < 110, 255, 40).astype(np.uint8).repeat(120, 0), (9, 9), 3)
    photo = np.dstack([photo, alpha])
    dets = detections(points)
    _, faces, expected = gfpganer(theirs, _FixedDetector(dets), bg_upsampler=realesrganer).enhance(photo)
    result = pipeline(ours, _FixedDetector(dets), upsampler).enhance(photo)
    assert expected.shape == (240, 320, 4)
    _faces_restored(faces, result.restored_faces, "rgba")
    assert_close_images(result.restored_image, expected, "BGRA photo + RRDBNet background")


def test_gray_and_16bit_photos(restorers):
    """Gray: processed as BGR, as GFPGANer does. 16-bit: processed in the 8-bit range like GFPGANer, written
    back as 16-bit. GFPGANer returns 8-bit values here (in a uint16 array when Lanczos ringing pushes one
    above 256), and with a background upsampler it pastes 8-bit faces onto a 16-bit background."""
    ours, theirs = restorers
    photo, points = face_photo(120, 160, FACES[:1], seed=7)
    dets = detections(points)
    gray = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    _, _, expected = gfpganer(theirs, _FixedDetector(dets)).enhance(gray)
    result = pipeline(ours, _FixedDetector(dets)).enhance(gray)
    assert_close_images(result.restored_image, expected, "gray photo")

    deep = photo.astype(np.uint16) * 257
    _, _, expected = gfpganer(theirs, _FixedDetector(dets)).enhance(deep)
    result = pipeline(ours, _FixedDetector(dets)).enhance(deep)
    assert result.restored_image.dtype == np.uint16
    expected = expected.astype(np.int64)
    expected[expected > 32767] -= 65536  # upstream's astype(uint16) wraps Lanczos undershoot below 0
    assert expected.max() < 300
    assert_close_images((result.restored_image / 257.0).astype(np.uint8), np.clip(expected, 0, 255).astype(np.uint8),
                        "16-bit photo / 257")
    assert (result.restored_image % 257).any()  # real 16-bit values, not 8-bit ones scaled


def test_no_face_gives_the_upscaled_photo(restorers):
    ours, theirs = restorers
    photo, _ = face_photo(80, 100, [], seed=8)
    none = np.zeros((0, 15), np.float32)
    crops, _, expected = gfpganer(theirs, _FixedDetector(none)).enhance(photo)
    result = pipeline(ours, _FixedDetector(none)).enhance(photo)
    assert crops == [] and result.restored_faces == []
    np.testing.assert_array_equal(result.restored_image, expected)


def test_weight_blends_restored_and_input_faces(restorers):
    ours, _ = restorers
    photo, points = face_photo(120, 160, FACES[:1], seed=9)
    dets = _FixedDetector(detections(points))
    full = pipeline(ours, dets).enhance(photo)
    half = pipeline(ours, dets, weight=0.5).enhance(photo)
    none = pipeline(ours, dets, weight=0.0).enhance(photo)
    np.testing.assert_array_equal(none.restored_faces[0], full.cropped_faces[0])
    expected = (0.5 * full.restored_faces[0].astype(float) + 0.5 * full.cropped_faces[0]).round()
    assert np.abs(half.restored_faces[0] - expected).max() <= 1
    assert np.abs(half.restored_image.astype(int) - full.restored_image).max() > 20


def test_batch_size_does_not_change_the_result(restorers):
    ours, _ = restorers
    photo, points = face_photo(200, 320, FACES, seed=10)
    dets = _FixedDetector(detections(points))
    one = pipeline(ours, dets, batch_size=1).enhance(photo)
    three = pipeline(ours, dets, batch_size=3).enhance(photo)
    assert len(one.restored_faces) == 3
    assert_close_images(three.restored_image, one.restored_image, "batch 3 vs 1", max_frac=0.0, max_abs=1)
