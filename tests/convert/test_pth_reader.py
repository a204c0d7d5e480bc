"""load_pth against torch.load on files written by torch: both formats, every dtype, views, refusals, errors."""
import argparse
import collections
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ppgan_face.convert.errors import CheckpointError
from ppgan_face.convert.pth_reader import CheckpointError as ReExported
from ppgan_face.convert.pth_reader import load_pth

REPO = Path(__file__).resolve().parents[2]
FORMATS = {"zip": True, "legacy": False}
DTYPES = [torch.float32, torch.float16, torch.float64, torch.bfloat16, torch.int64, torch.int32, torch.int16,
          torch.int8, torch.uint8, torch.bool, torch.complex64]


def _save(obj, path, fmt="zip"):
    torch.save(obj, path, _use_new_zipfile_serialization=FORMATS[fmt])
    return path


class _Raw:
    """Pickles as ``func(*args)``: lets a test write records that torch.save would carry but never makes."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _typed_storage(tensor):
    return torch.storage.TypedStorage(wrap_storage=tensor.untyped_storage(), dtype=tensor.dtype, _internal=True)


def _numpy(tensor):
    """What load_pth should return for a torch tensor (bfloat16 widens to float32)."""
    tensor = tensor.detach().resolve_conj().resolve_neg()
    return (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()


def _assert_same(ours, ref, where="root"):
    """Recursively compare load_pth's tree with torch.load's, exactly."""
    if isinstance(ref, torch.Tensor):
        expected = _numpy(ref)
        assert type(ours) is np.ndarray and ours.dtype == expected.dtype and ours.shape == expected.shape, where
        assert np.array_equal(ours, expected) and ours.flags.c_contiguous, where
    elif isinstance(ref, torch.Size):
        assert ours == tuple(ref) and type(ours) is tuple, where
    elif isinstance(ref, torch.device):
        assert ours == str(ref), where
    elif isinstance(ref, dict):
        assert type(ours) is type(ref) and list(ours) == list(ref), where
        for key in ref:
            _assert_same(ours[key], ref[key], f"{where}.{key}")
    elif isinstance(ref, (list, tuple)):
        assert type(ours) is type(ref) and len(ours) == len(ref), where
        for i, (a, b) in enumerate(zip(ours, ref)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(ref, argparse.Namespace):
        _assert_same(vars(ours), vars(ref), where)
    elif isinstance(ref, np.ndarray):
        assert ours.dtype == ref.dtype and np.array_equal(ours, ref), where
    else:
        assert type(ours) is type(ref) and ours == ref, where


def _tensors():
    """Every dtype, views sharing storages (slices, transposes, offsets, broadcasts), 0-d and empty tensors."""
    torch.manual_seed(0)
    base = torch.randn(4, 6)
    out = {str(dtype): (torch.randn(2, 3) * 50).to(dtype) for dtype in DTYPES}
    out.update({
        "base": base, "transpose": base.t(), "row": base[2], "column": base[:, 3], "step": base[1:, ::2],
        "offset_view": base.view(-1)[5:17].view(3, 4), "expand": base[0, :1].expand(3, 5),
        "half_transpose": out[str(torch.float16)].t(), "bf16_slice": out[str(torch.bfloat16)][1:, 1:],
        "scalar": torch.tensor(3.5), "scalar_int": torch.tensor(7), "empty": torch.zeros(0, 3),
        "empty_slice": base[4:], "conj": torch.tensor([1 + 2j, 3 - 4j]).conj(),
        "torch_0.3_record": _Raw(torch._utils._rebuild_tensor, _typed_storage(base), 2, (2, 2), (1, 3)),
    })
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_tensors_and_containers_match_torch(tmp_path, fmt):
    obj = {"tensors": _tensors(), "nested": [1, 2.5, "text", None, True, (3, [None, {"k": torch.ones(2)}])],
           "ordered": collections.OrderedDict(b=1, a=2), "empty": {}}
    path = _save(obj, tmp_path / f"{fmt}.pth", fmt)
    ours = load_pth(path)
    _assert_same(ours, torch.load(path, weights_only=True))
    tensors = ours["tensors"]
    assert tensors["base"].flags.writeable and tensors["transpose"].flags.writeable


def _net(seed):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))
    net[1].running_mean.normal_()
    net[1].running_var.uniform_(0.5, 2)
    net[1].num_batches_tracked += 3
    return net


@pytest.mark.parametrize("fmt", FORMATS)
def test_gfpgan_style_state_dicts(tmp_path, fmt):
    checkpoint = {"params_ema": _net(1).state_dict(), "params": _net(2).state_dict()}
    path = _save(checkpoint, tmp_path / "GFPGANv1.4.pth", fmt)
    ours = load_pth(path)
    _assert_same(ours, torch.load(path, weights_only=True))
    assert isinstance(ours["params"], collections.OrderedDict)
    assert ours["params"]["1.num_batches_tracked"].shape == () and ours["params"]["1.num_batches_tracked"] == 3


def test_training_checkpoint_extras(tmp_path):
    """What training scripts add next to the weights: args, optimizer state, numpy and torch metadata."""
    optimizer = {"state": {0: {"step": torch.tensor(10.0), "exp_avg": torch.randn(3), "exp_avg_sq": torch.rand(3)}},
                 "param_groups": [{"lr": 0.002, "betas": (0.0, 0.99), "eps": 1e-8, "params": [0]}]}
    checkpoint = {"g_ema": _net(3).state_dict(), "g_optim": optimizer, "args": argparse.Namespace(size=512),
                  "iter": np.int64(1000), "best": np.float64(0.25), "kernel": np.arange(6.0).reshape(2, 3),
                  "shape": torch.Size([1, 3]), "device": torch.device("cuda", 0), "tags": {"a", "b"},
                  "blob": b"\x00\xffxy", "nothing": b"", "param": nn.Parameter(torch.ones(2)),
                  "uint16": torch.tensor([1, 60000], dtype=torch.int32).to(torch.uint16)}
    path = _save(checkpoint, tmp_path / "train.pt")
    _assert_same(load_pth(path), torch.load(path, weights_only=False))


@pytest.mark.parametrize("byteorder, compression", [("big", zipfile.ZIP_STORED), ("little", zipfile.ZIP_DEFLATED)])
def test_rewritten_zip(tmp_path, byteorder, compression):
    """Archives torch reads but does not write here: big-endian storages (saved on a big-endian machine) and
    compressed members (re-zipped by another tool)."""
    tensors = [(torch.randn(3, 2) * 100).to(dtype) for dtype in DTYPES]  # one storage each: keys 0, 1, ...
    little = _save(tensors, tmp_path / "little.pth")
    path = tmp_path / "rewritten.pth"
    with zipfile.ZipFile(little) as src, zipfile.ZipFile(path, "w", compression) as dst:
        for info in src.infolist():
            data = src.read(info)
            if byteorder == "big" and info.filename.endswith("/byteorder"):
                data = b"big"
            elif byteorder == "big" and "/data/" in info.filename:
                tensor = tensors[int(info.filename.rsplit("/", 1)[1])]
                unit = tensor.element_size() // (2 if tensor.is_complex() else 1)  # complex: each part alone
                data = np.frombuffer(data, f"u{unit}").byteswap().tobytes()
            dst.writestr(info.filename, data)
    reference = torch.load(path, weights_only=True)  # torch swaps back to native order
    for a, b in zip(reference, tensors):
        assert torch.equal(a, b)
    _assert_same(load_pth(path), reference)


def test_refuses_code(tmp_path):
    marker = tmp_path / "side_effect"
    path = _save({"weight": torch.ones(2), "evil": _Raw(os.system, f"touch {marker}")}, tmp_path / "x.pth")
    with pytest.raises(CheckpointError) as err:
        load_pth(path)
    assert not marker.exists()
    message = str(err.value)
    assert message.startswith("x.pth: refuses to load '") and "system" in message and "\n" not in message
    torch.load(path, weights_only=False)  # the payload is real: torch's unrestricted loader runs it
    assert marker.exists()


def _broken_files(tmp_path):
    zip_file = _save({"w": torch.randn(64, 64)}, tmp_path / "full.pth")
    legacy = _save({"w": torch.randn(64, 64)}, tmp_path / "full_legacy.pth", "legacy")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    return {"truncated_zip.pth": zip_file.read_bytes()[:zip_file.stat().st_size // 2],
            "truncated_legacy.pth": legacy.read_bytes()[:legacy.stat().st_size // 2],
            "random.pth": np.random.default_rng(0).bytes(5000), "empty.pth": b"", "image.pth": png,
            "notes.pth": b"just some text\n" * 20}


@pytest.mark.parametrize("name", ["truncated_zip.pth", "truncated_legacy.pth", "random.pth", "empty.pth",
                                  "image.pth", "notes.pth"])
def test_broken_files(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(_broken_files(tmp_path)[name])
    with pytest.raises(CheckpointError) as err:
        load_pth(path)
    message = str(err.value)
    assert message.startswith(f"{name}: ") and "\n" not in message and err.value.__cause__ is None
    with pytest.raises(Exception):  # torch rejects them too
        torch.load(path, weights_only=True)


def test_rejects_corrupt_storage_and_bad_views(tmp_path):
    path = _save({"w": torch.arange(16.0)}, tmp_path / "crc.pth")
    data = bytearray(path.read_bytes())
    data[data.find(torch.arange(16.0).numpy().tobytes()) + 5] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"^crc\.pth: corrupt crc/data/0 \(BadZipFile: bad CRC-32"):
        load_pth(path)
    beyond = _Raw(torch._utils._rebuild_tensor_v2, _typed_storage(torch.ones(12)), 4, (3, 3), (3, 1), False,
                  collections.OrderedDict())
    path = _save({"w": beyond}, tmp_path / "view.pth")
    with pytest.raises(CheckpointError, match=r"^view\.pth: a tensor reaches beyond its storage 0$"):
        load_pth(path)
    with pytest.raises(RuntimeError):  # torch refuses it as well
        torch.load(path, weights_only=True)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match=r"^absent\.pth: cannot read"):
        load_pth(tmp_path / "absent.pth")
    assert ReExported is CheckpointError and issubclass(CheckpointError, ValueError)


def test_works_without_torch(tmp_path):
    """In a process where ``import torch`` fails, the reader gives torch's dtypes, shapes and bytes."""
    files = {"zip.pth": _save(_tensors(), tmp_path / "zip.pth"),
             "legacy.pth": _save(_net(4).state_dict(), tmp_path / "legacy.pth", "legacy")}
    script = ("import sys, json, hashlib\n"
              "sys.modules['torch'] = None\n"
              "from ppgan_face.convert.pth_reader import load_pth\n"
              "print(json.dumps({f: {k: [str(a.dtype), a.shape, hashlib.sha256(a.tobytes()).hexdigest()]\n"
              "                      for k, a in load_pth(f).items()} for f in sys.argv[1:]}))\n")
    result = subprocess.run([sys.executable, "-c", script, *files], capture_output=True, text=True, cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    checksums = json.loads(result.stdout.splitlines()[-1])
    for name, path in files.items():
        reference = {k: _numpy(t) for k, t in torch.load(path, weights_only=True).items()}
        assert checksums[name] == {k: [str(a.dtype), list(a.shape), hashlib.sha256(a.tobytes()).hexdigest()]
                                   for k, a in reference.items()}
