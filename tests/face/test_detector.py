"""FaceDetector and its post-processing against facexlib's RetinaFace.detect_faces and retinaface_utils."""
import inspect

import cv2
import numpy as np
import pytest
import torch

from ppgan_face.face import FaceDetector, decode_boxes, decode_landmarks, nms, prior_boxes
from ppgan_face.inference import DygraphRunner
from tests.archs.test_retinaface_arch import convert, facexlib_retinaface
from tests.oracles import assert_close, official, randomize_, save_official


def _utils():
    return official("facexlib.detection.retinaface_utils")


def _cfg(clip=False):
    return {**official("facexlib.detection.retinaface").generate_config("resnet50"), "clip": clip}


@pytest.mark.parametrize("size", [(640, 480), (75, 101), (33, 17), (8, 8)])
def test_prior_boxes_match_facexlib(size):
    cfg = _cfg()
    ref = _utils().PriorBox(cfg, image_size=size).forward().numpy()
    np.testing.assert_array_equal(prior_boxes(size, cfg["min_sizes"], cfg["steps"]), ref)


def test_clipped_prior_boxes_match_facexlib():
    cfg = _cfg(clip=True)
    ref = _utils().PriorBox(cfg, image_size=(20, 52)).forward().numpy()
    assert ref.max() == 1.0  # the clip is exercised
    np.testing.assert_array_equal(prior_boxes((20, 52), cfg["min_sizes"], cfg["steps"], clip=True), ref)


def test_decoders_match_facexlib():
    cfg, utils = _cfg(), _utils()
    priors = prior_boxes((64, 96), cfg["min_sizes"], cfg["steps"])
    rng = np.random.RandomState(0)
    loc = rng.randn(2, len(priors), 4).astype(np.float32)
    pre = rng.randn(2, len(priors), 10).astype(np.float32)
    tp = torch.from_numpy(priors)
    boxes, points = decode_boxes(loc, priors, cfg["variance"]), decode_landmarks(pre, priors, cfg["variance"])
    for n in range(2):  # batched (N, P, .) decoding equals upstream's per-image decode
        assert_close(boxes[n], utils.decode(torch.from_numpy(loc[n]), tp, cfg["variance"]), what="boxes")
        assert_close(points[n], utils.decode_landm(torch.from_numpy(pre[n]), tp, cfg["variance"]), what="landmarks")


def _random_boxes(n, seed):
    """Overlapping clusters of boxes, some with tied scores and some degenerate (zero area)."""
    rng = np.random.RandomState(seed)
    centers = rng.uniform(20, 200, (6, 2))[rng.randint(0, 6, n)] + rng.randn(n, 2) * 6
    sizes = rng.uniform(5, 40, (n, 2))
    sizes[rng.rand(n) < 0.05] = 0
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], 1).astype(np.float32)
    scores = np.round(rng.rand(n), 2).astype(np.float32)  # rounding makes ties
    return boxes, scores


@pytest.mark.parametrize("threshold", [0.1, 0.4, 0.7])
def test_nms_matches_torchvision_semantics(threshold):
    boxes, scores = _random_boxes(400, seed=1)
    ref = _utils().py_cpu_nms(np.hstack([boxes, scores[:, None]]), threshold)
    keep = nms(boxes, scores, threshold)
    assert 10 < len(keep) < 400
    np.testing.assert_array_equal(keep, np.asarray(ref, dtype=np.int64))


def test_nms_with_pixel_offset_matches_gpen():
    gpen_nms = official("modelscope.models.cv.image_portrait_enhancement.retinaface.utils").py_cpu_nms
    boxes, scores = _random_boxes(300, seed=2)
    scores = np.random.RandomState(3).permutation(len(scores)).astype(np.float32)  # no ties: GPEN sorts unstably
    ref = gpen_nms(np.hstack([boxes, scores[:, None]]), 0.4)
    keep = nms(boxes, scores, 0.4, offset=1.0)
    np.testing.assert_array_equal(keep, np.asarray(ref, dtype=np.int64))
    assert not np.array_equal(keep, nms(boxes, scores, 0.4))  # the offset changes the result


def _detectors(tmp_path):
    theirs = facexlib_retinaface("mobile0.25")
    network = convert(theirs, tmp_path, network_name="mobile0.25")
    return FaceDetector(DygraphRunner(network), "mobile0.25"), theirs


def _image(height, width, seed=0):
    """A synthetic BGR image: smooth gradients, bright blobs and noise (random-weight networks only need
    varied content)."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[:height, :width]
    image = np.stack([xx * 255.0 / width, yy * 255.0 / height, np.full((height, width), 128.0)], -1)
    for cy, cx, r in zip(rng.uniform(0, height, 4), rng.uniform(0, width, 4), rng.uniform(5, 30, 4)):
        image[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
    return np.clip(image + rng.randn(height, width, 3) * 20, 0, 255).astype(np.uint8)


def _threshold_for(theirs, image, count):
    """A confidence threshold letting ``count`` to ``2 * count`` boxes through, in the widest gap of the
    official scores there (so float32 differences cannot move a box across it); and how many pass."""
    x = torch.from_numpy(image.astype(np.float32).transpose(2, 0, 1)[None]) - theirs.mean_tensor
    with torch.no_grad():
        scores = np.sort(theirs(x)[1][0, :, 1].numpy())[::-1]
    k = count + int(np.argmax(scores[count:2 * count] - scores[count + 1:2 * count + 1]))
    assert scores[k] - scores[k + 1] > 1e-5
    return float(scores[k] + scores[k + 1]) / 2, k + 1


def _assert_same_detections(mine, ref, what):
    assert mine.dtype == np.float32 and mine.shape == ref.shape, f"{what}: {mine.shape} != {ref.shape}"
    assert len(ref) >= 10, f"{what}: only {len(ref)} detections, the comparison would be weak"
    order_mine, order_ref = np.lexsort(mine[:, :5].T[::-1]), np.lexsort(ref[:, :5].T[::-1])
    assert_close(mine[order_mine], ref[order_ref], what=f"{what}, N={len(ref)}")


def test_detect_faces_matches_facexlib(tmp_path):
    detector, theirs = _detectors(tmp_path)
    image = _image(120, 160)
    threshold, passing = _threshold_for(theirs, image, 60)
    with torch.no_grad():
        ref = theirs.detect_faces(image, conf_threshold=threshold, nms_threshold=0.4)
    mine = detector.detect_faces(image, conf_threshold=threshold, nms_threshold=0.4)
    _assert_same_detections(mine, ref, "detections (N, 15)")
    assert len(ref) < passing  # NMS removed boxes
    np.testing.assert_allclose(mine[:, 4], ref[:, 4], atol=1e-5)  # same NMS order (descending score)


def test_detect_faces_with_rescaling_matches_facexlib(tmp_path):
    """``use_origin_size=False``: upstream's test scale (here with small target sizes to stay cheap)."""
    detector, theirs = _detectors(tmp_path)
    theirs.target_size, theirs.max_size = detector.target_size, detector.max_size = 150, 170
    image = _image(90, 70, seed=1)  # shorter side -> 150 would make the longer 193 > 170: capped
    resize = detector.resize_factor(90, 70, use_origin_size=False)
    assert resize == 170 / 90
    threshold, _ = _threshold_for(theirs, theirs.transform(image, False)[0][0].numpy().transpose(1, 2, 0), 100)
    with torch.no_grad():
        ref = theirs.detect_faces(image, conf_threshold=threshold, use_origin_size=False)
    mine = detector.detect_faces(image, conf_threshold=threshold, use_origin_size=False)
    _assert_same_detections(mine, ref, "rescaled detections (N, 15)")


def test_no_detection_gives_an_empty_array(tmp_path):
    detector, theirs = _detectors(tmp_path)
    image = _image(40, 48)
    with torch.no_grad():
        ref = theirs.detect_faces(image, conf_threshold=1.0)
    mine = detector.detect_faces(image, conf_threshold=1.0)
    assert ref.shape == mine.shape == (0, 15)


def test_batch_equals_single_images(tmp_path):
    detector, _ = _detectors(tmp_path)
    images = [_image(64, 80, seed=s) for s in range(3)] + [_image(48, 48, seed=3)]
    singles = [detector.detect_faces(im, conf_threshold=0.3) for im in images]
    batched = detector.detect_batch(images, conf_threshold=0.3, batch_size=2)
    assert sum(len(d) for d in singles) > 0
    for single, batch in zip(singles, batched):
        assert single.shape == batch.shape
        np.testing.assert_allclose(batch, single, rtol=1e-5, atol=1e-3)


def test_config_settings_are_facexlib_defaults(tmp_path):
    theirs = facexlib_retinaface("mobile0.25")
    path = save_official(theirs.state_dict(), tmp_path / "mnet.pth", prefix="module.")
    detector = FaceDetector.from_config("retinaface_mobilenet0.25", weights=path)
    defaults = inspect.signature(type(theirs).detect_faces).parameters
    assert detector.conf_threshold == defaults["conf_threshold"].default
    assert detector.nms_threshold == defaults["nms_threshold"].default
    assert detector.use_origin_size == defaults["use_origin_size"].default
    assert (detector.target_size, detector.max_size) == (theirs.target_size, theirs.max_size)
    np.testing.assert_array_equal(detector.mean_bgr, theirs.mean_tensor.flatten().numpy())
    assert detector.network_name == "mobile0.25"


def test_gpen_downscaling_matches_modelscope(tmp_path):
    """GPEN's detector: photos whose longest side is above 1500 are detected at 1000 (coordinates mapped
    back), NMS with inclusive pixel areas. Random ResNet-50 heads are scaled down, else every score is 1."""
    from ppgan_face.config import load_config

    module = official("modelscope.models.cv.image_portrait_enhancement.retinaface.detection")
    theirs = module.RetinaFaceDetection.__new__(module.RetinaFaceDetection)  # its constructor reads a file
    torch.manual_seed(0)
    theirs.cfg, theirs.device = module.cfg_re50, "cpu"
    theirs.net = randomize_(module.RetinaFace(cfg=module.cfg_re50).eval())
    with torch.no_grad():
        for head in [*theirs.net.ClassHead, *theirs.net.BboxHead, *theirs.net.LandmarkHead]:
            head.conv1x1.weight *= 0.01
    image = _image(400, 1520, seed=5)  # longest side just above 1500: cheap, still downscaled
    small = cv2.resize(np.float32(image), (0, 0), fx=1000 / 1520, fy=1000 / 1520)
    with torch.no_grad():
        scores = np.sort(theirs.net(torch.from_numpy((small - (104, 117, 123)).transpose(2, 0, 1)[None]
                                                     .astype(np.float32)))[1][0, :, 1].numpy())[::-1]
    k = 20 + int(np.argmax(scores[20:40] - scores[21:41]))  # a threshold in a gap: float noise cannot cross it
    threshold = float(scores[k] + scores[k + 1]) / 2
    with torch.no_grad():
        ref_boxes, ref_points = theirs.detect(image, confidence_threshold=threshold)

    settings = {**load_config("gpen_bfr_512")["face_helper"]["detection"], "conf_threshold": threshold}
    detector = FaceDetector(DygraphRunner(convert(theirs.net, tmp_path, network_name="resnet50")), "resnet50",
                            **settings)
    assert detector.downscale(image)[0].shape[:2] == (263, 1000)
    mine = detector.detect_large(image)
    assert 3 <= len(mine) == len(ref_boxes) < k + 1  # NMS removed boxes
    assert_close(mine[:, :4], ref_boxes[:, :4], rel_l2=1e-5, max_abs=1e-2, what="GPEN boxes")
    assert_close(mine[:, 4], ref_boxes[:, 4] * 1000 / 1520, what="GPEN scores")  # GPEN rescales its scores too
    points = mine[:, 5:].reshape(-1, 5, 2).transpose(0, 2, 1).reshape(-1, 10)  # GPEN: x1..x5, y1..y5
    assert_close(points, ref_points, rel_l2=1e-5, max_abs=1e-2, what="GPEN landmarks")


def test_shorter_side_downscaling_matches_facexlib(tmp_path):
    """facexlib's ``get_face_landmarks_5(resize=...)``: detect with the shorter side at ``resize`` (Lanczos),
    coordinates scaled back. Its 0.97 threshold is replaced on both sides (random weights)."""
    detector, theirs = _detectors(tmp_path)
    image = _image(150, 210, seed=6)
    small = cv2.resize(image, (140, 100), interpolation=cv2.INTER_LANCZOS4)  # what facexlib detects on
    threshold, _ = _threshold_for(theirs, small, 10)

    class _Threshold:
        def detect_faces(self, img, conf_threshold, *args, **kwargs):
            with torch.no_grad():
                return theirs.detect_faces(img, conf_threshold=threshold)

    helper = official("facexlib.utils.face_restoration_helper").FaceRestoreHelper(2, use_parse=False, device="cpu")
    helper.face_det, helper.input_img = _Threshold(), image
    helper.get_face_landmarks_5(resize=100)
    detector.shorter_side = 100
    mine = detector.detect_large(image, conf_threshold=threshold)
    assert len(mine) == len(helper.det_faces) >= 2
    assert_close(mine[:, :4], np.stack(helper.det_faces)[:, :4], what="boxes at the shorter side 100")
    assert_close(mine[:, 5:].reshape(-1, 5, 2), np.stack(helper.all_landmarks_5), what="landmarks")
