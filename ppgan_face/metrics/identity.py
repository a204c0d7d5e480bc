"""Identity similarity: cosine of the ArcFace embeddings of the restored face and its GT.

The embedding is GFPGAN's identity-loss path (``GFPGANModel.gray_resize_for_identity`` + ResNetArcFace):
RGB in [-1, 1] -> gray 0.2989 R + 0.5870 G + 0.1140 B -> bilinear resize to 128x128 -> ``arcface_resnet18``.
1 is the same identity; unrelated faces score near 0.
"""
import numpy as np
import paddle
import paddle.nn.functional as F

from ppgan_face.metrics.base import FullReferenceMetric
from ppgan_face.metrics.networks import bgr_to_tensor, build_from_config
from ppgan_face.registry import METRIC_REGISTRY


def gray_resize(rgb, size=128):
    """(N, 3, H, W) RGB in [-1, 1] -> (N, 1, size, size) gray, as GFPGAN feeds its ArcFace."""
    gray = 0.2989 * rgb[:, 0] + 0.5870 * rgb[:, 1] + 0.1140 * rgb[:, 2]
    return F.interpolate(gray.unsqueeze(1), size=(size, size), mode="bilinear", align_corners=False)


def cosine_similarity(a, b):
    """Cosine of two vectors, in float64."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


@METRIC_REGISTRY.register()
class IdentitySimilarity(FullReferenceMetric):
    """ArcFace cosine similarity of restored and GT (higher is better).

    Args:
        arch (str): config of the recognition network (GFPGAN's ``arcface_resnet18``).
        weights (str): its converted weights (default: the config's ``weights``).
        size (int): side of the gray face the network takes.
    """

    def __init__(self, arch="arcface_resnet18", weights=None, size=128):
        self.net = build_from_config(arch, weights, what="ids")
        self.size = size

    def embed(self, images):
        """BGR uint8 faces -> (N, 512) embeddings (each image resized on its own, so sizes may differ)."""
        grays = [gray_resize(bgr_to_tensor([image]), self.size) for image in images]
        with paddle.no_grad():
            return self.net(paddle.concat(grays)).numpy()

    def __call__(self, restored, gt):
        restored_feature, gt_feature = self.embed([restored, gt])
        return cosine_similarity(restored_feature, gt_feature)
