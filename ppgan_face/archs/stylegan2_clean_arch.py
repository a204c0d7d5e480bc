"""The "clean" StyleGAN2 generator of GFPGAN (``gfpgan/archs/stylegan2_clean_arch.py``).

"Clean" means no custom CUDA ops: plain Linear layers instead of equalised-lr ones, bilinear resampling
instead of FIR blur + transposed convs. Parameter and buffer names equal upstream's state-dict keys.

Export-friendly differences from upstream, with identical results:
- the modulated conv is computed without per-sample weights (``conv(x * s, w) * d``), so any batch size
  works in one ordinary convolution and the graph exports with a dynamic batch;
- resampling uses ``F.interpolate(size=...)``;
- ``randomize_noise=None`` (the default) means "random noise while training, stored noise buffers in
  eval mode", so inference is deterministic and the exported graph has no random ops.
"""
import math
import random

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppgan_face.registry import ARCH_REGISTRY


def resize_bilinear(x, factor):
    """Bilinear resize by 2 or 0.5 (half-pixel centres, like torch ``align_corners=False``)."""
    height, width = x.shape[2], x.shape[3]
    return F.interpolate(x, size=[int(height * factor), int(width * factor)], mode="bilinear", align_corners=False)


def _normal(std, mean=0.0):
    return nn.initializer.Normal(mean=mean, std=std)


def _linear(in_features, out_features, gain, bias_fill):
    """A Linear layer with upstream's kaiming-normal (fan-in) init and a constant bias."""
    return nn.Linear(in_features, out_features, weight_attr=paddle.ParamAttr(initializer=_normal(
        gain / math.sqrt(in_features))), bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(bias_fill)))


class NormStyleCode(nn.Layer):
    """Scale each style code to unit root-mean-square."""

    def forward(self, x):
        return x * paddle.rsqrt(paddle.mean(x * x, axis=1, keepdim=True) + 1e-8)


class ModulatedConv2d(nn.Layer):
    """StyleGAN2 modulated convolution (no bias), with optional bilinear up/down-sampling before the conv.

    ``weight`` keeps upstream's shape ``(1, out, in, k, k)``. Instead of modulating one weight per sample
    and running a grouped conv, the style scales the input channels and the demodulation scales the output
    channels, which is the same linear map.
    """

    def __init__(self, in_channels, out_channels, kernel_size, num_style_feat, demodulate=True, sample_mode=None,
                 eps=1e-8):
        super().__init__()
        if sample_mode not in (None, "upsample", "downsample"):
            raise ValueError(f"sample_mode must be None, 'upsample' or 'downsample', got {sample_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.demodulate = demodulate
        self.sample_mode = sample_mode
        self.eps = eps
        self.padding = kernel_size // 2
        # modulation bias starts at 1 so that the initial styles leave the weights unchanged
        self.modulation = _linear(num_style_feat, in_channels, gain=1.0, bias_fill=1.0)
        self.weight = self.create_parameter(
            [1, out_channels, in_channels, kernel_size, kernel_size],
            default_initializer=_normal(1.0 / math.sqrt(in_channels * kernel_size**2)))

    def forward(self, x, style):
        style = self.modulation(style)  # (b, in)
        weight = self.weight[0]  # (out, in, k, k)
        x = x * style.unsqueeze([2, 3])
        if self.sample_mode == "upsample":
            x = resize_bilinear(x, 2)
        elif self.sample_mode == "downsample":
            x = resize_bilinear(x, 0.5)
        out = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            # sum over in and k of (w * s)^2 = s^2 @ (sum over k of w^2)^T, one value per sample and output
            demod = paddle.rsqrt(paddle.matmul(style * style, (weight * weight).sum(axis=[2, 3]), transpose_y=True)
                                 + self.eps)
            out = out * demod.unsqueeze([2, 3])
        return out

    def extra_repr(self):
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, kernel_size={self.kernel_size}, "
                f"demodulate={self.demodulate}, sample_mode={self.sample_mode}")


class StyleConv(nn.Layer):
    """Modulated conv, x sqrt(2) (kept from the conversion of the equalised-lr model), noise, bias, leaky ReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, num_style_feat, demodulate=True, sample_mode=None):
        super().__init__()
        self.modulated_conv = ModulatedConv2d(in_channels, out_channels, kernel_size, num_style_feat,
                                              demodulate=demodulate, sample_mode=sample_mode)
        zeros = nn.initializer.Constant(0.0)
        self.weight = self.create_parameter([1], default_initializer=zeros)  # noise strength
        self.bias = self.create_parameter([1, out_channels, 1, 1], default_initializer=zeros)

    def forward(self, x, style, noise=None):
        """``noise``: (1 or b, 1, h, w); None draws fresh Gaussian noise (training only)."""
        out = self.modulated_conv(x, style) * math.sqrt(2)
        if noise is None:
            noise = paddle.randn([out.shape[0], 1, out.shape[2], out.shape[3]], dtype=out.dtype)
        out = out + self.weight * noise + self.bias
        return F.leaky_relu(out, negative_slope=0.2)


class ToRGB(nn.Layer):
    """1x1 modulated conv (no demodulation) to RGB, plus bias, plus the bilinearly upsampled previous RGB."""

    def __init__(self, in_channels, num_style_feat, upsample=True):
        super().__init__()
        self.upsample = upsample
        self.modulated_conv = ModulatedConv2d(in_channels, 3, kernel_size=1, num_style_feat=num_style_feat,
                                              demodulate=False)
        self.bias = self.create_parameter([1, 3, 1, 1], default_initializer=nn.initializer.Constant(0.0))

    def forward(self, x, style, skip=None):
        out = self.modulated_conv(x, style) + self.bias
        if skip is not None:
            out = out + (resize_bilinear(skip, 2) if self.upsample else skip)
        return out


class ConstantInput(nn.Layer):
    """The learned 4x4 input of the synthesis network."""

    def __init__(self, num_channel, size):
        super().__init__()
        self.weight = self.create_parameter([1, num_channel, size, size], default_initializer=_normal(1.0))

    def forward(self, batch):
        return self.weight.expand([batch, -1, -1, -1])


def stylegan2_channels(channel_multiplier, narrow):
    """Channels per resolution of StyleGAN2 (keys are resolutions as strings, like upstream)."""
    base = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * channel_multiplier, 128: 128 * channel_multiplier,
            256: 64 * channel_multiplier, 512: 32 * channel_multiplier, 1024: 16 * channel_multiplier}
    return {str(res): int(ch * narrow) for res, ch in base.items()}


@ARCH_REGISTRY.register()
class StyleGAN2GeneratorClean(nn.Layer):
    """Clean StyleGAN2 generator: style MLP, constant 4x4 input, two StyleConvs and a ToRGB per resolution.

    Args:
        out_size (int): output resolution (a power of 2).
        num_style_feat (int): style code length.
        num_mlp (int): layers of the style MLP.
        channel_multiplier (int): widens the 64..1024 resolutions.
        narrow (float): scales every channel count.
    """

    def __init__(self, out_size, num_style_feat=512, num_mlp=8, channel_multiplier=2, narrow=1):
        super().__init__()
        self.num_style_feat = num_style_feat
        gain = math.sqrt(2.0 / (1 + 0.2**2))  # kaiming gain of leaky ReLU(0.2)
        mlp = [NormStyleCode()]
        for _ in range(num_mlp):
            mlp += [_linear(num_style_feat, num_style_feat, gain, 0.0), nn.LeakyReLU(negative_slope=0.2)]
        self.style_mlp = nn.Sequential(*mlp)

        self.channels = channels = stylegan2_channels(channel_multiplier, narrow)
        self.log_size = int(math.log(out_size, 2))
        self.num_layers = (self.log_size - 2) * 2 + 1  # StyleConvs, one noise each
        self.num_latent = self.log_size * 2 - 2  # w codes: one per StyleConv plus the last ToRGB

        self.constant_input = ConstantInput(channels["4"], size=4)
        self.style_conv1 = StyleConv(channels["4"], channels["4"], 3, num_style_feat)
        self.to_rgb1 = ToRGB(channels["4"], num_style_feat, upsample=False)

        self.noises = nn.Layer()
        for layer_idx in range(self.num_layers):
            resolution = 2**((layer_idx + 5) // 2)
            self.noises.register_buffer(f"noise{layer_idx}", paddle.randn([1, 1, resolution, resolution]),
                                        persistable=True)

        self.style_convs = nn.LayerList()
        self.to_rgbs = nn.LayerList()
        in_channels = channels["4"]
        for level in range(3, self.log_size + 1):
            out_channels = channels[f"{2**level}"]
            self.style_convs.append(StyleConv(in_channels, out_channels, 3, num_style_feat, sample_mode="upsample"))
            self.style_convs.append(StyleConv(out_channels, out_channels, 3, num_style_feat))
            self.to_rgbs.append(ToRGB(out_channels, num_style_feat, upsample=True))
            in_channels = out_channels

    def get_latent(self, x):
        """Map z codes to w codes."""
        return self.style_mlp(x)

    def mean_latent(self, num_latent):
        """Average w of ``num_latent`` random z codes: the usual ``truncation_latent``."""
        return self.style_mlp(paddle.randn([num_latent, self.num_style_feat])).mean(axis=0, keepdim=True)

    def forward(self, styles, input_is_latent=False, noise=None, randomize_noise=None, truncation=1,
                truncation_latent=None, inject_index=None, return_latents=False):
        """Synthesise images from style codes.

        Args:
            styles (list[Tensor]): one or two codes (b, num_style_feat), or one per-layer code
                (b, num_latent, num_style_feat); two codes are mixed at ``inject_index``.
            input_is_latent (bool): codes are already w (skip the style MLP).
            noise (list[Tensor|None] | None): per-layer noise; overrides ``randomize_noise``.
            randomize_noise (bool | None): fresh noise (True) or the stored ``noises.noise{i}`` (False).
                None, the default, follows ``self.training`` (upstream's default is True).
            truncation (float), truncation_latent (Tensor): style truncation towards a mean w.
            return_latents (bool): also return the (b, num_latent, num_style_feat) w codes.

        Returns:
            (image, latent or None)
        """
        return self._synthesize(styles, [], input_is_latent, noise, randomize_noise, truncation, truncation_latent,
                                inject_index, return_latents)

    def _synthesize(self, styles, conditions, input_is_latent, noise, randomize_noise, truncation,
                    truncation_latent, inject_index, return_latents):
        latent = self._latent(styles, input_is_latent, truncation, truncation_latent, inject_index)
        noise = self._layer_noises(noise, randomize_noise)

        out = self.constant_input(latent.shape[0])
        out = self.style_conv1(out, latent[:, 0], noise=noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        for level, to_rgb in enumerate(self.to_rgbs):
            i = 2 * level + 1  # index of the level's first StyleConv in latent / noise
            out = self.style_convs[2 * level](out, latent[:, i], noise=noise[i])
            if i < len(conditions):  # the conditions may cover fewer levels
                out = self.apply_condition(out, conditions[i - 1], conditions[i])
            out = self.style_convs[2 * level + 1](out, latent[:, i + 1], noise=noise[i + 1])
            skip = to_rgb(out, latent[:, i + 2], skip)
        return skip, (latent if return_latents else None)

    def apply_condition(self, out, scale, shift):
        """Hook for conditional subclasses (see StyleGAN2GeneratorCSFT); unused without conditions."""
        raise NotImplementedError(f"{type(self).__name__} takes no conditions")

    def _layer_noises(self, noise, randomize_noise):
        if noise is not None:
            return noise
        if randomize_noise is None:
            randomize_noise = self.training
        if randomize_noise:
            return [None] * self.num_layers
        return [getattr(self.noises, f"noise{i}") for i in range(self.num_layers)]

    def _latent(self, styles, input_is_latent, truncation, truncation_latent, inject_index):
        """Style codes -> per-layer w codes (b, num_latent, num_style_feat)."""
        if not input_is_latent:
            styles = [self.style_mlp(s) for s in styles]
        if truncation < 1:
            styles = [truncation_latent + truncation * (s - truncation_latent) for s in styles]
        if len(styles) == 1:
            if styles[0].ndim >= 3:  # one code per layer, e.g. from an encoder
                return styles[0]
            return styles[0].unsqueeze(1).tile([1, self.num_latent, 1])
        if len(styles) != 2:
            raise ValueError(f"expected one or two style codes, got {len(styles)}")
        if inject_index is None:  # style mixing at a random layer (training)
            inject_index = random.randint(1, self.num_latent - 1)
        return paddle.concat([styles[0].unsqueeze(1).tile([1, inject_index, 1]),
                              styles[1].unsqueeze(1).tile([1, self.num_latent - inject_index, 1])], axis=1)
