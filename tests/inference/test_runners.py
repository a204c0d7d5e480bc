"""Exported models against dygraph: Paddle Inference (oneDNN off and on) and ONNX Runtime, dynamic batch and
sizes, bf16, and the runner factory's refusals.

Random-init networks (GFPGAN's especially) give large activations, so errors are relative L2 against the
dygraph output (and max abs error relative to its largest value).
"""
import numpy as np
import pytest

from ppgan_face.inference import (DygraphRunner, OnnxRunner, PaddleInferenceRunner, RunnerError, load_runner,
                                  read_metadata)
from tests.inference.small_models import SMALL, errors, sample

ENGINES = {  # engine -> (runner factory over an export dir, relative L2 tolerance)
    "paddle": (lambda d: PaddleInferenceRunner(d, enable_mkldnn=False), 1e-6),
    "paddle-onednn": (lambda d: PaddleInferenceRunner(d, enable_mkldnn=True, cpu_threads=2), 3e-5),
    "onnxruntime": (lambda d: OnnxRunner(d / "model.onnx", threads=2), 3e-5),
}


@pytest.fixture(scope="module")
def references(small_exports):
    """{(config name, input index): (input, dygraph output)} for the inputs of ``SMALL``."""
    return {(name, seed): (sample(shape, seed), DygraphRunner(small_exports[name][0])(sample(shape, seed)))
            for name in SMALL for seed, shape in enumerate(SMALL[name][1])}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", SMALL)
def test_engine_matches_dygraph(small_exports, references, name, engine):
    """One runner, several inputs (batch 1 and 3; two sizes for detector / upsampler): every call equals
    dygraph (oneDNN once cached the first run's computed weights, so the second call matters). oneDNN is
    tested where the export's metadata allows it."""
    export_dir = small_exports[name][1]
    if engine == "paddle-onednn" and not read_metadata(export_dir)["onednn"]:
        engine = "paddle"  # what load_runner runs for it; test_onednn_is_off_only_where_it_fails pins why
    make, tolerance = ENGINES[engine]
    runner = make(export_dir)
    for seed, shape in enumerate(SMALL[name][1]):
        x, ref = references[name, seed]
        max_abs, rel = errors(runner(x), ref)
        scale = max(np.abs(r).max() for r in (ref if isinstance(ref, tuple) else (ref,)))
        print(f"PARITY {name} {engine} {shape}: max abs {max_abs:.3g} (of {scale:.3g}), rel L2 {rel:.3g}")
        assert rel <= tolerance, (shape, max_abs, rel)


@pytest.mark.parametrize("name", SMALL)
def test_onednn_is_off_only_where_it_fails(small_exports, name):
    """``onednn: false`` in the metadata is a workaround: oneDNN must really fail for that model (when this
    fails, the model builds with oneDNN now: switch it on in configs/_base_/export.yml)."""
    export_dir = small_exports[name][1]
    if read_metadata(export_dir)["onednn"]:
        PaddleInferenceRunner(export_dir, enable_mkldnn=True)
    else:
        with pytest.raises(RuntimeError, match="fuse_activation"):
            PaddleInferenceRunner(export_dir, enable_mkldnn=True)


def test_outputs_are_tuples_for_multi_output_networks(small_exports):
    model, export_dir = small_exports["retinaface_mobilenet0.25"]
    out = PaddleInferenceRunner(export_dir, enable_mkldnn=False)(sample((1, 3, 64, 64)))
    assert isinstance(out, tuple) and [o.shape[-1] for o in out] == [4, 2, 10]


def test_bf16_is_close_to_fp32(small_exports):
    """bfloat16 oneDNN kernels: not exact, but close (8-bit mantissa)."""
    model, export_dir = small_exports["gfpgan_v1.4"]
    x = sample((1, 3, 64, 64))
    _, rel = errors(PaddleInferenceRunner(export_dir, precision="bf16", cpu_threads=2)(x), DygraphRunner(model)(x))
    print(f"gfpgan_v1.4 bf16 rel L2 {rel:.3g}")
    assert rel < 5e-2


@pytest.mark.parametrize("backend", ["paddle", "onnxruntime"])
def test_load_runner_reads_the_metadata(small_exports, backend):
    model, export_dir = small_exports["realesrnet_x2"]
    runner, meta = load_runner(export_dir, backend=backend, cpu_threads=1)
    assert meta["kind"] == "upsampler"
    x = sample((1, 3, 16, 16))
    assert errors(runner(x), DygraphRunner(model)(x))[1] < 3e-5


@pytest.mark.parametrize("kwargs,message", [
    (dict(backend="tensorflow"), "backend must be one of paddle, onnxruntime"),
    (dict(precision="fp16"), "fp16 and TensorRT need --device gpu"),
    (dict(use_tensorrt=True), "fp16 and TensorRT need --device gpu"),
    (dict(precision="bf16", enable_mkldnn=False), "bf16 runs on CPU with oneDNN"),
    (dict(precision="int4"), "precision must be one of fp32, bf16, fp16"),
    (dict(backend="onnxruntime", precision="bf16"), "the onnxruntime backend runs fp32 on CPU only"),
    (dict(device="tpu"), "device must be cpu or gpu"),
])
def test_load_runner_refuses_bad_settings(small_exports, kwargs, message):
    with pytest.raises(RunnerError, match=message):
        load_runner(small_exports["realesrnet_x2"][1], **kwargs)


def test_load_runner_refuses_a_folder_that_is_not_an_export(tmp_path):
    with pytest.raises(RunnerError, match="not an exported model"):
        load_runner(tmp_path)
    (tmp_path / "infer_cfg.yml").write_text("kind: restorer\nfiles: {}\n")
    with pytest.raises(RunnerError, match="no Paddle inference model"):
        load_runner(tmp_path)
    with pytest.raises(RunnerError, match="no ONNX model"):
        load_runner(tmp_path, backend="onnxruntime")


@pytest.mark.parametrize("program", ["inference.json", "inference.pdmodel"])
def test_both_program_formats_are_found(tmp_path, program):
    """Paddle 3 writes PIR ``.json``; older exports have ``.pdmodel``: the loader takes either."""
    from ppgan_face.inference.runners import paddle_model_files

    for name in (program, "inference.pdiparams"):
        (tmp_path / name).write_bytes(b"")
    assert paddle_model_files(tmp_path) == (tmp_path / program, tmp_path / "inference.pdiparams")
