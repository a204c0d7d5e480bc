"""The small exports of tests/inference (the same session-wide copies)."""
from tests.inference.conftest import small_exports  # noqa: F401
