"""Network architectures. Importing this package registers every ``*_arch.py`` module in ARCH_REGISTRY."""
import importlib
import pkgutil

from ppgan_face.registry import ARCH_REGISTRY

for _info in pkgutil.iter_modules(__path__):
    if _info.name.endswith("_arch"):
        importlib.import_module(f"{__name__}.{_info.name}")


def build_arch(options):
    """Build a network from ``{"type": ClassName, **kwargs}``."""
    options = dict(options)
    return ARCH_REGISTRY.get(options.pop("type"))(**options)


__all__ = ["ARCH_REGISTRY", "build_arch"]
