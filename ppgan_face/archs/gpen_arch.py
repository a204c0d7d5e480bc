"""GPEN (GAN prior embedded network): an encoder whose features drive a rosinality StyleGAN2.

Mirrors GPEN's ``face_model/gpen_model.py`` (the copy in ModelScope,
``modelscope/models/cv/image_portrait_enhancement/gpen.py``). The layers are the equalised-lr StyleGAN2 ones
of ``stylegan2_arch.py``; only the rosinality names differ (``conv``, ``noise.weight``, ``input.input``,
``generator.*``) and the FIR kernels are saved in the state dict (``*.blur.kernel``, ``*.upsample.kernel``,
``ecd{i}.0.0.kernel``), so they are persistent buffers here too.
"""
import math

import paddle
from paddle import nn

from ppgan_face.archs import stylegan2_arch as sg2
from ppgan_face.archs.stylegan2_arch import (EqualLinear, FusedLeakyReLU, NormStyleCode, channel_table,
                                             minibatch_stddev, style_latents, synthesis)
from ppgan_face.archs.stylegan2_ops import modulated_conv2d
from ppgan_face.registry import ARCH_REGISTRY


class Blur(sg2.UpFirDnSmooth):
    """The blur around strided convs, with its kernel saved in the state dict (rosinality)."""

    persistent_kernel = True


class Upsample(sg2.UpFirDnUpsample):
    """FIR x2 upsampling of the ToRGB skip, with its kernel saved in the state dict (rosinality)."""

    persistent_kernel = True


class ConvLayer(sg2.ConvLayer):
    """BasicSR's ConvLayer with the rosinality blur (kernel in the state dict)."""

    smooth_layer = Blur


class ResBlock(sg2.ResBlock):
    """BasicSR's ResBlock built from the rosinality ConvLayer."""

    conv_layer = ConvLayer


class ModulatedConv2d(nn.Layer):
    """Rosinality's modulated conv: ``weight``, ``modulation`` and ``blur`` for up/down-sampling."""

    def __init__(self, in_channel, out_channel, kernel_size, style_dim, demodulate=True, upsample=False,
                 downsample=False, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.demodulate = demodulate
        self.sample_mode = "upsample" if upsample else "downsample" if downsample else None
        self.blur = None
        if upsample:
            self.blur = Blur(blur_kernel, upsample_factor=2, kernel_size=kernel_size)
        elif downsample:
            self.blur = Blur(blur_kernel, downsample_factor=2, kernel_size=kernel_size)
        self.scale = 1 / math.sqrt(in_channel * kernel_size ** 2)
        self.weight = self.create_parameter([1, out_channel, in_channel, kernel_size, kernel_size],
                                            default_initializer=nn.initializer.Normal())
        self.modulation = EqualLinear(style_dim, in_channel, bias_init_val=1)

    def forward(self, x, style):
        return modulated_conv2d(x, self.modulation(style), self.weight[0] * self.scale, self.demodulate,
                                self.sample_mode, self.blur)


class NoiseInjection(nn.Layer):
    """Adds ``weight * noise`` or, with ``isconcat`` (GPEN), appends it as extra channels."""

    def __init__(self, isconcat=True):
        super().__init__()
        self.isconcat = isconcat
        self.weight = self.create_parameter([1], default_initializer=nn.initializer.Constant(0))

    def forward(self, image, noise):
        if self.isconcat:
            return paddle.concat([image, self.weight * noise], axis=1)
        return image + self.weight * noise


class ConstantInput(nn.Layer):
    """The learned 4x4 input (parameter ``input``), repeated over the batch of ``x``."""

    def __init__(self, channel, size=4):
        super().__init__()
        self.input = self.create_parameter([1, channel, size, size], default_initializer=nn.initializer.Normal())

    def forward(self, x):
        return self.input.expand([x.shape[0], -1, -1, -1])


class StyledConv(nn.Layer):
    """Modulated conv, noise injection (concatenated in GPEN, hence ``activate`` on twice the channels)."""

    def __init__(self, in_channel, out_channel, kernel_size, style_dim, upsample=False, blur_kernel=(1, 3, 3, 1),
                 demodulate=True, isconcat=True):
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, out_channel, kernel_size, style_dim, upsample=upsample,
                                    blur_kernel=blur_kernel, demodulate=demodulate)
        self.noise = NoiseInjection(isconcat)
        self.activate = FusedLeakyReLU(out_channel * (2 if isconcat else 1))

    def forward(self, x, style, noise):
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Layer):
    """1x1 modulated conv to RGB plus bias, added to the FIR-upsampled previous RGB."""

    def __init__(self, in_channel, style_dim, upsample=True, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.upsample = Upsample(blur_kernel) if upsample else None
        self.conv = ModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False)
        self.bias = self.create_parameter([1, 3, 1, 1], default_initializer=nn.initializer.Constant(0))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class Generator(nn.Layer):
    """GPEN's StyleGAN2 generator. Its noise inputs are the encoder features (``noise`` is required)."""

    def __init__(self, size, style_dim, n_mlp, channel_multiplier=2, blur_kernel=(1, 3, 3, 1), lr_mlp=0.01,
                 isconcat=True, narrow=1):
        super().__init__()
        self.size = size
        self.style_dim = style_dim
        feat_multiplier = 2 if isconcat else 1
        self.style = nn.Sequential(NormStyleCode(), *[
            EqualLinear(style_dim, style_dim, lr_mul=lr_mlp, activation="fused_lrelu") for _ in range(n_mlp)])
        self.channels = channel_table(channel_multiplier, narrow)
        self.log_size = int(math.log(size, 2))
        self.n_latent = self.log_size * 2 - 2

        # the ToRGB layers use the default blur kernel whatever ``blur_kernel`` is, as upstream
        self.input = ConstantInput(self.channels[4])
        self.conv1 = StyledConv(self.channels[4], self.channels[4], 3, style_dim, blur_kernel=blur_kernel,
                                isconcat=isconcat)
        self.to_rgb1 = ToRGB(self.channels[4] * feat_multiplier, style_dim, upsample=False)
        self.convs = nn.LayerList()
        self.to_rgbs = nn.LayerList()
        in_channel = self.channels[4]
        for i in range(3, self.log_size + 1):
            out_channel = self.channels[2 ** i]
            self.convs.append(StyledConv(in_channel * feat_multiplier, out_channel, 3, style_dim, upsample=True,
                                         blur_kernel=blur_kernel, isconcat=isconcat))
            self.convs.append(StyledConv(out_channel * feat_multiplier, out_channel, 3, style_dim,
                                         blur_kernel=blur_kernel, isconcat=isconcat))
            self.to_rgbs.append(ToRGB(out_channel * feat_multiplier, style_dim))
            in_channel = out_channel

    def get_latent(self, x):
        return self.style(x)

    def forward(self, styles, return_latents=False, inject_index=None, truncation=1, truncation_latent=None,
                input_is_latent=False, noise=None):
        """Return ``(image, latent or None)``. ``noise``: one tensor per style conv (2*log2(size)-3)."""
        if noise is None:
            raise ValueError("GPEN's generator is driven by encoder features: pass them as noise")
        if not input_is_latent:
            styles = [self.style(s) for s in styles]
        latent = style_latents(styles, self.n_latent, truncation, truncation_latent, inject_index)
        image = synthesis(self.input(latent), latent, noise, self.conv1, self.to_rgb1, self.convs, self.to_rgbs)
        return image, (latent if return_latents else None)


@ARCH_REGISTRY.register()
class FullGenerator(nn.Layer):
    """GPEN: a strided-conv encoder, whose last feature gives the style code and whose features at every
    resolution are the generator's noise inputs (concatenated as channels), and the StyleGAN2 generator.

    Args:
        size: resolution (256, 512, 1024, 2048 for the public GPEN-BFR models).
        style_dim, n_mlp, lr_mlp: style code width, mapping depth and its learning-rate multiplier.
        channel_multiplier, narrow: channel width (see ``channel_table``).
        blur_kernel: FIR magnitudes of the generator's upsampling convs.
        isconcat: concatenate (True, GPEN) or add the noise.

    ``forward`` returns what upstream returns: ``(image, latent)`` with ``latent=None`` unless
    ``return_latents``. The output is deterministic (no random noise anywhere).
    """

    def __init__(self, size, style_dim=512, n_mlp=8, channel_multiplier=2, blur_kernel=(1, 3, 3, 1), lr_mlp=0.01,
                 isconcat=True, narrow=1):
        super().__init__()
        channels = channel_table(channel_multiplier, narrow)
        self.log_size = int(math.log(size, 2))
        self.generator = Generator(size, style_dim, n_mlp, channel_multiplier=channel_multiplier,
                                   blur_kernel=blur_kernel, lr_mlp=lr_mlp, isconcat=isconcat, narrow=narrow)
        # encoder: ecd0 (1x1) at full size, then ecd{i} halve the size down to 4x4 (default blur, as upstream)
        self.names = [f"ecd{i}" for i in range(self.log_size - 1)]
        self.ecd0 = nn.Sequential(ConvLayer(3, channels[size], 1))
        in_channel = channels[size]
        for i in range(self.log_size, 2, -1):
            out_channel = channels[2 ** (i - 1)]
            setattr(self, self.names[self.log_size - i + 1],
                    nn.Sequential(ConvLayer(in_channel, out_channel, 3, downsample=True)))
            in_channel = out_channel
        self.final_linear = nn.Sequential(EqualLinear(channels[4] * 4 * 4, style_dim, activation="fused_lrelu"))

    def forward(self, inputs, return_latents=False, inject_index=None, truncation=1, truncation_latent=None,
                input_is_latent=False):
        feats = []
        for name in self.names:
            inputs = getattr(self, name)(inputs)
            feats.append(inputs)
        style = self.final_linear(inputs.reshape([0, -1]))
        # coarse to fine, each resolution twice (upsampling conv and conv), minus the first 4x4 one
        noise = [feat for feat in reversed(feats) for _ in range(2)][1:]
        return self.generator([style], return_latents, inject_index, truncation, truncation_latent, input_is_latent,
                              noise=noise)


@ARCH_REGISTRY.register(name="GPENDiscriminator")
class Discriminator(nn.Layer):
    """GPEN's StyleGAN2 discriminator (rosinality names; registered as ``GPENDiscriminator``).

    Upstream passes ``blur_kernel`` to ResBlocks that ignore it; they use the default here as well.
    """

    def __init__(self, size, channel_multiplier=2, blur_kernel=(1, 3, 3, 1), narrow=1):
        super().__init__()
        channels = channel_table(channel_multiplier, narrow)
        log_size = int(math.log(size, 2))
        convs = [ConvLayer(3, channels[size], 1)]
        in_channel = channels[size]
        for i in range(log_size, 2, -1):
            out_channel = channels[2 ** (i - 1)]
            convs.append(ResBlock(in_channel, out_channel))
            in_channel = out_channel
        self.convs = nn.Sequential(*convs)
        self.stddev_group = 4
        self.stddev_feat = 1
        self.final_conv = ConvLayer(in_channel + 1, channels[4], 3)
        self.final_linear = nn.Sequential(EqualLinear(channels[4] * 4 * 4, channels[4], activation="fused_lrelu"),
                                          EqualLinear(channels[4], 1))

    def forward(self, x):
        out = minibatch_stddev(self.convs(x), self.stddev_group, self.stddev_feat)
        return self.final_linear(self.final_conv(out).reshape([0, -1]))
