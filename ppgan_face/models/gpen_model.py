"""GPEN training (``train_simple.py`` of yangxy/GPEN): logistic GAN with R1 and path-length regularisation,
SmoothL1 and the IR-SE50 identity loss, each step in upstream's order."""
import paddle

from ppgan_face.losses import g_path_regularize
from ppgan_face.models.base_model import BaseModel, optional_loss, set_requires_grad
from ppgan_face.registry import MODEL_REGISTRY


@MODEL_REGISTRY.register()
class GPENModel(BaseModel):
    """One iteration: D step, R1 step (its own D update) every ``d_reg_every``, G step, path-length step (its
    own G update) every ``g_reg_every``, EMA. GPEN counts iterations from 0, so both regularisers also run
    on the first iteration."""

    def __init__(self, config, distributed=False):
        super().__init__(config, distributed)
        losses, schedule, t = config["losses"], config["loss_schedule"], self.train_opt
        self.net_d = self.add_network("net_d", config["network_d"])
        self.cri_gan = optional_loss(losses["gan"])
        self.cri_pix = optional_loss(losses.get("pixel"))
        self.cri_identity = optional_loss(losses.get("identity"))
        self.r1_reg_weight = float(schedule["r1"])
        self.net_d_reg_every = schedule["d_reg_every"]
        self.net_g_reg_every = schedule["g_reg_every"]
        self.path_reg_weight = float(schedule["path_regularize"])
        self.path_batch_shrink = schedule["path_batch_shrink"]
        self.path_decay = float(schedule["path_decay"])
        self.mean_path_length = 0.0
        self.add_optimizer("net_g", self.trainable(self.net_g), t["optim_g"], reg_every=self.net_g_reg_every)
        self.add_optimizer("net_d", self.trainable(self.net_d), t["optim_d"], reg_every=self.net_d_reg_every)

    def extra_state(self):
        return {"mean_path_length": float(self.mean_path_length)}

    def set_extra_state(self, state):
        self.mean_path_length = state["mean_path_length"]

    def generator_losses(self):
        self.output, _ = self.net_g(self.lq)
        losses = {"l_g_gan": self.cri_gan(self.net_d(self.output), True, is_disc=False)}
        if self.cri_pix:
            losses["l_g_pix"] = self.cri_pix(self.output, self.gt)
        if self.cri_identity:
            losses["l_identity"] = self.cri_identity(self.output, self.gt)
        return losses

    def optimize_parameters(self, current_iter):
        step = current_iter - 1
        losses = {}
        opt_g, opt_d = self.optimizers["net_g"], self.optimizers["net_d"]
        with self.autocast():
            with paddle.no_grad():  # upstream: requires_grad(generator, False)
                fake = self.net_g(self.lq)[0]
            fake_pred = self.net_d(fake)
            real_pred = self.net_d(self.gt)
            l_d = self.cri_gan(real_pred, True, is_disc=True) + self.cri_gan(fake_pred, False, is_disc=True)
        losses.update(l_d=l_d, real_score=real_pred.detach().mean(), fake_score=fake_pred.detach().mean())
        opt_d.clear_grad()
        self.backward(l_d)
        self.step("net_d")
        if step % self.net_d_reg_every == 0:
            l_d_r1 = self.r1_loss()
            losses["l_d_r1"] = l_d_r1.detach().mean()
            opt_d.clear_grad()
            self.backward(l_d_r1)
            self.step("net_d")

        set_requires_grad([self.net_d], False)
        with self.autocast():
            g_losses = self.generator_losses()
        losses.update(g_losses)
        losses["l_g_total"] = sum(g_losses.values())
        opt_g.clear_grad()
        self.backward(losses["l_g_total"])
        self.step("net_g")
        if step % self.net_g_reg_every == 0:
            # upstream computes batch // path_batch_shrink but regularises the whole batch: its recipe sets 1 here
            lq = self.lq[:max(1, self.lq.shape[0] // self.path_batch_shrink)]
            fake, latents = self.net_g(lq, return_latents=True)
            path_loss, path_length, self.mean_path_length = g_path_regularize(
                fake, latents, self.mean_path_length, self.path_decay)
            l_g_path = self.path_reg_weight * self.net_g_reg_every * path_loss + 0 * fake[0, 0, 0, 0]
            losses.update(l_g_path=path_loss, path_length=path_length)
            opt_g.clear_grad()
            self.backward(l_g_path)
            self.step("net_g")
        set_requires_grad([self.net_d], True)
        self.model_ema(self.ema_decay)
        self.log_dict = {name: float(value) for name, value in losses.items()}
