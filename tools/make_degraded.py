"""Write a paired validation set (OUT_DIR/lq, OUT_DIR/gt) from a folder of aligned high-quality faces.

    python tools/make_degraded.py -i faces_hq/ -o datasets/faces/validation --seed 0
    python tools/make_degraded.py -i faces_hq/ -o val/ -c configs/train/_base_/datasets/ffhq_gpen.yml
    python tools/make_degraded.py -i faces_hq/ -o val/ -o datasets.train.dataset.jpeg_range=[30,60]

Each face goes through the training degradation of ``datasets.train.dataset`` in the config (a training recipe
or a dataset fragment; GFPGAN's by default), without flipping; image i always gets the same degradation for a
given seed. GT and LQ are written as PNG
under the input's file name (the GT as the dataset sees it: resized or gray where the recipe says so).
Files are written through a temporary name, so an interrupted run leaves no half-written image.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.config import ConfigError, load_config, split_o_values  # noqa: E402
from ppgan_face.data import DatasetError, build_dataset  # noqa: E402
from ppgan_face.utils.image_io import ImageError, write_image  # noqa: E402

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs/train/_base_/datasets/ffhq_gfpgan.yml"


def to_uint8_bgr(chw, mean, std):
    """Undo the dataset's normalisation: CHW RGB float -> HWC BGR uint8."""
    img = chw * np.asarray(std, np.float32).reshape(-1, 1, 1) + np.asarray(mean, np.float32).reshape(-1, 1, 1)
    return np.clip(np.rint(img.transpose(1, 2, 0)[:, :, ::-1] * 255), 0, 255).astype(np.uint8)


def build_degrader(config, input_dir, seed):
    options = dict(((config.get("datasets") or {}).get("train") or {}).get("dataset") or {})
    if not options:
        raise ConfigError(f"{config['config_path']}: no datasets.train.dataset section")
    options.update(dataroot_gt=str(input_dir), use_hflip=False, seed=seed)
    options.pop("crop_components", None)
    options.pop("component_path", None)
    return build_dataset(options)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--input", required=True, help="folder of aligned high-quality faces")
    parser.add_argument("-o", dest="o_values", action="append", default=[], metavar="DIR|KEY=VALUE",
                        help="output folder (lq/ and gt/ are created in it), or a config override KEY=VALUE as "
                             "in every tool (repeatable)")
    parser.add_argument("--output", help="output folder (same as -o DIR)")
    parser.add_argument("-c", "--config", default=str(DEFAULT_CONFIG), help="config with a datasets.train.dataset section")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--opt", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (same as -o KEY=VALUE)")
    args = parser.parse_args(argv)
    folders, overrides = split_o_values(args.o_values)
    folders += [args.output] if args.output else []
    if len(folders) != 1:
        parser.error(f"give one output folder (-o DIR), got {', '.join(folders) or 'none'}")
    args.output, args.overrides = folders[0], overrides + args.overrides
    try:
        config = load_config(args.config, args.overrides)
        dataset = build_degrader(config, args.input, args.seed)
        names = [Path(p).with_suffix(".png").name for p in dataset.paths]
        if len(set(names)) != len(names):
            raise DatasetError(f"{args.input}: two images share a file name stem; the PNG outputs would collide")
        out = Path(args.output)
        for sub in ("lq", "gt"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        for index in tqdm(range(len(dataset)), desc="degrading", unit="face"):
            sample = dataset[index]
            name = names[index]
            write_image(out / "gt" / name, to_uint8_bgr(sample["gt"], dataset.mean, dataset.std))
            write_image(out / "lq" / name, to_uint8_bgr(sample["lq"], dataset.mean, dataset.std))
    except (ConfigError, DatasetError, ImageError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{len(dataset)} pairs -> {out / 'lq'}, {out / 'gt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
