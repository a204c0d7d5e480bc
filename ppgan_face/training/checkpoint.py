"""Training checkpoints: written atomically, the last N kept, found again for resume.

``checkpoints/iter_XXXXXXXX.pdparams`` holds everything needed to continue the same loss curve (networks, the
EMA generator, optimisers, schedulers, loss scaler, model running values, iteration, RNG states);
``models/net_g_ema_XXXXXXXX.pdparams`` is the EMA generator alone, a plain state dict that
``ppgan_face.create_model(train_config, weights=...)`` and the export tool load; ``models/net_g_ema_latest.pdparams``
is the one of the last iteration (BasicSR's ``net_g_latest``), a fixed name for scripts such as TIPC.
"""
import random
import re
from pathlib import Path

import numpy as np
import paddle

from ppgan_face.convert import CheckpointError, save_weights_atomic

_ITER = re.compile(r"iter_(\d+)\.pdparams$")


def rng_state():
    return {"paddle": paddle.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_rng_state(state):
    paddle.set_rng_state(state["paddle"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def checkpoints(folder):
    """{iteration: path} of the training checkpoints in ``folder``."""
    folder = Path(folder)
    found = {}
    for path in folder.glob("iter_*.pdparams") if folder.is_dir() else ():
        match = _ITER.search(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def latest_checkpoint(folder):
    found = checkpoints(folder)
    return found[max(found)] if found else None


def save_checkpoint(output_dir, iteration, model, keep):
    """Write the training state and the EMA generator of ``iteration``; delete all but the newest ``keep``."""
    output_dir = Path(output_dir)
    state = {"iter": iteration, "model": model.state_dict(), "rng": rng_state()}
    path = save_weights_atomic(state, output_dir / "checkpoints" / f"iter_{iteration:08d}.pdparams")
    save_weights_atomic(model.net_g_ema.state_dict(), output_dir / "models" / f"net_g_ema_{iteration:08d}.pdparams")
    found = checkpoints(output_dir / "checkpoints")
    for old in sorted(found)[:-keep] if keep else ():
        found[old].unlink()
        (output_dir / "models" / f"net_g_ema_{old:08d}.pdparams").unlink(missing_ok=True)
    return path


def save_latest_generator(output_dir, model):
    return save_weights_atomic(model.net_g_ema.state_dict(), Path(output_dir) / "models" / "net_g_ema_latest.pdparams")


def load_checkpoint(path):
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    state = paddle.load(str(path))
    if not isinstance(state, dict) or "model" not in state or "iter" not in state:
        raise CheckpointError(f"{path}: not a training checkpoint of tools/train.py")
    return state
