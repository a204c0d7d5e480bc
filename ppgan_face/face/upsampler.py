"""Background super-resolution with an RRDBNet runner, tile by tile, as Real-ESRGAN's ``RealESRGANer``.

Tiling bounds memory (CPU included): each ``tile`` × ``tile`` block is run with ``tile_pad`` pixels of
context and only its centre is kept, so with enough padding the seams are invisible.
"""
import math

import cv2
import numpy as np

# Networks with scale 2 / 1 pixel-unshuffle their input, so its sides must be multiples of these.
_MOD = {2: 2, 1: 4}


class TiledUpsampler:
    """``enhance(image, outscale)`` upscales a BGR / gray / BGRA, 8- or 16-bit image like ``RealESRGANer``:
    the alpha channel goes through the network too, the output keeps the input's mode and bit depth, and a
    final Lanczos resize gives ``outscale`` when it differs from the network's ``scale``."""

    def __init__(self, runner, scale, tile=400, tile_pad=10, pre_pad=0):
        self.runner = runner
        self.scale = int(scale)
        self.tile, self.tile_pad, self.pre_pad = int(tile), int(tile_pad), int(pre_pad)

    def _tiles(self, x):
        """Run the network over ``x`` (1, 3, H, W) tile by tile; returns (1, 3, H·s, W·s)."""
        _, channels, height, width = x.shape
        s, t, pad = self.scale, self.tile, self.tile_pad
        out = np.zeros((1, channels, height * s, width * s), np.float32)
        for y0 in range(0, math.ceil(height / t) * t, t):
            for x0 in range(0, math.ceil(width / t) * t, t):
                y1, x1 = min(y0 + t, height), min(x0 + t, width)
                py0, px0 = max(y0 - pad, 0), max(x0 - pad, 0)
                py1, px1 = min(y1 + pad, height), min(x1 + pad, width)
                tile = self.runner(x[:, :, py0:py1, px0:px1])
                oy, ox = (y0 - py0) * s, (x0 - px0) * s
                out[:, :, y0 * s:y1 * s, x0 * s:x1 * s] = tile[:, :, oy:oy + (y1 - y0) * s, ox:ox + (x1 - x0) * s]
        return out

    def upscale_rgb(self, rgb):
        """RGB float32 (H, W, 3) in [0, 1] → (H·s, W·s, 3) in [0, 1]: pre-pad, mod-pad (reflect), network,
        crop the pads, clip."""
        height, width = rgb.shape[:2]
        x = rgb.transpose(2, 0, 1)[None].astype(np.float32)
        x = np.pad(x, ((0, 0), (0, 0), (0, self.pre_pad), (0, self.pre_pad)), mode="reflect")
        mod = _MOD.get(self.scale)
        if mod:
            x = np.pad(x, ((0, 0), (0, 0), (0, -x.shape[2] % mod), (0, -x.shape[3] % mod)), mode="reflect")
        out = self._tiles(x) if self.tile > 0 else self.runner(x)
        out = out[0, :, :height * self.scale, :width * self.scale]
        return np.clip(out, 0, 1).transpose(1, 2, 0)

    def enhance(self, image, outscale=None):
        """Upscale a BGR, gray (H, W) or BGRA image (uint8 or uint16); same mode and depth out."""
        height, width = image.shape[:2]
        max_range = 65535 if np.max(image) > 256 else 255
        image = image.astype(np.float32) / max_range
        alpha = None
        if image.ndim == 2:
            rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
        else:
            if image.shape[2] == 4:
                alpha = cv2.cvtColor(image[:, :, 3], cv2.COLOR_GRAY2RGB)
            rgb = cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2RGB)
        out = np.ascontiguousarray(self.upscale_rgb(rgb)[:, :, ::-1])  # BGR
        if image.ndim == 2:
            out = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
        if alpha is not None:
            out = cv2.cvtColor(out, cv2.COLOR_BGR2BGRA)
            out[:, :, 3] = cv2.cvtColor(np.ascontiguousarray(self.upscale_rgb(alpha)[:, :, ::-1]), cv2.COLOR_BGR2GRAY)
        out = (out * float(max_range)).round().astype(np.uint16 if max_range == 65535 else np.uint8)
        if outscale is not None and outscale != float(self.scale):
            size = (int(width * outscale), int(height * outscale))
            out = cv2.resize(out, size, interpolation=cv2.INTER_LANCZOS4)
        return out
