"""GFPGANv1Clean (``gfpgan/archs/gfpganv1_clean_arch.py``): the network of the public GFPGAN v1.2-v1.4 weights.

A U-Net encodes the degraded face into W codes and multi-scale features; the features become SFT scale /
shift maps that modulate a pretrained clean StyleGAN2 decoder. Parameter names equal upstream's.
"""
import math

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppgan_face.archs.stylegan2_clean_arch import StyleGAN2GeneratorClean, resize_bilinear, stylegan2_channels
from ppgan_face.registry import ARCH_REGISTRY


class StyleGAN2GeneratorCSFT(StyleGAN2GeneratorClean):
    """Clean StyleGAN2 whose features after each level's first conv are modulated by SFT conditions.

    Args:
        sft_half (bool): apply ``x * scale + shift`` to the second half of the channels only (the first half
            keeps the pure generative prior); otherwise to all channels.
        (other args as StyleGAN2GeneratorClean)
    """

    def __init__(self, out_size, num_style_feat=512, num_mlp=8, channel_multiplier=2, narrow=1, sft_half=False):
        super().__init__(out_size, num_style_feat=num_style_feat, num_mlp=num_mlp,
                         channel_multiplier=channel_multiplier, narrow=narrow)
        self.sft_half = sft_half

    def forward(self, styles, conditions, input_is_latent=False, noise=None, randomize_noise=None, truncation=1,
                truncation_latent=None, inject_index=None, return_latents=False):
        """As StyleGAN2GeneratorClean.forward; ``conditions`` is [scale, shift] per level, low to high resolution."""
        return self._synthesize(styles, conditions, input_is_latent, noise, randomize_noise, truncation,
                                truncation_latent, inject_index, return_latents)

    def apply_condition(self, out, scale, shift):
        if not self.sft_half:
            return out * scale + shift
        half = out.shape[1] // 2
        return paddle.concat([out[:, :half], out[:, half:] * scale + shift], axis=1)


class ResBlock(nn.Layer):
    """Residual block that resamples bilinearly (mode 'down': x0.5, 'up': x2); 1x1 skip without bias."""

    def __init__(self, in_channels, out_channels, mode="down"):
        super().__init__()
        if mode not in ("down", "up"):
            raise ValueError(f"mode must be 'down' or 'up', got {mode!r}")
        self.factor = 0.5 if mode == "down" else 2
        self.conv1 = nn.Conv2D(in_channels, in_channels, 3, 1, 1)
        self.conv2 = nn.Conv2D(in_channels, out_channels, 3, 1, 1)
        self.skip = nn.Conv2D(in_channels, out_channels, 1, bias_attr=False)

    def forward(self, x):
        out = resize_bilinear(F.leaky_relu(self.conv1(x), 0.2), self.factor)
        out = F.leaky_relu(self.conv2(out), 0.2)
        return out + self.skip(resize_bilinear(x, self.factor))


def _sft_branch(channels, out_channels):
    return nn.Sequential(nn.Conv2D(channels, channels, 3, 1, 1), nn.LeakyReLU(0.2),
                         nn.Conv2D(channels, out_channels, 3, 1, 1))


@ARCH_REGISTRY.register()
class GFPGANv1Clean(nn.Layer):
    """U-Net + StyleGAN2 decoder with SFT (the GFP-GAN generator, clean version).

    Args:
        out_size (int): input and output resolution.
        num_style_feat (int): style code length.
        channel_multiplier (int): StyleGAN2 channel multiplier (the U-Net uses the same table at half width).
        decoder_load_path (str | None): pretrained decoder weights: an official StyleGAN2-clean checkpoint
            (read by our converter, ``params_ema``) or a ``.pdparams`` of our decoder.
        fix_decoder (bool): freeze the decoder parameters.
        num_mlp (int): style MLP layers of the decoder.
        input_is_latent (bool): the encoder outputs w (skip the decoder's style MLP).
        different_w (bool): one w per decoder layer instead of one shared w.
        narrow (float): channel scale.
        sft_half (bool): SFT on half of the decoder channels.
    """

    def __init__(self, out_size, num_style_feat=512, channel_multiplier=1, decoder_load_path=None, fix_decoder=True,
                 num_mlp=8, input_is_latent=False, different_w=False, narrow=1, sft_half=False):
        super().__init__()
        self.input_is_latent = input_is_latent
        self.different_w = different_w
        self.num_style_feat = num_style_feat
        self.log_size = int(math.log(out_size, 2))
        width = stylegan2_channels(channel_multiplier, narrow * 0.5)  # the U-Net is half as wide
        ch = {i: width[f"{2**i}"] for i in range(2, self.log_size + 1)}  # by log2 of the resolution
        levels = range(3, self.log_size + 1)  # decoder levels, 8x8 .. out_size

        self.conv_body_first = nn.Conv2D(3, ch[self.log_size], 1)
        self.conv_body_down = nn.LayerList(ResBlock(ch[i], ch[i - 1], mode="down") for i in reversed(levels))
        self.final_conv = nn.Conv2D(ch[2], ch[2], 3, 1, 1)
        self.conv_body_up = nn.LayerList(ResBlock(ch[i - 1], ch[i], mode="up") for i in levels)
        self.toRGB = nn.LayerList(nn.Conv2D(ch[i], 3, 1) for i in levels)

        num_w = (self.log_size * 2 - 2) if different_w else 1
        self.final_linear = nn.Linear(ch[2] * 4 * 4, num_w * num_style_feat)

        self.stylegan_decoder = StyleGAN2GeneratorCSFT(out_size=out_size, num_style_feat=num_style_feat,
                                                       num_mlp=num_mlp, channel_multiplier=channel_multiplier,
                                                       narrow=narrow, sft_half=sft_half)
        if decoder_load_path:
            self._load_decoder(decoder_load_path)
        if fix_decoder:
            for param in self.stylegan_decoder.parameters():
                param.stop_gradient = True

        sft_factor = 1 if sft_half else 2
        self.condition_scale = nn.LayerList(_sft_branch(ch[i], ch[i] * sft_factor) for i in levels)
        self.condition_shift = nn.LayerList(_sft_branch(ch[i], ch[i] * sft_factor) for i in levels)

    def _load_decoder(self, path):
        """Load the pretrained decoder without torch: a ``.pdparams`` or an official checkpoint, strictly."""
        from ppgan_face.convert import load_weights  # a higher layer than the archs: import on use

        load_weights(self.stylegan_decoder, path)

    def forward(self, x, return_latents=False, return_rgb=True, randomize_noise=None):
        """Restore faces ``x`` (b, 3, out_size, out_size) in [-1, 1].

        Args:
            return_latents (bool): passed to the decoder; as upstream, the latents are not returned.
            return_rgb (bool): also return the U-Net's intermediate RGB images (for the pyramid loss).
            randomize_noise (bool | None): decoder noise: fresh (True) or the stored buffers (False). None,
                the default, follows ``self.training``, so eval-mode calls are deterministic (upstream's
                default is True even at inference).

        Returns:
            (image, out_rgbs): the restored image and the list of intermediate RGB images (8 .. out_size;
            empty if ``return_rgb`` is False).
        """
        feat = F.leaky_relu(self.conv_body_first(x), 0.2)
        unet_skips = []
        for block in self.conv_body_down:
            feat = block(feat)
            unet_skips.insert(0, feat)
        feat = F.leaky_relu(self.final_conv(feat), 0.2)

        style_code = self.final_linear(feat.reshape([0, -1]))
        if self.different_w:
            style_code = style_code.reshape([style_code.shape[0], -1, self.num_style_feat])

        conditions, out_rgbs = [], []
        for skip, up, scale, shift, to_rgb in zip(unet_skips, self.conv_body_up, self.condition_scale,
                                                  self.condition_shift, self.toRGB):
            feat = up(feat + skip)
            conditions += [scale(feat), shift(feat)]
            if return_rgb:
                out_rgbs.append(to_rgb(feat))

        image, _ = self.stylegan_decoder([style_code], conditions, return_latents=return_latents,
                                         input_is_latent=self.input_is_latent, randomize_noise=randomize_noise)
        return image, out_rgbs
