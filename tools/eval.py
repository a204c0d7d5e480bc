"""Evaluate restored faces against their ground truth: PSNR, SSIM, LPIPS, NIQE, identity similarity, LMD.

    python tools/eval.py --restored results/restored_faces --gt data/gt --csv per_image.csv --json summary.json
    python tools/eval.py -c eval/default --restored out --gt gt --metrics psnr,ssim -o metrics.psnr.crop_border=4

Images pair by name without extension. Settings come from the config (default ``configs/eval/default.yml``)
and ``-o key=value`` overrides; networks' weights from ``metrics.<name>.weights`` (convert the official files
with tools/convert_weights.py). Prints the mean of each metric; --csv writes per-image values, --json the
summary.
"""
import argparse
import sys
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.config import ConfigError, load_config  # noqa: E402
from ppgan_face.metrics import MetricError, build_metric, metric_class  # noqa: E402
from ppgan_face.metrics.evaluate import (evaluate, format_table, pair_images, summarize, write_csv,  # noqa: E402
                                         write_json)


def select_metrics(config, requested):
    """The metric names to run, in order: ``--metrics`` or the config's ``run`` list."""
    known = config.get("metrics") or {}
    names = [n.strip() for n in requested.split(",") if n.strip()] if requested else list(config.get("run") or known)
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise MetricError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}")
    return names


def run(args):
    config = load_config(args.config, args.override)
    names = select_metrics(config, args.metrics)
    needs_gt = [name for name in names if metric_class(name, config["metrics"][name]).needs_gt]
    if needs_gt and not args.gt:
        raise MetricError(f"{', '.join(needs_gt)} compare with the ground truth: pass --gt DIR")
    pairs = pair_images(args.restored, args.gt if needs_gt else None)  # before loading networks: fail fast
    metrics = {name: build_metric(name, config["metrics"][name]) for name in names}
    with tqdm(total=len(pairs), desc="eval", unit="img", leave=False) as bar:  # cleared, even on an error
        rows = evaluate(pairs, metrics, on_image=bar.update)
    summary = summarize(rows, metrics)
    print(format_table(summary, len(rows)))
    if args.csv:
        print(f"per-image values: {write_csv(rows, names, args.csv)}")
    if args.json:
        info = {"config": config["config_path"], "restored": str(args.restored), "gt": args.gt and str(args.gt),
                "images": len(rows)}
        print(f"summary: {write_json(summary, args.json, **info)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="eval/default", help="eval config (name under configs/ or path)")
    parser.add_argument("--restored", required=True, help="folder of restored images")
    parser.add_argument("--gt", help="folder of ground-truth images (same names)")
    parser.add_argument("--metrics", help="comma-separated metric names (default: the config's run list)")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. metrics.psnr.test_y_channel=true")
    parser.add_argument("--csv", help="write per-image values to this CSV file")
    parser.add_argument("--json", help="write the summary to this JSON file")
    args = parser.parse_args(argv)
    try:
        run(args)
    except (MetricError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
