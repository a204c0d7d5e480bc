"""Restore the faces of photos with GFPGAN or GPEN (Paddle), like GFPGAN's inference_gfpgan.py.

    python tools/predict.py -i inputs/ -o results/ --model gfpgan_v1.4
    python tools/predict.py -i 'photos/*.jpg' --bg_upsampler realesrgan_x2plus --upscale 2
    python tools/predict.py -i faces/ --aligned -c gpen_bfr_512 --weight 0.7 -o out/ -o face_helper.batch_size=8

Writes restored_imgs/ (whole photos), restored_faces/, cropped_faces/ (aligned input faces) and cmp/
(cropped input | restored face). A photo without a face is still written (background-upscaled if asked).
One bad file never stops the batch; the summary lists failures and the exit code is 1 if any.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from ppgan_face.config import ConfigError, load_config, split_o_values  # noqa: E402
from ppgan_face.convert import CheckpointError  # noqa: E402
from ppgan_face.utils.image_io import (ImageError, fit_for_format, list_images, read_image,  # noqa: E402
                                       to_uint8, write_image)

WEIGHT_HELP = ("fidelity in [0, 1]: each restored face is blended with the aligned input face, "
               "weight*restored + (1-weight)*input, in aligned-face space before paste-back; 1 = network "
               "output (default from the config), 0 = input face. (GFPGAN's own --weight flag does nothing.)")


class SetupError(RuntimeError):
    """Cannot start (missing weights, bad option); the message is one line for the user."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("-i", "--input", required=True, help="an image, a folder of images or a glob pattern")
    parser.add_argument("-o", dest="o_values", action="append", default=[], metavar="DIR|KEY=VALUE",
                        help="output folder (as GFPGAN), or a config override KEY=VALUE as in every tool, e.g. "
                             "-o face_helper.detection.conf_threshold=0.9 (repeatable)")
    parser.add_argument("--output", help="output folder (default: results)")
    parser.add_argument("-c", "--model", default="gfpgan_v1.4",
                        help="restorer config name or path (default: gfpgan_v1.4)")
    parser.add_argument("--weights", help="restorer weights, .pdparams or official .pth (default: the config's)")
    parser.add_argument("--detector", help="face detector config: retinaface_resnet50 (the config's default) "
                        "or retinaface_mobilenet0.25 (faster)")
    parser.add_argument("--detector_weights", help="RetinaFace weights (default: the detector config's)")
    parser.add_argument("--parser_weights", help="face parsing weights for the parsing paste mask (default: "
                        "the parser config's); --opt face_helper.paste.mask=eroded_square pastes without parsing")
    parser.add_argument("--aligned", action="store_true", help="inputs are aligned faces: no detection, no paste")
    parser.add_argument("--upscale", type=float, help="output size / input size (default from the config: 2)")
    parser.add_argument("--bg_upsampler", default="none",
                        help="background upsampler config: none (Lanczos resize), realesrgan_x2plus, realesrnet_x2")
    parser.add_argument("--bg_weights", help="background upsampler weights (default: its config's)")
    parser.add_argument("--bg_tile", type=int,
                        help="upsampler tile size, 0 = whole image (default from the config: 400)")
    parser.add_argument("--only_center_face", action="store_true", help="restore only the face nearest the centre")
    parser.add_argument("--batch_size", type=int, help="faces per network call (default from the config: 4)")
    parser.add_argument("--ext", default="auto", choices=["auto", "png", "jpg"],
                        help="restored photo format: auto = the input's")
    parser.add_argument("--weight", type=float, help=WEIGHT_HELP)
    parser.add_argument("--suffix", help="suffix of the restored photo and face file names")
    parser.add_argument("--random_init", action="store_true",
                        help="FOR TESTING ONLY: run every network with random weights (meaningless output)")
    args = parser.parse_args(argv)
    # -o is GFPGAN's output folder and this project's KEY=VALUE override: a dotted key before "=" decides
    folders, args.opt = split_o_values(args.o_values)
    folders += [args.output] if args.output else []
    if len(folders) > 1:
        parser.error(f"more than one output folder: {', '.join(folders)}")
    args.output = folders[0] if folders else "results"
    return args


def resolve_weights(config, given, flag):
    """The weights file to load: ``given`` or the config's ``weights``; a missing file is a SetupError that
    says where to get the official checkpoint and how to convert it."""
    if given:
        if not Path(given).is_file():
            raise SetupError(f"{flag} {given}: file not found")
        return given
    path = Path(config.get("weights", ""))
    path = path if path.is_absolute() else ROOT / path
    if config.get("weights") and path.is_file():
        return str(path)
    ckpt = config.get("checkpoint", {})
    raise SetupError(
        f"{config['name']}: weights not found ({path}); download {ckpt.get('file')} from {ckpt.get('url')} and "
        f"convert it: python tools/convert_weights.py --src {ckpt.get('file')} --arch {config['name']} "
        f"(or pass {flag} FILE)")


def build_pipeline(args):
    """Load the configs, apply the command-line settings to ``face_helper``, build the runners and pipeline."""
    from ppgan_face.builder import create_model
    from ppgan_face.face import FacePipeline
    from ppgan_face.inference import DygraphRunner

    config = load_config(args.model, args.opt)
    if "face_helper" not in config:
        raise SetupError(f"{config['name']}: not a face restorer config (no face_helper section)")
    helper = config["face_helper"]
    given = {"upscale": args.upscale, "batch_size": args.batch_size, "weight": args.weight, "detector": args.detector}
    helper.update({k: v for k, v in given.items() if v is not None})
    helper["only_center_face"] = helper["only_center_face"] or args.only_center_face
    helper["bg_upsampler"] = None if args.bg_upsampler == "none" else args.bg_upsampler
    if args.bg_tile is not None:
        helper["bg"]["tile"] = args.bg_tile

    def runner(cfg, given_weights, flag, overrides=()):
        weights = None if args.random_init else resolve_weights(cfg, given_weights, flag)
        return DygraphRunner(create_model(cfg["config_path"], weights=weights, overrides=overrides))

    paste = helper["paste"]
    parser_name = paste["masks"].get(paste["mask"], {}).get("parser")
    restorer = runner(config, args.weights, "--weights", args.opt)
    detector = parser = upsampler = None
    if not args.aligned:
        detector = runner(load_config(helper["detector"]), args.detector_weights, "--detector_weights")
        if parser_name:
            parser = runner(load_config(parser_name), args.parser_weights, "--parser_weights")
        if helper["bg_upsampler"]:
            upsampler = runner(load_config(helper["bg_upsampler"]), args.bg_weights, "--bg_weights")
    try:
        return FacePipeline.from_config(config, restorer, detector, upsampler, parser), helper["input_limits"]
    except (TypeError, ValueError) as err:
        raise SetupError(f"{config['name']}: invalid face_helper settings ({err})") from None


def save_results(result, path, args):
    """Write the faces, comparisons and restored photo of one input, GFPGAN's folder layout."""
    out, base = Path(args.output), path.stem
    suffix = f"_{args.suffix}" if args.suffix else ""
    for idx, (cropped, restored) in enumerate(zip(result.cropped_faces, result.restored_faces)):
        cropped = to_uint8(cropped)
        write_image(out / "cropped_faces" / f"{base}_{idx:02d}.png", cropped)
        write_image(out / "restored_faces" / f"{base}_{idx:02d}{suffix}.png", restored)
        write_image(out / "cmp" / f"{base}_{idx:02d}.png", np.concatenate([cropped, restored], axis=1))
    if result.restored_image is not None:
        ext = path.suffix if args.ext == "auto" else f".{args.ext}"
        target = out / "restored_imgs" / f"{base}{suffix}{ext}"
        write_image(target, fit_for_format(result.restored_image, ext))


def main(argv=None):
    args = parse_args(argv)
    try:
        files = list_images(args.input)
        if not files:
            raise SetupError(f"{args.input}: no image found")
        pipeline, limits = build_pipeline(args)
    except (SetupError, ConfigError, CheckpointError, ImageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.random_init:
        print("warning: --random_init: random weights, for testing only", file=sys.stderr)

    done, faces, no_face, failures = 0, 0, [], []
    for path in tqdm(files, unit="img", desc="restoring", file=sys.stderr):
        try:
            result = pipeline.enhance(read_image(path, **limits), aligned=args.aligned)
            save_results(result, path, args)
        except ImageError as err:
            failures.append((path, str(err)))
            continue
        except Exception as err:  # noqa: BLE001 - one bad file never stops the batch
            failures.append((path, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"))
            continue
        done += 1
        faces += len(result.restored_faces)
        if not result.restored_faces:
            no_face.append(path)

    print(f"{done} of {len(files)} file(s) done, {faces} face(s) restored -> {args.output}")
    if no_face:
        print(f"{len(no_face)} file(s) with no face (written unchanged apart from the upscaling):")
        for path in no_face:
            print(f"  {path}")
    if failures:
        print(f"{len(failures)} file(s) failed:")
        for path, reason in failures:
            print(f"  {path}: {reason}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
