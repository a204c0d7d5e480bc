"""Write the checkpoint that TIPC's whole_infer exports: converted official weights when you have them, else a
seeded random initialisation of the same network (for testing the chain only; its output is meaningless).

    python test_tipc/make_checkpoint.py -c gfpgan_v1.4 --output test_tipc/data/GFPGAN/whole_infer/GFPGANv1.4.pdparams

Order: the config's ``weights`` (converted, e.g. pretrained/GFPGANv1.4.pdparams), else the official ``.pth``
beside it (converted now), else random weights from ``--seed``. The output is written atomically.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.config import ConfigError, load_config  # noqa: E402
from ppgan_face.convert import CheckpointError, save_weights_atomic  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("-c", "--config", required=True, help="restorer config, e.g. gfpgan_v1.4, gpen_bfr_512")
    parser.add_argument("--output", required=True, help="the .pdparams file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random initialisation (default 0)")
    args = parser.parse_args(argv)
    import paddle

    from ppgan_face import create_model

    try:
        config = load_config(args.config)
        converted = Path(config.get("weights") or "")
        official = converted.with_suffix(".pth")
        if converted.is_file():
            source, weights = f"converted weights {converted}", converted
        elif official.is_file():
            source, weights = f"official weights {official}", official
        else:
            paddle.seed(args.seed)
            source, weights = f"RANDOM weights (seed {args.seed}; no {converted} or {official}: for testing only)", None
        model = create_model(args.config, weights)
        save_weights_atomic(model.net.state_dict(), args.output)
    except (ConfigError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{args.output}: {config['name']} with {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
