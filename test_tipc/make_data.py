"""Make TIPC's face data offline from photos that scikit-image ships (nothing is downloaded).

    python test_tipc/make_data.py --output test_tipc/data/faces_lite --size 32
    python test_tipc/make_data.py --output test_tipc/data/faces_whole --infer_count 8

Sources: the astronaut photo (Eileen Collins), aligned to the FFHQ five-point template by the project's
FaceAligner from hand-marked landmarks, and the LFW faces of ``skimage.data.lfw_subset()`` (25×25 gray crops).
Writes, under --output:
  train/hq/      --count training faces of --size px (astronaut + LFW; or every face of --train_from), and
                 train/landmarks.json: GFPGAN's eye / mouth boxes ([cx, cy, half_len], from the FFHQ template)
                 for the component discriminators
  val/hq/        --val_count other LFW faces of --size px (prepare.sh degrades them into val/lq, val/gt)
  infer_hq/      --infer_count aligned 512 px faces (prepare.sh degrades them into infer/)
Every file is written through a temporary name; running it twice gives the same files.
"""
import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.config import load_config  # noqa: E402
from ppgan_face.face.align import FaceAligner  # noqa: E402
from ppgan_face.face.helper import to_working_image  # noqa: E402
from ppgan_face.utils.image_io import ImageError, list_images, read_image, to_uint8, write_image  # noqa: E402

INFER_SIZE = 512  # the public models' face size
# (x, y) of the eyes, nose tip and mouth corners in skimage.data.astronaut(), marked by hand
ASTRONAUT_LANDMARKS = [(196.0, 102.0), (246.0, 101.0), (222.0, 122.0), (205.0, 145.0), (240.0, 145.0)]
LFW_FACES = 100  # lfw_subset(): the first 100 crops are faces, the rest are not
# GFPGAN's component boxes in an FFHQ-aligned face, as fractions of its side: centre x, centre y, half length
COMPONENT_BOXES = {"left_eye": (0.377, 0.469, 0.06), "right_eye": (0.623, 0.469, 0.06), "mouth": (0.5, 0.725, 0.1)}


def skimage_data():
    try:
        from skimage import data
    except ImportError:
        sys.exit("error: test_tipc/make_data.py needs scikit-image (python -m pip install -r requirements-test.txt)")
    return data


def astronaut_face(data, size):
    """The astronaut's face aligned as GFPGAN / FFHQ faces are (gray border where the photo ends)."""
    align = load_config("gfpgan_v1.4")["face_helper"]["align"]
    aligner = FaceAligner(INFER_SIZE, **align)
    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    face = aligner.warp(photo, aligner.matrix(np.asarray(ASTRONAUT_LANDMARKS)))
    return cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA) if size != INFER_SIZE else face


def lfw_faces(data, first, count, size):
    """LFW face crops ``first .. first + count - 1`` as BGR uint8 of ``size`` px (upscaled bicubically)."""
    if first + count > LFW_FACES:
        raise SystemExit(f"error: scikit-image ships {LFW_FACES} LFW faces; asked for up to #{first + count}")
    faces = (np.clip(data.lfw_subset()[first:first + count], 0, 1) * 255).round().astype(np.uint8)
    return [cv2.cvtColor(cv2.resize(f, (size, size), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)
            for f in faces]


def own_faces(folder, size):
    """Every image of ``folder`` (aligned faces, e.g. FFHQ) as 3-channel uint8 of ``size`` px."""
    faces = []
    for path in list_images(folder):
        try:
            image = to_uint8(to_working_image(read_image(path)))
        except ImageError as err:
            raise SystemExit(f"error: {path}: {err}") from None
        faces.append(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
    if not faces:
        raise SystemExit(f"error: --train_from {folder}: no images")
    return faces


def landmarks(count, size):
    """GFPGAN's landmark file structure for ``count`` faces of ``size`` px."""
    boxes = {part: [v * size for v in box] for part, box in COMPONENT_BOXES.items()}
    return {f"{i:08d}": boxes for i in range(count)}


def write_set(folder, images):
    for i, image in enumerate(images):
        write_image(Path(folder) / f"{i:05d}.png", image)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--size", type=int, default=32, help="training / validation face size (default 32)")
    parser.add_argument("--count", type=int, default=16, help="training faces (default 16; 0: none)")
    parser.add_argument("--val_count", type=int, default=4, help="validation faces (default 4)")
    parser.add_argument("--train_from", help="use every image of this folder of aligned faces as training faces")
    parser.add_argument("--infer_count", type=int, default=4, help="512 px inference faces (default 4)")
    args = parser.parse_args(argv)
    if min(args.count, args.val_count, args.infer_count) < 0 or args.size < 16:
        parser.error("counts must be >= 0 and --size >= 16")
    data, out = skimage_data(), Path(args.output)
    if args.train_from:
        train = own_faces(args.train_from, args.size)
    else:
        train = [astronaut_face(data, args.size)] + lfw_faces(data, 0, args.count - 1, args.size) if args.count else []
    args.count = len(train)
    if train:
        write_set(out / "train/hq", train)
        tmp = out / "train/.landmarks.json.tmp"
        tmp.write_text(json.dumps(landmarks(args.count, args.size)))
        tmp.replace(out / "train/landmarks.json")
    write_set(out / "val/hq", lfw_faces(data, 50, args.val_count, args.size))
    if args.infer_count:
        write_set(out / "infer_hq", [astronaut_face(data, INFER_SIZE)]
                  + lfw_faces(data, 70, args.infer_count - 1, INFER_SIZE))
    print(f"{args.count} training, {args.val_count} validation ({args.size} px) and {args.infer_count} inference "
          f"({INFER_SIZE} px) faces -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
