"""GFPGAN's training code (``gfpgan/models/gfpgan_model.py``, ``gfpgan/data/ffhq_degradation_dataset.py``) and
BasicSR's data / loss modules as oracles.

Their imports pull in BasicSR's model, metric and network builders, which the oracles never call: those names
are provided as placeholders that raise. Everything the tests compare against runs upstream's own code.
"""
import bisect
import importlib
import itertools
import sys
import types

import numpy as np
import torch

from tests.oracles import official, setup


def _unused(name):
    def fail(*args, **kwargs):
        raise NotImplementedError(f"{name} is not part of the training oracles")
    return fail


def _prepare():
    setup()
    utils = sys.modules["basicsr.utils"]
    if getattr(utils, "_training_oracles", False):
        return
    img_util = importlib.import_module("basicsr.utils.img_util")
    misc = importlib.import_module("basicsr.utils.misc")
    file_client = importlib.import_module("basicsr.utils.file_client")
    for name in ("img2tensor", "imfrombytes", "tensor2img", "imwrite"):
        setattr(utils, name, getattr(img_util, name))
    utils.scandir = misc.scandir
    utils.FileClient = file_client.FileClient
    sys.modules["basicsr.archs"].build_network = _unused("basicsr.archs.build_network")
    sys.modules["basicsr.losses"].build_loss = _unused("basicsr.losses.build_loss")
    sys.modules["basicsr.metrics"].calculate_metric = _unused("basicsr.metrics.calculate_metric")
    base_model = types.ModuleType("basicsr.models.base_model")
    base_model.BaseModel = type("BaseModel", (), {})
    sys.modules["basicsr.models.base_model"] = base_model
    utils._training_oracles = True


def gfpgan_model_class():
    """The official GFPGANModel class (build it with ``__new__`` and set the attributes a method reads)."""
    _prepare()
    return official("gfpgan.models.gfpgan_model").GFPGANModel


def gfpgan_dataset_module():
    _prepare()
    return official("gfpgan.data.ffhq_degradation_dataset")


class NumpyDraws:
    """Upstream draws from three generators (Python's ``random``, ``np.random``, torch); the port draws all
    from one. This stands in for ``random`` (and torch's few draws in ``color_jitter_pt``), taking each draw
    from ``np.random`` with the same algorithm, so upstream and port consume one stream in the same order."""

    @staticmethod
    def random():
        return np.random.random_sample()

    @staticmethod
    def choices(population, weights):
        cum_weights = list(itertools.accumulate(weights))
        return [population[bisect.bisect(cum_weights, np.random.random_sample() * cum_weights[-1], 0,
                                         len(population) - 1)]]


class _Draw:
    def __init__(self, value):
        self.value = value

    def uniform_(self, low, high):
        return _Draw(np.random.uniform(low, high))

    def item(self):
        return self.value


def numpy_torch():
    """``torch`` for the GFPGAN dataset module, with ``randperm`` and ``tensor(…).uniform_`` drawn from np.random."""
    shim = types.ModuleType("torch_numpy_draws")
    shim.__dict__.update({k: getattr(torch, k) for k in dir(torch) if not k.startswith("__")})
    shim.randperm = lambda n: torch.from_numpy(np.random.permutation(n))
    shim.tensor = _Draw
    return shim


def round_jpeg_quality(cv2_module):
    """``cv2`` for BasicSR's degradations with the JPEG quality rounded, as OpenCV <= 4.5.2 did (newer
    OpenCV refuses the float quality upstream passes)."""
    shim = types.ModuleType("cv2_rounding_quality")
    shim.__dict__.update({k: getattr(cv2_module, k) for k in dir(cv2_module) if not k.startswith("__")})
    shim.imencode = lambda ext, img, params: cv2_module.imencode(ext, img, [int(round(p)) for p in params])
    return shim


def torch_value_and_grads(fn, *arrays):
    """``fn(*tensors)`` on torch leaf tensors made from ``arrays``; returns (value, [d value / d array])."""
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    value = fn(*tensors)
    grads = torch.autograd.grad(value, tensors, allow_unused=True)
    return value.detach().numpy(), [np.zeros_like(a) if g is None else g.numpy() for a, g in zip(arrays, grads)]


def paddle_value_and_grads(fn, *arrays):
    """The same with Paddle tensors."""
    import paddle
    tensors = [paddle.to_tensor(a, stop_gradient=False) for a in arrays]
    value = fn(*tensors)
    grads = paddle.grad(value, tensors, allow_unused=True)
    return value.numpy(), [np.zeros_like(a) if g is None else g.numpy() for a, g in zip(arrays, grads)]


def assert_value_and_grads(ours, theirs, what, rel_l2=1e-5, grad_rel_l2=None):
    """Compare (value, grads) pairs: relative L2 <= rel_l2 for the value and each gradient (``grad_rel_l2`` if
    given), printing the numbers."""
    from tests.oracles import compare
    (value, grads), (ref_value, ref_grads) = ours, theirs
    for name, a, e in [("value", value, ref_value)] + [(f"grad {i}", g, r) for i, (g, r) in
                                                         enumerate(zip(grads, ref_grads))]:
        max_abs, rel = compare(np.asarray(a).reshape(np.shape(e)), e)
        limit = rel_l2 if name == "value" or grad_rel_l2 is None else grad_rel_l2
        print(f"{what} {name}: max abs {max_abs:.3g}, rel L2 {rel:.3g}")
        assert rel <= limit or max_abs <= 1e-12, f"{what} {name}: rel L2 {rel:.3g} > {limit} (max abs {max_abs:.3g})"
