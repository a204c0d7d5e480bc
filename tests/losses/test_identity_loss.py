"""Identity losses against GFPGAN (gray_resize_for_identity + ResNetArcFace + L1) and GPEN's IDLoss (through
modelscope's copy: at 256 px its extra pooling is the identity, so it equals GPEN's crop-by-scale)."""
import types

import numpy as np
import paddle
import torch

from ppgan_face.losses import build_loss
from tests.oracles import official, randomize_, save_official
from tests.training_oracles import (assert_value_and_grads, gfpgan_model_class, paddle_value_and_grads,
                                    torch_value_and_grads)


def test_arcface_identity_matches_gfpgan(tmp_path):
    arch = official("gfpgan.archs.arcface_arch")
    torch.manual_seed(0)
    net = randomize_(arch.ResNetArcFace(block="IRBlock", layers=(2, 2, 2, 2), use_se=False)).eval()
    path = save_official(net.state_dict(), tmp_path / "arcface_resnet18.pth")
    ours = build_loss({"type": "ArcFaceIdentityLoss", "loss_weight": 10, "pretrained": str(path)})
    model = gfpgan_model_class()
    l1 = official("basicsr.losses.basic_loss").L1Loss()

    def theirs(output, gt):
        state = types.SimpleNamespace()
        identity_gt = net(model.gray_resize_for_identity(state, gt)).detach()
        return l1(net(model.gray_resize_for_identity(state, output)), identity_gt) * 10

    rs = np.random.RandomState(0)
    output, gt = (rs.uniform(-1, 1, (2, 3, 64, 64)).astype("float32") for _ in range(2))
    assert_value_and_grads(paddle_value_and_grads(ours, output, gt), torch_value_and_grads(theirs, output, gt),
                           "ArcFace identity")
    assert all(p.stop_gradient for p in ours.parameters())
    before = ours(paddle.to_tensor(output), paddle.to_tensor(gt)).numpy()
    paddle.nn.Sequential(ours).train()  # as a training model containing the loss would
    np.testing.assert_array_equal(ours(paddle.to_tensor(output), paddle.to_tensor(gt)).numpy(), before)


def test_gpen_identity_matches_gpen(tmp_path):
    losses = official("modelscope.models.cv.image_portrait_enhancement.losses.losses")
    torch.manual_seed(0)
    backbone = official("modelscope.models.cv.image_portrait_enhancement.losses.model_irse").Backbone(
        input_size=112, num_layers=50, drop_ratio=0.6, mode="ir_se")
    state = randomize_(backbone).state_dict()
    theirs = losses.IDLoss(None, device="cpu", ckpt_dict=state)
    ours = build_loss({"type": "GPENIdentityLoss", "pretrained": str(save_official(state, tmp_path / "ir_se50.pth"))})
    rs = np.random.RandomState(1)
    y_hat, y, x = (rs.uniform(-1, 1, (1, 3, 256, 256)).astype("float32") for _ in range(3))
    forward = losses.IDLoss.forward.__wrapped__  # upstream's forward without modelscope's no_grad decorator
    # compared as the cosine 1 − loss: a random IR-SE50 maps all faces to nearly one direction, and the loss
    # (≈ 0.01) would measure float32 cancellation rather than the port; for the same reason the gradient (the
    # small part of the target orthogonal to the unit embedding) carries ~1e-5 of rounding
    assert_value_and_grads(paddle_value_and_grads(lambda a, b: 1 - ours(a, b), y_hat, y),
                           torch_value_and_grads(lambda a, b: 1 - forward(theirs, a, b, torch.from_numpy(x))[0],
                                                 y_hat, y), "GPEN identity (as cosine)", grad_rel_l2=5e-5)
