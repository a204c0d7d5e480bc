"""Build networks from configs: ``create_model("gfpgan_v1.4", weights=...)``."""
import paddle
from paddle import nn

from ppgan_face.archs import build_arch
from ppgan_face.config import load_config
from ppgan_face.convert.converter import load_weights


class Restorer(nn.Layer):
    """A face restorer with one calling convention: N×3×H×W RGB float32 in [-1, 1] in, same out.

    Upstream restorers return tuples (image and side outputs) and take mode flags; the config's
    ``restorer.forward_kwargs`` fixes the flags for inference (e.g. GFPGAN's stored noise, no side RGBs).
    """

    def __init__(self, net, forward_kwargs=None):
        super().__init__()
        self.net = net
        self.forward_kwargs = dict(forward_kwargs or {})

    def forward(self, x):
        out = self.net(x, **self.forward_kwargs)
        return out[0] if isinstance(out, (tuple, list)) else out


def build_network(config):
    """The bare network of a config (``config["model"]``), at random initialisation."""
    return build_arch(config["model"])


def load_checkpoint(net, config, weights):
    """Load ``.pdparams`` or the config's official ``.pth`` format into ``net``."""
    checkpoint = config.get("checkpoint") or {}
    return load_weights(net, weights, checkpoint.get("state_dict_key"), checkpoint.get("adapter"))


def create_model(name, weights=None, overrides=()):
    """Build the network a config describes, in eval mode.

    ``name`` is a config name (``"gfpgan_v1.4"``, ``"gpen_bfr_512"``, ``"retinaface_resnet50"``, ...) or a
    YAML path; ``weights`` a converted ``.pdparams`` or an official ``.pth`` (converted on the fly); without
    weights the network keeps its random initialisation. Restorer configs return a :class:`Restorer`.
    """
    config = load_config(name, overrides)
    net = build_network(config)
    if weights is not None:
        load_checkpoint(net, config, weights)
    model = Restorer(net, config["restorer"].get("forward_kwargs")) if "restorer" in config else net
    model.eval()
    return model
