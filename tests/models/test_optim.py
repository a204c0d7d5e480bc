"""Adam with lazy-regularisation scaling and the MultiStepLR schedule, as upstream sets them up."""
import paddle
import pytest

from ppgan_face.models.optim import build_optimizer


def test_lr_and_betas_are_scaled_by_the_regularisation_interval():
    params = [paddle.create_parameter([2], "float32")]
    optimizer, scheduler = build_optimizer(params, {"type": "Adam", "lr": 2e-3, "betas": [0, 0.99]}, reg_every=16)
    assert scheduler is None
    assert optimizer.get_lr() == pytest.approx(2e-3 * 16 / 17)
    assert optimizer._beta1 == 0 and optimizer._beta2 == pytest.approx(0.99 ** (16 / 17))
    optimizer, _ = build_optimizer(params, {"type": "Adam", "lr": 2e-3, "betas": [0.9, 0.99]})
    assert optimizer.get_lr() == pytest.approx(2e-3) and optimizer._beta1 == pytest.approx(0.9)


def test_multistep_schedule_halves_after_each_milestone():
    params = [paddle.create_parameter([2], "float32")]
    optimizer, scheduler = build_optimizer(params, {"type": "Adam", "lr": 1.0, "betas": [0, 0.99]},
                                           {"type": "MultiStepLR", "milestones": [2, 4], "gamma": 0.5})
    lrs = []
    for _ in range(6):
        lrs.append(optimizer.get_lr())
        scheduler.step()
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_unsupported_optimizer_is_an_error():
    with pytest.raises(ValueError, match="supported: Adam"):
        build_optimizer([paddle.create_parameter([2], "float32")], {"type": "SGD", "lr": 1, "betas": [0, 0]})
