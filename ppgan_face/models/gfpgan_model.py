"""GFPGAN training (``gfpgan/models/gfpgan_model.py``): the full recipe and, by config, the "simple" one (no
facial-component discriminators — ``network_d_<part>`` null — and no identity loss — ``losses.identity`` null)."""

from ppgan_face.losses.component_loss import crop_components
from ppgan_face.models.base_model import BaseModel, bare, optional_loss, set_requires_grad
from ppgan_face.registry import MODEL_REGISTRY

COMPONENTS = ("left_eye", "right_eye", "mouth")


@MODEL_REGISTRY.register()
class GFPGANModel(BaseModel):
    """One iteration: G step (pixel, pyramid, perceptual + style, GAN, component GAN + style, identity), EMA,
    D step (+ R1 every ``net_d_reg_every``), then the component discriminators' step."""

    def __init__(self, config, distributed=False):
        super().__init__(config, distributed)
        losses, schedule = config["losses"], config["loss_schedule"]
        self.schedule = schedule
        self.load_pretrained(bare(self.net_g).stylegan_decoder, self.paths.get("pretrain_decoder"), "params_ema")
        self.net_g_ema.set_state_dict(bare(self.net_g).state_dict())
        self.net_d = self.add_network("net_d", config["network_d"])
        self.use_facial_disc = all(config.get(f"network_d_{part}") for part in COMPONENTS)
        self.net_d_components = {part: self.add_network(f"net_d_{part}", config[f"network_d_{part}"])
                                 for part in COMPONENTS} if self.use_facial_disc else {}

        self.cri_pix = optional_loss(losses.get("pixel"))
        self.cri_pyramid = optional_loss(losses.get("pyramid"))
        self.cri_perceptual = optional_loss(losses.get("perceptual"))
        self.cri_gan = optional_loss(losses["gan"])
        self.cri_identity = optional_loss(losses.get("identity"))
        if self.use_facial_disc:
            self.cri_component = optional_loss(losses["gan_component"])
            self.cri_comp_style = optional_loss(losses.get("component_style"))
            crop = dict(self.train_opt["component_crop"])
            # GFPGAN scales the crops by int(out_size / 512); lite configs set out_size 512 for their tiny faces
            crop.setdefault("out_size", config["model"]["out_size"])
            self.component_crop = crop

        self.r1_reg_weight = float(schedule["r1_reg_weight"])
        self.net_d_iters = schedule["net_d_iters"]
        self.net_d_init_iters = schedule["net_d_init_iters"]
        self.net_d_reg_every = schedule["net_d_reg_every"]

        t = self.train_opt
        self.add_optimizer("net_g", self.trainable(self.net_g), t["optim_g"])
        self.add_optimizer("net_d", self.trainable(self.net_d), t["optim_d"], reg_every=self.net_d_reg_every)
        for part, net in self.net_d_components.items():
            self.add_optimizer(f"net_d_{part}", self.trainable(net), t["optim_component"])

    def feed_data(self, data):
        super().feed_data(data)
        if self.use_facial_disc:
            self.locations = [data[f"loc_{part}"] for part in COMPONENTS]

    def crops(self, images):
        """{part: RoI crops of ``images``} at the batch's component boxes."""
        return dict(zip(COMPONENTS, crop_components(images, *self.locations, **self.component_crop)))

    def pyramid_weight(self, current_iter):
        """The pyramid loss weight drops to a tiny value after ``remove_pyramid_loss`` iterations (upstream keeps
        it nonzero so the side outputs stay in the graph)."""
        if current_iter > self.schedule.get("remove_pyramid_loss", float("inf")):
            return float(self.schedule["removed_pyramid_loss_weight"])
        return float(self.config["losses"]["pyramid"]["loss_weight"])

    def generator_losses(self, current_iter):
        """The generator's loss terms (an ordered dict); sets ``self.output`` and the component crops."""
        use_pyramid = self.cri_pyramid is not None
        self.output, out_rgbs = self.net_g(self.lq, return_rgb=use_pyramid)
        if self.use_facial_disc:
            self.fake_parts, self.real_parts = self.crops(self.output), self.crops(self.gt)
        losses = {}
        if not (current_iter % self.net_d_iters == 0 and current_iter > self.net_d_init_iters):
            return losses
        if self.cri_pix:
            losses["l_g_pix"] = self.cri_pix(self.output, self.gt)
        if use_pyramid:
            self.cri_pyramid.loss_weight = self.pyramid_weight(current_iter)
            losses["l_g_pyramid"] = self.cri_pyramid(out_rgbs, self.gt)
        if self.cri_perceptual:
            percep, style = self.cri_perceptual(self.output, self.gt)
            if percep is not None:
                losses["l_g_percep"] = percep
            if style is not None:
                losses["l_g_style"] = style
        losses["l_g_gan"] = self.cri_gan(self.net_d(self.output), True, is_disc=False)
        if self.use_facial_disc:
            fake_feats, real_feats = [], []
            for part, net in self.net_d_components.items():
                pred, feats = net(self.fake_parts[part], return_feats=True)
                losses[f"l_g_gan_{part}"] = self.cri_component(pred, True, is_disc=False)
                fake_feats.append(feats)
                if self.cri_comp_style:
                    real_feats.append(net(self.real_parts[part], return_feats=True)[1])
            if self.cri_comp_style:
                losses["l_g_comp_style_loss"] = self.cri_comp_style(fake_feats, real_feats)
        if self.cri_identity:
            losses["l_identity"] = self.cri_identity(self.output, self.gt)
        return losses

    def optimize_parameters(self, current_iter):
        d_nets = [self.net_d, *self.net_d_components.values()]
        set_requires_grad(d_nets, False)
        self.optimizers["net_g"].clear_grad()
        with self.autocast():
            losses = self.generator_losses(current_iter)
        if losses:
            losses["l_g_total"] = sum(losses.values())
            self.backward(losses["l_g_total"])
            self.step("net_g")
        self.model_ema(self.ema_decay)

        set_requires_grad(d_nets, True)
        for name in self.optimizers:
            if name != "net_g":
                self.optimizers[name].clear_grad()
        with self.autocast():
            fake_pred = self.net_d(self.output.detach())
            real_pred = self.net_d(self.gt)
            l_d = self.cri_gan(real_pred, True, is_disc=True) + self.cri_gan(fake_pred, False, is_disc=True)
        losses.update(l_d=l_d, real_score=real_pred.detach().mean(), fake_score=fake_pred.detach().mean())
        self.backward(l_d)
        if current_iter % self.net_d_reg_every == 0:
            l_d_r1 = self.r1_loss()
            losses["l_d_r1"] = l_d_r1.detach().mean()
            self.backward(l_d_r1)
        self.step("net_d")

        for part, net in self.net_d_components.items():
            with self.autocast():
                fake_pred, _ = net(self.fake_parts[part].detach())
                real_pred, _ = net(self.real_parts[part])
                # upstream quirk, kept: the real term uses the component loss (vanilla), the fake term the image
                # GAN loss (wgan_softplus)
                l_d_part = (self.cri_component(real_pred, True, is_disc=True)
                            + self.cri_gan(fake_pred, False, is_disc=True))
            losses[f"l_d_{part}"] = l_d_part
            self.backward(l_d_part)
        for part in self.net_d_components:
            self.step(f"net_d_{part}")
        self.log_dict = {name: float(value) for name, value in losses.items()}
