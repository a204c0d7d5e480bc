"""Checkpoints are written atomically, only the newest N stay, and the latest is found for resume."""
import paddle
import pytest

from ppgan_face.convert import CheckpointError
from ppgan_face.training.checkpoint import checkpoints, latest_checkpoint, load_checkpoint, save_checkpoint


class _Model:
    def __init__(self):
        self.net_g_ema = paddle.nn.Linear(2, 2)

    def state_dict(self):
        return {"nets": {"net_g": self.net_g_ema.state_dict()}}


def test_keep_last_n_and_find_the_latest(tmp_path):
    model = _Model()
    for iteration in (10, 20, 30):
        save_checkpoint(tmp_path, iteration, model, keep=2)
    assert sorted(checkpoints(tmp_path / "checkpoints")) == [20, 30]
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["net_g_ema_00000020.pdparams",
                                                                       "net_g_ema_00000030.pdparams"]
    assert latest_checkpoint(tmp_path / "checkpoints").name == "iter_00000030.pdparams"
    state = load_checkpoint(latest_checkpoint(tmp_path / "checkpoints"))
    assert state["iter"] == 30 and set(state["rng"]) == {"paddle", "numpy", "python"}
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")]  # no temp files left


def test_missing_or_foreign_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "iter_00000001.pdparams")
    paddle.save({"weight": paddle.zeros([1])}, str(tmp_path / "weights.pdparams"))
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "weights.pdparams")
    assert latest_checkpoint(tmp_path / "nowhere") is None
