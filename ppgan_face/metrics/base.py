"""What every metric is: built from its config options, then called once per image (pair)."""


class MetricError(ValueError):
    """A metric cannot be built or run (missing weights, unknown option); the message is one line for users."""


class FullReferenceMetric:
    """Compares a restored image with its ground truth; both BGR uint8 (H, W, 3), as ``cv2.imread`` gives."""

    needs_gt = True
    higher_is_better = True

    def __call__(self, restored, gt):
        raise NotImplementedError


class NoReferenceMetric(FullReferenceMetric):
    """Judges the restored image alone; ``gt`` is ignored."""

    needs_gt = False
