"""Evaluate restored faces against their ground truth: PSNR, SSIM, LPIPS, NIQE, identity similarity, LMD.

Folder mode, restored images you already have:
    python tools/eval.py --restored results/restored_faces --gt data/gt --csv per_image.csv --json summary.json
    python tools/eval.py -c eval/default --restored out --gt gt --metrics psnr,ssim -o metrics.psnr.crop_border=4

Model mode, no --restored: restore the aligned LQ faces of a model config's validation set with its generator,
then score them (TIPC's eval step uses this):
    python tools/eval.py -c configs/train/gfpgan_v1_lite.yml --weights experiments/x/models/net_g_ema_latest.pdparams
    python tools/eval.py -c gpen_bfr_512 --weights pretrained/GPEN-BFR-512.pdparams --lq val/lq --gt val/gt

Images pair by name without extension. Metric settings come from the eval config (``-c`` in folder mode,
``--metrics_config`` in model mode; default ``configs/eval/default.yml``) and ``-o key=value`` overrides of
``-c``; networks' weights from ``metrics.<name>.weights`` (convert the official files with
tools/convert_weights.py). Prints the mean of each metric as a table and as ``Metric <name>: <value>`` lines
(the format TIPC's compare script reads); --csv writes per-image values, --json the summary.
"""
import argparse
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.config import ConfigError, load_config  # noqa: E402
from ppgan_face.convert import CheckpointError  # noqa: E402
from ppgan_face.metrics import MetricError, build_metric, metric_class  # noqa: E402
from ppgan_face.metrics.evaluate import (evaluate, format_table, pair_images, summarize, write_csv,  # noqa: E402
                                         write_json)
from ppgan_face.runtime import set_cpu_threads, set_device  # noqa: E402
from ppgan_face.utils.image_io import ImageError, list_images, read_image, write_image  # noqa: E402

DEFAULT_EVAL_CONFIG = "eval/default"
MODEL_MODE_METRICS = "psnr,ssim"  # need no network weights


def select_metrics(config, requested):
    """The metric names to run, in order: ``--metrics`` or the config's ``run`` list."""
    known = config.get("metrics") or {}
    names = [n.strip() for n in requested.split(",") if n.strip()] if requested else list(config.get("run") or known)
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise MetricError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}")
    return names


def restore_validation_set(args, restored_dir):
    """Model mode: restore each LQ face of ``--lq`` (default: the config's ``datasets.val.dataset.dataroot_lq``)
    with the config's generator, as aligned faces, into ``restored_dir``. Returns the GT folder."""
    from ppgan_face import create_model
    from ppgan_face.face import FacePipeline
    from ppgan_face.inference.runners import DygraphRunner

    config = load_config(args.config, args.override)
    val = ((config.get("datasets") or {}).get("val") or {}).get("dataset") or {}
    lq_dir, gt_dir = args.lq or val.get("dataroot_lq"), args.gt or val.get("dataroot_gt")
    weights = args.weights or (config.get("path") or {}).get("pretrain_network_g")
    if "restorer" not in config:
        raise MetricError(f"{config['config_path']}: not a face restorer config (no 'restorer' section); to score "
                          "images you already restored, pass --restored DIR")
    if not weights:
        raise MetricError("model mode needs the generator's weights: --weights FILE (or -o path.pretrain_network_g=FILE)")
    if not lq_dir or not gt_dir:
        raise MetricError(f"{config['config_path']}: no datasets.val.dataset.dataroot_lq / dataroot_gt; pass --lq DIR "
                          "and --gt DIR")
    files = list_images(lq_dir)
    if not files:
        raise MetricError(f"LQ folder {lq_dir} has no images")
    model = create_model(config["config_path"], weights, args.override)
    pipeline = FacePipeline.from_config(config, DygraphRunner(model))
    limits = config["face_helper"]["input_limits"]
    for path in tqdm(files, desc="restore", unit="face", leave=False):
        try:
            face = pipeline.enhance(read_image(path, **limits), aligned=True).restored_faces[0]
        except ImageError as err:
            raise MetricError(f"{path}: {err}") from None
        write_image(Path(restored_dir) / f"{path.stem}.png", face)
    print(f"restored {len(files)} face(s) of {lq_dir} with {weights}")
    return gt_dir


def score(args, restored_dir, gt_dir, eval_config):
    config = load_config(eval_config, [] if args.restored is None else args.override)
    names = select_metrics(config, args.metrics or (MODEL_MODE_METRICS if args.restored is None else None))
    needs_gt = [name for name in names if metric_class(name, config["metrics"][name]).needs_gt]
    if needs_gt and not gt_dir:
        raise MetricError(f"{', '.join(needs_gt)} compare with the ground truth: pass --gt DIR")
    pairs = pair_images(restored_dir, gt_dir if needs_gt else None)  # before loading networks: fail fast
    metrics = {name: build_metric(name, config["metrics"][name]) for name in names}
    with tqdm(total=len(pairs), desc="eval", unit="img", leave=False) as bar:  # cleared, even on an error
        rows = evaluate(pairs, metrics, on_image=bar.update)
    summary = summarize(rows, metrics)
    print(format_table(summary, len(rows)))
    for name, item in summary.items():
        print(f"Metric {name}: {item['mean']:.4f}")
    if args.csv:
        print(f"per-image values: {write_csv(rows, names, args.csv)}")
    if args.json:
        info = {"config": config["config_path"], "restored": str(restored_dir), "gt": gt_dir and str(gt_dir),
                "images": len(rows)}
        print(f"summary: {write_json(summary, args.json, **info)}")


def run(args):
    if args.restored is not None:
        score(args, args.restored, args.gt, args.config or DEFAULT_EVAL_CONFIG)
        return
    if args.config is None:
        raise MetricError("pass --restored DIR (folder mode) or -c MODEL_CONFIG with --weights (model mode)")
    if args.save_dir:
        gt_dir = restore_validation_set(args, args.save_dir)
        score(args, args.save_dir, gt_dir, args.metrics_config)
        return
    with tempfile.TemporaryDirectory(prefix="ppgan_face_eval_") as restored_dir:
        gt_dir = restore_validation_set(args, restored_dir)
        score(args, restored_dir, gt_dir, args.metrics_config)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("-c", "--config",
                        help=f"folder mode: eval config (default {DEFAULT_EVAL_CONFIG}); model mode: the model's config")
    parser.add_argument("--restored", help="folder of restored images (folder mode)")
    parser.add_argument("--gt", help="folder of ground-truth images (same names); model mode: default from the config")
    parser.add_argument("--weights", help="model mode: generator weights (.pdparams or official .pth)")
    parser.add_argument("--lq", help="model mode: folder of aligned LQ faces (default: datasets.val.dataset.dataroot_lq)")
    parser.add_argument("--save_dir", help="model mode: keep the restored faces here (default: a temporary folder)")
    parser.add_argument("--metrics_config", default=DEFAULT_EVAL_CONFIG, help="model mode: the eval config")
    parser.add_argument("--metrics", help="comma-separated metric names (default: the config's run list; "
                                          f"model mode: {MODEL_MODE_METRICS})")
    parser.add_argument("-o", "--override", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override values of -c, e.g. metrics.psnr.test_y_channel=true (repeatable)")
    parser.add_argument("--csv", help="write per-image values to this CSV file")
    parser.add_argument("--json", help="write the summary to this JSON file")
    parser.add_argument("--device", default=None, help="model mode: cpu, gpu or gpu:N")
    args = parser.parse_args(argv)
    set_cpu_threads()
    try:
        problem = args.device and set_device(args.device)
        if problem:
            raise MetricError(problem)
        run(args)
    except (MetricError, ConfigError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
