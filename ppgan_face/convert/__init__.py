"""Official PyTorch checkpoints to Paddle weights, without torch."""
from ppgan_face.convert.converter import (CheckpointMismatch, load_official_into, load_weights, map_state_dict,
                                          read_state_dict, save_weights_atomic, set_weights)
from ppgan_face.convert.errors import CheckpointError
from ppgan_face.convert.pth_reader import load_pth


def convert_checkpoint(src, dst=None, config=None):
    """Convert an official checkpoint to ``.pdparams``.

    ``config`` names the target (a config name or path); without it the architecture is detected from the
    checkpoint's keys and shapes. ``dst`` defaults to the config's ``weights`` path. Returns a dict with the
    config name, the other matching configs, the output path and the number of tensors and values.
    """
    from ppgan_face.config import load_config
    from ppgan_face.convert.detect import detect_config, map_onto_config

    checkpoint = load_pth(src)
    if config is None:
        (target, weights), matching = detect_config(checkpoint, src)
    else:
        target = load_config(config)
        weights, matching = map_onto_config(checkpoint, target, src), [target["name"]]
    dst = dst or target.get("weights")
    if not dst:
        raise CheckpointError(f"{target['name']}: the config names no weights path; pass --dst")
    save_weights_atomic(weights, dst)
    return {"config": target["name"], "matching": matching, "dst": str(dst), "tensors": len(weights),
            "values": int(sum(v.size for v in weights.values()))}


__all__ = ["CheckpointError", "CheckpointMismatch", "convert_checkpoint", "load_official_into", "load_pth",
           "load_weights", "map_state_dict", "read_state_dict", "save_weights_atomic", "set_weights"]
