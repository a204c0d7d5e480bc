"""GFPGAN's facial-component losses: RoI crops of the eyes and mouth, and the Gram style loss on the
component discriminators' features (``gfpgan/models/gfpgan_model.py``). The component GAN loss itself is a
``GANLoss`` (vanilla in GFPGAN's config)."""
import numpy as np
import paddle
import paddle.nn as nn

from ppgan_face.losses.basic_loss import gram_matrix
from ppgan_face.losses.roi_align import roi_align
from ppgan_face.registry import LOSS_REGISTRY


def _as_numpy(x):
    return x.numpy() if isinstance(x, paddle.Tensor) else np.asarray(x)


def crop_components(images, loc_left_eye, loc_right_eye, loc_mouth, out_size, eye_size=80, mouth_size=120):
    """(left eyes, right eyes, mouths) RoI-aligned from ``images`` (N×C×H×W) at the dataset's boxes (N×4 each).

    As upstream: face_ratio = int(out_size / 512) scales the crop sizes and multiplies the crops' values.
    """
    face_ratio = int(out_size / 512)
    if face_ratio < 1:
        raise ValueError(f"GFPGAN's component crops need out_size >= 512 (face_ratio = int(out_size / 512)), "
                         f"got {out_size}")
    left, right, mouth = (_as_numpy(v).reshape(-1, 4) for v in (loc_left_eye, loc_right_eye, loc_mouth))
    index = np.arange(len(left), dtype=np.float32)[:, None]
    eyes = np.stack([np.hstack((index, left)), np.hstack((index, right))], axis=1).reshape(-1, 5)
    all_eyes = roi_align(images, eyes, eye_size * face_ratio) * face_ratio
    mouths = roi_align(images, np.hstack((index, mouth)), mouth_size * face_ratio) * face_ratio
    return all_eyes[0::2], all_eyes[1::2], mouths


@LOSS_REGISTRY.register()
class ComponentStyleLoss(nn.Layer):
    """Σ over components of L1(Gram(f₁), Gram(g₁))·0.5 + L1(Gram(f₂), Gram(g₂)), × ``loss_weight``
    (``comp_style_weight``, 200 in GFPGAN). ``fake_feats`` / ``real_feats``: per component, the two feature maps
    a FacialComponentDiscriminator returns with ``return_feats=True``; the real ones are detached."""

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, fake_feats, real_feats):
        total = 0
        for fake, real in zip(fake_feats, real_feats):
            total += paddle.abs(gram_matrix(fake[0]) - gram_matrix(real[0].detach())).mean() * 0.5
            total += paddle.abs(gram_matrix(fake[1]) - gram_matrix(real[1].detach())).mean()
        return total * self.loss_weight
