"""What the training models share (BasicSR ``base_model.py``): networks built from the config, optimisers and
schedulers, the EMA generator kept as a separate network, AMP, and the state a checkpoint must hold to continue
the same loss curve."""
import contextlib

import paddle

from ppgan_face.archs import build_arch
from ppgan_face.convert import load_weights
from ppgan_face.losses import build_loss, r1_penalty
from ppgan_face.models.optim import build_optimizer


def set_requires_grad(nets, flag):
    """Let gradients flow into ``nets``' parameters or not (upstream's ``requires_grad`` toggling)."""
    for net in nets:
        for param in net.parameters():
            param.stop_gradient = not flag


def bare(net):
    """The network inside a ``paddle.DataParallel`` wrapper (or the network itself)."""
    return getattr(net, "_layers", net)


def _rename_accumulators(state, old_names, new_names):
    """Optimizer state keys are ``<parameter name>_<accumulator>``; Paddle's parameter names are global counters
    that differ between processes, so checkpoints key them by position instead."""
    renamed = {}
    by_length = sorted(zip(old_names, new_names), key=lambda pair: -len(pair[0]))
    for key, value in state.items():
        match = next((pair for pair in by_length if key.startswith(pair[0] + "_")), None)
        renamed[key if match is None else match[1] + key[len(match[0]):]] = value
    return renamed


def optimizer_state(optimizer):
    names = [p.name for p in optimizer._parameter_list]
    return _rename_accumulators(optimizer.state_dict(), names, [f"param{i}" for i in range(len(names))])


def set_optimizer_state(optimizer, state):
    names = [p.name for p in optimizer._parameter_list]
    optimizer.set_state_dict(_rename_accumulators(state, [f"param{i}" for i in range(len(names))], names))


def optional_loss(options):
    return build_loss(options) if options else None


class BaseModel:
    """Subclasses build their networks with ``add_network`` and implement ``optimize_parameters(current_iter)``,
    filling ``self.log_dict`` with float losses.

    ``config["model"]`` is the generator (so the training config also works with ``create_model``);
    ``config["path"]["pretrain_network_<x>"]`` optionally loads ``net_<x>``; ``config["train"]`` holds every number.
    """

    def __init__(self, config, distributed=False):
        self.config = config
        self.train_opt = config["train"]
        self.paths = config.get("path") or {}
        self.distributed = distributed
        self.nets, self.optimizers, self.schedulers = {}, {}, {}
        self.log_dict = {}
        amp = config.get("amp") or {}
        self.amp = bool(amp.get("enable"))
        self.amp_dtype = amp.get("dtype", "float16")
        # loss scaling only for float16; bfloat16 (CPU) has float32's range
        self.scaler = paddle.amp.GradScaler(enable=self.amp and self.amp_dtype == "float16")
        self.net_g = self.add_network("net_g", config["model"])
        self.net_g_ema = build_arch(config["model"])
        self.net_g_ema.set_state_dict(bare(self.net_g).state_dict())
        self.net_g_ema.eval()
        set_requires_grad([self.net_g_ema], False)
        self.ema_decay = float(self.train_opt["ema_decay"])

    # ----- networks -----
    def add_network(self, name, options):
        """Build ``options``, load ``path.pretrain_network_<x>`` (for ``net_<x>``) if set, wrap it for data
        parallel, train mode."""
        net = build_arch(options)
        self.load_pretrained(net, self.paths.get(f"pretrain_network{name[3:]}"))
        net.train()
        if self.distributed:
            net = paddle.DataParallel(net, find_unused_parameters=True)
        self.nets[name] = net
        return net

    @staticmethod
    def load_pretrained(layer, path, state_dict_key=None):
        if path:
            load_weights(layer, path, state_dict_key)

    def add_optimizer(self, name, params, options, reg_every=None):
        optimizer, scheduler = build_optimizer(params, options, self.train_opt.get("scheduler"), reg_every)
        self.optimizers[name] = optimizer
        if scheduler is not None:
            self.schedulers[name] = scheduler
        return optimizer

    @staticmethod
    def trainable(net):
        return [p for p in net.parameters() if not p.stop_gradient]

    # ----- one iteration -----
    def feed_data(self, data):
        self.lq, self.gt = (paddle.to_tensor(data[k]) if not isinstance(data[k], paddle.Tensor) else data[k]
                            for k in ("lq", "gt"))

    def autocast(self):
        if not self.amp:
            return contextlib.nullcontext()
        return paddle.amp.auto_cast(enable=True, dtype=self.amp_dtype)

    def backward(self, loss):
        self.scaler.scale(loss).backward()

    def step(self, name):
        self.scaler.step(self.optimizers[name])
        self.scaler.update()

    def r1_loss(self):
        """``r1 / 2 · R1 · d_reg_every (+ 0 · D(x)[0])`` on the real batch: StyleGAN2's lazy R1 as both upstreams
        write it (the models set ``net_d``, ``r1_reg_weight`` and ``net_d_reg_every``)."""
        gt = self.gt.detach()
        gt.stop_gradient = False
        real_pred = self.net_d(gt)
        penalty = r1_penalty(real_pred, gt)
        return self.r1_reg_weight / 2 * penalty * self.net_d_reg_every + 0 * real_pred[0]

    def update_learning_rate(self, current_iter):
        """BasicSR steps the schedulers before every iteration but the first."""
        if current_iter > 1:
            for scheduler in self.schedulers.values():
                scheduler.step()

    @paddle.no_grad()
    def model_ema(self, decay):
        """ema ← decay·ema + (1 − decay)·net_g over the parameters (buffers stay as copied at start)."""
        params = dict(bare(self.net_g).named_parameters())
        for name, ema in self.net_g_ema.named_parameters():
            ema.set_value(ema * decay + params[name] * (1 - decay))

    @paddle.no_grad()
    def test(self, lq):
        """The EMA generator's restoration of ``lq`` (what validation and export use)."""
        return self.net_g_ema(lq)[0]

    def optimize_parameters(self, current_iter):
        raise NotImplementedError

    # ----- checkpoints -----
    def extra_state(self):
        """Model-specific running values (e.g. GPEN's mean path length)."""
        return {}

    def set_extra_state(self, state):
        pass

    def state_dict(self):
        return {"nets": {name: bare(net).state_dict() for name, net in self.nets.items()},
                "net_g_ema": self.net_g_ema.state_dict(),
                "optimizers": {name: optimizer_state(opt) for name, opt in self.optimizers.items()},
                "schedulers": {name: s.state_dict() for name, s in self.schedulers.items()},
                "scaler": self.scaler.state_dict(), "extra": self.extra_state()}

    def set_state_dict(self, state):
        for name, net in self.nets.items():
            bare(net).set_state_dict(state["nets"][name])
        self.net_g_ema.set_state_dict(state["net_g_ema"])
        for name, opt in self.optimizers.items():
            set_optimizer_state(opt, state["optimizers"][name])
        for name, scheduler in self.schedulers.items():
            scheduler.set_state_dict(state["schedulers"][name])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.set_extra_state(state["extra"])
