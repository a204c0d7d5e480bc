"""Turn a restorer export (tools/export_model.py) into Paddle Serving's serving_server/ and serving_client/.

    python deploy/serving/convert_model.py --dirname inference/gfpgan_v1.4 --serving_server deploy/serving/serving_server \\
        --serving_client deploy/serving/serving_client
    python deploy/serving/convert_model.py --dirname=inference/gpen_bfr_512 --det_dirname=inference/retinaface_resnet50 \\
        --serving_server=deploy/serving/serving_server --serving_client=deploy/serving/serving_client

Our stand-in for ``python -m paddle_serving_client.convert`` (same flags), which needs ``paddle.fluid`` and so
does not run with Paddle 3. serving_server/ gets the program and weights as inference.json (or .pdmodel) +
inference.pdiparams, the export's infer_cfg.yml and model_config.yml, and serving_server_conf.prototxt;
serving_client/ gets serving_client_conf.prototxt. Feed and fetch variables are the predictor's input and
output names (PIR: ``x`` and ``fetch_name_0``), used as their aliases too.

Whole photos (detect, align, restore, paste back) need a detector export: --det_dirname bundles it as
serving_server/detector/, --parse_dirname a face parser as serving_server/parser/ for the 'parsing' paste
mask (GFPGAN's default; --paste_mask eroded_square needs none). Without a detector the service restores
aligned faces only. The folders are replaced whole, and only once everything is written.
"""
import argparse
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
warnings.filterwarnings("ignore", message="No ccache found")  # printed by `import paddle`

import yaml  # noqa: E402

from ppgan_face.inference.runners import METADATA_FILE  # noqa: E402

SERVER_CONF = "serving_server_conf.prototxt"
CLIENT_CONF = "serving_client_conf.prototxt"
MODEL_CONFIG = "model_config.yml"
PARTS = {"detector": "--det_dirname", "parser": "--parse_dirname"}  # kind (= sub-folder of serving_server/): flag
FLOAT32 = 1  # Serving's feed_type / fetch_type code of float32


class BundleError(RuntimeError):
    """A model folder that cannot be served; the message is one line for the user."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--dirname", required=True, help="exported restorer (gfpgan_*, gpen_bfr_*)")
    parser.add_argument("--model_filename", default="inference.json",
                        help="program file in --dirname (default inference.json; legacy: inference.pdmodel)")
    parser.add_argument("--params_filename", default="inference.pdiparams", help="weights file in --dirname")
    parser.add_argument("--serving_server", default="serving_server", help="output folder for the service")
    parser.add_argument("--serving_client", default="serving_client", help="output folder for clients")
    parser.add_argument("--det_dirname", help="exported face detector (retinaface_*), for whole photos")
    parser.add_argument("--parse_dirname", help="exported face parser (parsenet), for the 'parsing' paste mask")
    parser.add_argument("--paste_mask", help="paste-back mask instead of the restorer config's (one of its "
                                             "face_helper.paste.masks; eroded_square needs no parser)")
    return parser.parse_args(argv)


def read_export(folder, kind, flag):
    """The infer_cfg.yml of an export folder, which must hold a ``kind`` network."""
    path = Path(folder) / METADATA_FILE
    if not path.is_file():
        raise BundleError(f"{flag} {folder}: not an exported model ({METADATA_FILE} missing; see "
                          "tools/export_model.py)")
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    if meta.get("kind") != kind:
        raise BundleError(f"{flag} {folder}: a {meta.get('kind')} export ({meta.get('config')}), not a {kind}")
    return meta


def paste_mask(model_dir):
    """(name, settings) of the paste mask chosen in a bundle's restorer config."""
    paste = yaml.safe_load((Path(model_dir) / MODEL_CONFIG).read_text(encoding="utf-8"))["face_helper"]["paste"]
    return paste["mask"], paste["masks"][paste["mask"]]


def check_bundle(model_dir):
    """Refuse a serving_server folder the service cannot run: a restorer, an optional detector, and the parser
    that a 'parsing' paste mask needs next to a detector. Returns the restorer's infer_cfg.yml."""
    model_dir = Path(model_dir)
    if not (model_dir / SERVER_CONF).is_file():
        raise BundleError(f"{model_dir}: not a serving model folder ({SERVER_CONF} missing; make it with "
                          "convert_model.py)")
    meta = read_export(model_dir, "restorer", "serving model folder")
    for name in (MODEL_CONFIG, meta["files"]["program"], meta["files"]["params"]):
        if not (model_dir / name).is_file():
            raise BundleError(f"{model_dir}: {name} missing (make the folder with convert_model.py)")
    if not (model_dir / "detector").is_dir():
        return meta
    read_export(model_dir / "detector", "detector", PARTS["detector"])
    name, mask = paste_mask(model_dir)
    if "parser" in mask:
        if not (model_dir / "parser").is_dir():
            raise BundleError(f"the '{name}' paste mask needs --parse_dirname (an exported parsenet), or pass "
                              "--paste_mask eroded_square")
        side = read_export(model_dir / "parser", "parser", PARTS["parser"])["input"]["shape"][-1]
        if mask.get("input_size", side) != side:
            raise BundleError(f"--parse_dirname: the parser takes {side} px faces, the paste mask "
                              f"{mask['input_size']} px")
    return meta


def var_names(program, params):
    """(input names, output names) of a Paddle inference model, as its predictor reports them."""
    from paddle import inference

    config = inference.Config(str(program), str(params))
    config.disable_gpu()
    config.switch_ir_optim(False)
    config.disable_glog_info()
    predictor = inference.create_predictor(config)
    return predictor.get_input_names(), predictor.get_output_names()


def prototxt(feeds, fetches, shape):
    """serving_*_conf.prototxt text: float32 feed and fetch variables of one (C, H, W) shape, each name its own
    alias (Serving's LocalPredictor looks the predictor's names up by alias)."""
    def block(kind, name):
        dims = "".join(f"  shape: {d}\n" for d in shape)
        return (f'{kind}_var {{\n  name: "{name}"\n  alias_name: "{name}"\n  is_lod_tensor: false\n'
                f"  {kind}_type: {FLOAT32}\n{dims}}}\n")
    return "".join([block("feed", n) for n in feeds] + [block("fetch", n) for n in fetches])


def copy_export(source, target, program, params):
    """An export's program, weights, infer_cfg.yml and model config, as inference.<ext> (what LocalPredictor
    and the runners look for)."""
    target.mkdir(parents=True)
    for path in (program, params):
        if not path.is_file():
            raise BundleError(f"{path}: file not found")
    shutil.copy2(program, target / f"inference{program.suffix}")
    shutil.copy2(params, target / "inference.pdiparams")
    meta = yaml.safe_load((source / METADATA_FILE).read_text(encoding="utf-8"))
    meta["files"].update(program=f"inference{program.suffix}", params="inference.pdiparams")
    (target / METADATA_FILE).write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    shutil.copy2(source / meta["files"]["model_config"], target / meta["files"]["model_config"])


def copy_part(source, target):
    """A detector / parser export, under its own file names."""
    meta = yaml.safe_load((Path(source) / METADATA_FILE).read_text(encoding="utf-8"))
    files = meta["files"]
    copy_export(Path(source), target, Path(source) / files["program"], Path(source) / files["params"])


def set_paste_mask(model_dir, name):
    path = Path(model_dir) / MODEL_CONFIG
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    masks = config["face_helper"]["paste"]["masks"]
    if name not in masks:
        raise BundleError(f"--paste_mask {name}: not one of {', '.join(masks)}")
    config["face_helper"]["paste"]["mask"] = name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def replace_folder(staging, target):
    """Move a finished folder into place (an older one is removed first)."""
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


def convert(args):
    source = Path(args.dirname)
    meta = read_export(source, "restorer", "--dirname")
    program, params = source / args.model_filename, source / args.params_filename
    server, client = Path(args.serving_server), Path(args.serving_client)
    for folder in (server, client):
        folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{server.name}.tmp-", dir=server.parent))
    try:
        bundle = staging / "bundle"
        copy_export(source, bundle, program, params)
        for kind, flag in PARTS.items():
            folder = getattr(args, flag[2:])
            if folder:
                read_export(folder, kind, flag)
                copy_part(folder, bundle / kind)
        if args.paste_mask:
            set_paste_mask(bundle, args.paste_mask)
        feeds, fetches = var_names(bundle / f"inference{program.suffix}", params)
        text = prototxt(feeds, fetches, meta["input"]["shape"][1:])
        (bundle / SERVER_CONF).write_text(text, encoding="utf-8")
        check_bundle(bundle)
        (staging / "client").mkdir()
        (staging / "client" / CLIENT_CONF).write_text(text, encoding="utf-8")
        replace_folder(bundle, server)
        replace_folder(staging / "client", client)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return feeds, fetches


def main(argv=None):
    args = parse_args(argv)
    try:
        feeds, fetches = convert(args)
    except (BundleError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    parts = [kind for kind, flag in PARTS.items() if getattr(args, flag[2:])]
    print(f"{args.dirname} -> {args.serving_server} (feed {', '.join(feeds)}, fetch {', '.join(fetches)}"
          f"{', with ' + ' and '.join(parts) if parts else ', aligned faces only'}), {args.serving_client}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
