"""Text log (stdout + ``train.log``), per-iteration losses (``losses.jsonl``), and VisualDL scalars and images
when ``visualdl`` is installed (an optional dependency: without it a one-line note, once)."""
import json
import logging
import sys


class TrainLogger:
    def __init__(self, output_dir, enabled=True, use_visualdl=True):
        self.enabled = enabled
        self.output_dir = output_dir
        self.writer = None
        if not enabled:
            return
        output_dir.mkdir(parents=True, exist_ok=True)
        self.log = logging.getLogger(f"ppgan_face.train.{output_dir}")
        self.log.setLevel(logging.INFO)
        self.log.propagate = False
        for handler in (logging.StreamHandler(sys.stdout), logging.FileHandler(output_dir / "train.log")):
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
            self.log.addHandler(handler)
        self.loss_file = open(output_dir / "losses.jsonl", "a", encoding="utf-8")
        if use_visualdl:
            try:
                from visualdl import LogWriter
                self.writer = LogWriter(logdir=str(output_dir / "visualdl"))
            except ImportError:
                self.info("note: visualdl is not installed; scalars and images go to the text log only")

    def info(self, message):
        if self.enabled:
            self.log.info(message)

    def losses(self, iteration, values):
        """One JSON line per iteration (the exact loss curve, appended across resumes)."""
        if not self.enabled:
            return
        self.loss_file.write(json.dumps({"iter": iteration, **values}) + "\n")
        self.loss_file.flush()
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(f"losses/{name}", value, iteration)

    def progress(self, iteration, total, lr, seconds_per_iter, values):
        losses = " ".join(f"{name}: {value:.4e}" for name, value in values.items())
        self.info(f"[iter {iteration:>8d}/{total}] lr: {lr:.3e} {seconds_per_iter:.3f} s/iter {losses}")

    def scalars(self, iteration, values):
        if self.enabled and self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(name, value, iteration)

    def image(self, tag, image_rgb, iteration):
        if self.enabled and self.writer is not None:
            self.writer.add_image(tag, image_rgb, iteration)

    def close(self):
        if not self.enabled:
            return
        self.loss_file.close()
        if self.writer is not None:
            self.writer.close()
        for handler in list(self.log.handlers):
            handler.close()
            self.log.removeHandler(handler)
