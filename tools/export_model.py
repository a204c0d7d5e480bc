"""Export a network for deployment: Paddle Inference model (+ ONNX with --onnx) and its infer_cfg.yml.

    python tools/export_model.py -c gfpgan_v1.4 --weights pretrained/GFPGANv1.4.pdparams --output_dir inference/gfpgan_v1.4 --onnx
    python tools/export_model.py -c retinaface_resnet50 --weights pretrained/detection_Resnet50_Final.pdparams --output_dir inference/retinaface_resnet50
    python tools/export_model.py -c realesrgan_x2plus --weights pretrained/RealESRGAN_x2plus.pdparams --output_dir inference/realesrgan_x2plus

The batch is dynamic; detectors and upsamplers also take any height and width unless --input_size fixes
them. --weights takes a converted .pdparams or the official .pth. Nothing is written if the export fails.
TIPC's spelling works too: -o Global.pretrained_model=<file or prefix> -o Global.save_inference_dir=<dir>.
"""
import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore", message="No ccache found")  # printed by `import paddle`

from ppgan_face.config import ConfigError  # noqa: E402
from ppgan_face.convert import CheckpointError  # noqa: E402

TIPC_ALIASES = {"Global.pretrained_model": "weights", "Global.save_inference_dir": "output_dir"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("-c", "--config", required=True, help="config name or YAML path (e.g. gfpgan_v1.4)")
    parser.add_argument("--weights", help="weights: converted .pdparams or official .pth (required)")
    parser.add_argument("--output_dir", help="export folder (created; one holding an export needs --overwrite)")
    parser.add_argument("-o", "--opt", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="config overrides, e.g. -o model.narrow=0.5 (repeatable, or several after one -o)")
    parser.add_argument("--input_size", type=int, nargs="+", metavar="N",
                        help="fix the input height and width (one value: square); default: the network's")
    parser.add_argument("--onnx", action="store_true", help="also write model.onnx (paddle2onnx)")
    parser.add_argument("--overwrite", action="store_true", help="replace an export already in output_dir")
    parser.add_argument("--random_init", action="store_true",
                        help="FOR TESTING ONLY: export random weights when no --weights is given")
    args = parser.parse_args(argv)
    for text in list(args.opt):  # TIPC's names for --weights and --output_dir
        key, _, value = text.partition("=")
        if key in TIPC_ALIASES:
            args.opt.remove(text)
            setattr(args, TIPC_ALIASES[key], value)
    if args.weights and Path(args.weights).suffix not in (".pdparams", ".pth"):
        args.weights += ".pdparams"  # a TIPC checkpoint prefix
    if not args.output_dir:
        parser.error("--output_dir (or -o Global.save_inference_dir=DIR) is required")
    if args.input_size is not None:
        if len(args.input_size) not in (1, 2) or min(args.input_size) < 1:
            parser.error("--input_size takes one or two positive sizes (H [W])")
        args.input_size = tuple(args.input_size * (3 - len(args.input_size)))[:2]
    return args


def main(argv=None):
    args = parse_args(argv)
    from ppgan_face.inference.export import ExportError, export_model

    try:
        meta = export_model(args.config, args.output_dir, weights=args.weights, overrides=args.opt,
                            input_size=args.input_size, onnx=args.onnx, random_init=args.random_init,
                            overwrite=args.overwrite)
    except (ExportError, ConfigError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.random_init and not args.weights:
        print("warning: --random_init: random weights, for testing only", file=sys.stderr)
    files = ", ".join(meta["files"].values())
    print(f"{meta['config']} ({meta['kind']}, input {meta['input']['shape']}) -> {args.output_dir}: {files}, "
          f"infer_cfg.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
