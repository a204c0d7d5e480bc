"""Training losses. Importing this package registers every ``*_loss.py`` module in LOSS_REGISTRY."""
import importlib
import pkgutil

from ppgan_face.registry import LOSS_REGISTRY, build_from_options

for _info in pkgutil.iter_modules(__path__):
    if _info.name.endswith("_loss"):
        importlib.import_module(f"{__name__}.{_info.name}")

from ppgan_face.losses.gan_loss import g_path_regularize, r1_penalty  # noqa: E402


def build_loss(options):
    """Build a loss from ``{"type": ClassName, **options}``; an unknown option is a ValueError naming it."""
    return build_from_options(LOSS_REGISTRY, options, ValueError)


__all__ = ["LOSS_REGISTRY", "build_loss", "g_path_regularize", "r1_penalty"]
