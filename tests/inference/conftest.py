"""Exports of the small models, made once per test session (export + ONNX conversion take seconds each)."""
import pytest

from tests.inference.small_models import all_small_exports


@pytest.fixture(scope="session")
def small_exports(tmp_path_factory):
    """{config name: (dygraph model, export dir)} for every small model, with ONNX."""
    return all_small_exports(tmp_path_factory)
