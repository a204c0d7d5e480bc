"""One GPENModel iteration against a faithful torch re-composition of GPEN's ``train_simple.py`` loop body
(official FullGenerator / Discriminator from ModelScope's copy, same weights, batch and path-length noise).

Compared after the iteration: every logged loss, the discriminator's gradients (of the R1 step on the first
iteration, of the logistic loss on the second), the generator's gradients (of the path-length step on the
first iteration, of the G loss on the second), and the updated G, D and EMA parameters.
"""
import functools
import math

import numpy as np
import paddle
import pytest
import torch
import torch.nn.functional as TF

from ppgan_face.config import load_config
from ppgan_face.losses import g_path_regularize
from ppgan_face.models import build_model, gpen_model
from ppgan_face.models.base_model import bare
from tests.models.oracle_nets import assert_grads_close, assert_params_close, port
from tests.oracles import official

CONFIG = "configs/train/gpen_512_lite.yml"


def _torch_iteration(g, d, g_ema, g_optim, d_optim, lq, gt, i, noise, opt):
    """``train_simple.py``'s loop body for iteration ``i`` (the identity loss needs >= 256 px: omitted on both
    sides), with ``noise`` as the path-length draw."""
    t = opt["loss_schedule"]

    def requires_grad(model, flag):
        for p in model.parameters():
            p.requires_grad = flag

    log = {}
    requires_grad(g, False)
    requires_grad(d, True)
    fake, _ = g(lq)
    fake_pred, real_pred = d(fake), d(gt)
    log["l_d"] = TF.softplus(-real_pred).mean() + TF.softplus(fake_pred).mean()
    d.zero_grad()
    log["l_d"].backward()
    d_optim.step()
    if i % t["d_reg_every"] == 0:
        gt = gt.clone().requires_grad_(True)
        real_pred = d(gt)
        grad, = torch.autograd.grad(real_pred.sum(), gt, create_graph=True)
        r1 = grad.pow(2).view(grad.shape[0], -1).sum(1).mean()
        d.zero_grad()
        loss = t["r1"] / 2 * r1 * t["d_reg_every"] + 0 * real_pred[0]
        loss.backward()
        log["l_d_r1"] = loss.detach().mean()
        d_optim.step()
    requires_grad(g, True)
    requires_grad(d, False)
    fake, _ = g(lq)
    log["l_g_gan"] = TF.softplus(-d(fake)).mean()
    log["l_g_pix"] = torch.nn.SmoothL1Loss()(fake, gt)
    g.zero_grad()
    (log["l_g_gan"] + log["l_g_pix"]).backward()
    g_optim.step()
    if i % t["g_reg_every"] == 0:
        fake, latents = g(lq, return_latents=True)
        grad, = torch.autograd.grad((fake * noise).sum(), latents, create_graph=True)
        path_lengths = torch.sqrt(grad.pow(2).sum(2).mean(1))
        path_mean = 0 + t["path_decay"] * (path_lengths.mean() - 0)
        log["l_g_path"] = (path_lengths - path_mean).pow(2).mean()
        g.zero_grad()
        (t["path_regularize"] * t["g_reg_every"] * log["l_g_path"] + 0 * fake[0, 0, 0, 0]).backward()
        g_optim.step()
    decay = opt["train"]["ema_decay"]
    with torch.no_grad():
        ema, params = dict(g_ema.named_parameters()), dict(g.named_parameters())
        for k in ema:
            ema[k].mul_(decay).add_(params[k], alpha=1 - decay)
    return {k: float(v) for k, v in log.items()}


@pytest.mark.parametrize("current_iter", [1, 2])  # GPEN's i = 0 (R1 and path-length steps) and i = 1 (neither)
def test_one_iteration_matches_train_simple(current_iter, tmp_path, monkeypatch):
    config = load_config(CONFIG)
    ours = build_model(config)
    m, d_opt = config["model"], config["network_d"]
    gpen = official("modelscope.models.cv.image_portrait_enhancement.gpen")
    torch.manual_seed(0)
    g = port(gpen.FullGenerator(m["size"], m["style_dim"], m["n_mlp"], channel_multiplier=m["channel_multiplier"],
                                narrow=m["narrow"], isconcat=True), bare(ours.net_g), tmp_path / "g.pth")
    d = port(gpen.Discriminator(d_opt["size"], channel_multiplier=d_opt["channel_multiplier"],
                                narrow=d_opt["narrow"]), bare(ours.net_d), tmp_path / "d.pth")
    g_ema = gpen.FullGenerator(m["size"], m["style_dim"], m["n_mlp"], channel_multiplier=m["channel_multiplier"],
                               narrow=m["narrow"], isconcat=True)
    g_ema.load_state_dict(g.state_dict())
    ours.net_g_ema.set_state_dict(bare(ours.net_g).state_dict())
    t, schedule = config["train"], config["loss_schedule"]
    g_ratio = schedule["g_reg_every"] / (schedule["g_reg_every"] + 1)
    d_ratio = schedule["d_reg_every"] / (schedule["d_reg_every"] + 1)
    g_optim = torch.optim.Adam(g.parameters(), lr=t["optim_g"]["lr"] * g_ratio, betas=(0 ** g_ratio, 0.99 ** g_ratio))
    d_optim = torch.optim.Adam(d.parameters(), lr=t["optim_d"]["lr"] * d_ratio, betas=(0 ** d_ratio, 0.99 ** d_ratio))

    rs = np.random.RandomState(current_iter)
    size = m["size"]
    lq, gt = (rs.uniform(-1, 1, (2, 3, size, size)).astype(np.float32) for _ in range(2))
    noise = (rs.standard_normal((2, 3, size, size)) / math.sqrt(size * size)).astype(np.float32)
    monkeypatch.setattr(gpen_model, "g_path_regularize",
                        functools.partial(g_path_regularize, noise=paddle.to_tensor(noise)))

    ours.feed_data({"lq": lq, "gt": gt})
    ours.optimize_parameters(current_iter)
    theirs = _torch_iteration(g, d, g_ema, g_optim, d_optim, torch.from_numpy(lq), torch.from_numpy(gt),
                              current_iter - 1, torch.from_numpy(noise), config)

    for name, value in theirs.items():
        print(f"{name}: ours {ours.log_dict[name]:.7g}, upstream {value:.7g}")
        assert ours.log_dict[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name
    assert ("l_d_r1" in ours.log_dict) == (current_iter == 1)
    assert_grads_close(ours.net_d, d, f"GPEN D (iteration {current_iter})", rel_l2=1e-4)
    # the path-length penalty (a variance of path lengths) after an Adam step amplifies float rounding most
    assert_grads_close(ours.net_g, g, f"GPEN G (iteration {current_iter})", rel_l2=1e-3)
    assert_params_close(ours.net_g, g, "GPEN G after the step", rel_l2=1e-5)
    assert_params_close(ours.net_d, d, "GPEN D after the step", rel_l2=1e-5)
    assert_params_close(ours.net_g_ema, g_ema, "GPEN EMA", rel_l2=1e-5)
