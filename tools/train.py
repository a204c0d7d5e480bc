"""Train GFPGAN or GPEN from a config of configs/train/.

    python tools/train.py -c configs/train/gfpgan_v1_ffhq512.yml
    python tools/train.py -c configs/train/gpen_512_ffhq.yml -o datasets.train.batch_size_per_gpu=2 --resume
    python -m paddle.distributed.launch --gpus 0,1,2,3 tools/train.py -c configs/train/gfpgan_v1_ffhq512.yml

``--resume`` alone continues from the latest checkpoint in the output dir, ``--resume PATH`` from that file.
Outputs (default ``experiments/<name>``): train.log, losses.jsonl, checkpoints/, models/net_g_ema_*.pdparams
and, at the end, models/net_g_ema_latest.pdparams (loadable by ``ppgan_face.create_model(config, weights=...)``
and tools/export_model.py), visualization/, visualdl/ (if installed). Start from trained generator weights with
``-o path.pretrain_network_g=FILE``.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppgan_face.config import ConfigError, load_config  # noqa: E402
from ppgan_face.convert import CheckpointError  # noqa: E402
from ppgan_face.data import DatasetError  # noqa: E402
from ppgan_face.runtime import set_cpu_threads, set_device  # noqa: E402

# errors the user can fix (config, data, pretrained files): printed as one line, exit code 2
USER_ERRORS = (ConfigError, DatasetError, CheckpointError)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", required=True, help="a config path or a name under configs/")
    parser.add_argument("-o", "--override", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override config keys (repeatable, or several after one -o); +key=value adds a key")
    parser.add_argument("--resume", nargs="?", const=True, default=None, metavar="PATH",
                        help="resume from PATH, or from the latest checkpoint in the output dir")
    parser.add_argument("--output_dir", default=None, help="default: experiments/<config name>")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--device", default=None, help="cpu, gpu or gpu:N (default: gpu if Paddle has CUDA)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    set_cpu_threads(args.threads)
    problem = args.device and set_device(args.device)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config, args.override)
        from ppgan_face.training.trainer import Trainer
        output_dir = args.output_dir or Path("experiments") / config["name"]
        trainer = Trainer(config, output_dir, args.resume)
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    trainer.train()
    return 0


if __name__ == "__main__":
    sys.exit(main())
