"""Run the official PyTorch code (GFPGAN, BasicSR, facexlib, GPEN via modelscope) as test oracles.

The official packages' ``__init__`` files import torchvision (whose index wheel is CUDA-only) and much
more, so each architecture file is loaded on its own: the package levels above it are registered as empty
modules whose ``__path__`` points at the installed folder, and ``torchvision`` is replaced by the small
stand-in in ``tests/torchvision_standin.py``. The whole-image helpers (GFPGAN's ``GFPGANer``, facexlib's
``FaceRestoreHelper``, Real-ESRGAN's ``RealESRGANer``) load the same way; their model builders and download
function are replaced so that nothing downloads, and the tests hand them their networks.
Nothing here skips: a missing oracle is an error.
"""
import importlib
import importlib.util
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

# Package levels whose real __init__ must not run (they import torchvision, cv2 models, hubs, ...).
_STUB_PACKAGES = (
    "gfpgan", "gfpgan.archs", "gfpgan.data", "gfpgan.models",
    "basicsr", "basicsr.archs", "basicsr.utils", "basicsr.losses", "basicsr.data", "basicsr.metrics",
    "basicsr.models",
    "facexlib", "facexlib.detection", "facexlib.recognition", "facexlib.parsing", "facexlib.utils",
    "modelscope", "modelscope.models", "modelscope.models.cv",
    "modelscope.models.cv.image_portrait_enhancement",
    "modelscope.models.cv.image_portrait_enhancement.retinaface",
    "modelscope.models.cv.image_portrait_enhancement.retinaface.models",
    "modelscope.models.cv.image_portrait_enhancement.losses",
    "modelscope.models.cv.image_portrait_enhancement.eqface",
    "modelscope.models.cv.face_generation",
    "realesrgan",
)

_ready = False


def _package_dir(name):
    top = name.split(".")[0]
    spec = sys.modules[top].__spec__ if top in sys.modules else importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the official package {top!r} is not installed: run tests/install_oracles.sh")
    return os.path.join(list(spec.submodule_search_locations)[0], *name.split(".")[1:])


def _fused_bias_act(x, bias, refer, act, grad, alpha, scale):
    """CPU stand-in for BasicSR's CUDA ``fused_act_ext.fused_bias_act`` (leaky ReLU and its gradient)."""
    if grad == 0:
        if bias.numel():
            x = x + bias.view(1, -1, *([1] * (x.ndim - 2)))
        return F.leaky_relu(x, alpha) * scale
    # grad == 1: gradient through the activation, given its output ``refer``
    return x * torch.where(refer > 0, torch.ones_like(refer), torch.full_like(refer, alpha)) * scale


def _no_download(url, *args, **kwargs):
    raise RuntimeError(f"the oracles never download ({url}); pass a local checkpoint")


def setup():
    """Register the stub packages and the torchvision stand-in (idempotent)."""
    global _ready
    if _ready:
        return
    from tests import torchvision_standin

    torchvision_standin.install()
    for name in _STUB_PACKAGES:
        if name in sys.modules:
            continue
        module = types.ModuleType(name)
        module.__path__ = [_package_dir(name)]
        if "." not in name:
            module.__spec__ = importlib.util.find_spec(name)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
    sys.modules["basicsr.utils"].get_root_logger = lambda *a, **k: __import__("logging").getLogger("basicsr")
    # basicsr.metrics.metric_util imports it from the package level
    sys.modules["basicsr.utils"].bgr2ycbcr = importlib.import_module("basicsr.utils.color_util").bgr2ycbcr
    # gfpgan/utils.py (GFPGANer) imports these from the package level
    img_util = importlib.import_module("basicsr.utils.img_util")
    sys.modules["basicsr.utils"].img2tensor = img_util.img2tensor
    sys.modules["basicsr.utils"].tensor2img = img_util.tensor2img
    # FaceRestoreHelper builds its networks from downloaded files; the tests set ``face_det`` /
    # ``face_parse`` themselves, so these builders return None and nothing is downloaded.
    sys.modules["facexlib.detection"].init_detection_model = lambda *a, **k: None
    sys.modules["facexlib.parsing"].init_parsing_model = lambda *a, **k: None
    # GPEN's align_faces.py imports scikit-image without using it
    skimage = sys.modules.setdefault("skimage", types.ModuleType("skimage"))
    skimage.transform = sys.modules.setdefault("skimage.transform", types.ModuleType("skimage.transform"))
    # the real module imports ``requests``; oracles never download
    sys.modules["basicsr.utils.download_util"] = types.SimpleNamespace(load_file_from_url=_no_download)
    fused_act = importlib.import_module("basicsr.ops.fused_act.fused_act")
    fused_act.fused_act_ext = types.SimpleNamespace(fused_bias_act=_fused_bias_act)
    _ready = True


def official(module_name):
    """Import one official module, e.g. ``official("gfpgan.archs.gfpganv1_clean_arch")``."""
    setup()
    return importlib.import_module(module_name)


def seed_everything(seed=0):
    torch.manual_seed(seed)
    np.random.seed(seed)


def randomize_(module, seed=0, std=None):
    """Give every parameter and floating buffer of a torch module random values.

    Official inits leave many tensors at 0 or 1 (biases, noise strengths, BatchNorm statistics), which
    would hide mistakes in how they are converted; this makes every entry count.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) * 0.5 + 0.75)
            elif std is not None or tensor.ndim <= 1 or "noise" in name:
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * (std or 0.1) + (
                    1.0 if tensor.ndim == 1 and name.endswith("weight") and "noise" not in name else 0.0))
    return module


def save_official(state_dict, path, key=None, prefix=""):
    """Save a torch state dict the way upstream publishes it: under ``key`` and/or with a key prefix."""
    sd = {prefix + k: v.detach().clone() for k, v in state_dict.items()}
    torch.save({key: sd} if key else sd, path)
    return path


def compare(actual, expected):
    """Return (max abs error, relative L2 error) between two arrays or tensors."""
    a = np.asarray(actual.numpy() if hasattr(actual, "numpy") else actual, dtype=np.float64)
    e = np.asarray(expected.detach().numpy() if hasattr(expected, "detach") else expected, dtype=np.float64)
    assert a.shape == e.shape, f"shape {a.shape} != official {e.shape}"
    max_abs = float(np.abs(a - e).max())
    rel_l2 = float(np.linalg.norm(a - e) / max(np.linalg.norm(e), 1e-12))
    return max_abs, rel_l2


def assert_close(actual, expected, rel_l2=1e-5, max_abs=1e-4, what="output"):
    err_abs, err_rel = compare(actual, expected)
    print(f"{what}: max abs {err_abs:.3g}, relative L2 {err_rel:.3g}")
    assert err_rel <= rel_l2 and err_abs <= max_abs, (
        f"{what} differs from the official code: max abs {err_abs:.3g} (<= {max_abs}), "
        f"relative L2 {err_rel:.3g} (<= {rel_l2})")
