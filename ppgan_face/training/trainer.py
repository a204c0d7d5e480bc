"""The training loop (BasicSR ``train.py``): iteration-based, resumable to the exact iteration, data parallel
through ``paddle.distributed.launch``."""
import random
import time
from pathlib import Path

import numpy as np
import paddle
import paddle.distributed as dist
import yaml

from ppgan_face.convert import CheckpointError
from ppgan_face.data import DatasetError, build_dataset
from ppgan_face.models import build_model
from ppgan_face.training.checkpoint import (latest_checkpoint, load_checkpoint, save_checkpoint, save_latest_generator,
                                           set_rng_state)
from ppgan_face.training.logger import TrainLogger
from ppgan_face.training.validation import validate


def pretrained_files(config):
    """(config key, path) of every pretrained file the config names: ``path.pretrain_*`` and the loss networks'
    ``losses.<name>.pretrained``."""
    found = [(f"path.{k}", v) for k, v in (config.get("path") or {}).items() if k.startswith("pretrain") and v]
    for name, options in (config.get("losses") or {}).items():
        if isinstance(options, dict) and options.get("pretrained"):
            found.append((f"losses.{name}.pretrained", options["pretrained"]))
    return found


def check_pretrained(config):
    """Fail before anything is built when a pretrained file is missing (one line naming the key)."""
    for key, path in pretrained_files(config):
        if not Path(path).is_file():
            raise CheckpointError(f"{key}: pretrained file {path} not found (convert the official file with "
                                  f"tools/convert_weights.py, or set it to null to start from random weights)")


class _Batches:
    """The index batches of one epoch from a given position (resume starts mid-epoch)."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


class Trainer:
    """``Trainer(config, output_dir, resume).train()``; ``resume`` is a checkpoint path, ``True`` (the latest
    in ``output_dir``) or ``None``."""

    def __init__(self, config, output_dir, resume=None):
        self.config = config
        self.output_dir = Path(output_dir)
        self.world_size = dist.get_world_size()
        self.rank = dist.get_rank()
        if self.world_size > 1:
            dist.init_parallel_env()
        check_pretrained(config)
        data_opt = config["datasets"]["train"]
        self.train_set = build_dataset(data_opt["dataset"])
        validates = config["datasets"].get("val") and (config.get("val") or {}).get("val_freq")
        self.val_set = build_dataset(config["datasets"]["val"]["dataset"]) if validates else None
        self.batch_sampler = paddle.io.DistributedBatchSampler(
            self.train_set, batch_size=data_opt["batch_size_per_gpu"], num_replicas=self.world_size, rank=self.rank,
            shuffle=data_opt.get("shuffle", True), drop_last=True)
        if len(self.batch_sampler) == 0:
            raise DatasetError(f"{len(self.train_set)} training image(s) do not fill one batch of "
                             f"{data_opt['batch_size_per_gpu']} per process")

        self.resume_path = latest_checkpoint(self.output_dir / "checkpoints") if resume is True else resume
        if resume is True and self.resume_path is None:
            raise CheckpointError(f"{self.output_dir / 'checkpoints'}: no checkpoint to resume from")
        seed = config.get("manual_seed", 0) + self.rank
        random.seed(seed)
        np.random.seed(seed)
        paddle.seed(seed)
        self.model = build_model(config, distributed=self.world_size > 1)
        self.current_iter = 0
        if self.resume_path is not None:
            state = load_checkpoint(self.resume_path)
            self.model.set_state_dict(state["model"])
            self.current_iter = state["iter"]
            set_rng_state(state["rng"])
        self.logger = TrainLogger(self.output_dir, enabled=self.rank == 0, use_visualdl=config["logger"].get(
            "use_visualdl", True))
        if self.rank == 0:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    def batches(self):
        """Endless training batches, starting at ``current_iter``'s position in its epoch (each epoch reshuffled
        by the sampler and re-seeded in the dataset)."""
        per_epoch = len(self.batch_sampler)
        epoch, offset = divmod(self.current_iter, per_epoch)
        while True:
            self.batch_sampler.set_epoch(epoch)
            if hasattr(self.train_set, "set_epoch"):
                self.train_set.set_epoch(epoch)
            loader = paddle.io.DataLoader(self.train_set, batch_sampler=_Batches(list(self.batch_sampler)[offset:]),
                                          num_workers=self.config["datasets"]["train"].get("num_workers", 0))
            yield from loader
            epoch, offset = epoch + 1, 0

    def train(self):
        opt = self.config
        total = opt["train"]["total_iter"]
        log_opt, val_opt = opt["logger"], opt.get("val") or {}
        if self.resume_path is not None:
            self.logger.info(f"resumed from {self.resume_path} at iteration {self.current_iter}")
        self.logger.info(f"training {opt['model_type']} '{opt.get('name')}' for {total} iterations on "
                         f"{len(self.train_set)} images, {self.world_size} process(es)")
        tic, last = time.time(), self.current_iter
        for batch in self.batches():
            if self.current_iter >= total:
                break
            self.current_iter += 1
            it = self.current_iter
            self.model.update_learning_rate(it)
            self.model.feed_data(batch)
            self.model.optimize_parameters(it)
            self.logger.losses(it, self.model.log_dict)
            if it % log_opt["print_freq"] == 0 or it == total:
                lr = self.model.optimizers["net_g"].get_lr()
                self.logger.progress(it, total, lr, (time.time() - tic) / (it - last), self.model.log_dict)
                tic, last = time.time(), it
            if self.rank == 0 and (it % log_opt["save_checkpoint_freq"] == 0 or it == total):
                path = save_checkpoint(self.output_dir, it, self.model, log_opt.get("keep_checkpoints", 0))
                self.logger.info(f"saved {path}")
            if self.rank == 0 and self.val_set is not None and (it % val_opt["val_freq"] == 0 or it == total):
                validate(self.model, self.val_set, val_opt, it, self.logger)
        if self.rank == 0:
            self.logger.info(f"saved {save_latest_generator(self.output_dir, self.model)}")
        self.logger.close()
        return self.current_iter
