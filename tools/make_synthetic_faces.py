"""Write a small synthetic face set for smoke tests: OUT/hq (training faces) and OUT/val/{hq,lq} (pairs).

    python tools/make_synthetic_faces.py -o datasets/tiny                  # what the *_lite.yml configs read
    python tools/make_synthetic_faces.py -o /tmp/faces --count 64 --size 512

The faces are drawn with OpenCV (nothing is downloaded): enough structure for a lite model to learn from, no
more. For real training use FFHQ (README, section 4).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.data.synthetic import write_synthetic_set  # noqa: E402
from ppgan_face.utils.image_io import ImageError  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="datasets/tiny", help="output folder (default datasets/tiny)")
    parser.add_argument("--count", type=int, default=16, help="training faces (default 16)")
    parser.add_argument("--val_count", type=int, default=4, help="validation pairs (default 4)")
    parser.add_argument("--size", type=int, default=32, help="face size in pixels (default 32, the out_size of the lite configs)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.count < 1 or args.val_count < 0 or args.size < 16:
        parser.error("--count must be >= 1, --val_count >= 0 and --size >= 16")
    try:
        written = write_synthetic_set(args.output, args.count, args.val_count, args.size, args.seed)
    except (ImageError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{len(written)} images -> {args.output}/hq, {args.output}/val/{{hq,lq}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
