"""ResNetArcFace against GFPGAN's official code, through a plain official checkpoint (arcface_resnet18.pth)."""
import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official


@pytest.mark.parametrize("use_se", [False, True], ids=["public-no-se", "se"])
def test_matches_official(use_se, tmp_path):
    config = dict(block="IRBlock", layers=[2, 2, 2, 2], use_se=use_se)
    torch.manual_seed(0)
    theirs = official("gfpgan.archs.arcface_arch").ResNetArcFace(**config).eval()
    randomize_(theirs)
    path = save_official(theirs.state_dict(), tmp_path / "arcface.pth")
    ours = build_arch({"type": "ResNetArcFace", **config})
    load_official_into(ours, path)
    ours.eval()

    gray = np.random.RandomState(0).uniform(-1, 1, (2, 1, 128, 128)).astype("float32")
    with torch.no_grad():
        ref = theirs(torch.from_numpy(gray))
    with paddle.no_grad():
        out = ours(paddle.to_tensor(gray))
    assert out.shape == [2, 512]
    # the embedding is not normalised (|values| reach ~20 with random weights): bound the error relative to it
    assert_close(out, ref, max_abs=1e-4 * max(1.0, float(ref.abs().max())), what=f"ResNetArcFace use_se={use_se}")
    with paddle.no_grad():
        np.testing.assert_array_equal(ours(paddle.to_tensor(gray)).numpy(), out.numpy())  # dropout off in eval


def test_rejects_unported_blocks():
    with pytest.raises(ValueError, match="IRBlock"):
        build_arch({"type": "ResNetArcFace", "block": "BasicBlock", "layers": [2, 2, 2, 2]})
