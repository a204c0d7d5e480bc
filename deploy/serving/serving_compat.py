"""Make Paddle Serving 0.9.0 (its last release, 2022) run on Python 3.11 + Paddle 3: import before Serving.

Each patch fixes one thing the old release gets wrong here (shared/docs PADDLE3.md, TIPC.md §11):

* Serving's generated protobuf modules predate protobuf 4: they only load with the pure-Python protobuf,
  chosen by ``PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python`` before protobuf is first imported.
* ``LocalPredictor`` only finds ``__model__`` / ``*.pdmodel`` programs: a Paddle 3 (PIR) export is
  ``inference.json``. Its Paddle Inference ``Config`` is made from the folder's files instead.
* It only ever calls ``enable_mkldnn()``, and Paddle 3 turns oneDNN on by default, so ``use_mkldnn: false``
  was ignored: oneDNN is now set explicitly either way (and kept off when the export says it fails,
  ``onednn: false`` in its infer_cfg.yml, as ``ppgan_face.inference.load_runner`` does).
* ``enable_memory_optim()`` fails on a PIR program unless the new IR and executor are enabled too.
* The pipeline's gRPC server binds ``[::]`` (every interface); it is bound to 127.0.0.1, where the HTTP
  gateway reaches it. The Go gateway itself (``libproxy_server.so``) listens on every interface and has no
  setting for it: keep its port behind a firewall.
"""
import os
import sys

os.environ["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = "python"
if "google.protobuf" in sys.modules:
    from google.protobuf.internal import api_implementation

    if api_implementation.Type() != "python":
        raise ImportError("serving_compat must be imported before paddle or protobuf (Paddle Serving needs the "
                          "pure-Python protobuf)")

import grpc  # noqa: E402
import paddle.inference  # noqa: E402
from paddle_serving_app import local_predict  # noqa: E402
from paddle_serving_server.pipeline import pipeline_server  # noqa: E402

from ppgan_face.inference.runners import paddle_model_files, read_metadata  # noqa: E402

GRPC_HOST = "127.0.0.1"


class Paddle3Config(paddle.inference.Config):
    """Paddle Inference config of an export folder that records whether Serving asked for oneDNN."""

    def __init__(self, model_dir):
        program, params = paddle_model_files(model_dir)
        super().__init__(str(program), str(params))
        self.onednn_works = read_metadata(model_dir).get("onednn", True)
        self.onednn_asked = False

    def enable_mkldnn(self):
        self.onednn_asked = True
        super().enable_mkldnn()

    def enable_memory_optim(self, *args):
        self.enable_new_ir()
        self.enable_new_executor()
        super().enable_memory_optim(*args)


class Paddle3Inference:
    """Stands in for ``paddle.inference`` inside ``paddle_serving_app.local_predict``."""

    PrecisionType = paddle.inference.PrecisionType

    @staticmethod
    def Config(model_path, *files):  # noqa: N802 (the name LocalPredictor calls)
        """LocalPredictor passes the folder (no ``*.pdmodel`` found) or a legacy program's two files."""
        return Paddle3Config(model_path if not files else os.path.dirname(model_path))

    @staticmethod
    def create_predictor(config):
        if not config.use_gpu() and not (config.onednn_asked and config.onednn_works):
            config.disable_mkldnn()
        config.disable_glog_info()
        return paddle.inference.create_predictor(config)


class LoopbackServer:
    """A ``grpc.Server`` whose ``[::]`` (all interfaces) listening address becomes 127.0.0.1."""

    def __init__(self, server):
        self._server = server

    def add_insecure_port(self, address):
        return self._server.add_insecure_port(address.replace("[::]", GRPC_HOST))

    def __getattr__(self, name):
        return getattr(self._server, name)


class LoopbackGrpc:
    """Stands in for the ``grpc`` module inside ``pipeline_server``: servers listen on 127.0.0.1 only."""

    def __getattr__(self, name):
        return getattr(grpc, name)

    @staticmethod
    def server(*args, **kwargs):
        return LoopbackServer(grpc.server(*args, **kwargs))


local_predict.paddle_infer = Paddle3Inference
pipeline_server.grpc = LoopbackGrpc()
