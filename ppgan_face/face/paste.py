"""Paste restored faces back: inverse affine, a soft blending mask, and the blend onto the background.

A config lists masks under ``face_helper.paste.masks`` and picks one by name in ``face_helper.paste.mask``:
``parsing`` is facexlib's ParseNet mask (GFPGANer's default), ``eroded_square`` facexlib's mask without
parsing, ``blurred_rect`` GPEN's fixed mask.
"""
import cv2
import numpy as np

from ppgan_face.face.align import interpolation_flag


def inverse_affine(matrix, upscale):
    """Aligned-face coordinates → output-photo coordinates for an output ``upscale`` times the input.

    As facexlib: the inverse is scaled by ``upscale`` and, when upscaling, shifted by half an output pixel
    per input pixel (``0.5 * upscale``) so pixel centres line up.
    """
    inverse = cv2.invertAffineTransform(matrix) * upscale
    if upscale > 1:
        inverse[:, 2] += 0.5 * upscale
    return inverse


class ErodedSquareMask:
    """facexlib's paste mask without parsing: the warped face square, eroded by ``erode · upscale`` px (which
    also hides the warp's black border), then eroded again and blurred over a band ``√area / edge_divisor``
    wide so the face fades into the background."""

    def __init__(self, erode=2, edge_divisor=20):
        self.erode = erode
        self.edge_divisor = edge_divisor

    def __call__(self, face, inverse, out_size, upscale):
        """(soft mask (H, W, 1), hard weight (H, W, 1) applied to the face first) in output pixels."""
        inv_mask = cv2.warpAffine(np.ones(face.shape[:2], dtype=np.float32), inverse, out_size)
        k = int(self.erode * upscale)
        hard = cv2.erode(inv_mask, np.ones((k, k), np.uint8))
        edge = int(np.sum(hard) ** 0.5) // self.edge_divisor
        center = cv2.erode(hard, np.ones((2 * edge, 2 * edge), np.uint8))
        soft = cv2.GaussianBlur(center, (2 * edge + 1, 2 * edge + 1), 0)
        return soft[:, :, None], hard[:, :, None]


class BlurredRectMask:
    """GPEN's paste mask: a square inset by ``border`` px (anti-aliased) in a ``size`` face, blurred
    ``blur_times`` times with a Gaussian (``blur_kernel``, ``blur_sigma``), resized to the face and warped."""

    def __init__(self, size=512, border=26, blur_kernel=101, blur_sigma=4, blur_times=2, interpolation="area"):
        mask = np.zeros((size, size), np.float32)
        cv2.rectangle(mask, (border, border), (size - border, size - border), 1.0, -1, cv2.LINE_AA)
        for _ in range(blur_times):
            mask = cv2.GaussianBlur(mask, (blur_kernel, blur_kernel), blur_sigma)
        self.mask = mask
        self.flags = interpolation_flag(interpolation)

    def __call__(self, face, inverse, out_size, upscale):
        mask = cv2.resize(self.mask, face.shape[1::-1])
        return cv2.warpAffine(mask, inverse, out_size, flags=self.flags)[:, :, None], None


class ParsingMask:
    """facexlib's parsing mask: the restored face parsed at ``input_size`` by a ParseNet runner, each class
    given its value in ``class_values`` (facexlib's colormap: face parts ``value_range``, background, neck,
    cloth, hair, hat 0), blurred ``blur_times`` times, ``border`` px zeroed, divided by ``value_range``,
    resized to the face and warped. Same float64 steps as upstream, so exact blends stay exact."""

    def __init__(self, parser=None, input_size=512, class_values=(), value_range=255, blur_kernel=101, blur_sigma=11,
                 blur_times=2, border=10, interpolation="area"):
        self.parser = parser
        self.input_size = input_size
        self.class_values = np.asarray(class_values, dtype=np.float64)
        self.value_range = value_range
        self.blur = (blur_kernel, blur_sigma, blur_times)
        self.border = border
        self.flags = interpolation_flag(interpolation)

    def aligned_mask(self, face):
        """The soft mask in aligned-face space (face_size × face_size, float64 in [0, 1])."""
        if self.parser is None:
            raise ValueError("the parsing paste mask needs a face parsing runner (configs/parsenet.yml)")
        size = (self.input_size, self.input_size)
        x = (cv2.resize(face, size, interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.)[..., ::-1]
        x = ((x - 0.5) / 0.5).transpose(2, 0, 1)[None]
        out = self.parser(x)
        labels = (out[0] if isinstance(out, tuple) else out)[0].argmax(axis=0)
        mask = self.class_values[labels]
        kernel, sigma, times = self.blur
        for _ in range(times):
            mask = cv2.GaussianBlur(mask, (kernel, kernel), sigma)
        b = self.border
        if b:
            mask[:b, :], mask[-b:, :], mask[:, :b], mask[:, -b:] = 0, 0, 0, 0
        return cv2.resize(mask / self.value_range, face.shape[1::-1])

    def __call__(self, face, inverse, out_size, upscale):
        return cv2.warpAffine(self.aligned_mask(face), inverse, out_size, flags=self.flags)[:, :, None], None


MASKS = {"eroded_square": ErodedSquareMask, "blurred_rect": BlurredRectMask, "parsing": ParsingMask}


def build_mask(name, masks, parser=None):
    """The mask ``name`` from the ``masks`` settings (``parser``: the parsing runner, for ``parsing``)."""
    if name not in MASKS or name not in masks:
        raise ValueError(f"unknown paste mask {name!r}; this config has: {', '.join(masks)}")
    settings = dict(masks[name])
    if "parser" in settings:  # the config names the parsing network; its runner takes the name's place
        settings["parser"] = parser
    return MASKS[name](**settings)


class FacePaster:
    """Blend restored faces into an (upscaled) background, one after the other, as facexlib does:
    ``out = soft · (hard · face) + (1 − soft) · out`` (float32, float64 with the parsing mask, as upstream)."""

    def __init__(self, mask, masks, interpolation="linear", parser=None):
        self.mask = build_mask(mask, masks, parser)
        self.flags = interpolation_flag(interpolation)

    def __call__(self, background, faces, inverses, upscale):
        """``background`` (H, W, 3) at output size; ``faces`` uint8 aligned faces; returns the blend (the
        background itself when there is no face)."""
        out = background
        out_size = (background.shape[1], background.shape[0])
        for face, inverse in zip(faces, inverses):
            warped = cv2.warpAffine(face, inverse, out_size, flags=self.flags)
            soft, hard = self.mask(face, inverse, out_size, upscale)
            pasted = warped if hard is None else hard * warped
            out = soft * pasted + (1 - soft) * out
        return out
