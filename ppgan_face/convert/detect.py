"""Find which config an official checkpoint belongs to, from its keys and shapes alone.

Every config with a ``checkpoint`` section is a candidate; its network is built under ``paddle.LazyGuard``
(shapes only, no memory), and a checkpoint matches when its entries map onto that network exactly.
"""
from pathlib import Path

import paddle

from ppgan_face.builder import build_network
from ppgan_face.config import config_names, load_config
from ppgan_face.convert.converter import CheckpointMismatch, map_state_dict, read_state_dict
from ppgan_face.convert.errors import CheckpointError


def convertible_configs():
    """Configs that describe an official checkpoint (those with ``model`` and ``checkpoint`` sections)."""
    for name in config_names():
        config = load_config(name)
        if "model" in config and "checkpoint" in config:
            yield config


def map_onto_config(checkpoint, config, source):
    """Map a loaded checkpoint onto a config's network; raise CheckpointError if it does not fit."""
    spec = config.get("checkpoint") or {}
    state_dict = read_state_dict(source, spec.get("state_dict_key"), spec.get("adapter"), checkpoint=checkpoint)
    with paddle.LazyGuard():
        net = build_network(config)
    return map_state_dict(state_dict, net, Path(source).name)


def _file_names(config):
    spec = config.get("checkpoint") or {}
    return {name.lower() for name in [spec.get("file")] + list(spec.get("aliases") or []) if name}


def detect_config(checkpoint, source):
    """Return (config, mapped weights) for a loaded checkpoint, or raise CheckpointError naming the closest."""
    matches, closest = [], None
    for config in convertible_configs():
        try:
            matches.append((config, map_onto_config(checkpoint, config, source)))
        except CheckpointMismatch as err:
            if closest is None or len(str(err)) < len(str(closest[1])):
                closest = (config["name"], err)
        except CheckpointError:
            continue
    if not matches:
        hint = f"; closest is {closest[0]}: {closest[1]}" if closest else ""
        raise CheckpointError(f"{Path(source).name}: matches no known architecture{hint}")
    by_file = [m for m in matches if Path(source).name.lower() in _file_names(m[0])]
    return (by_file or sorted(matches, key=lambda m: m[0]["name"]))[-1], [m[0]["name"] for m in matches]
