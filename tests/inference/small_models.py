"""Tiny versions of every exported network (each config's layers, few channels) and how to export them.

Each is built at random init, its weights saved as ``.pdparams`` and exported with those weights, so the
exported model and the dygraph model in the test compute with the same numbers.
"""
from pathlib import Path

import numpy as np
import paddle

from ppgan_face.builder import create_model
from ppgan_face.inference.export import export_model

# config -> (-o overrides, input shapes to run: batch 1 and 3, and for dynamic-size models two sizes)
SMALL = {
    "gfpgan_v1.4": (["model.out_size=64", "model.num_style_feat=32", "model.narrow=0.5", "model.num_mlp=2",
                     "model.channel_multiplier=1", "restorer.input_size=64"], [(1, 3, 64, 64), (3, 3, 64, 64)]),
    "gfpgan_v1": (["model.out_size=64", "model.num_style_feat=32", "model.narrow=0.5", "model.num_mlp=2",
                   "restorer.input_size=64"], [(1, 3, 64, 64), (3, 3, 64, 64)]),
    "gpen_bfr_512": (["model.size=64", "model.narrow=0.25", "model.style_dim=32", "model.n_mlp=2",
                      "restorer.input_size=64"], [(1, 3, 64, 64), (3, 3, 64, 64)]),
    "retinaface_mobilenet0.25": ([], [(1, 3, 96, 128), (3, 3, 64, 48)]),
    "realesrnet_x2": (["model.num_block=2", "model.num_feat=8", "model.num_grow_ch=8"],
                      [(1, 3, 24, 32), (3, 3, 18, 14)]),
    "parsenet": (["model.in_size=64", "model.out_size=64", "model.base_ch=8", "model.res_depth=1",
                  "model.ch_range=[8, 16]", "model.min_feat_size=16"], [(1, 3, 64, 64), (3, 3, 64, 64)]),
}


def small_model(name):
    """The dygraph model of a small config, at a fixed random init."""
    paddle.seed(0)
    return create_model(name, overrides=SMALL[name][0])


def export_small(name, root, onnx=True):
    """(dygraph model, export dir): the small model, its weights saved and exported with ``--onnx``."""
    model = small_model(name)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    weights = root / f"{name}.pdparams"
    paddle.save(getattr(model, "net", model).state_dict(), str(weights))
    export_model(name, root / name, weights=str(weights), overrides=SMALL[name][0], onnx=onnx)
    return model, root / name


_EXPORTS = {}


def all_small_exports(tmp_path_factory):
    """:func:`export_small` of every small model, made once per process whichever conftest asks first."""
    if not _EXPORTS:
        root = tmp_path_factory.mktemp("exports")
        _EXPORTS.update({name: export_small(name, root) for name in SMALL})
    return _EXPORTS


def sample(shape, seed=0):
    """A float32 input in [-1, 1]."""
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)


def errors(out, ref):
    """(max abs error, relative L2 error) of an output (array or tuple of arrays) against a reference."""
    out = out if isinstance(out, tuple) else (out,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    assert [o.shape for o in out] == [r.shape for r in ref]
    diff = np.concatenate([(o - r).ravel() for o, r in zip(out, ref)]).astype(np.float64)
    base = np.concatenate([r.ravel() for r in ref]).astype(np.float64)
    return float(np.abs(diff).max()), float(np.linalg.norm(diff) / np.linalg.norm(base))
