"""Identity similarity against GFPGAN's identity path: ``GFPGANModel.gray_resize_for_identity`` then the
official ResNetArcFace (random weights, saved as ``arcface_resnet18.pth`` is), cosine of the embeddings.

gfpgan_model.py cannot be imported here (it pulls the whole training stack), so the method's source is read
from the installed file and executed on its own.
"""
import ast
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ppgan_face.metrics import build_metric
from tests.metrics.images import degrade, face_like
from tests.oracles import assert_close, official, randomize_, save_official


def official_gray_resize():
    """``GFPGANModel.gray_resize_for_identity`` from the installed gfpgan, as a plain function."""
    path = Path(official("gfpgan.archs.arcface_arch").__file__).parent.parent / "models" / "gfpgan_model.py"
    source = path.read_text()
    method = next(node for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.FunctionDef) and node.name == "gray_resize_for_identity")
    namespace = {"F": F}
    exec(textwrap.dedent(ast.get_source_segment(source, method)), namespace)
    return namespace["gray_resize_for_identity"]


@pytest.fixture(scope="module")
def arcface(tmp_path_factory):
    torch.manual_seed(0)
    net = official("gfpgan.archs.arcface_arch").ResNetArcFace(block="IRBlock", layers=[2, 2, 2, 2], use_se=False)
    randomize_(net.eval())
    return net, save_official(net.state_dict(), tmp_path_factory.mktemp("arcface") / "arcface_resnet18.pth")


def _official_embedding(net, image):
    """BGR uint8 -> GFPGAN's network input (RGB in [-1, 1]) -> gray 128 -> ArcFace."""
    rgb = torch.from_numpy((image[..., ::-1].astype(np.float32).transpose(2, 0, 1).copy()[None] / 255.0 - 0.5) / 0.5)
    with torch.no_grad():
        return net(official_gray_resize()(None, rgb))


@pytest.mark.parametrize("size", [(64, 64), (160, 144)], ids=["upscaled", "downscaled"])
def test_matches_gfpgan_identity_path(arcface, size):
    net, path = arcface
    metric = build_metric("ids", {"type": "IdentitySimilarity", "arch": "arcface_resnet18", "weights": str(path)})
    gt = face_like(*size, seed=4)
    restored = degrade(gt)
    other = face_like(*size, seed=5)
    gt_embedding = _official_embedding(net, gt)
    assert_close(metric.embed([gt]), gt_embedding, max_abs=1e-4 * float(gt_embedding.abs().max()), what="embedding")
    scores = []
    for image in (restored, other):
        ref = float(F.cosine_similarity(_official_embedding(net, image), gt_embedding).item())
        scores.append(metric(image, gt))
        print(f"identity {size}: official {ref:.7f}, ours {scores[-1]:.7f}")
        assert abs(scores[-1] - ref) <= 2e-6
    assert scores[1] < scores[0]  # a different face is less similar than a degraded copy
