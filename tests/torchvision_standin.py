"""A minimal stand-in for torchvision, enough for the official architecture files used as oracles.

The package index's torchvision wheel is CUDA-linked and fails to import next to the CPU torch, so the few
names the official code needs are provided here with torchvision's exact layer layout (same state-dict
keys and order). ``pretrained=`` / ``weights=`` arguments are accepted and ignored: nothing downloads.
"""
import sys
import types
from collections import OrderedDict

import torch
from torch import nn


def install():
    """Register ``torchvision`` and its used submodules in ``sys.modules`` (idempotent)."""
    if "torchvision" in sys.modules:
        return
    root = _add_module("torchvision", package=True)
    root.__version__ = "0.28.0"
    _install_models(root)  # first: the other parts add to ``torchvision.models``
    _install_ops(root)
    _install_vgg(root)
    _install_alexnet(root)
    _install_transforms(root)


def _add_module(name, package=False, **attrs):
    """Create ``name`` in ``sys.modules`` and attach it to its parent module."""
    module = types.ModuleType(name)
    if package:
        module.__path__ = []
    module.__dict__.update(attrs)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


# ---- torchvision.models: ResNet-50 and IntermediateLayerGetter (facexlib / GPEN RetinaFace) ----

class Bottleneck(nn.Module):
    """torchvision's ResNet v1.5 bottleneck: the stride sits on the 3x3 conv."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision's ResNet (bottleneck variants only), same attribute names and initialisation."""

    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet50(pretrained=False, progress=True, weights=None, **kwargs):
    """ResNet-50 with random initialisation (``pretrained`` / ``weights`` are ignored: no download)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], **kwargs)


class IntermediateLayerGetter(nn.ModuleDict):
    """Keep a model's children up to the last requested one; return the requested outputs by new name."""

    def __init__(self, model, return_layers):
        children = OrderedDict(model.named_children())
        if not set(return_layers).issubset(children):
            raise ValueError("return_layers are not present in model")
        pending = {str(k) for k in return_layers}
        kept = OrderedDict()
        for name, module in children.items():
            kept[name] = module
            pending.discard(name)
            if not pending:
                break
        super().__init__(kept)
        self.return_layers = {str(k): str(v) for k, v in return_layers.items()}

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


def _install_models(root):
    models = _add_module("torchvision.models", package=True, resnet50=resnet50)
    _add_module("torchvision.models.resnet", ResNet=ResNet, Bottleneck=Bottleneck, resnet50=resnet50)
    _add_module("torchvision.models._utils", IntermediateLayerGetter=IntermediateLayerGetter)
    # modelscope's RetinaFace imports this module without using it.
    _add_module("torchvision.models.detection", package=True)
    _add_module("torchvision.models.detection.backbone_utils")
    return models


# ---- torchvision.ops.nms (facexlib's py_cpu_nms) ----

def nms(boxes, scores, iou_threshold):
    """Greedy NMS with torchvision's semantics.

    Boxes are (x1, y1, x2, y2) without the legacy +1; candidates are visited by descending score (stable
    sort), and a box is dropped when its IoU with a kept box is strictly greater than the threshold.
    Returns the kept indices (int64) in descending score order.
    """
    order = torch.sort(scores, descending=True, stable=True).indices
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for pos, i in enumerate(order.tolist()):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[pos + 1:]
        w = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
        h = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[iou > iou_threshold]] = True
    return torch.tensor(keep, dtype=torch.int64)


def _install_ops(root):
    _add_module("torchvision.ops", package=True, nms=nms, roi_align=roi_align)


# ---- torchvision.models.vgg: VGG19 (BasicSR's VGGFeatureExtractor) ----

_VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"]
_VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGG(nn.Module):
    """torchvision's VGG: ``features``, ``avgpool``, ``classifier`` with its initialisation."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def _vgg_features(cfg):
    """torchvision's ``make_layers`` without batch norm: conv3x3 + ReLU per number, max-pool per "M"."""
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


def vgg19(pretrained=False, progress=True, weights=None, **kwargs):
    """VGG19 with random initialisation (``pretrained`` / ``weights`` are ignored: no download)."""
    return VGG(_vgg_features(_VGG19_CFG), **kwargs)


def vgg16(pretrained=False, progress=True, weights=None, **kwargs):
    """VGG16 (LPIPS-VGG's trunk) with random initialisation; nothing downloads."""
    return VGG(_vgg_features(_VGG16_CFG), **kwargs)


def _install_vgg(root):
    _add_module("torchvision.models.vgg", VGG=VGG, vgg19=vgg19, vgg16=vgg16)
    root.models.vgg19 = vgg19
    root.models.vgg16 = vgg16


# ---- torchvision.models.alexnet (LPIPS-Alex's trunk) ----

class AlexNet(nn.Module):
    """torchvision's AlexNet ("one weird trick" variant): same layers, indices and default initialisation."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def alexnet(pretrained=False, progress=True, weights=None, **kwargs):
    """AlexNet with random initialisation; nothing downloads."""
    return AlexNet(**kwargs)


def _install_alexnet(root):
    _add_module("torchvision.models.alexnet", AlexNet=AlexNet, alexnet=alexnet)
    root.models.alexnet = alexnet


# ---- torchvision.transforms.functional.normalize (GFPGANer, FaceRestoreHelper) and torchvision.utils ----

def normalize(tensor, mean, std, inplace=False):
    """torchvision's tensor normalisation: ``(tensor - mean) / std`` per channel, same float ops."""
    if not inplace:
        tensor = tensor.clone()
    mean = torch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def make_grid(*args, **kwargs):
    """Imported by BasicSR's ``img_util`` for 4-D tensors only; no oracle uses it."""
    raise NotImplementedError("torchvision.utils.make_grid is not part of the test stand-in")


def _install_transforms(root):
    _add_module("torchvision.transforms", package=True)
    _add_module("torchvision.transforms.functional", normalize=normalize, adjust_brightness=adjust_brightness,
                adjust_contrast=adjust_contrast, adjust_saturation=adjust_saturation, adjust_hue=adjust_hue,
                rgb_to_grayscale=rgb_to_grayscale)
    _add_module("torchvision.transforms.functional_tensor", rgb_to_grayscale=rgb_to_grayscale)
    _add_module("torchvision.utils", make_grid=make_grid)


# ---- torchvision.ops.roi_align (GFPGAN's facial-component crops) ----

def roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """torchvision's RoIAlign (``roi_align_kernel.cpp``) in float32, every bilinear sample gathered directly.

    Per RoI (batch index, x1, y1, x2, y2): start = coordinate · scale − (0.5 if aligned), size clamped to >= 1
    unless aligned, ``ceil(size / output)`` samples per bin side (or ``sampling_ratio``) at
    start + p·bin + (i + 0.5)·bin / grid; a sample with y < −1 or y > H (same for x) is 0, otherwise it is
    clamped to >= 0 and bilinearly interpolated, the last row / column repeating; a bin is the mean of its
    samples. Written from that kernel, independently of the port's separable version.
    """
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) else output_size
    _, _, height, width = input.shape
    outputs = []
    for roi in boxes.float():
        image = input[int(roi[0])]
        x1, y1, x2, y2 = roi[1:] * spatial_scale - (0.5 if aligned else 0.0)
        roi_w, roi_h = x2 - x1, y2 - y1
        if not aligned:
            roi_w, roi_h = roi_w.clamp(min=1.0), roi_h.clamp(min=1.0)
        grid_h = sampling_ratio if sampling_ratio > 0 else int(torch.ceil(roi_h / out_h))
        grid_w = sampling_ratio if sampling_ratio > 0 else int(torch.ceil(roi_w / out_w))
        ys = _sample_positions(y1, roi_h / out_h, out_h, grid_h).view(-1, 1)
        xs = _sample_positions(x1, roi_w / out_w, out_w, grid_w).view(1, -1)
        valid = ((ys >= -1.0) & (ys <= height)) & ((xs >= -1.0) & (xs <= width))
        y_low, y_high, ly = _neighbours(ys.clamp(min=0), height)
        x_low, x_high, lx = _neighbours(xs.clamp(min=0), width)
        value = ((1 - ly) * (1 - lx) * image[:, y_low, x_low] + (1 - ly) * lx * image[:, y_low, x_high]
                 + ly * (1 - lx) * image[:, y_high, x_low] + ly * lx * image[:, y_high, x_high]) * valid
        value = value.view(-1, out_h, grid_h, out_w, grid_w)
        outputs.append(value.sum(dim=(2, 4)) / max(grid_h * grid_w, 1))
    return torch.stack(outputs)


def _sample_positions(start, bin_size, bins, grid):
    p = torch.arange(bins, dtype=torch.float32).view(-1, 1)
    i = torch.arange(grid, dtype=torch.float32).view(1, -1)
    return (start + p * bin_size + (i + 0.5) * bin_size / grid).reshape(-1)


def _neighbours(pos, size):
    low = pos.to(torch.int64)
    last = low >= size - 1
    low = torch.where(last, torch.full_like(low, size - 1), low)
    high = torch.where(last, low, low + 1)
    pos = torch.where(last, low.to(pos.dtype), pos)
    return low, high, pos - low


# ---- torchvision.transforms.functional colour adjustments (GFPGAN's color_jitter_pt), tensor semantics ----

def rgb_to_grayscale(img, num_output_channels=1):
    l_img = (0.2989 * img[..., 0, :, :] + 0.587 * img[..., 1, :, :] + 0.114 * img[..., 2, :, :]).to(img.dtype)
    l_img = l_img.unsqueeze(dim=-3)
    return l_img.expand(img.shape) if num_output_channels == 3 else l_img


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, 1.0).to(img1.dtype)


def adjust_brightness(img, brightness_factor):
    return _blend(img, torch.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    return _blend(img, torch.mean(rgb_to_grayscale(img), dim=(-3, -2, -1), keepdim=True), contrast_factor)


def adjust_saturation(img, saturation_factor):
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def adjust_hue(img, hue_factor):
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    r, g, b = img.unbind(dim=-3)
    maxc, minc = torch.max(img, dim=-3).values, torch.min(img, dim=-3).values
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    cr_divisor = torch.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = torch.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    h = (h + hue_factor) % 1.0
    v = maxc
    i = torch.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.to(dtype=torch.int32)
    p = torch.clamp((v * (1.0 - s)), 0.0, 1.0)
    q = torch.clamp((v * (1.0 - s * f)), 0.0, 1.0)
    t = torch.clamp((v * (1.0 - s * (1.0 - f))), 0.0, 1.0)
    i = i % 6
    mask = i.unsqueeze(dim=-3) == torch.arange(6, device=i.device).view(-1, 1, 1)
    a1 = torch.stack((v, q, p, p, t, v), dim=-3)
    a2 = torch.stack((t, v, v, q, p, p), dim=-3)
    a3 = torch.stack((p, p, t, v, v, q), dim=-3)
    a4 = torch.stack((a1, a2, a3), dim=-4)
    return torch.einsum("...ijk, ...xijk -> ...xjk", mask.to(dtype=img.dtype), a4)
