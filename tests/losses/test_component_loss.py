"""Facial-component crops and style loss against GFPGAN's ``get_roi_regions`` / Gram / L1, through real
FacialComponentDiscriminators; roi_align against a direct transcription of torchvision's kernel (torchvision
itself cannot be imported here: see tests/torchvision_standin.py)."""
import sys
import types

import numpy as np
import paddle
import torch

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_official_into
from ppgan_face.losses import build_loss
from ppgan_face.losses.component_loss import crop_components
from ppgan_face.losses.roi_align import roi_align
from tests.oracles import official, randomize_, save_official
from tests.training_oracles import (assert_value_and_grads, gfpgan_model_class, paddle_value_and_grads,
                                    torch_value_and_grads)


def test_roi_align_matches_torchvision_semantics():
    image = np.random.RandomState(0).uniform(-1, 1, (2, 3, 20, 24)).astype("float32")
    boxes = np.array([[0, 3.3, 2.7, 15.1, 11.9],     # inside, fractional
                      [1, -3.0, -2.5, 8.0, 6.0],      # over the top-left border
                      [1, 18.2, 14.0, 26.5, 23.0],    # over the bottom-right border
                      [0, 5.0, 5.0, 5.4, 5.2],        # smaller than a pixel (size clamped to 1)
                      [1, 0.0, 0.0, 24.0, 20.0]],     # the whole image, several samples per bin
                     dtype="float32")
    official("basicsr.data.degradations")  # installs the torchvision stand-in
    tv_roi_align = sys.modules["torchvision.ops"].roi_align
    for size in (7, (5, 3)):
        g = np.random.RandomState(1).normal(size=(5, 3) + ((size, size) if isinstance(size, int) else size))
        g = g.astype("float32")
        assert_value_and_grads(
            paddle_value_and_grads(lambda x: (roi_align(x, boxes, size) * paddle.to_tensor(g)).sum(), image),
            torch_value_and_grads(lambda x: (tv_roi_align(x, torch.from_numpy(boxes), size) * torch.from_numpy(g))
                                  .sum(), image), f"roi_align {size}")
        with paddle.no_grad():
            crops = roi_align(paddle.to_tensor(image), boxes, size).numpy()
        np.testing.assert_allclose(crops, tv_roi_align(torch.from_numpy(image), torch.from_numpy(boxes), size)
                                   .numpy(), rtol=0, atol=2e-6)


def _discriminators(seed):
    arch = official("gfpgan.archs.gfpganv1_arch")
    pairs = []
    for i in range(3):
        torch.manual_seed(seed + i)
        theirs = randomize_(arch.FacialComponentDiscriminator())
        ours = build_arch({"type": "FacialComponentDiscriminator"})
        pairs.append((ours, theirs))
    return pairs


def test_component_crops_and_style_loss_match_gfpgan(tmp_path):
    """out_size 512: GFPGAN crops eyes at 80 px and mouths at 120 px (× int(out_size / 512))."""
    rs = np.random.RandomState(2)
    gt = rs.uniform(-1, 1, (2, 3, 512, 512)).astype("float32")
    output = rs.uniform(-1, 1, (2, 3, 512, 512)).astype("float32")
    locs = [np.array([[cx - h + 1, cy - h + 1, cx + h, cy + h] for cx, cy, h in centres], dtype="float32")
            for centres in ([(180.5, 240.2, 42.0), (190.1, 236.7, 40.3)], [(330.0, 241.0, 42.0), (320.4, 238.2, 39.9)],
                            [(256.3, 370.8, 60.1), (250.2, 366.0, 62.7)])]
    pairs = _discriminators(0)
    for i, (ours, theirs) in enumerate(pairs):
        load_official_into(ours, save_official(theirs.state_dict(), tmp_path / f"d{i}.pth"))
    model = gfpgan_model_class()
    l1 = official("basicsr.losses.basic_loss").L1Loss()

    def theirs_crops(output, gt):
        state = types.SimpleNamespace(opt={"network_g": {"out_size": 512}}, device="cpu",
                                      gt=torch.as_tensor(gt), output=torch.as_tensor(output),
                                      loc_left_eyes=torch.from_numpy(locs[0]),
                                      loc_right_eyes=torch.from_numpy(locs[1]), loc_mouths=torch.from_numpy(locs[2]))
        model.get_roi_regions(state, eye_out_size=80, mouth_out_size=120)
        return state

    def theirs_loss(output, gt):
        state = theirs_crops(output, gt)
        gram = lambda x: model._gram_mat(state, x)  # noqa: E731
        total = 0
        for (_, d), fake, real in zip(pairs, (state.left_eyes, state.right_eyes, state.mouths),
                                      (state.left_eyes_gt, state.right_eyes_gt, state.mouths_gt)):
            _, f = d(fake, return_feats=True)
            _, r = d(real, return_feats=True)
            # gfpgan_model.py's _comp_style, with cri_l1 = L1Loss(loss_weight 1)
            total = total + l1(gram(f[0]), gram(r[0].detach())) * 0.5 + l1(gram(f[1]), gram(r[1].detach()))
        return total * 200

    style = build_loss({"type": "ComponentStyleLoss", "loss_weight": 200})

    def ours_loss(output, gt):
        fakes = crop_components(output, *locs, out_size=512)
        reals = crop_components(gt, *locs, out_size=512)
        assert [tuple(c.shape) for c in fakes] == [(2, 3, 80, 80), (2, 3, 80, 80), (2, 3, 120, 120)]
        fake_feats = [d(c, return_feats=True)[1] for (d, _), c in zip(pairs, fakes)]
        real_feats = [d(c, return_feats=True)[1] for (d, _), c in zip(pairs, reals)]
        return style(fake_feats, real_feats)
    # The loss is an L1 of Gram matrices (65k entries per 256-channel map): its gradient flips sign at entries
    # where fake and real Grams nearly coincide, and float rounding decides those few; hence the gradient bound.
    assert_value_and_grads(paddle_value_and_grads(ours_loss, output, gt), torch_value_and_grads(theirs_loss, output, gt),
                           "component style", grad_rel_l2=1e-3)
    ref = theirs_crops(output, gt)
    with paddle.no_grad():
        for name, crop in zip(("left_eyes", "right_eyes", "mouths"), crop_components(paddle.to_tensor(output), *locs,
                                                                                     out_size=512)):
            np.testing.assert_allclose(crop.numpy(), getattr(ref, name).numpy(), rtol=0, atol=3e-6)


def test_component_style_loss_gradients_exactly():
    """The style loss alone on given feature maps (no fake/real Gram entries nearly equal, so the L1's sign is
    the same in both frameworks): values and gradients to 1e-5."""
    rs = np.random.RandomState(3)
    feats = [rs.normal(size=(2, c, s, s)).astype("float32") for _ in range(3) for c, s in ((6, 5), (8, 3))]
    reals = [rs.normal(size=f.shape).astype("float32") for f in feats]
    model = gfpgan_model_class()
    l1 = official("basicsr.losses.basic_loss").L1Loss()
    gram = lambda x: model._gram_mat(None, x)  # noqa: E731
    for f, r in zip(feats, reals):
        assert (gram(torch.from_numpy(f)) - gram(torch.from_numpy(r))).abs().min() > 1e-6

    def theirs(*fs):
        return sum(l1(gram(fs[2 * i]), gram(torch.from_numpy(reals[2 * i]))) * 0.5
                   + l1(gram(fs[2 * i + 1]), gram(torch.from_numpy(reals[2 * i + 1]))) for i in range(3)) * 200

    style = build_loss({"type": "ComponentStyleLoss", "loss_weight": 200})

    def ours(*fs):
        real = [paddle.to_tensor(r) for r in reals]
        return style([fs[0:2], fs[2:4], fs[4:6]], [real[0:2], real[2:4], real[4:6]])
    assert_value_and_grads(paddle_value_and_grads(ours, *feats), torch_value_and_grads(theirs, *feats), "style loss")
