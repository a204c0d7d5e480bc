"""Element-wise weighting and reduction shared by the pixel losses (BasicSR ``losses/loss_util.py``)."""

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"unsupported reduction {reduction!r}; supported: {', '.join(REDUCTIONS)}")
    return reduction


def weight_reduce_loss(loss, weight=None, reduction="mean"):
    """Multiply by an element-wise ``weight`` (N×1×… or N×C×…) and reduce; with a weight, 'mean' averages over
    the weighted region (sum of weights, times C when the weight has one channel), as BasicSR does."""
    if weight is not None:
        if weight.ndim != loss.ndim or weight.shape[1] not in (1, loss.shape[1]):
            raise ValueError(f"weight shape {list(weight.shape)} does not fit loss shape {list(loss.shape)}")
        loss = loss * weight
    if reduction == "none":
        return loss
    if weight is None or reduction == "sum":
        return loss.mean() if reduction == "mean" else loss.sum()
    total = weight.sum() if weight.shape[1] > 1 else weight.sum() * loss.shape[1]
    return loss.sum() / total
