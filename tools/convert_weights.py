"""Convert an official PyTorch checkpoint to Paddle weights (.pdparams). torch is not needed.

    python tools/convert_weights.py --src GFPGANv1.4.pth --dst pretrained/GFPGANv1.4.pdparams
    python tools/convert_weights.py --src my.pth --arch gpen_bfr_512

The architecture is detected from the checkpoint's keys and shapes unless ``--arch`` names a config.
A checkpoint that does not fit is refused (missing / unexpected / mis-shaped keys) and nothing is written.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.config import ConfigError  # noqa: E402
from ppgan_face.convert import CheckpointError, convert_checkpoint  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", required=True, help="official checkpoint (.pth)")
    parser.add_argument("--dst", help="output .pdparams (default: the config's weights path)")
    parser.add_argument("--arch", help="config name or path (default: detect from the checkpoint)")
    args = parser.parse_args(argv)
    try:
        if not Path(args.src).is_file():
            raise CheckpointError(f"{args.src}: file not found")
        result = convert_checkpoint(args.src, args.dst, args.arch)
    except (CheckpointError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    others = [name for name in result["matching"] if name != result["config"]]
    note = f" (same architecture as {', '.join(others)})" if others else ""
    print(f"{args.src} -> {result['dst']}: {result['config']}{note}, "
          f"{result['tensors']} tensors, {result['values']:,} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
