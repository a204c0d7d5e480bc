"""Training models (BasicSR style). Importing this package registers every ``*_model.py`` module."""
import importlib
import pkgutil

from ppgan_face.registry import MODEL_REGISTRY

for _info in pkgutil.iter_modules(__path__):
    if _info.name.endswith("_model"):
        importlib.import_module(f"{__name__}.{_info.name}")


def build_model(config, distributed=False):
    """Build the training model ``config["model_type"]`` names (GFPGANModel, GPENModel)."""
    return MODEL_REGISTRY.get(config["model_type"])(config, distributed=distributed)


__all__ = ["MODEL_REGISTRY", "build_model"]
