"""Training and validation datasets. Importing this package registers every ``*_dataset.py`` module."""
import importlib
import pkgutil

from ppgan_face.data.data_util import DatasetError
from ppgan_face.registry import DATASET_REGISTRY, build_from_options

for _info in pkgutil.iter_modules(__path__):
    if _info.name.endswith("_dataset"):
        importlib.import_module(f"{__name__}.{_info.name}")


def build_dataset(options):
    """Build a dataset from ``{"type": ClassName, **options}``; an unknown or missing option is a DatasetError."""
    return build_from_options(DATASET_REGISTRY, options, DatasetError)


__all__ = ["DATASET_REGISTRY", "DatasetError", "build_dataset"]
