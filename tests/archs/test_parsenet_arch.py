"""ParseNet against facexlib's network, through the official checkpoint format (plain state dict)."""
import numpy as np
import paddle
import torch

from ppgan_face.archs import build_arch
from ppgan_face.config import load_config
from ppgan_face.convert import convert_checkpoint, load_official_into
from ppgan_face.inference import DygraphRunner
from tests.oracles import assert_close, official, randomize_, save_official

# every block kind (down, body, up, shortcut convs) with few channels, at the pipeline's 512 input
SMALL_512 = dict(in_size=512, out_size=512, min_feat_size=128, base_ch=8, res_depth=1, ch_range=[8, 16])


def parsenet_pair(tmp_path, seed=0, **config):
    """(our ParseNet runner, facexlib's ParseNet) with the same random weights, converted from its file."""
    config = config or SMALL_512
    torch.manual_seed(seed)
    theirs = randomize_(official("facexlib.parsing.parsenet").ParseNet(**config).eval(), seed=seed)
    path = save_official(theirs.state_dict(), tmp_path / "parsing_parsenet.pth")
    ours = load_official_into(build_arch({"type": "ParseNet", **config}), path)
    return DygraphRunner(ours), theirs


def test_small_parsenet_matches_facexlib(tmp_path):
    config = dict(in_size=64, out_size=64, min_feat_size=16, base_ch=16, res_depth=2, ch_range=[8, 48])
    ours, theirs = parsenet_pair(tmp_path, **config)
    x = np.random.RandomState(0).uniform(-1, 1, (2, 3, 64, 64)).astype("float32")
    mine = ours(x)
    with torch.no_grad():
        ref = theirs(torch.from_numpy(x))
    assert mine[0].shape == (2, 19, 64, 64) and mine[1].shape == (2, 3, 64, 64)
    for name, a, b in zip(("parsing", "image"), mine, ref):
        assert_close(a, b, what=f"ParseNet {name}")


def test_public_config_converts_by_detection(tmp_path):
    """The public architecture (in_size 512): the official file is recognised and loads strictly."""
    model = {k: v for k, v in load_config("parsenet")["model"].items() if k != "type"}
    torch.manual_seed(0)
    theirs = official("facexlib.parsing.parsenet").ParseNet(**model)
    assert len(theirs.state_dict()) == 238 and sum(p.numel() for p in theirs.parameters()) == 21_303_254
    src = save_official(theirs.state_dict(), tmp_path / "parsing_parsenet.pth")
    result = convert_checkpoint(str(src), str(tmp_path / "parsenet.pdparams"))
    assert result["config"] == "parsenet"
    converted = paddle.load(str(tmp_path / "parsenet.pdparams"))
    np.testing.assert_array_equal(converted["encoder.1.conv1.norm.norm._mean"],
                                  theirs.state_dict()["encoder.1.conv1.norm.norm.running_mean"].numpy())
