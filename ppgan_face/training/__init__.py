"""The training loop behind ``tools/train.py``: data, checkpoints and resume, logging, validation."""
