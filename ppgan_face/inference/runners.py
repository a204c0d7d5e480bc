"""Runners: one calling convention (numpy NCHW float32 in, numpy out) over every execution engine.

A runner is called with one float32 array and returns one array, or a tuple of arrays for networks with
several outputs (RetinaFace). :func:`load_runner` opens an exported model directory (its ``infer_cfg.yml``
names the files) with the engine asked for.
"""
import os
from pathlib import Path

import numpy as np
import paddle
import yaml

BACKENDS = ("paddle", "onnxruntime")
PRECISIONS = ("fp32", "bf16", "fp16")
METADATA_FILE = "infer_cfg.yml"


class RunnerError(RuntimeError):
    """An exported model or engine setting that cannot be used; the message is one line for the user."""


def _outputs(arrays):
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


class DygraphRunner:
    """Run a Paddle ``nn.Layer`` in eval mode without gradients."""

    def __init__(self, layer):
        self.layer = layer
        self.layer.eval()

    def __call__(self, batch):
        with paddle.no_grad():
            out = self.layer(paddle.to_tensor(np.ascontiguousarray(batch, dtype=np.float32)))
        if isinstance(out, (tuple, list)):
            return tuple(t.numpy() for t in out)
        return out.numpy()


def paddle_model_files(model_dir):
    """(program, params) of an export: ``inference.json`` (PIR, Paddle 3) or a legacy ``inference.pdmodel``."""
    model_dir = Path(model_dir)
    for program in ("inference.json", "inference.pdmodel"):
        if (model_dir / program).is_file() and (model_dir / "inference.pdiparams").is_file():
            return model_dir / program, model_dir / "inference.pdiparams"
    raise RunnerError(f"{model_dir}: no Paddle inference model (inference.json or inference.pdmodel "
                      "with inference.pdiparams)")


class PaddleInferenceRunner:
    """Paddle Inference predictor over an exported model directory.

    Args:
        device: ``cpu`` or ``gpu`` (a CUDA build of Paddle).
        enable_mkldnn: oneDNN kernels on CPU: several times faster, and equal to dygraph within float
            rounding for the restorers, upsamplers and parser with Paddle 3.2.2 (tests/inference), hence the
            default. RetinaFace does not build with it; :func:`load_runner` follows the export's ``onednn``.
        cpu_threads: math library threads on CPU.
        precision: ``fp32``; ``bf16`` (CPU with oneDNN: bfloat16 kernels where the CPU has AVX512-BF16);
            ``fp16`` (GPU only).
        use_tensorrt: GPU only; TensorRT subgraphs, with the dynamic shape ranges ``trt_shapes``
            (``{"min_shape": {input name: shape}, "max_shape": ..., "opt_shape": ...}``; :func:`load_runner`
            takes them from the export's ``infer_cfg.yml``). Untested here (no GPU).
        gpu_mem_mb, gpu_id: initial GPU memory pool and device.
    """

    def __init__(self, model_dir, device="cpu", enable_mkldnn=True, cpu_threads=1, precision="fp32",
                 use_tensorrt=False, gpu_mem_mb=500, gpu_id=0, trt_shapes=None, trt_workspace=1 << 30):
        from paddle import inference

        if device not in ("cpu", "gpu"):
            raise RunnerError(f"device must be cpu or gpu, got {device!r}")
        if precision not in PRECISIONS:
            raise RunnerError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if device == "cpu" and (precision == "fp16" or use_tensorrt):
            raise RunnerError("fp16 and TensorRT need --device gpu")
        if precision == "bf16" and not (device == "cpu" and enable_mkldnn):
            raise RunnerError("bf16 runs on CPU with oneDNN (--enable_mkldnn=True)")
        program, params = paddle_model_files(model_dir)
        config = inference.Config(str(program), str(params))
        if device == "gpu":
            if not paddle.is_compiled_with_cuda():
                raise RunnerError("--device gpu needs a CUDA build of paddlepaddle (paddlepaddle-gpu)")
            precision_type = inference.PrecisionType.Half if precision == "fp16" else inference.PrecisionType.Float32
            config.enable_use_gpu(gpu_mem_mb, gpu_id, precision_type)
            if use_tensorrt:
                config.enable_tensorrt_engine(workspace_size=trt_workspace, max_batch_size=1, min_subgraph_size=3,
                                              precision_mode=precision_type, use_static=False, use_calib_mode=False)
                if trt_shapes:
                    config.set_trt_dynamic_shape_info(trt_shapes["min_shape"], trt_shapes["max_shape"],
                                                      trt_shapes["opt_shape"])
        else:
            config.disable_gpu()
            config.set_cpu_math_library_num_threads(int(cpu_threads))
            if enable_mkldnn:
                config.enable_mkldnn()
                if precision == "bf16":
                    config.enable_mkldnn_bfloat16()
            else:
                config.disable_mkldnn()
        # memory optimisation of a PIR (.json) program needs the new IR and executor (PADDLE3.md)
        config.enable_new_ir()
        config.enable_new_executor()
        config.enable_memory_optim()
        config.disable_glog_info()
        self.config = config  # what was really enabled, for reports
        self.predictor = inference.create_predictor(config)
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.outputs = [self.predictor.get_output_handle(n) for n in self.predictor.get_output_names()]

    def __call__(self, batch):
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        self.input.reshape(batch.shape)
        self.input.copy_from_cpu(batch)
        self.predictor.run()
        return _outputs([handle.copy_to_cpu() for handle in self.outputs])


class OnnxRunner:
    """ONNX Runtime session (CPU) over a ``model.onnx`` file."""

    def __init__(self, model_path, threads=1):
        import onnxruntime as ort

        if not Path(model_path).is_file():
            raise RunnerError(f"{model_path}: no ONNX model (export with tools/export_model.py --onnx)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch):
        return _outputs(self.session.run(None, {self.input_name: np.ascontiguousarray(batch, dtype=np.float32)}))


def read_metadata(model_dir):
    """The ``infer_cfg.yml`` of an exported model directory, as a dict."""
    path = Path(model_dir) / METADATA_FILE
    if not path.is_file():
        raise RunnerError(f"{model_dir}: not an exported model ({METADATA_FILE} missing; see tools/export_model.py)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_runner(model_dir, backend="paddle", device="cpu", enable_mkldnn=True, cpu_threads=None,
                precision="fp32", use_tensorrt=False):
    """Open an exported model directory with ``backend`` (``paddle`` or ``onnxruntime``).

    Returns ``(runner, metadata)``; the metadata (``infer_cfg.yml``) says what the runner takes and gives,
    and whether oneDNN is correct for the model (``onednn: false`` turns it off, and bf16 with it, since
    bf16 kernels are oneDNN's). ``cpu_threads`` defaults to the number of CPUs.
    """
    if backend not in BACKENDS:
        raise RunnerError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    metadata = read_metadata(model_dir)
    threads = cpu_threads or os.cpu_count() or 1
    if backend == "onnxruntime":
        if device != "cpu" or precision != "fp32" or use_tensorrt:
            raise RunnerError("the onnxruntime backend runs fp32 on CPU only")
        return OnnxRunner(Path(model_dir) / metadata["files"].get("onnx", "model.onnx"), threads), metadata
    if not metadata.get("onednn", True) and device == "cpu":
        enable_mkldnn, precision = False, "fp32"
    trt = metadata.get("tensorrt") or {}
    trt_shapes = {key: {metadata["input"]["name"]: shape} for key, shape in trt.items()} or None
    return PaddleInferenceRunner(model_dir, device=device, enable_mkldnn=enable_mkldnn, cpu_threads=threads,
                                 precision=precision, use_tensorrt=use_tensorrt, trt_shapes=trt_shapes), metadata
