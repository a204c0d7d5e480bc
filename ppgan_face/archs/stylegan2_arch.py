"""StyleGAN2 with equalised learning rate, as in BasicSR ``basicsr/archs/stylegan2_arch.py``.

This is the decoder of GFPGANv1 (the paper model) and the discriminator of GFPGAN training. Layer and
parameter names equal BasicSR's, so official checkpoints convert by name. GPEN's rosinality copy of the
same blocks (``gpen_arch.py``) reuses the layers and functions defined here.

Equalised learning rate: weights are stored at unit scale and multiplied by ``1/sqrt(fan_in)`` (and
``lr_mul``) at run time, exactly like upstream, so the stored values are upstream's.
"""
import math
import random

import paddle
from paddle import nn
from paddle.nn import functional as F

from ppgan_face.archs.stylegan2_ops import fused_leaky_relu, make_resample_kernel, modulated_conv2d, upfirdn2d
from ppgan_face.registry import ARCH_REGISTRY


def channel_table(channel_multiplier=2, narrow=1):
    """Feature channels per resolution of the StyleGAN2 family (the same table in BasicSR and GPEN)."""
    wide = {4: 512, 8: 512, 16: 512, 32: 512}
    scaled = {64: 256, 128: 128, 256: 64, 512: 32, 1024: 16, 2048: 8}
    table = {res: int(ch * narrow) for res, ch in wide.items()}
    table.update({res: int(ch * channel_multiplier * narrow) for res, ch in scaled.items()})
    return table


def _normal(std=1.0):
    return nn.initializer.Normal(0.0, std)


def _constant(value):
    return nn.initializer.Constant(value)


def style_latents(styles, num_latent, truncation=1, truncation_latent=None, inject_index=None):
    """Per-layer latents ``[b, num_latent, c]`` from one or two style codes (style mixing), with truncation.

    One 2-D code is repeated for every layer; a 3-D code is already per layer (GFPGAN's different_w). With
    two codes the first ``inject_index`` layers take the first (random split, as upstream, when not given).
    """
    if truncation < 1:
        styles = [truncation_latent + truncation * (style - truncation_latent) for style in styles]
    if len(styles) == 1:
        style = styles[0]
        return style if style.ndim == 3 else style.unsqueeze(1).expand([-1, num_latent, -1])
    if inject_index is None:
        inject_index = random.randint(1, num_latent - 1)
    first = styles[0].unsqueeze(1).expand([-1, inject_index, -1])
    second = styles[1].unsqueeze(1).expand([-1, num_latent - inject_index, -1])
    return paddle.concat([first, second], axis=1)


def minibatch_stddev(x, group_size, num_feat=1):
    """Append the within-group standard deviation of the features as ``num_feat`` extra channels."""
    b, c, h, w = x.shape
    group = min(b, group_size)  # the batch must be divisible by (or smaller than) the group size
    stddev = x.reshape([group, -1, num_feat, c // num_feat, h, w])
    stddev = paddle.sqrt(stddev.var(axis=0, unbiased=False) + 1e-8)
    stddev = stddev.mean(axis=[2, 3, 4]).reshape([-1, num_feat, 1, 1]).tile([group, 1, h, w])
    return paddle.concat([x, stddev], axis=1)


def synthesis(x, latent, noise, first_conv, first_rgb, convs, to_rgbs, after_first_conv=None):
    """The StyleGAN2 synthesis loop (both families): per resolution an upsampling conv and a conv, each with
    its own latent and noise, and a ToRGB accumulating the skip image. ``x`` is the 4x4 constant input."""
    out = first_conv(x, latent[:, 0], noise=noise[0])
    skip = first_rgb(out, latent[:, 1])
    for level, to_rgb in enumerate(to_rgbs):
        i = 2 * level + 1
        out = convs[2 * level](out, latent[:, i], noise=noise[i])
        if after_first_conv is not None:
            out = after_first_conv(out, level)
        out = convs[2 * level + 1](out, latent[:, i + 1], noise=noise[i + 1])
        skip = to_rgb(out, latent[:, i + 2], skip)
    return skip


class NormStyleCode(nn.Layer):
    """Pixel norm of the style codes: ``x / sqrt(mean(x^2) + 1e-8)`` over the feature axis."""

    def forward(self, x):
        return x * paddle.rsqrt(paddle.mean(x * x, axis=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Layer):
    """Linear layer with equalised learning rate; weight stored ``[out, in]`` like torch.

    Args:
        bias_init_val: initial bias (1 for the modulation layers, so styles start as identity scales).
        lr_mul: learning-rate multiplier (0.01 in the style MLP): weights are stored divided by it.
        activation: None or ``"fused_lrelu"`` (bias, leaky ReLU 0.2, gain sqrt(2)).
    """

    def __init__(self, in_channels, out_channels, bias=True, bias_init_val=0, lr_mul=1, activation=None):
        super().__init__()
        if activation not in ("fused_lrelu", None):
            raise ValueError(f"EqualLinear activation must be 'fused_lrelu' or None, not {activation!r}")
        self.activation = activation
        self.lr_mul = lr_mul
        self.scale = lr_mul / math.sqrt(in_channels)
        self.weight = self.create_parameter([out_channels, in_channels], default_initializer=_normal(1 / lr_mul))
        self.bias = self.create_parameter([out_channels], default_initializer=_constant(bias_init_val)) \
            if bias else None

    def forward(self, x):
        # The bias goes on the last (feature) axis, as for any linear layer. Upstream's fused kernel indexes
        # it along axis 1 instead, which only differs for 3-D inputs (never reached by the public configs).
        out = paddle.matmul(x, self.weight * self.scale, transpose_y=True)
        if self.bias is not None:
            out = out + self.bias * self.lr_mul
        return fused_leaky_relu(out) if self.activation else out


class EqualConv2d(nn.Layer):
    """Conv2d with equalised learning rate (weight scaled by ``1/sqrt(in * k * k)`` at run time)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, bias_init_val=0):
        super().__init__()
        self.stride = stride
        self.padding = padding
        self.scale = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.weight = self.create_parameter([out_channels, in_channels, kernel_size, kernel_size],
                                            default_initializer=_normal())
        self.bias = self.create_parameter([out_channels], default_initializer=_constant(bias_init_val)) \
            if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)


class ScaledLeakyReLU(nn.Layer):
    """Leaky ReLU times sqrt(2) (keeps the signal variance), without bias."""

    def __init__(self, negative_slope=0.2):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return fused_leaky_relu(x, None, self.negative_slope)


class FusedLeakyReLU(nn.Layer):
    """Per-channel bias, leaky ReLU and gain (upstream's CUDA ``FusedLeakyReLU``)."""

    def __init__(self, channels, negative_slope=0.2, scale=2 ** 0.5):
        super().__init__()
        self.negative_slope = negative_slope
        self.scale = scale
        self.bias = self.create_parameter([channels], default_initializer=_constant(0))

    def forward(self, x):
        return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)


class _UpFirDn(nn.Layer):
    """A fixed FIR resampling layer. BasicSR keeps the kernel out of the state dict; GPEN saves it."""

    persistent_kernel = False

    def __init__(self, resample_kernel, gain, up, down, pad):
        super().__init__()
        self.register_buffer("kernel", make_resample_kernel(resample_kernel) * gain,
                             persistable=self.persistent_kernel)
        self.up, self.down, self.pad = up, down, pad

    def forward(self, x):
        return upfirdn2d(x, self.kernel, up=self.up, down=self.down, pad=self.pad)


class UpFirDnUpsample(_UpFirDn):
    """FIR upsampling by ``factor`` (zero insertion then blur; kernel gain ``factor^2``)."""

    def __init__(self, resample_kernel, factor=2):
        p = len(resample_kernel) - factor
        super().__init__(resample_kernel, factor ** 2, factor, 1, ((p + 1) // 2 + factor - 1, p // 2))


class UpFirDnDownsample(_UpFirDn):
    """FIR downsampling by ``factor`` (blur then decimation)."""

    def __init__(self, resample_kernel, factor=2):
        p = len(resample_kernel) - factor
        super().__init__(resample_kernel, 1, 1, factor, ((p + 1) // 2, p // 2))


class UpFirDnSmooth(_UpFirDn):
    """The blur paired with a strided (transposed) conv of ``kernel_size``: padded so sizes come out exact."""

    def __init__(self, resample_kernel, upsample_factor=1, downsample_factor=1, kernel_size=1):
        taps = len(resample_kernel)
        if upsample_factor > 1:
            p = taps - upsample_factor - (kernel_size - 1)
            pad, gain = ((p + 1) // 2 + upsample_factor - 1, p // 2 + 1), upsample_factor ** 2
        elif downsample_factor > 1:
            p = taps - downsample_factor + (kernel_size - 1)
            pad, gain = ((p + 1) // 2, p // 2), 1
        else:
            raise ValueError("UpFirDnSmooth needs upsample_factor > 1 or downsample_factor > 1")
        super().__init__(resample_kernel, gain, 1, 1, pad)


class ModulatedConv2d(nn.Layer):
    """StyleGAN2 modulated conv (no bias); FIR blur after a transposed conv / before a strided conv.

    Args:
        sample_mode: None, ``"upsample"`` or ``"downsample"``.
        resample_kernel: 1-D magnitudes of the FIR blur used with up/down-sampling.
    """

    def __init__(self, in_channels, out_channels, kernel_size, num_style_feat, demodulate=True, sample_mode=None,
                 resample_kernel=(1, 3, 3, 1), eps=1e-8):
        super().__init__()
        if sample_mode not in ("upsample", "downsample", None):
            raise ValueError(f"sample_mode must be 'upsample', 'downsample' or None, not {sample_mode!r}")
        self.demodulate = demodulate
        self.sample_mode = sample_mode
        self.eps = eps
        self.scale = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.smooth = None
        if sample_mode == "upsample":
            self.smooth = UpFirDnSmooth(resample_kernel, upsample_factor=2, kernel_size=kernel_size)
        elif sample_mode == "downsample":
            self.smooth = UpFirDnSmooth(resample_kernel, downsample_factor=2, kernel_size=kernel_size)
        self.modulation = EqualLinear(num_style_feat, in_channels, bias=True, bias_init_val=1)
        self.weight = self.create_parameter([1, out_channels, in_channels, kernel_size, kernel_size],
                                            default_initializer=_normal())

    def forward(self, x, style):
        return modulated_conv2d(x, self.modulation(style), self.weight[0] * self.scale, self.demodulate,
                                self.sample_mode, self.smooth, self.eps)


class StyleConv(nn.Layer):
    """Modulated conv, then ``+ weight * noise`` (single-channel noise), then FusedLeakyReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, num_style_feat, demodulate=True, sample_mode=None,
                 resample_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.modulated_conv = ModulatedConv2d(in_channels, out_channels, kernel_size, num_style_feat,
                                              demodulate=demodulate, sample_mode=sample_mode,
                                              resample_kernel=resample_kernel)
        self.weight = self.create_parameter([1], default_initializer=_constant(0))  # noise strength
        self.activate = FusedLeakyReLU(out_channels)

    def forward(self, x, style, noise=None):
        """``noise=None`` draws fresh noise (training); inference passes the stored noise buffers."""
        out = self.modulated_conv(x, style)
        if noise is None:
            noise = paddle.randn([out.shape[0], 1, out.shape[2], out.shape[3]], dtype=out.dtype)
        return self.activate(out + self.weight * noise)


class ToRGB(nn.Layer):
    """1x1 modulated conv (no demodulation) to RGB plus bias, added to the FIR-upsampled previous RGB."""

    def __init__(self, in_channels, num_style_feat, upsample=True, resample_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.upsample = UpFirDnUpsample(resample_kernel, factor=2) if upsample else None
        self.modulated_conv = ModulatedConv2d(in_channels, 3, 1, num_style_feat, demodulate=False)
        self.bias = self.create_parameter([1, 3, 1, 1], default_initializer=_constant(0))

    def forward(self, x, style, skip=None):
        out = self.modulated_conv(x, style) + self.bias
        if skip is not None:
            out = out + (self.upsample(skip) if self.upsample is not None else skip)
        return out


class ConstantInput(nn.Layer):
    """The learned 4x4 input of the synthesis network, repeated over the batch."""

    def __init__(self, num_channel, size):
        super().__init__()
        self.weight = self.create_parameter([1, num_channel, size, size], default_initializer=_normal())

    def forward(self, batch):
        return self.weight.expand([batch, -1, -1, -1])


@ARCH_REGISTRY.register()
class StyleGAN2Generator(nn.Layer):
    """StyleGAN2 generator (BasicSR layout).

    Args:
        out_size: output resolution (power of two, 8..1024).
        num_style_feat: style code width.
        num_mlp: layers of the style MLP.
        channel_multiplier: widens the resolutions >= 64.
        resample_kernel: FIR magnitudes for up-sampling.
        lr_mlp: learning-rate multiplier of the style MLP.
        narrow: channel ratio.

    The noise inputs ``noises.noise{i}`` are persistent buffers (saved in checkpoints). ``forward`` uses
    them unless ``randomize_noise`` is true; ``randomize_noise=None`` (default) means "randomise only in
    training mode", so an ``eval()`` model is deterministic (upstream's default is True).
    """

    def __init__(self, out_size, num_style_feat=512, num_mlp=8, channel_multiplier=2, resample_kernel=(1, 3, 3, 1),
                 lr_mlp=0.01, narrow=1):
        super().__init__()
        self.num_style_feat = num_style_feat
        self.style_mlp = nn.Sequential(NormStyleCode(), *[
            EqualLinear(num_style_feat, num_style_feat, bias=True, bias_init_val=0, lr_mul=lr_mlp,
                        activation="fused_lrelu") for _ in range(num_mlp)])

        channels = channel_table(channel_multiplier, narrow)
        self.channels = channels
        self.log_size = int(math.log(out_size, 2))
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.num_latent = self.log_size * 2 - 2

        self.constant_input = ConstantInput(channels[4], size=4)
        self.style_conv1 = StyleConv(channels[4], channels[4], 3, num_style_feat, resample_kernel=resample_kernel)
        self.to_rgb1 = ToRGB(channels[4], num_style_feat, upsample=False, resample_kernel=resample_kernel)

        self.noises = nn.Layer()
        for layer_idx in range(self.num_layers):
            resolution = 2 ** ((layer_idx + 5) // 2)
            self.noises.register_buffer(f"noise{layer_idx}", paddle.randn([1, 1, resolution, resolution]),
                                        persistable=True)

        self.style_convs = nn.LayerList()
        self.to_rgbs = nn.LayerList()
        in_channels = channels[4]
        for i in range(3, self.log_size + 1):
            out_channels = channels[2 ** i]
            self.style_convs.append(StyleConv(in_channels, out_channels, 3, num_style_feat,
                                              sample_mode="upsample", resample_kernel=resample_kernel))
            self.style_convs.append(StyleConv(out_channels, out_channels, 3, num_style_feat,
                                              resample_kernel=resample_kernel))
            self.to_rgbs.append(ToRGB(out_channels, num_style_feat, upsample=True, resample_kernel=resample_kernel))
            in_channels = out_channels

    def get_latent(self, x):
        return self.style_mlp(x)

    def noise_inputs(self, noise=None, randomize_noise=None):
        """The per-layer noise: given, fresh (None entries, drawn in StyleConv) or the stored buffers."""
        if noise is not None:
            return noise
        if randomize_noise is None:
            randomize_noise = self.training
        if randomize_noise:
            return [None] * self.num_layers
        return [getattr(self.noises, f"noise{i}") for i in range(self.num_layers)]

    def synthesize(self, latent, noise, after_first_conv=None):
        """Run the synthesis network on per-layer latents ``[b, num_latent, c]``.

        ``after_first_conv(feat, level)`` may rework the features after the first (upsampling) conv of each
        resolution level (GFPGAN's spatial feature transform).
        """
        return synthesis(self.constant_input(latent.shape[0]), latent, noise, self.style_conv1, self.to_rgb1,
                         self.style_convs, self.to_rgbs, after_first_conv)

    def latents(self, styles, input_is_latent=False, truncation=1, truncation_latent=None, inject_index=None):
        """Per-layer latents ``[b, num_latent, c]`` from style codes (mapped by the MLP unless already W)."""
        if not input_is_latent:
            styles = [self.style_mlp(s) for s in styles]
        return style_latents(styles, self.num_latent, truncation, truncation_latent, inject_index)

    def forward(self, styles, input_is_latent=False, noise=None, randomize_noise=None, truncation=1,
                truncation_latent=None, inject_index=None, return_latents=False):
        """Return ``(image, latent or None)`` for a list of one or two style codes."""
        latent = self.latents(styles, input_is_latent, truncation, truncation_latent, inject_index)
        image = self.synthesize(latent, self.noise_inputs(noise, randomize_noise))
        return image, (latent if return_latents else None)


class ConvLayer(nn.Sequential):
    """[FIR blur +] EqualConv2d (stride 2 when downsampling) [+ FusedLeakyReLU / ScaledLeakyReLU]."""

    smooth_layer = UpFirDnSmooth  # GPEN swaps in its Blur, whose kernel is saved in the state dict

    def __init__(self, in_channels, out_channels, kernel_size, downsample=False, resample_kernel=(1, 3, 3, 1),
                 bias=True, activate=True):
        layers = []
        if downsample:
            layers.append(self.smooth_layer(resample_kernel, downsample_factor=2, kernel_size=kernel_size))
        layers.append(EqualConv2d(in_channels, out_channels, kernel_size, stride=2 if downsample else 1,
                                  padding=0 if downsample else kernel_size // 2, bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(out_channels) if bias else ScaledLeakyReLU(0.2))
        super().__init__(*layers)


class ResBlock(nn.Layer):
    """Discriminator residual block: 3x3 conv, 3x3 downsampling conv, 1x1 downsampling skip, / sqrt(2)."""

    conv_layer = ConvLayer

    def __init__(self, in_channels, out_channels, resample_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.conv1 = self.conv_layer(in_channels, in_channels, 3, bias=True, activate=True)
        self.conv2 = self.conv_layer(in_channels, out_channels, 3, downsample=True, resample_kernel=resample_kernel,
                                     bias=True, activate=True)
        self.skip = self.conv_layer(in_channels, out_channels, 1, downsample=True, resample_kernel=resample_kernel,
                                    bias=False, activate=False)

    def forward(self, x):
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


@ARCH_REGISTRY.register()
class StyleGAN2Discriminator(nn.Layer):
    """StyleGAN2 discriminator (BasicSR layout): ResBlocks down to 4x4, minibatch stddev, two linears.

    Args:
        out_size: input resolution.
        channel_multiplier, narrow: channel width (see ``channel_table``).
        resample_kernel: FIR magnitudes of the downsampling blur.
        stddev_group: group size of the minibatch standard deviation.
    """

    def __init__(self, out_size, channel_multiplier=2, resample_kernel=(1, 3, 3, 1), stddev_group=4, narrow=1):
        super().__init__()
        channels = channel_table(channel_multiplier, narrow)
        log_size = int(math.log(out_size, 2))
        body = [ConvLayer(3, channels[out_size], 1, bias=True, activate=True)]
        in_channels = channels[out_size]
        for i in range(log_size, 2, -1):
            out_channels = channels[2 ** (i - 1)]
            body.append(ResBlock(in_channels, out_channels, resample_kernel))
            in_channels = out_channels
        self.conv_body = nn.Sequential(*body)
        self.final_conv = ConvLayer(in_channels + 1, channels[4], 3, bias=True, activate=True)
        self.final_linear = nn.Sequential(
            EqualLinear(channels[4] * 4 * 4, channels[4], bias=True, bias_init_val=0, activation="fused_lrelu"),
            EqualLinear(channels[4], 1, bias=True, bias_init_val=0, activation=None))
        self.stddev_group = stddev_group
        self.stddev_feat = 1

    def forward(self, x):
        out = minibatch_stddev(self.conv_body(x), self.stddev_group, self.stddev_feat)
        out = self.final_conv(out)
        return self.final_linear(out.reshape([0, -1]))
