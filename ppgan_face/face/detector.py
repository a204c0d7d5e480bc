"""Face detection with RetinaFace, computing what facexlib's ``RetinaFace.detect_faces`` computes.

The network is a *runner* (numpy NCHW in, ``(loc, conf, landmarks)`` out: dygraph, Paddle Inference or
ONNX Runtime); everything around it (prior boxes, box / landmark decoding, confidence threshold, NMS,
downscaling of large photos) is small numpy code. Images of the same size go through the network together,
as one batch.
"""
import cv2
import numpy as np

from ppgan_face.archs.retinaface_arch import RETINAFACE_CONFIGS


def prior_boxes(image_size, min_sizes, steps, clip=False):
    """Anchors of every feature-map cell as (P, 4) float32 ``[cx, cy, w, h]``, normalised to the image.

    Order as upstream's ``PriorBox``: level, row, column, anchor size. Computed in float64 and rounded
    once to float32, as upstream does (Python floats, then ``torch.Tensor``).
    """
    height, width = image_size
    levels = []
    for sizes, step in zip(min_sizes, steps):
        cy = (np.arange(-(-height // step)) + 0.5) * step / height  # ceil(height / step) rows
        cx = (np.arange(-(-width // step)) + 0.5) * step / width
        sizes = np.asarray(sizes, dtype=np.float64)
        grid = np.broadcast_arrays(cx[None, :, None], cy[:, None, None], sizes / width, sizes / height)
        levels.append(np.stack(grid, axis=-1).reshape(-1, 4))
    priors = np.concatenate(levels).astype(np.float32)
    return np.clip(priors, 0, 1) if clip else priors


def decode_boxes(loc, priors, variance):
    """Regression (…, P, 4) → boxes (…, P, 4) ``[x1, y1, x2, y2]``, normalised (SSD encoding)."""
    centers = priors[..., :2] + loc[..., :2] * variance[0] * priors[..., 2:]
    sizes = priors[..., 2:] * np.exp(loc[..., 2:] * variance[1])
    top_left = centers - sizes / 2
    return np.concatenate([top_left, sizes + top_left], axis=-1)


def decode_landmarks(pre, priors, variance):
    """Regression (…, P, 10) → five landmarks (…, P, 10) ``[x1, y1, …, x5, y5]``, normalised."""
    offsets = pre.reshape(*pre.shape[:-1], 5, 2) * variance[0] * priors[..., None, 2:]
    return (priors[..., None, :2] + offsets).reshape(pre.shape)


def nms(boxes, scores, iou_threshold, offset=0.0):
    """Greedy non-maximum suppression; returns kept indices by descending score.

    With ``offset=0`` it follows ``torchvision.ops.nms`` (facexlib): stable descending sort, a box is
    dropped when its IoU with a kept box is strictly above the threshold (so a NaN IoU keeps it).
    ``offset=1`` gives the legacy pixel-inclusive areas (``x2 - x1 + 1``) of GPEN's ``py_cpu_nms``.
    """
    x1, y1, x2, y2 = (boxes[:, k] for k in range(4))
    areas = (x2 - x1 + offset) * (y2 - y1 + offset)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + offset)
        h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + offset)
        inter = w * h
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[~(iou > iou_threshold)]
    return np.asarray(keep, dtype=np.int64)


class FaceDetector:
    """RetinaFace detection on BGR images (H, W, 3), as facexlib's ``detect_faces``.

    Each detection is a row ``[x1, y1, x2, y2, score, lx1, ly1, …, lx5, ly5]`` (float32) in input pixel
    coordinates; rows come in NMS order (descending score). The keyword defaults are facexlib's; configs
    set them in their ``detector:`` section. The anchor settings come with the network
    (``RETINAFACE_CONFIGS[network_name]``), as in upstream's ``generate_config``.

    Large photos can be downscaled for detection only (coordinates are mapped back to the input):
    ``downscale_above`` / ``downscale_to`` is GPEN's rule (longest side above 1500 → 1000, bilinear), and
    ``shorter_side`` is facexlib's ``get_face_landmarks_5(resize=...)`` (shorter side to that size, Lanczos).
    """

    def __init__(self, runner, network_name, conf_threshold=0.8, nms_threshold=0.4, use_origin_size=True,
                 target_size=1600, max_size=2150, mean_bgr=(104.0, 117.0, 123.0), nms_offset=0.0,
                 downscale_above=None, downscale_to=None, shorter_side=None):
        self.runner = runner
        self.network_name = network_name
        cfg = RETINAFACE_CONFIGS[network_name]
        self.min_sizes, self.steps, self.variance, self.clip = (
            cfg["min_sizes"], cfg["steps"], cfg["variance"], cfg["clip"])
        self.conf_threshold = conf_threshold
        self.nms_threshold = nms_threshold
        self.use_origin_size = use_origin_size
        self.target_size = target_size
        self.max_size = max_size
        self.mean_bgr = np.asarray(mean_bgr, dtype=np.float32)
        self.nms_offset = nms_offset
        self.downscale_above, self.downscale_to = downscale_above, downscale_to
        self.shorter_side = shorter_side
        self._priors = {}

    @classmethod
    def from_config(cls, name="retinaface_resnet50", weights=None, overrides=(), **settings):
        """Build from a config (name or path): its network (dygraph), ``weights`` if given, its ``detector:``
        settings updated by ``settings``."""
        from ppgan_face.builder import create_model
        from ppgan_face.config import load_config
        from ppgan_face.inference import DygraphRunner

        config = load_config(name, overrides)
        network = create_model(config["config_path"], weights=weights, overrides=overrides)
        return cls(DygraphRunner(network), config["model"]["network_name"],
                   **{**config.get("detector", {}), **settings})

    def resize_factor(self, height, width, use_origin_size=None):
        """Upstream's test-time scale: shorter side to ``target_size``, longer side at most ``max_size``."""
        if self.use_origin_size if use_origin_size is None else use_origin_size:
            return 1.0
        resize = self.target_size / min(height, width)
        if np.round(resize * max(height, width)) > self.max_size:
            resize = self.max_size / max(height, width)
        return resize

    def priors(self, height, width):
        """Cached prior boxes for one network input size (video frames share one size)."""
        if (height, width) not in self._priors:
            self._priors[(height, width)] = prior_boxes((height, width), self.min_sizes, self.steps, self.clip)
        return self._priors[(height, width)]

    def preprocess(self, image, resize):
        """BGR image (H, W, 3) → mean-subtracted float32 (3, H', W') at the test scale."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected a BGR image of shape (H, W, 3), got {image.shape}")
        image = image.astype(np.float32)
        if resize != 1:
            image = cv2.resize(image, None, None, fx=resize, fy=resize, interpolation=cv2.INTER_LINEAR)
        return (image - self.mean_bgr).transpose(2, 0, 1)

    def postprocess(self, loc, conf, landmarks, input_size, resize, conf_threshold, nms_threshold):
        """One image's raw network outputs (P, 4), (P, 2), (P, 10) → detections (N, 15)."""
        height, width = input_size
        scores = conf[:, 1]
        keep = np.where(scores > conf_threshold)[0]
        keep = keep[scores[keep].argsort()[::-1]]  # upstream's pre-NMS order (it decides ties)
        priors = self.priors(height, width)[keep]  # decode the survivors only: same numbers, less work
        scale = np.asarray([width, height] * 5, dtype=np.float32)
        boxes = decode_boxes(loc[keep], priors, self.variance) * scale[:4] / resize
        points = decode_landmarks(landmarks[keep], priors, self.variance) * scale / resize
        dets = np.hstack([boxes, scores[keep, None]]).astype(np.float32, copy=False)
        kept = nms(dets[:, :4], dets[:, 4], nms_threshold, self.nms_offset)
        return np.concatenate([dets[kept], points[kept].astype(np.float32, copy=False)], axis=1)

    def detect_faces(self, image, conf_threshold=None, nms_threshold=None, use_origin_size=None):
        """Detections (N, 15) for one BGR image; arguments default to the detector's settings."""
        return self.detect_batch([image], conf_threshold, nms_threshold, use_origin_size)[0]

    def downscale(self, image):
        """The image the network sees for a large photo, and the factor mapping its pixels back (≥ 1)."""
        height, width = image.shape[:2]
        if self.shorter_side is not None:
            scale = min(height, width) / self.shorter_side
            size = (int(width / scale), int(height / scale))
            return cv2.resize(image, size, interpolation=cv2.INTER_LANCZOS4), scale
        if self.downscale_above is not None and max(height, width) > self.downscale_above:
            factor = self.downscale_to / max(height, width)
            small = cv2.resize(np.float32(image), (0, 0), fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)
            return small, 1.0 / factor
        return image, 1.0

    def detect_large(self, image, conf_threshold=None, nms_threshold=None):
        """Detections (N, 15) for one photo of any size, downscaled for detection as configured."""
        small, scale = self.downscale(image)
        dets = self.detect_faces(small, conf_threshold, nms_threshold)
        if scale != 1.0:
            dets = dets.copy()
            dets[:, :4] *= scale
            dets[:, 5:] *= scale
        return dets

    def detect_batch(self, images, conf_threshold=None, nms_threshold=None, use_origin_size=None, batch_size=8):
        """Detections for a list of BGR images; images of equal size run ``batch_size`` at a time."""
        conf_threshold = self.conf_threshold if conf_threshold is None else conf_threshold
        nms_threshold = self.nms_threshold if nms_threshold is None else nms_threshold
        groups = {}
        for index, image in enumerate(images):
            groups.setdefault(tuple(image.shape), []).append(index)
        results = [None] * len(images)
        for shape, indices in groups.items():
            resize = self.resize_factor(shape[0], shape[1], use_origin_size)
            for start in range(0, len(indices), batch_size):
                chunk = indices[start:start + batch_size]
                batch = np.stack([self.preprocess(images[i], resize) for i in chunk])
                outputs = self.runner(batch)
                for row, i in enumerate(chunk):
                    results[i] = self.postprocess(*(o[row] for o in outputs), batch.shape[2:], resize,
                                                  conf_threshold, nms_threshold)
        return results
