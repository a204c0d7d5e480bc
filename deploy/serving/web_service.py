"""Face restoration over HTTP: a Paddle Serving pipeline service around the exported restorer.

    python web_service.py --config=config.yml &
    python web_service.py --config=config.yml --opt http_port=18090 rpc_port=18091 op.face_restore.local_service_conf.devices=

POST ``http://127.0.0.1:<http_port>/face_restore/prediction`` with ``{"key": ["image", ...], "value":
["<base64 of an image file>", ...]}``; optional keys ``aligned`` (True: the image is one aligned face),
``upscale``, ``weight`` (fidelity, 0..1) and ``format`` (png or jpg). The answer's keys are ``image`` (base64
of the restored photo, or face, in that format), ``format`` and ``faces`` (how many were restored; a photo
without any face comes back upscaled, with 0). Errors come back as ``err_no`` != 0 with a one-line ``err_msg``.

The stages are ppgan_face.face.FacePipeline's, as in deploy/python/infer.py: preprocess decodes, detects and
aligns (or resizes an aligned face); process runs FacePipeline.restore with Serving's LocalPredictor as the
restorer (batch_size faces per call); postprocess pastes the faces back and encodes. ``--opt`` sets any
config key (dotted path; numbers, True / False are typed, ``devices`` stays a string). See README.md.
"""
import argparse
import base64
import binascii
import copy
import math
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]
warnings.filterwarnings("ignore", message="No ccache found")  # printed by `import paddle`

import serving_compat  # noqa: E402,F401  (first: Serving needs the pure-Python protobuf)
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from paddle_serving_server.pipeline.channel import ChannelDataErrcode  # noqa: E402
from paddle_serving_server.web_service import Op, WebService  # noqa: E402

from convert_model import MODEL_CONFIG, BundleError, check_bundle  # noqa: E402
from ppgan_face.config import load_config  # noqa: E402
from ppgan_face.face import FacePipeline  # noqa: E402
from ppgan_face.face.helper import to_working_image  # noqa: E402
from ppgan_face.inference import load_runner  # noqa: E402
from ppgan_face.utils.image_io import ImageError, decode_image, encode_image, fit_for_format  # noqa: E402

SERVICE = "face_restore"  # the URL segment, the Op name and its key under op: in config.yml
REQUEST_KEYS = ("image", "aligned", "upscale", "weight", "format")
FORMATS = {"png": ".png", "jpg": ".jpg", "jpeg": ".jpg"}
BOOLS = {"true": True, "1": True, "false": False, "0": False}
MAX_UPSCALE = 4
BAD_REQUEST, TOO_LARGE = 51, 52  # err_no of refused requests (Serving's range for product errors: 50-99)
# The HTTP gateway refuses answers over 4 MiB (gRPC's default message limit; HTTP 429): keep a margin for
# the other fields.
MAX_IMAGE_B64 = 4 * 1024 * 1024 - 16 * 1024


class RequestError(ValueError):
    """A request the service refuses; the message is one line for the client."""


@dataclass
class Options:
    """A request's settings, the config's defaults filled in."""

    aligned: bool
    upscale: float
    weight: float
    format: str


def number(fields, key, default, low, high):
    """A request's number in [low, high], or ``default`` when the key is absent."""
    if key not in fields:
        return default
    try:
        value = float(fields[key])
    except (TypeError, ValueError):
        value = math.nan
    if not low <= value <= high:
        raise RequestError(f"'{key}' must be a number from {low} to {high}, got {fields[key]!r}")
    return value


def read_request(fields, upscale, weight):
    """(image file bytes, :class:`Options`) of a request's key/value pairs; defaults from the config."""
    unknown = sorted(set(fields) - set(REQUEST_KEYS))
    if unknown:
        raise RequestError(f"unknown request key {unknown[0]!r} (known: {', '.join(REQUEST_KEYS)})")
    if "image" not in fields:
        raise RequestError("the request has no 'image' key (the base64 of an image file)")
    try:
        data = base64.b64decode("".join(str(fields["image"]).split()), validate=True)
    except (binascii.Error, ValueError):
        raise RequestError("'image' is not valid base64") from None
    aligned = str(fields.get("aligned", "false")).strip().lower()
    if aligned not in BOOLS:
        raise RequestError(f"'aligned' must be True or False, got {fields['aligned']!r}")
    fmt = str(fields.get("format", "png")).strip().lower()
    if fmt not in FORMATS:
        raise RequestError(f"'format' must be one of {', '.join(FORMATS)}, got {fields['format']!r}")
    return data, Options(BOOLS[aligned], number(fields, "upscale", upscale, 1, MAX_UPSCALE),
                         number(fields, "weight", weight, 0, 1), fmt)


@dataclass
class FaceRequest:
    """What one request carries from preprocess to postprocess."""

    options: Options
    pipeline: FacePipeline  # the service's, with the request's upscale and weight
    image: np.ndarray  # as decoded
    working: np.ndarray  # 3-channel, 8-bit range (FacePipeline's working image)
    crops: np.ndarray  # (N, S, S, 3) aligned faces, 8-bit range
    matrices: list  # their affine matrices (whole photos)

    def result(self, restored):
        """The restored face (aligned input) or photo (faces pasted into the upscaled background)."""
        if self.options.aligned:
            return restored[0]
        pipeline = self.pipeline
        background, alpha = pipeline.background(self.image, self.working)
        return pipeline.finish(pipeline.paste(background, restored, self.matrices), self.image, alpha)


class PendingRequests:
    """Requests between preprocess and postprocess, by Serving's data_id (thread ops share one Op object)."""

    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    def put(self, data_id, item):
        with self._lock:
            self._items[data_id] = item

    def get(self, data_id):
        with self._lock:
            return self._items[data_id]

    def pop(self, data_id):
        with self._lock:
            return self._items.pop(data_id, None)


def load_pipeline(model_dir, restorer, device, enable_mkldnn, cpu_threads):
    """(FacePipeline of the bundle's restorer config, input limits): the bundled detector and parser run with
    Paddle Inference under the op's device / oneDNN / thread settings; ``restorer`` is the runner."""
    config = load_config(model_dir / MODEL_CONFIG)
    helper = config["face_helper"]
    runners = {}
    for part in ("detector", "parser"):
        folder = model_dir / part
        runners[part] = load_runner(folder, backend="paddle", device=device, enable_mkldnn=enable_mkldnn,
                                    cpu_threads=cpu_threads)[0] if folder.is_dir() else None
    helper["detector"] = str(model_dir / "detector" / MODEL_CONFIG)
    pipeline = FacePipeline.from_config(config, restorer, runners["detector"], None, runners["parser"])
    return pipeline, helper["input_limits"]


class FaceRestoreOp(Op):
    """The service's one op. Requests run one at a time per op worker; its state lives in ``self.pending``."""

    def init_op(self):
        device = "gpu" if self.devices else "cpu"
        self.pipeline, self.limits = load_pipeline(Path(self.model_config), self.predict, device,
                                                   bool(self.use_mkldnn), self.thread_num)
        self.pending = PendingRequests()

    def predict(self, batch):
        """FacePipeline's restorer runner: one batch through Serving's Op.process (its LocalPredictor)."""
        fetch, code, message = super().process([{self.right_feed_names[0]: batch}])
        if code != ChannelDataErrcode.OK.value:
            raise RuntimeError(message)
        return fetch[self._fetch_names[0]]

    def preprocess(self, input_dicts, data_id, log_id):
        (fields,) = input_dicts.values()
        try:
            request = self.prepare(fields)
        except (RequestError, ImageError) as err:
            return {}, True, BAD_REQUEST, str(err)
        self.pending.put(data_id, request)
        return {"faces": request.crops}, not len(request.crops), None, ""

    def prepare(self, fields):
        """Decode, then detect and align the faces of a photo, or resize an aligned face."""
        pipeline = copy.copy(self.pipeline)
        data, options = read_request(fields, pipeline.upscale, pipeline.weight)
        pipeline.upscale, pipeline.weight = options.upscale, options.weight
        image = decode_image(data, **self.limits)
        working = to_working_image(image)
        size = pipeline.face_size
        if options.aligned:
            crops, matrices = [cv2.resize(working, (size, size), interpolation=pipeline.aligned_flags)], []
        else:
            if pipeline.detector is None:
                raise RequestError("this service restores aligned faces only (send aligned=True; convert the model "
                                   "with --det_dirname for whole photos)")
            height, width = (int(side * options.upscale) for side in working.shape[:2])
            if max(height, width) > self.limits["max_side"]:
                raise RequestError(f"the restored photo would be {width}x{height} px, over "
                                   f"{self.limits['max_side']} px a side: ask for a smaller upscale")
            crops, matrices = pipeline.align(working, pipeline.detect(working))
        crops = np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)
        return FaceRequest(options, pipeline, image, working, crops, matrices)

    def process(self, feed_batch, typical_logid=0):
        """FacePipeline.restore of the request's faces (``typical_logid`` is its data_id: batch_size is 1)."""
        try:
            restored = self.pending.get(typical_logid).pipeline.restore(list(feed_batch[0]["faces"]))
        except Exception:
            self.pending.pop(typical_logid)
            raise
        return {"faces": np.stack(restored)}, ChannelDataErrcode.OK.value, ""

    def postprocess(self, input_dicts, fetch_dict, data_id, log_id):
        request = self.pending.pop(data_id)
        restored = list(fetch_dict["faces"])
        suffix = FORMATS[request.options.format]
        encoded = encode_image(fit_for_format(request.result(restored), suffix), suffix)
        text = base64.b64encode(encoded).decode("ascii")
        if len(text) > MAX_IMAGE_B64:
            return {}, TOO_LARGE, (f"the restored image is {len(text) / 2 ** 20:.1f} MiB in base64 "
                                   f"({request.options.format}), over the HTTP gateway's 4 MiB: ask for "
                                   "format=jpg or a smaller upscale")
        return {"image": text, "format": request.options.format, "faces": str(len(restored))}, None, ""


class FaceRestoreService(WebService):
    def get_pipeline_response(self, read_op):
        return FaceRestoreOp(name=SERVICE, input_ops=[read_op])


def typed(key, text):
    """An --opt value: int, float, True / False, else the text; ``devices`` always stays text."""
    if key.rsplit(".", 1)[-1] == "devices":
        return text
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"True": True, "False": False, "true": True, "false": False}.get(text, text)


def apply_opts(conf, opts):
    """Set each ``dotted.key=value`` of ``opts`` in ``conf``, creating missing levels."""
    for opt in opts:
        key, sep, text = opt.partition("=")
        if not sep or not key:
            raise ValueError(f"--opt {opt!r}: expected key=value")
        node, *path = conf, *key.split(".")
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"--opt {key}: {part} is not a section")
        node[path[-1]] = typed(key, text)
    return conf


def load_service_config(path, opts):
    """config.yml with the --opt overrides, checked for what Serving would only fail on later (or not at
    all): the op section, its model folder, batch_size 1."""
    try:
        conf = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"--config {path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"--config {path}: not YAML ({str(err).splitlines()[0]})") from None
    conf = apply_opts(conf if isinstance(conf, dict) else {}, opts)
    op = (conf.get("op") or {}).get(SERVICE)
    if not isinstance(op, dict) or not isinstance(op.get("local_service_conf"), dict):
        raise ValueError(f"--config {path}: no op.{SERVICE}.local_service_conf section")
    if op.get("batch_size", 1) != 1:
        raise ValueError(f"op.{SERVICE}.batch_size must be 1 (requests are not batched together)")
    check_bundle(op["local_service_conf"].get("model_config", ""))
    return conf


def stop(signum, frame):
    """SIGTERM / SIGINT: end the child processes too (HTTP gateway, op workers), which Serving leaves running;
    the gateway sits in Go code that never returns to Python's signal handling, so it is killed."""
    for child in multiprocessing.active_children():
        child.kill()
    os._exit(0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--config", required=True, help="service config (config.yml)")
    parser.add_argument("-o", "--opt", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                        help="config overrides, e.g. --opt http_port=18090 op.face_restore.concurrency=1")
    args = parser.parse_args(argv)
    try:
        conf = load_service_config(args.config, args.opt)
    except (ValueError, BundleError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    # Serving kills its whole process group when an op fails to start: lead our own, so that the shell or CI
    # job that started the service is not killed with it.
    if os.getpgrp() != os.getpid():
        os.setpgrp()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service = FaceRestoreService(name=SERVICE)
    service.prepare_pipeline_config(yml_dict=conf)
    service.run_service()
    return 0


if __name__ == "__main__":
    sys.exit(main())
