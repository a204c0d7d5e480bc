"""IRSEBackbone against facexlib's and GPEN's (modelscope) ``Backbone``, through a plain official checkpoint."""
import numpy as np
import paddle
import pytest
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from tests.oracles import assert_close, official, randomize_, save_official


def _official(source, mode, affine):
    if source == "facexlib":  # model_ir_se50.pth's network
        return official("facexlib.recognition.arcface_arch").Backbone(num_layers=50, drop_ratio=0.4, mode=mode)
    module = official("modelscope.models.cv.image_portrait_enhancement.losses.model_irse")
    return module.Backbone(input_size=112, num_layers=50, mode=mode, drop_ratio=0.4, affine=affine)


@pytest.mark.parametrize("source,mode,affine,batch", [("facexlib", "ir_se", True, 2), ("gpen", "ir", False, 1)],
                         ids=["facexlib-ir_se50", "gpen-ir50-no-affine"])
def test_matches_official(source, mode, affine, batch, tmp_path):
    torch.manual_seed(0)
    theirs = _official(source, mode, affine).eval()
    randomize_(theirs)
    path = save_official(theirs.state_dict(), tmp_path / "model_ir_se50.pth")
    ours = build_arch({"type": "IRSEBackbone", "input_size": 112, "num_layers": 50, "mode": mode,
                       "drop_ratio": 0.4, "affine": affine})
    load_official_into(ours, path)
    ours.eval()

    face = np.random.RandomState(0).uniform(-1, 1, (batch, 3, 112, 112)).astype("float32")
    with torch.no_grad():
        ref = theirs(torch.from_numpy(face))
    with paddle.no_grad():
        out = ours(paddle.to_tensor(face))
        again = ours(paddle.to_tensor(face))
    assert out.shape == [batch, 512]
    assert_close(out, ref, what=f"{source} {mode}50")
    np.testing.assert_array_equal(again.numpy(), out.numpy())  # dropout off in eval
