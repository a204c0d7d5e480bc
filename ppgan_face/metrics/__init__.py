"""Image-quality metrics of restored faces. Importing this package registers every metric in METRIC_REGISTRY.

A metric is a class built from its YAML options (``configs/eval/*.yml``) and called per image:
``metric(restored, gt)`` with BGR uint8 arrays, as ``cv2.imread`` reads them.
"""
from ppgan_face.metrics import identity, landmark, lpips, niqe, psnr_ssim  # noqa: F401  (registration)
from ppgan_face.metrics.base import FullReferenceMetric, MetricError, NoReferenceMetric
from ppgan_face.metrics.niqe import calculate_niqe
from ppgan_face.metrics.psnr_ssim import calculate_psnr, calculate_ssim
from ppgan_face.registry import METRIC_REGISTRY


def metric_class(name, options):
    """The class a metric config ``{"type": ClassName, ...}`` names (cheap: builds nothing)."""
    if not isinstance(options, dict) or "type" not in options:
        raise MetricError(f"{name}: the metric config has no 'type' (one of {', '.join(METRIC_REGISTRY.keys())})")
    try:
        return METRIC_REGISTRY.get(options["type"])
    except KeyError as err:
        raise MetricError(f"{name}: {err.args[0]}") from None


def build_metric(name, options):
    """Build the metric ``{"type": ClassName, **kwargs}`` named ``name`` (its CSV column)."""
    cls = metric_class(name, options)
    options = {key: value for key, value in options.items() if key != "type"}
    try:
        return cls(**options)
    except TypeError as err:
        raise MetricError(f"{name}: {err}") from None


__all__ = ["METRIC_REGISTRY", "FullReferenceMetric", "MetricError", "NoReferenceMetric", "build_metric",
           "calculate_niqe", "calculate_psnr", "calculate_ssim", "metric_class"]
