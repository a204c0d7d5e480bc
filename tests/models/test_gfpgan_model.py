"""One GFPGANModel iteration against the official ``GFPGANModel.optimize_parameters`` (gfpgan 1.3.8), run on
the same weights (official random networks ported through the converter), batch and component boxes.

The official method runs as published; only what BasicSR's BaseModel would provide is filled in (its
networks, optimisers built with ``setup_optimizers``' formulas, losses, ``model_ema``, ``reduce_loss_dict``).
Both generators use their stored decoder noise (ours in eval mode, upstream with ``randomize_noise=False``),
the only change needed to make a training step deterministic. Iteration 16 includes the R1 step.

Compared after the iteration: every logged loss; the gradients of G (the G step), of D (logistic loss + R1)
and of the three component discriminators; the updated EMA generator.
"""
import functools

import numpy as np
import pytest
import torch

from ppgan_face.config import load_config
from ppgan_face.models import build_model
from ppgan_face.models.base_model import bare
from tests.models.oracle_nets import assert_grads_close, assert_params_close, port
from tests.oracles import official, randomize_, save_official
from tests.training_oracles import gfpgan_model_class

PARTS = ("left_eye", "right_eye", "mouth")


def _official_vgg_perceptual(options, tmp_path):
    """BasicSR's PerceptualLoss on random VGG19 weights, and a torchvision-format file of them for ours."""
    vgg_arch = official("basicsr.archs.vgg_arch")
    torch.manual_seed(3)
    features = randomize_(vgg_arch.vgg.vgg19().features)
    path = save_official(features.state_dict(), tmp_path / "vgg19.pth", prefix="features.")
    default, vgg_arch.VGG_PRETRAIN_PATH = vgg_arch.VGG_PRETRAIN_PATH, "/nonexistent/vgg19.pth"
    try:
        loss = official("basicsr.losses.basic_loss").PerceptualLoss(
            options["layer_weights"], vgg_type="vgg19", use_input_norm=True, range_norm=True,
            perceptual_weight=options["perceptual_weight"], style_weight=options["style_weight"], criterion="l1")
    finally:
        vgg_arch.VGG_PRETRAIN_PATH = default
    for layer, source in zip(loss.vgg.vgg_net, features):
        layer.load_state_dict(source.state_dict())
    return loss, path


def _official_model(config, ours, tmp_path):
    """The official GFPGANModel with every attribute its optimize_parameters reads, on our model's weights."""
    t, m, losses, schedule = config["train"], config["model"], config["losses"], config["loss_schedule"]
    cls = gfpgan_model_class()
    theirs = cls.__new__(cls)
    gfpgan_arch, sg2_arch = official("gfpgan.archs.gfpganv1_arch"), official("basicsr.archs.stylegan2_arch")
    basic_loss, gan_loss = official("basicsr.losses.basic_loss"), official("basicsr.losses.gan_loss")
    g_kwargs = {k: v for k, v in m.items() if k != "type"}
    torch.manual_seed(0)
    theirs.net_g = port(gfpgan_arch.GFPGANv1(**g_kwargs), bare(ours.net_g), tmp_path / "g.pth", key="params")
    theirs.net_g.forward = functools.partial(gfpgan_arch.GFPGANv1.forward, theirs.net_g, randomize_noise=False)
    theirs.net_g_ema = gfpgan_arch.GFPGANv1(**g_kwargs)
    theirs.net_g_ema.load_state_dict(theirs.net_g.state_dict())
    ours.net_g_ema.set_state_dict(bare(ours.net_g).state_dict())
    d_kwargs = {k: v for k, v in config["network_d"].items() if k != "type"}
    theirs.net_d = port(sg2_arch.StyleGAN2Discriminator(**d_kwargs), bare(ours.net_d), tmp_path / "d.pth")
    ratio = schedule["net_d_reg_every"] / (schedule["net_d_reg_every"] + 1)
    theirs.optimizer_g = torch.optim.Adam(theirs.net_g.parameters(), t["optim_g"]["lr"], betas=(0.0, 0.99))
    theirs.optimizer_d = torch.optim.Adam(theirs.net_d.parameters(), t["optim_d"]["lr"] * ratio,
                                          betas=(0 ** ratio, 0.99 ** ratio))
    theirs.opt = {"network_g": {"out_size": m["out_size"]},
                  "train": {"pyramid_loss_weight": losses["pyramid"]["loss_weight"],
                            "remove_pyramid_loss": schedule["remove_pyramid_loss"]}}
    theirs.log_size = int(np.log2(m["out_size"]))
    theirs.cri_pix = basic_loss.L1Loss(losses["pixel"]["loss_weight"])
    theirs.cri_l1 = basic_loss.L1Loss(1.0)
    theirs.cri_perceptual, vgg_file = _official_vgg_perceptual(losses["perceptual"], tmp_path)
    theirs.cri_gan = gan_loss.GANLoss("wgan_softplus", loss_weight=losses["gan"]["loss_weight"])
    theirs.net_d_iters, theirs.net_d_init_iters = schedule["net_d_iters"], schedule["net_d_init_iters"]
    theirs.net_d_reg_every, theirs.r1_reg_weight = schedule["net_d_reg_every"], schedule["r1_reg_weight"]
    theirs.use_facial_disc = bool(config["network_d_left_eye"])
    theirs.use_identity = bool(losses["identity"])
    if theirs.use_facial_disc:
        crop = t["component_crop"]
        theirs.opt["network_g"]["out_size"] = crop.get("out_size", m["out_size"])  # what face_ratio uses
        theirs.device = "cpu"
        # upstream hard-codes 80 / 120 px crops (x face_ratio); the lite config's are smaller
        theirs.get_roi_regions = lambda **_: cls.get_roi_regions(theirs, crop["eye_size"], crop["mouth_size"])
        theirs.opt["train"]["comp_style_weight"] = losses["component_style"]["loss_weight"]
        theirs.cri_component = gan_loss.GANLoss("vanilla", 1.0, 0.0, losses["gan_component"]["loss_weight"])
        for i, part in enumerate(PARTS):
            torch.manual_seed(10 + i)
            net = port(gfpgan_arch.FacialComponentDiscriminator(), bare(ours.nets[f"net_d_{part}"]),
                       tmp_path / f"d_{part}.pth", key="params")
            setattr(theirs, f"net_d_{part}", net)
            setattr(theirs, f"optimizer_d_{part}", torch.optim.Adam(net.parameters(), t["optim_component"]["lr"],
                                                                      betas=(0.9, 0.99)))
    if theirs.use_identity:
        theirs.opt["train"]["identity_weight"] = losses["identity"]["loss_weight"]
        torch.manual_seed(20)
        theirs.network_identity = port(official("gfpgan.archs.arcface_arch").ResNetArcFace(
            "IRBlock", [2, 2, 2, 2], use_se=False), ours.cri_identity.net, tmp_path / "arcface.pth").eval()
    config_decay = t["ema_decay"]

    def model_ema(decay):  # BasicSR BaseModel.model_ema
        assert decay == pytest.approx(config_decay)
        ema, params = dict(theirs.net_g_ema.named_parameters()), dict(theirs.net_g.named_parameters())
        with torch.no_grad():
            for k in ema:
                ema[k].mul_(decay).add_(params[k], alpha=1 - decay)

    theirs.model_ema = model_ema
    theirs.reduce_loss_dict = lambda losses: {k: float(v.mean()) for k, v in losses.items()}
    return theirs, vgg_file


@pytest.mark.parametrize("config_path", ["configs/train/gfpgan_v1_simple_lite.yml", "configs/train/gfpgan_v1_lite.yml"])
def test_one_iteration_matches_official_gfpgan_model(config_path, tmp_path):
    config = load_config(config_path)
    vgg_file = tmp_path / "vgg19.pth"
    config["losses"]["perceptual"]["pretrained"] = str(vgg_file)
    # our loss builds its VGG from the file, so write it before building our model
    _official_vgg_perceptual(config["losses"]["perceptual"], tmp_path)
    ours = build_model(config)
    theirs, _ = _official_model(config, ours, tmp_path)
    bare(ours.net_g).eval()  # stored decoder noise, like randomize_noise=False upstream

    size = config["model"]["out_size"]
    rs = np.random.RandomState(4)
    data = {"lq": rs.uniform(-1, 1, (2, 3, size, size)).astype(np.float32),
            "gt": rs.uniform(-1, 1, (2, 3, size, size)).astype(np.float32)}
    if theirs.use_facial_disc:
        for part, (cx, cy, half) in zip(PARTS, ((11.2, 14.6, 3.1), (21.0, 14.2, 3.3), (16.4, 23.1, 4.2))):
            centres = np.array([[cx, cy], [cx + 0.7, cy - 0.4]], np.float32)
            data[f"loc_{part}"] = np.hstack([centres - half + 1, centres + half]).astype(np.float32)
    ours.feed_data(data)
    ours.optimize_parameters(16)
    theirs.lq, theirs.gt = torch.from_numpy(data["lq"]), torch.from_numpy(data["gt"])
    if theirs.use_facial_disc:
        theirs.loc_left_eyes, theirs.loc_right_eyes, theirs.loc_mouths = (
            torch.from_numpy(data[f"loc_{part}"]) for part in PARTS)
    theirs.optimize_parameters(16)

    upstream = dict(theirs.log_dict)
    upstream["l_g_pyramid"] = sum(upstream.pop(f"l_p_{2 ** (i + 3)}") for i in range(theirs.log_size - 2))
    assert set(upstream) == set(ours.log_dict) - {"l_g_total"}
    for name, value in upstream.items():
        print(f"{name}: ours {ours.log_dict[name]:.7g}, upstream {value:.7g}")
        assert ours.log_dict[name] == pytest.approx(value, rel=2e-4, abs=1e-6), name
    assert_grads_close(ours.net_g, theirs.net_g, "GFPGAN G", rel_l2=1e-3)
    assert_grads_close(ours.net_d, theirs.net_d, "GFPGAN D (+ R1)", rel_l2=1e-4)
    for part in PARTS if theirs.use_facial_disc else ():
        assert_grads_close(ours.nets[f"net_d_{part}"], getattr(theirs, f"net_d_{part}"), f"D {part}", rel_l2=1e-4)
    assert_params_close(ours.net_g_ema, theirs.net_g_ema, "GFPGAN EMA", rel_l2=1e-5)
