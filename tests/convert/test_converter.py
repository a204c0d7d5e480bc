"""The generic mapping of official state dicts onto our networks, and its refusals."""
import numpy as np
import paddle
import pytest
import torch

from ppgan_face.convert import CheckpointError, CheckpointMismatch, load_official_into, load_weights, \
    save_weights_atomic
from ppgan_face.convert.converter import expected_entries, select_state_dict


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.act = torch.nn.PReLU(4)
        self.fc = torch.nn.Linear(4, 5)
        self.register_buffer("noise", torch.randn(1, 1, 2, 2))

    def forward(self, x):
        return self.fc(self.act(self.bn(self.conv(x))).mean((2, 3))) + self.noise.sum()


class PaddleNet(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 4, 3, padding=1)
        self.bn = paddle.nn.BatchNorm2D(4)
        self.act = paddle.nn.PReLU(4)
        self.fc = paddle.nn.Linear(4, 5)
        self.register_buffer("noise", paddle.zeros([1, 1, 2, 2]), persistable=True)
        self.register_buffer("scratch", paddle.zeros([1]), persistable=False)

    def forward(self, x):
        return self.fc(self.act(self.bn(self.conv(x))).mean((2, 3))) + self.noise.sum()


def _torch_net():
    torch.manual_seed(0)
    net = TorchNet()
    with torch.no_grad():
        for p in list(net.parameters()) + [net.bn.running_mean, net.bn.running_var]:
            p.copy_(torch.rand_like(p) + 0.5)
    return net.eval()


def _outputs(tmp_path, key=None, prefix=""):
    net = _torch_net()
    sd = {prefix + k: v for k, v in net.state_dict().items()}
    path = tmp_path / "net.pth"
    torch.save({key: sd} if key else sd, path)
    x = np.random.RandomState(0).rand(2, 3, 6, 6).astype("float32")
    ours = load_official_into(PaddleNet(), path).eval()
    return ours(paddle.to_tensor(x)).numpy(), net(torch.from_numpy(x)).detach().numpy()


@pytest.mark.parametrize("key,prefix", [(None, ""), ("params_ema", ""), ("params", "module."), (None, "module.")])
def test_mapping_reproduces_torch(tmp_path, key, prefix):
    ours, theirs = _outputs(tmp_path, key, prefix)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_expected_entries_renames_and_transposes():
    entries = expected_entries(PaddleNet())
    assert entries["bn._mean"][0] == "bn.running_mean"
    assert entries["bn._variance"][0] == "bn.running_var"
    assert entries["act._weight"][0] == "act.weight"
    assert entries["fc.weight"][2] is True and entries["conv.weight"][2] is False
    assert "noise" in entries and "scratch" not in entries


def test_params_ema_preferred_over_params():
    ema, raw = {"w": np.ones(1, "float32")}, {"w": np.zeros(1, "float32")}
    assert select_state_dict({"params": raw, "params_ema": ema}, "x.pth") is ema
    assert select_state_dict({"params": raw}, "x.pth") is raw
    with pytest.raises(CheckpointError, match="x.pth: no state dict"):
        select_state_dict({"params_ema": raw}, "x.pth", state_dict_key="d")


def test_mismatch_lists_missing_unexpected_and_misshaped(tmp_path):
    sd = _torch_net().state_dict()
    sd.pop("bn.running_var")
    sd["extra.weight"] = torch.zeros(3)
    sd["fc.weight"] = torch.zeros(5, 7)
    torch.save(sd, tmp_path / "bad.pth")
    with pytest.raises(CheckpointMismatch) as info:
        load_official_into(PaddleNet(), tmp_path / "bad.pth")
    message = str(info.value)
    assert "bad.pth does not match PaddleNet" in message and "\n" not in message
    assert "1 missing: bn.running_var" in message
    assert "1 unexpected: extra.weight" in message
    assert "fc.weight (7, 5) != (4, 5)" in message


def test_pdparams_round_trip_and_strictness(tmp_path):
    net = PaddleNet()
    path = save_weights_atomic({k: v.numpy() + 1 for k, v in net.state_dict().items()}, tmp_path / "w.pdparams")
    assert [p.name for p in tmp_path.iterdir()] == ["w.pdparams"]  # no temporary file left behind
    other = load_weights(PaddleNet(), path)
    np.testing.assert_array_equal(other.fc.weight.numpy(), net.fc.weight.numpy() + 1)
    partial = {k: v.numpy() for k, v in net.state_dict().items() if k != "noise"}
    paddle.save(partial, str(tmp_path / "partial.pdparams"))
    with pytest.raises(CheckpointMismatch, match="1 missing: noise"):
        load_weights(PaddleNet(), tmp_path / "partial.pdparams")


def test_damaged_weights_files(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_weights(PaddleNet(), tmp_path / "nope.pdparams")
    (tmp_path / "junk.pdparams").write_bytes(b"not a pickle")
    with pytest.raises(CheckpointError, match="junk.pdparams: cannot read Paddle weights"):
        load_weights(PaddleNet(), tmp_path / "junk.pdparams")
