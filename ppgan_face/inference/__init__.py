"""Engines that run a network on numpy arrays: Paddle dygraph, Paddle Inference, ONNX Runtime.

The face pipeline only sees a *runner*: a callable taking one float32 NCHW numpy array and returning a
numpy array (or a tuple of them, for multi-output networks such as RetinaFace). So the same pipeline code
serves ``tools/predict.py`` (dygraph) and ``deploy/python/infer.py`` (exported models, :func:`load_runner`).
"""
from ppgan_face.inference.runners import (BACKENDS, PRECISIONS, DygraphRunner, OnnxRunner, PaddleInferenceRunner,
                                          RunnerError, load_runner, read_metadata)

__all__ = ["BACKENDS", "PRECISIONS", "DygraphRunner", "OnnxRunner", "PaddleInferenceRunner", "RunnerError",
           "load_runner", "read_metadata"]
