"""Static export of a config's network: Paddle inference model (``paddle.jit.save``), optional ONNX, metadata.

An export directory holds ``inference.json`` + ``inference.pdiparams`` (PIR program and weights), optionally
``model.onnx``, ``infer_cfg.yml`` (what the model takes and gives: kind, input shape and dynamic dims, colour
order, normalisation, outputs) and ``model_config.yml`` (the full resolved config, so deploy code needs no
``configs/`` folder: face-pipeline settings, detector thresholds). The batch is always dynamic; detectors and
upsamplers have dynamic height and width too. What each kind of network takes comes from
``configs/_base_/export.yml`` and the config's ``export:`` section, never from the model's name.
"""
import copy
import os
import re
import shutil
import tempfile
from pathlib import Path

import paddle
import yaml

from ppgan_face.builder import create_model
from ppgan_face.config import CONFIG_DIR, load_config
from ppgan_face.inference.runners import METADATA_FILE

EXPORT_DEFAULTS = CONFIG_DIR / "_base_" / "export.yml"
MODEL_CONFIG_FILE = "model_config.yml"
PROGRAM_PREFIX = "inference"
ONNX_FILE = "model.onnx"
# Paddle ops that draw random numbers: an exported graph must be deterministic (and paddle2onnx mis-shapes them)
RANDOM_OPS = ("gaussian", "uniform", "randint", "randperm", "bernoulli", "multinomial", "dropout",
              "truncated_gaussian_random")


class ExportError(RuntimeError):
    """An export that cannot be done; the message is one line for the user."""


def export_settings(config):
    """The export description of a config: ``_base_/export.yml``'s entry for its kind, overridden by its own
    ``export:`` keys; plus the ``onnx`` and ``tensorrt`` defaults."""
    defaults = yaml.safe_load(EXPORT_DEFAULTS.read_text(encoding="utf-8"))
    own = dict(config.get("export") or {})
    kind = own.pop("kind", None)
    if kind not in defaults["kinds"]:
        raise ExportError(f"{config['name']}: not exportable (its export.kind must be one of "
                          f"{', '.join(defaults['kinds'])})")
    settings = {**copy.deepcopy(defaults["kinds"][kind]), "kind": kind, "onnx": defaults["onnx"],
                "tensorrt": defaults["tensorrt"]}
    for key, value in own.items():
        settings[key] = {**settings[key], **value} if isinstance(value, dict) and key in settings else value
    return settings


def input_shape(config, settings, input_size=None):
    """NCHW input shape with ``None`` for dynamic dims. ``input_size`` (H, W) fixes the sides of a dynamic
    model; a fixed-size model (restorer, parser: side at the config key ``size_key``) only takes its own."""
    if not settings["dynamic_size"]:
        fixed = config
        for part in settings["size_key"].split("."):
            fixed = fixed.get(part) if isinstance(fixed, dict) else None
        if fixed is None:
            raise ExportError(f"{config['name']}: {settings['size_key']} is not set")
        if input_size is not None and tuple(input_size) != (fixed, fixed):
            raise ExportError(f"{config['name']}: the input size is fixed at {fixed}x{fixed} by the network "
                              f"(got {input_size[0]}x{input_size[1]})")
        return [None, 3, fixed, fixed]
    height, width = input_size if input_size is not None else (None, None)
    return [None, 3, height, width]


def tensorrt_shapes(shape, trt):
    """(min, opt, max) input shapes for TensorRT dynamic shapes: batch 1..max_batch, free sides in
    min_side..max_side."""
    def side(dim, value):
        return dim if dim is not None else value
    return {f"{k}_shape": [b, 3, side(shape[2], s), side(shape[3], s)]
            for k, b, s in (("min", 1, trt["min_side"]), ("opt", 1, trt["opt_side"]),
                            ("max", trt["max_batch"], trt["max_side"]))}


def metadata(config, settings, shape, weights, with_onnx):
    """The ``infer_cfg.yml`` content."""
    dynamic = [name for name, dim in zip(("batch", "channels", "height", "width"), shape) if dim is None]
    meta = {
        "config": config["name"],
        "kind": settings["kind"],
        "files": {"program": f"{PROGRAM_PREFIX}.json", "params": f"{PROGRAM_PREFIX}.pdiparams",
                  "model_config": MODEL_CONFIG_FILE},
        "input": {"name": "x", "shape": shape, "dtype": "float32", "layout": "NCHW", **settings["input"]},
        "outputs": settings["outputs"],
        "dynamic": dynamic,
        "onednn": settings.get("onednn", True),
        "tensorrt": tensorrt_shapes(shape, settings["tensorrt"]),
        "weights": Path(weights).name if weights else "random_init (testing only)",
        "paddle_version": paddle.__version__,
    }
    if with_onnx:
        import paddle2onnx

        meta["files"]["onnx"] = ONNX_FILE
        meta["onnx"] = {"opset": settings["onnx"]["opset"], "paddle2onnx_version": paddle2onnx.__version__}
    return meta


def convert_to_onnx(model_dir, opset, fold_constants):
    """``inference.json`` → ``model.onnx`` with paddle2onnx (dynamic dims kept; constant folding with
    Polygraphy only if asked)."""
    import paddle2onnx

    model_dir = Path(model_dir)
    paddle2onnx.export(str(model_dir / f"{PROGRAM_PREFIX}.json"), str(model_dir / f"{PROGRAM_PREFIX}.pdiparams"),
                       str(model_dir / ONNX_FILE), opset_version=opset, auto_upgrade_opset=False,
                       optimize_tool="polygraphy" if fold_constants else "none", verbose=False)
    if not (model_dir / ONNX_FILE).is_file():
        raise ExportError("paddle2onnx wrote no model (see its log above)")


def _save_static(model, shape, prefix):
    spec = paddle.static.InputSpec(list(shape), "float32", "x")  # InputSpec rewrites None as -1 in place
    static = paddle.jit.to_static(model, input_spec=[spec], full_graph=True)
    paddle.jit.save(static, str(prefix))


def _check_runs(model, shape, name):
    """Run the network once in dygraph on the export shape (dynamic dims as 1 or 64 px), so that a config
    whose input size does not fit its network (e.g. ``restorer.input_size``) gets a one-line error instead of
    a tracer traceback."""
    probe = [1 if dim is None and axis == 0 else 64 if dim is None else dim for axis, dim in enumerate(shape)]
    try:
        with paddle.no_grad():
            model(paddle.zeros(probe, "float32"))
    except (ValueError, RuntimeError) as err:
        first = " ".join(str(err).split("[Hint")[0].split())[:300]
        raise ExportError(f"{name}: the network does not run on an input of shape {probe} ({first}); check the "
                          "config's input size (restorer.input_size)") from None


def random_ops(program):
    """{op name: count} of the random ops in a saved PIR program (``inference.json``)."""
    names = re.findall(r'"#":"\d+\.(\w+)"', Path(program).read_text(encoding="utf-8"))
    return {op: names.count(op) for op in sorted(set(names)) if op.startswith(RANDOM_OPS)}


def _existing_export(output_dir):
    """Export files already in ``output_dir`` (a previous export), by name."""
    names = (f"{PROGRAM_PREFIX}.json", f"{PROGRAM_PREFIX}.pdmodel", f"{PROGRAM_PREFIX}.pdiparams", ONNX_FILE,
             METADATA_FILE, MODEL_CONFIG_FILE)
    return [name for name in names if (output_dir / name).exists()]


def _move_into(staging, output_dir):
    """Move the finished files to ``output_dir``: a rename of the folder when it is new; otherwise file by
    file (other files there, e.g. TIPC's training output, stay), dropping a stale ``model.onnx``."""
    if not output_dir.exists():
        staging.rename(output_dir)
        return
    if not (staging / ONNX_FILE).exists() and (output_dir / ONNX_FILE).exists():
        (output_dir / ONNX_FILE).unlink()
    for path in staging.iterdir():
        os.replace(path, output_dir / path.name)


def export_model(config_name, output_dir, weights=None, overrides=(), input_size=None, onnx=False,
                 random_init=False, overwrite=False):
    """Export the network of ``config_name`` (a config name or path, with ``-o`` ``overrides``) to
    ``output_dir`` (created, or an existing folder; one holding an export only with ``overwrite``).
    Everything is written to a temporary sibling folder first and moved at the end, so a failed export
    leaves nothing behind. Returns the metadata written to ``infer_cfg.yml``."""
    if weights is None and not random_init:
        raise ExportError("no --weights given (a .pdparams or official .pth); --random_init exports random "
                          "weights, for tests only")
    if weights is not None and not Path(weights).is_file():
        raise ExportError(f"{weights}: weights file not found")
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise ExportError(f"{output_dir}: not a folder")
    if output_dir.is_dir() and _existing_export(output_dir) and not overwrite:
        raise ExportError(f"{output_dir}: holds an export already (pass --overwrite to replace it)")
    config = load_config(config_name, overrides)
    settings = export_settings(config)
    shape = input_shape(config, settings, input_size)
    model = create_model(config_name, weights=weights, overrides=overrides)

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.tmp-", dir=output_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the export is an ordinary folder
    try:
        _check_runs(model, shape, config["name"])
        _save_static(model, shape, staging / PROGRAM_PREFIX)
        drawn = random_ops(staging / f"{PROGRAM_PREFIX}.json")
        if drawn:
            ops = ", ".join(f"{op} x{n}" for op, n in drawn.items())
            raise ExportError(f"{config['name']}: the graph draws random numbers ({ops}); inference must be "
                              "deterministic (check the config's restorer.forward_kwargs)")
        if onnx:
            convert_to_onnx(staging, settings["onnx"]["opset"], settings["onnx"]["fold_constants"])
        meta = metadata(config, settings, shape, weights, onnx)
        saved_config = {k: v for k, v in config.items() if k != "config_path"}
        (staging / MODEL_CONFIG_FILE).write_text(yaml.safe_dump(saved_config, sort_keys=False), encoding="utf-8")
        (staging / METADATA_FILE).write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        _move_into(staging, output_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return meta

