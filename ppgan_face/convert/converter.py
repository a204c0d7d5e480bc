"""Official PyTorch checkpoints -> Paddle weights, without torch.

Our networks use upstream's parameter names, so one set of rules maps every checkpoint: keys that only
differ by framework convention are renamed (BatchNorm statistics, PReLU), ``paddle.nn.Linear`` weights are
transposed, and everything else is copied after checking its shape. Checkpoints whose layout differs
(torchvision VGG19) go through a named adapter first (``adapters.py``).
"""
import os
import tempfile
from pathlib import Path

import numpy as np
import paddle
from paddle import nn

from ppgan_face.convert.adapters import CHECKPOINT_ADAPTERS
from ppgan_face.convert.errors import CheckpointError
from ppgan_face.convert.pth_reader import load_pth

# Where upstream keeps the state dict inside a checkpoint, in order of preference (EMA weights first).
STATE_DICT_KEYS = ("params_ema", "params", "g_ema", "state_dict", "model")
# Prefixes that training wrappers add to every key (DataParallel / DistributedDataParallel).
WRAPPER_PREFIXES = ("module.",)
# Torch entries with no Paddle counterpart.
IGNORED_SUFFIXES = (".num_batches_tracked",)

# Paddle attribute name -> torch attribute name, for layers whose names differ by framework.
_RENAMES = (
    (nn.layer.norm._BatchNormBase, {"_mean": "running_mean", "_variance": "running_var"}),
    (nn.PReLU, {"_weight": "weight"}),
)


class CheckpointMismatch(CheckpointError):
    """The checkpoint's entries do not fit the network: missing, unexpected or mis-shaped keys."""


def _is_state_dict(obj):
    return isinstance(obj, dict) and obj and all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in obj.items())


def select_state_dict(obj, source, state_dict_key=None):
    """Pick the state dict out of a loaded checkpoint (``params_ema``, ``params``, ... or the top level)."""
    keys = [state_dict_key] if isinstance(state_dict_key, str) else list(state_dict_key or STATE_DICT_KEYS)
    if isinstance(obj, dict):
        for key in keys:
            if _is_state_dict(obj.get(key)):
                return obj[key]
    if state_dict_key is None and _is_state_dict(obj):
        return obj
    found = ", ".join(map(str, list(obj)[:8])) if isinstance(obj, dict) else type(obj).__name__
    raise CheckpointError(f"{source}: no state dict under {' / '.join(keys)} (found: {found})")


def strip_wrapper_prefix(state_dict):
    for prefix in WRAPPER_PREFIXES:
        if state_dict and all(k.startswith(prefix) for k in state_dict):
            return {k[len(prefix):]: v for k, v in state_dict.items()}
    return state_dict


def read_state_dict(path, state_dict_key=None, adapter=None, checkpoint=None):
    """Read an official checkpoint as ``{upstream key: numpy array}`` ready to map onto our network."""
    obj = load_pth(path) if checkpoint is None else checkpoint
    state_dict = strip_wrapper_prefix(select_state_dict(obj, Path(path).name, state_dict_key))
    state_dict = {k: v for k, v in state_dict.items() if not k.endswith(IGNORED_SUFFIXES)}
    if adapter:
        state_dict = CHECKPOINT_ADAPTERS.get(adapter)(state_dict)
    return state_dict


def expected_entries(model):
    """Map each Paddle state-dict key of ``model`` to (upstream key, Paddle shape, transpose?)."""
    entries = {}
    for prefix, layer in model.named_sublayers(include_self=True):
        prefix = f"{prefix}." if prefix else ""
        renames = next((names for cls, names in _RENAMES if isinstance(layer, cls)), {})
        transposed = {"weight"} if isinstance(layer, nn.Linear) else set()
        persistent_buffers = {name: buf for name, buf in layer._buffers.items()
                              if name not in layer._non_persistable_buffer_names_set}
        for name, tensor in list(layer._parameters.items()) + list(persistent_buffers.items()):
            if tensor is None:
                continue
            entries[prefix + name] = (prefix + renames.get(name, name), tuple(tensor.shape), name in transposed)
    return entries


def _summary(kind, keys, limit=6):
    keys = sorted(keys)
    shown = ", ".join(keys[:limit]) + (f", ... (+{len(keys) - limit})" if len(keys) > limit else "")
    return f"{len(keys)} {kind}: {shown}"


def map_state_dict(state_dict, model, source="checkpoint"):
    """Return ``{Paddle key: float array}`` for ``model`` or raise CheckpointMismatch listing every problem."""
    entries = expected_entries(model)
    used, mapped, problems = set(), {}, {"missing": [], "mis-shaped": []}
    for key, (upstream_key, shape, transpose) in entries.items():
        value = state_dict.get(upstream_key)
        if value is None:
            problems["missing"].append(upstream_key)
            continue
        used.add(upstream_key)
        value = value.T if transpose else value
        if tuple(value.shape) != shape:
            problems["mis-shaped"].append(f"{upstream_key} {tuple(value.shape)} != {shape}")
            continue
        mapped[key] = np.ascontiguousarray(value, dtype=np.float32)
    problems["unexpected"] = sorted(set(state_dict) - used)
    if any(problems.values()):
        details = "; ".join(_summary(kind, keys) for kind, keys in problems.items() if keys)
        raise CheckpointMismatch(f"{source} does not match {type(model).__name__}: {details}")
    return mapped


def set_weights(model, weights, source="weights"):
    """Copy ``{Paddle key: array}`` into ``model``, strictly (every key, every shape)."""
    own = model.state_dict()
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    shaped = [f"{k} {tuple(weights[k].shape)} != {tuple(own[k].shape)}" for k in own
              if k in weights and tuple(weights[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shaped:
        details = "; ".join(_summary(kind, keys) for kind, keys in
                            (("missing", missing), ("unexpected", unexpected), ("mis-shaped", shaped)) if keys)
        raise CheckpointMismatch(f"{source} does not match {type(model).__name__}: {details}")
    for key, tensor in own.items():
        tensor.set_value(paddle.to_tensor(weights[key]).astype(tensor.dtype))
    return model


def load_official_into(model, path, state_dict_key=None, adapter=None):
    """Load an official PyTorch checkpoint into our ``model`` (no torch needed) and return the model."""
    state_dict = read_state_dict(path, state_dict_key, adapter)
    return set_weights(model, map_state_dict(state_dict, model, Path(path).name), Path(path).name)


def load_weights(model, path, state_dict_key=None, adapter=None):
    """Load ``.pdparams`` (converted) or an official ``.pth`` into ``model``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    if path.suffix == ".pdparams":
        try:
            weights = paddle.load(str(path))
        except Exception as err:  # paddle raises many types for a damaged file
            raise CheckpointError(f"{path.name}: cannot read Paddle weights ({type(err).__name__})") from None
        if not isinstance(weights, dict):
            raise CheckpointError(f"{path.name}: not a Paddle state dict")
        return set_weights(model, weights, path.name)
    return load_official_into(model, path, state_dict_key, adapter)


def save_weights_atomic(weights, dst):
    """Write ``.pdparams`` through a temporary file in the same folder, so a failure leaves nothing."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    try:
        paddle.save(weights, tmp)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dst
