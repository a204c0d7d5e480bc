"""Restore the faces of photos with exported models (tools/export_model.py): ONNX Runtime or Paddle Inference.

    python deploy/python/infer.py --model_dir inference/gfpgan_v1.4 --det_model_dir inference/retinaface_resnet50 \\
        --parse_model_dir inference/parsenet --image_dir photos/ --output_dir output/
    python deploy/python/infer.py --model_dir=inference/gpen_bfr_512 --det_model_dir=inference/retinaface_resnet50 \\
        --bg_model_dir=inference/realesrnet_x2 --image_dir='photos/*.jpg' --backend=paddle --benchmark=True
    python deploy/python/infer.py --model_dir=inference/gfpgan_v1.4 --image_dir=faces/ --aligned=True

The pipeline (detect, align, restore, paste back) is ppgan_face.face.FacePipeline with the settings saved in
the restorer export (its model_config.yml); only the networks change. Writes restored_imgs/ (whole photos)
and restored_faces/, and prints one line per image. Flags take the ``--flag=value`` and
``--flag=True/False`` forms of PaddlePaddle's TIPC; --benchmark prints AutoLog's report layout.
"""
import argparse
import logging
import os
import platform
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
warnings.filterwarnings("ignore", message="No ccache found")  # printed by `import paddle`

from ppgan_face.config import ConfigError, load_config  # noqa: E402
from ppgan_face.utils.image_io import ImageError, fit_for_format, list_images, read_image, write_image  # noqa: E402

DEFAULT_BACKEND = "onnxruntime"  # the faster fp32 engine on CPU in benchmarks/bench_infer.py
ROLES = {  # runner role -> (flag of its export folder, kind written in the export's infer_cfg.yml)
    "restorer": ("--model_dir", "restorer"),
    "detector": ("--det_model_dir", "detector"),
    "upsampler": ("--bg_model_dir", "upsampler"),
    "parser": ("--parse_model_dir", "parser"),
}


def str2bool(text):
    value = str(text).strip().lower()
    if value in ("true", "1", "yes", "y", "on"):
        return True
    if value in ("false", "0", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    flag = dict(type=str2bool, nargs="?", const=True, metavar="BOOL")
    parser.add_argument("--model_dir", required=True, help="exported restorer (gfpgan_*, gpen_bfr_*)")
    parser.add_argument("--det_model_dir", help="exported face detector (retinaface_*); not with --aligned")
    parser.add_argument("--bg_model_dir", help="exported background upsampler (realesrgan_x2plus, realesrnet_x2); "
                                               "default: Lanczos resize")
    parser.add_argument("--parse_model_dir", help="exported face parser (parsenet), for configs whose paste mask "
                                                  "is 'parsing' (GFPGAN's)")
    parser.add_argument("--paste_mask", help="paste-back mask instead of the config's: one of the config's "
                                             "face_helper.paste.masks (eroded_square needs no parser)")
    parser.add_argument("--image_dir", required=True, help="an image, a folder of images or a glob pattern")
    parser.add_argument("--output_dir", default="output", help="output folder (default: output)")
    parser.add_argument("--aligned", default=False, **flag,
                        help="inputs are aligned faces: restore them only (no detection, no paste)")
    parser.add_argument("--backend", choices=["paddle", "onnxruntime"],
                        help=f"inference engine (default: {DEFAULT_BACKEND}, the faster one here)")
    parser.add_argument("--use_onnx", **flag, help="TIPC's name for --backend onnxruntime (False: paddle)")
    parser.add_argument("--onnx_file", help="the restorer's ONNX file (default: the one in --model_dir)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--enable_mkldnn", default=True, **flag,
                        help="oneDNN on CPU (default True; kept off for models whose export says it fails)")
    parser.add_argument("--cpu_threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16", "int8"],
                        help="bf16: CPU with oneDNN (Paddle backend); fp16: GPU; int8: no quantised exports yet")
    parser.add_argument("--use_tensorrt", default=False, **flag, help="TensorRT subgraphs (GPU)")
    parser.add_argument("--batch_size", type=int, help="faces per restorer call (default from the export's config)")
    parser.add_argument("--benchmark", default=False, **flag,
                        help="print a timing report in AutoLog's layout: pre/post-processing and inference ms "
                             "per image (means after --warmup images), total s, peak RSS as cpu_rss(MB)")
    parser.add_argument("--warmup", type=int, default=1, help="first images left out of the timing (default 1)")
    parser.add_argument("--save_log_path", help="also write the benchmark report to this file")
    args = parser.parse_args(argv)
    if args.use_onnx is not None and args.backend is None:
        args.backend = "onnxruntime" if args.use_onnx else "paddle"
    args.backend = args.backend or DEFAULT_BACKEND
    return args


class TimedRunner:
    """A runner that records when each call started and ended (for the benchmark's time split)."""

    def __init__(self, runner):
        self.runner = runner
        self.calls = []

    def __call__(self, batch):
        start = time.perf_counter()
        try:
            return self.runner(batch)
        finally:
            self.calls.append((start, time.perf_counter()))


def load_runners(args):
    """{role: TimedRunner or None} and the restorer's config, with the detector / upsampler / parser configs
    pointed at their exports. Each export's kind must match its flag."""
    from ppgan_face.inference import OnnxRunner, RunnerError, load_runner, read_metadata

    if args.precision == "int8":
        raise RunnerError("--precision int8 needs a quantised export, which tools/export_model.py does not make")
    if not args.aligned and args.det_model_dir is None:
        raise RunnerError("--det_model_dir is required for whole photos (or pass --aligned=True for face crops)")
    runners, configs, sides = dict.fromkeys(ROLES), {}, {}
    for role, (flag, kind) in ROLES.items():
        folder = getattr(args, flag[2:])
        if folder is None or (args.aligned and role != "restorer"):
            continue
        meta = read_metadata(folder)
        if meta["kind"] != kind:
            raise RunnerError(f"{flag} {folder}: a {meta['kind']} export ({meta['config']}), not a {kind}")
        if role == "restorer" and args.onnx_file:  # e.g. TIPC's paddle2onnx output, outside the export folder
            if args.backend != "onnxruntime":
                raise RunnerError("--onnx_file needs --backend onnxruntime (or --use_onnx=True)")
            runner = OnnxRunner(args.onnx_file, args.cpu_threads)
        else:
            runner, _ = load_runner(folder, backend=args.backend, device=args.device,
                                    enable_mkldnn=args.enable_mkldnn, cpu_threads=args.cpu_threads,
                                    precision=args.precision, use_tensorrt=args.use_tensorrt)
        runners[role] = TimedRunner(runner)
        configs[role] = str(Path(folder) / meta["files"]["model_config"])
        sides[role] = meta["input"]["shape"][-1]
    config = load_config(configs["restorer"])
    helper = config["face_helper"]
    helper["detector"] = configs.get("detector")
    helper["bg_upsampler"] = configs.get("upsampler")
    if args.batch_size is not None:
        helper["batch_size"] = args.batch_size
    if not args.aligned:
        use_parser(helper["paste"], args.paste_mask, runners["parser"], configs.get("parser"), sides.get("parser"))
    return runners, config


def use_parser(paste, mask_name, parser, parser_config, parser_side):
    """Pick the paste mask and point a parsing mask at the parser export (which must exist and fit)."""
    from ppgan_face.inference import RunnerError

    paste["mask"] = mask_name or paste["mask"]
    if paste["mask"] not in paste["masks"]:
        raise RunnerError(f"--paste_mask {paste['mask']}: not one of {', '.join(paste['masks'])}")
    mask = paste["masks"][paste["mask"]]
    if "parser" not in mask:
        return
    if parser is None:
        raise RunnerError(f"the '{paste['mask']}' paste mask needs --parse_model_dir (an exported parsenet), "
                          "or pass --paste_mask eroded_square")
    if mask.get("input_size", parser_side) != parser_side:
        raise RunnerError(f"--parse_model_dir: the parser takes {parser_side} px faces, the paste mask "
                          f"{mask['input_size']} px")
    mask["parser"] = parser_config


class Timer:
    """Per-image split of wall time into pre-processing (before the first restorer call), inference (inside
    any network) and post-processing (the rest), as AutoLog's three stamps; images before ``warmup`` are
    counted in ``data_num`` only."""

    def __init__(self, runners, warmup):
        self.runners = [r for r in runners.values() if r is not None]
        self.restorer = runners["restorer"]
        self.warmup = warmup
        self.samples = []

    def start(self):
        for runner in self.runners:
            runner.calls.clear()
        self.t0 = time.perf_counter()

    def stop(self):
        end = time.perf_counter()
        boundary = self.restorer.calls[0][0] if self.restorer.calls else end
        calls = [c for r in self.runners for c in r.calls]
        before = sum(e - s for s, e in calls if s < boundary)
        after = sum(e - s for s, e in calls if s >= boundary)
        self.samples.append((boundary - self.t0 - before, before + after, end - boundary - after))

    def report(self, args, config, logger):
        measured = self.samples[self.warmup:] or self.samples
        ms = [1000 * sum(s[k] for s in measured) / max(len(measured), 1) for k in range(3)]
        total = sum(sum(s) for s in measured)
        conf = engine_conf(self.restorer.runner, args)
        os_release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().split("\n")
                          if "=" in line) if Path("/etc/os-release").is_file() else {}
        os_name = " ".join(os_release.get(k, "").strip('"') for k in ("NAME", "VERSION_ID")).strip()
        import paddle

        lines = [
            "", "---------------------- Env info ----------------------",
            f" OS_version: {os_name or platform.platform()}",
            f" CUDA_version: {_version(paddle.version.cuda(), 'None')}",
            f" CUDNN_version: {_version(paddle.version.cudnn(), 'None.None.None')}",
            " drivier_version: None",
            "---------------------- Paddle info ----------------------",
            f" paddle_version: {paddle.__version__}",
            f" paddle_commit: {paddle.version.commit}",
            " log_api_version: 1.0",
            "----------------------- Conf info -----------------------",
            *(f" {key}: {value}" for key, value in conf.items()),
            "----------------------- Model info ----------------------",
            f" model_name: {config['name']}",
            f" precision: {args.precision}",
            "----------------------- Data info -----------------------",
            f" batch_size: {config['face_helper']['batch_size']}",
            " input_shape: dynamic",
            f" data_num: {len(self.samples)}",
            "----------------------- Perf info -----------------------",
            f" cpu_rss(MB): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}, gpu_rss(MB): None, "
            "gpu_util: None%",
            f" total time spent(s): {total:.4f}",
            f" preprocess_time(ms): {ms[0]:.4f}, inference_time(ms): {ms[1]:.4f}, postprocess_time(ms): {ms[2]:.4f}",
        ]
        for line in lines:
            logger.info(line)


def _version(value, missing):
    """Paddle reports a missing CUDA / cuDNN as the string 'False'."""
    return missing if str(value) in ("False", "", "None") else value


def engine_conf(runner, args):
    """AutoLog's Conf info, read from the Paddle Inference ``Config`` actually used (so a setting the runner
    turned off shows), or the ONNX Runtime settings."""
    config = getattr(runner, "config", None)
    if config is None:
        return {"runtime_device": "cpu", "backend": "onnxruntime", "ir_optim": True, "enable_memory_optim": True,
                "enable_tensorrt": False, "enable_mkldnn": False, "cpu_math_library_num_threads": args.cpu_threads}
    return {"runtime_device": "gpu" if config.use_gpu() else "cpu", "backend": "paddle",
            "ir_optim": config.ir_optim(), "enable_memory_optim": True,
            "enable_tensorrt": config.tensorrt_engine_enabled(), "enable_mkldnn": config.mkldnn_enabled(),
            "cpu_math_library_num_threads": config.cpu_math_library_num_threads()}


def report_logger(save_log_path):
    """AutoLog's line format, on stdout and optionally in a file (not the root logger: Paddle adds its own
    handler there, which would print every line twice)."""
    logger = logging.Logger("root")
    handlers = [logging.StreamHandler(sys.stdout)]
    if save_log_path:
        Path(save_log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(save_log_path, mode="w", encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(name)s %(levelname)s: %(message)s",
                                               "%Y/%m/%d %H:%M:%S"))
        logger.addHandler(handler)
    return logger


def save(result, path, out):
    if result.restored_image is not None:
        write_image(out / "restored_imgs" / path.name, fit_for_format(result.restored_image, path.suffix))
    for idx, face in enumerate(result.restored_faces):
        write_image(out / "restored_faces" / f"{path.stem}_{idx:02d}.png", face)


def main(argv=None):
    args = parse_args(argv)
    from ppgan_face.face import FacePipeline
    from ppgan_face.inference import RunnerError

    try:
        files = list_images(args.image_dir)
        if not files:
            raise RunnerError(f"{args.image_dir}: no image found")
        runners, config = load_runners(args)
        pipeline = FacePipeline.from_config(config, runners["restorer"], runners["detector"], runners["upsampler"],
                                            runners["parser"])
    except (RunnerError, ConfigError, ImageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    limits = config["face_helper"]["input_limits"]
    out = Path(args.output_dir)
    timer = Timer(runners, max(0, min(args.warmup, len(files) - 1)))
    failures = 0
    for path in files:
        timer.start()
        try:
            result = pipeline.enhance(read_image(path, **limits), aligned=args.aligned)
            save(result, path, out)
        except ImageError as err:
            print(f"{path}: failed: {err}")
            failures += 1
            continue
        timer.stop()
        print(f"{path}: {len(result.restored_faces)} face(s) restored")
    print(f"{len(files) - failures} of {len(files)} image(s) done -> {out}")
    if args.benchmark:
        timer.report(args, config, report_logger(args.save_log_path))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
