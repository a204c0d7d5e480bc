"""GFPGANv1, the paper model: a U-Net whose features steer a pretrained StyleGAN2 through SFT.

Mirrors ``gfpgan/archs/gfpganv1_arch.py`` (GFPGAN 1.3.8) with the BasicSR equalised-lr StyleGAN2 blocks of
``stylegan2_arch.py``; parameter names equal upstream's. Also the facial-component discriminator used in
GFPGAN training.
"""
import math

import paddle
from paddle import nn
from paddle.nn import functional as F

from ppgan_face.archs.stylegan2_arch import (ConvLayer, EqualConv2d, EqualLinear, FusedLeakyReLU, ResBlock,
                                             ScaledLeakyReLU, StyleGAN2Generator, channel_table)
from ppgan_face.registry import ARCH_REGISTRY


class StyleGAN2GeneratorSFT(StyleGAN2Generator):
    """StyleGAN2 generator whose features are modulated by spatial feature transforms (SFT).

    After the first conv of each resolution level, ``feat * scale + shift`` is applied with the U-Net
    conditions (``conditions[2l]`` = scale, ``conditions[2l+1]`` = shift), to all channels or, with
    ``sft_half``, only to the second half of them.
    """

    def __init__(self, out_size, num_style_feat=512, num_mlp=8, channel_multiplier=2, resample_kernel=(1, 3, 3, 1),
                 lr_mlp=0.01, narrow=1, sft_half=False):
        super().__init__(out_size, num_style_feat=num_style_feat, num_mlp=num_mlp,
                         channel_multiplier=channel_multiplier, resample_kernel=resample_kernel, lr_mlp=lr_mlp,
                         narrow=narrow)
        self.sft_half = sft_half

    def _sft(self, conditions, feat, level):
        if 2 * level + 1 >= len(conditions):  # the conditions may cover fewer levels
            return feat
        scale, shift = conditions[2 * level], conditions[2 * level + 1]
        if not self.sft_half:
            return feat * scale + shift
        half = feat.shape[1] // 2
        return paddle.concat([feat[:, :half], feat[:, half:] * scale + shift], axis=1)

    def forward(self, styles, conditions, input_is_latent=False, noise=None, randomize_noise=None, truncation=1,
                truncation_latent=None, inject_index=None, return_latents=False):
        """Like ``StyleGAN2Generator.forward`` plus the SFT ``conditions`` (list of scale/shift maps)."""
        latent = self.latents(styles, input_is_latent, truncation, truncation_latent, inject_index)
        image = self.synthesize(latent, self.noise_inputs(noise, randomize_noise),
                                after_first_conv=lambda feat, level: self._sft(conditions, feat, level))
        return image, (latent if return_latents else None)


class ConvUpLayer(nn.Layer):
    """Bilinear x2 upsampling, then an equalised-lr conv, then (Fused/Scaled) leaky ReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, bias_init_val=0,
                 activate=True):
        super().__init__()
        self.stride = stride
        self.padding = padding
        self.scale = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.weight = self.create_parameter([out_channels, in_channels, kernel_size, kernel_size],
                                            default_initializer=nn.initializer.Normal())
        self.bias = self.create_parameter([out_channels], default_initializer=nn.initializer.Constant(bias_init_val)) \
            if bias and not activate else None
        self.activation = None
        if activate:
            self.activation = FusedLeakyReLU(out_channels) if bias else ScaledLeakyReLU(0.2)

    def forward(self, x):
        out = F.interpolate(x, size=[x.shape[2] * 2, x.shape[3] * 2], mode="bilinear", align_corners=False)
        out = F.conv2d(out, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)
        return self.activation(out) if self.activation is not None else out


class ResUpBlock(nn.Layer):
    """Residual block with bilinear x2 upsampling (decoder side of the U-Net)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv1 = ConvLayer(in_channels, in_channels, 3, bias=True, activate=True)
        self.conv2 = ConvUpLayer(in_channels, out_channels, 3, stride=1, padding=1, bias=True, activate=True)
        self.skip = ConvUpLayer(in_channels, out_channels, 1, bias=False, activate=False)

    def forward(self, x):
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


@ARCH_REGISTRY.register()
class GFPGANv1(nn.Layer):
    """GFPGANv1: U-Net encoder/decoder + StyleGAN2 decoder with SFT (the paper's architecture).

    Args:
        out_size: output resolution (input has the same size).
        num_style_feat: style code width.
        channel_multiplier, narrow: channel width (the U-Net uses half of ``narrow``).
        resample_kernel: FIR magnitudes of the StyleGAN2 resampling.
        decoder_load_path: an official StyleGAN2 checkpoint (``params_ema``) loaded into the decoder through
            the converter; never downloaded.
        fix_decoder: freeze the decoder (``stop_gradient`` on its parameters).
        num_mlp, lr_mlp: style MLP of the decoder.
        input_is_latent: the U-Net code is already a W latent (skip the style MLP).
        different_w: one latent per decoder layer instead of one for all.
        sft_half: apply SFT to half of the decoder channels.
    """

    def __init__(self, out_size, num_style_feat=512, channel_multiplier=1, resample_kernel=(1, 3, 3, 1),
                 decoder_load_path=None, fix_decoder=True, num_mlp=8, lr_mlp=0.01, input_is_latent=False,
                 different_w=False, narrow=1, sft_half=False):
        super().__init__()
        self.input_is_latent = input_is_latent
        self.different_w = different_w
        self.num_style_feat = num_style_feat
        channels = channel_table(channel_multiplier, narrow * 0.5)  # the U-Net has half the channels
        self.log_size = int(math.log(out_size, 2))

        self.conv_body_first = ConvLayer(3, channels[2 ** self.log_size], 1, bias=True, activate=True)
        in_channels = channels[2 ** self.log_size]
        self.conv_body_down = nn.LayerList()
        for i in range(self.log_size, 2, -1):
            out_channels = channels[2 ** (i - 1)]
            self.conv_body_down.append(ResBlock(in_channels, out_channels, resample_kernel))
            in_channels = out_channels
        self.final_conv = ConvLayer(in_channels, channels[4], 3, bias=True, activate=True)

        in_channels = channels[4]
        self.conv_body_up = nn.LayerList()
        for i in range(3, self.log_size + 1):
            out_channels = channels[2 ** i]
            self.conv_body_up.append(ResUpBlock(in_channels, out_channels))
            in_channels = out_channels

        self.toRGB = nn.LayerList([EqualConv2d(channels[2 ** i], 3, 1, stride=1, padding=0, bias=True)
                                   for i in range(3, self.log_size + 1)])

        num_codes = self.log_size * 2 - 2 if different_w else 1
        self.final_linear = EqualLinear(channels[4] * 4 * 4, num_codes * num_style_feat, bias=True,
                                        bias_init_val=0, lr_mul=1, activation=None)

        self.stylegan_decoder = StyleGAN2GeneratorSFT(
            out_size=out_size, num_style_feat=num_style_feat, num_mlp=num_mlp, channel_multiplier=channel_multiplier,
            resample_kernel=resample_kernel, lr_mlp=lr_mlp, narrow=narrow, sft_half=sft_half)
        if decoder_load_path:
            from ppgan_face.convert import load_official_into

            load_official_into(self.stylegan_decoder, decoder_load_path, state_dict_key="params_ema")
        if fix_decoder:
            for param in self.stylegan_decoder.parameters():
                param.stop_gradient = True

        self.condition_scale = nn.LayerList()
        self.condition_shift = nn.LayerList()
        for i in range(3, self.log_size + 1):
            out_channels = channels[2 ** i]
            sft_out_channels = out_channels if sft_half else out_channels * 2
            self.condition_scale.append(self._condition_branch(out_channels, sft_out_channels, bias_init_val=1))
            self.condition_shift.append(self._condition_branch(out_channels, sft_out_channels, bias_init_val=0))

    @staticmethod
    def _condition_branch(channels, out_channels, bias_init_val):
        """Conv3x3 - ScaledLeakyReLU - Conv3x3 producing an SFT scale (bias 1) or shift (bias 0) map."""
        return nn.Sequential(
            EqualConv2d(channels, channels, 3, stride=1, padding=1, bias=True, bias_init_val=0),
            ScaledLeakyReLU(0.2),
            EqualConv2d(channels, out_channels, 3, stride=1, padding=1, bias=True, bias_init_val=bias_init_val))

    def forward(self, x, return_latents=False, return_rgb=True, randomize_noise=None):
        """Restore ``x`` (``[b, 3, out_size, out_size]`` in [-1, 1]); return ``(image, out_rgbs)``.

        ``out_rgbs`` are the U-Net's intermediate RGB images (8x8 .. out_size; empty unless ``return_rgb``),
        used by the pyramid loss. ``randomize_noise=None`` (default) draws fresh decoder noise only in
        training mode and uses the stored ``noises.noise{i}`` buffers in eval mode, so inference is
        deterministic (upstream defaults to True). ``return_latents`` is passed to the decoder and has no
        effect on the outputs, as upstream.
        """
        feat = self.conv_body_first(x)
        unet_skips = []
        for block in self.conv_body_down:
            feat = block(feat)
            unet_skips.insert(0, feat)
        feat = self.final_conv(feat)

        style_code = self.final_linear(feat.reshape([0, -1]))
        if self.different_w:
            style_code = style_code.reshape([style_code.shape[0], -1, self.num_style_feat])

        conditions, out_rgbs = [], []
        for skip, up_block, scale_branch, shift_branch, to_rgb in zip(
                unet_skips, self.conv_body_up, self.condition_scale, self.condition_shift, self.toRGB):
            feat = up_block(feat + skip)
            conditions.append(scale_branch(feat))
            conditions.append(shift_branch(feat))
            if return_rgb:
                out_rgbs.append(to_rgb(feat))

        image, _ = self.stylegan_decoder([style_code], conditions, return_latents=return_latents,
                                         input_is_latent=self.input_is_latent, randomize_noise=randomize_noise)
        return image, out_rgbs


@ARCH_REGISTRY.register()
class FacialComponentDiscriminator(nn.Layer):
    """VGG-style discriminator of the eye / mouth crops in GFPGAN training (fixed width).

    ``forward(x, return_feats=False)`` returns ``(logits map, feats or None)``; ``feats`` are the features
    after conv3 and conv5, used by the component style (Gram) loss.
    """

    def __init__(self):
        super().__init__()
        kernel = (1, 3, 3, 1)
        self.conv1 = ConvLayer(3, 64, 3, downsample=False, resample_kernel=kernel, bias=True, activate=True)
        self.conv2 = ConvLayer(64, 128, 3, downsample=True, resample_kernel=kernel, bias=True, activate=True)
        self.conv3 = ConvLayer(128, 128, 3, downsample=False, resample_kernel=kernel, bias=True, activate=True)
        self.conv4 = ConvLayer(128, 256, 3, downsample=True, resample_kernel=kernel, bias=True, activate=True)
        self.conv5 = ConvLayer(256, 256, 3, downsample=False, resample_kernel=kernel, bias=True, activate=True)
        self.final_conv = ConvLayer(256, 1, 3, bias=True, activate=False)

    def forward(self, x, return_feats=False):
        feat3 = self.conv3(self.conv2(self.conv1(x)))
        feat5 = self.conv5(self.conv4(feat3))
        out = self.final_conv(feat5)
        return out, ([feat3, feat5] if return_feats else None)
