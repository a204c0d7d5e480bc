"""Adam with StyleGAN2's lazy-regularisation scaling, and the learning-rate schedulers the recipes use."""
import paddle

SCHEDULERS = {"MultiStepLR": lambda lr, milestones, gamma: paddle.optimizer.lr.MultiStepDecay(lr, milestones, gamma)}


def reg_ratio(reg_every):
    """A regulariser applied every k steps with its loss ×k changes the effective step count by k/(k+1)
    (StyleGAN2): lr and betas are scaled by this ratio. ``None`` (no regulariser) gives 1."""
    return reg_every / (reg_every + 1) if reg_every else 1


def build_optimizer(parameters, options, scheduler=None, reg_every=None):
    """Adam from ``{type: Adam, lr, betas}``; lr × ratio and betas ** ratio (``reg_ratio``).

    ``scheduler`` ``{type: MultiStepLR, milestones, gamma}`` wraps the (scaled) lr; returns (optimizer, scheduler).
    """
    options = dict(options)
    kind = options.pop("type")
    if kind != "Adam":
        raise ValueError(f"unsupported optimizer {kind!r}; supported: Adam")
    ratio = reg_ratio(reg_every)
    lr = float(options.pop("lr")) * ratio
    beta1, beta2 = (float(b) ** ratio for b in options.pop("betas"))
    sched = None
    if scheduler:
        scheduler = dict(scheduler)
        kind = scheduler.pop("type")
        if kind not in SCHEDULERS:
            raise ValueError(f"unsupported scheduler {kind!r}; supported: {', '.join(SCHEDULERS)}")
        sched = SCHEDULERS[kind](lr, **scheduler)
    optimizer = paddle.optimizer.Adam(learning_rate=sched or lr, beta1=beta1, beta2=beta2,
                                      epsilon=float(options.pop("eps", 1e-8)), parameters=parameters, **options)
    return optimizer, sched
