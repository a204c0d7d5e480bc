"""ppgan_face: blind face restoration (GFP-GAN, GPEN) in PaddlePaddle."""
import warnings

# Paddle warns on every import that ccache (for compiling custom C++ ops) is missing; we compile none, and
# the warning would be the first line users see from every tool.
warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)

__version__ = "0.1.0"

from ppgan_face.builder import create_model  # noqa: E402

__all__ = ["create_model", "__version__"]
