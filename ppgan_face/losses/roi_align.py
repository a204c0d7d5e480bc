"""``torchvision.ops.roi_align`` (as GFPGAN calls it: spatial_scale 1, sampling_ratio −1, aligned=False).

Each output cell averages ``ceil(roi_size / output_size)`` × … bilinear samples placed regularly in its bin;
samples beyond one pixel outside the image count as 0, samples in that margin are clamped to the border.
Bilinear sampling and bin averaging are separable, so one RoI is ``Wy @ image @ Wxᵀ`` with sampling matrices
built in numpy from the (constant) boxes; gradients to the image then follow from the matmuls.
"""
import math

import numpy as np
import paddle


def _sampling_matrix(start, length, out_size, size, aligned):
    """(out_size, size) float32 matrix: row p averages the bilinear weights of bin p's sample points."""
    f32 = np.float32
    start, length = f32(start) - f32(0.5 if aligned else 0), f32(length)
    if not aligned:
        length = max(length, f32(1))
    bin_size = length / f32(out_size)
    grid = max(int(math.ceil(length / out_size)), 1)
    matrix = np.zeros((out_size, size), np.float32)
    for p in range(out_size):
        for i in range(grid):
            pos = start + f32(p) * bin_size + f32(i + 0.5) * bin_size / f32(grid)
            if pos < -1.0 or pos > size:
                continue
            pos = max(pos, f32(0))
            low = int(pos)
            if low >= size - 1:
                low = high = size - 1
                pos = f32(low)
            else:
                high = low + 1
            frac = pos - f32(low)
            matrix[p, low] += (f32(1) - frac) / f32(grid)
            matrix[p, high] += frac / f32(grid)
    return matrix


def roi_align(images, boxes, output_size, aligned=False):
    """Crop-and-resize N×C×H×W ``images`` at ``boxes`` (K×5 numpy: batch index, x1, y1, x2, y2) to
    K×C×S×S (``output_size`` S, or (S_h, S_w))."""
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) else output_size
    height, width = images.shape[2], images.shape[3]
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 5)
    crops = []
    for index, x1, y1, x2, y2 in boxes:
        wy = _sampling_matrix(y1, y2 - y1, out_h, height, aligned)
        wx = _sampling_matrix(x1, x2 - x1, out_w, width, aligned)
        crops.append(paddle.to_tensor(wy) @ images[int(index)] @ paddle.to_tensor(wx.T))
    return paddle.stack(crops)
