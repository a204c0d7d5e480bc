"""tools/convert_weights.py on every kind of official checkpoint, in a process where torch cannot be imported.

Each official network is built at its public size by the official code (random init), saved the way
upstream publishes it (file name, ``params_ema`` / ``params`` / plain, ``module.`` prefix), converted by the
CLI with architecture detection, and the written ``.pdparams`` must equal what the (parity-tested) mapping
gives in process. Refusals must leave no file behind.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest
import torch

from ppgan_face.builder import build_network, load_checkpoint
from ppgan_face.config import load_config
from tests.oracles import official, save_official

REPO = Path(__file__).resolve().parents[2]
GPEN = "modelscope.models.cv.image_portrait_enhancement.gpen"


def _torchvision(name):
    from tests import torchvision_standin

    torchvision_standin.install()
    return getattr(sys.modules["torchvision.models"], name)()


# file name -> (expected config, official network factory, key in file, key prefix)
OFFICIAL_FILES = {
    "GFPGANv1.pth": ("gfpgan_v1", lambda: official("gfpgan.archs.gfpganv1_arch").GFPGANv1(
        out_size=512, channel_multiplier=1, fix_decoder=True, input_is_latent=True, different_w=True,
        sft_half=True), "params_ema", ""),
    "GFPGANv1.4.pth": ("gfpgan_v1.4", lambda: official("gfpgan.archs.gfpganv1_clean_arch").GFPGANv1Clean(
        out_size=512, channel_multiplier=2, input_is_latent=True, different_w=True, sft_half=True),
        "params_ema", ""),
    "GPEN-BFR-256.pth": ("gpen_bfr_256", lambda: official(GPEN).FullGenerator(
        256, 512, 8, channel_multiplier=1, narrow=0.5), None, ""),
    "GPEN-BFR-512.pth": ("gpen_bfr_512", lambda: official(GPEN).FullGenerator(
        512, 512, 8, channel_multiplier=2, narrow=1), None, ""),
    "GPEN-BFR-1024.pth": ("gpen_bfr_1024", lambda: official(GPEN).FullGenerator(
        1024, 512, 8, channel_multiplier=2, narrow=1), None, ""),
    "GPEN-BFR-512-D.pth": ("gpen_discriminator_512", lambda: official(GPEN).Discriminator(
        512, channel_multiplier=2, narrow=1), None, ""),
    "detection_Resnet50_Final.pth": ("retinaface_resnet50", lambda: official(
        "facexlib.detection.retinaface").RetinaFace(network_name="resnet50", half=False), None, "module."),
    "detection_mobilenet0.25_Final.pth": ("retinaface_mobilenet0.25", lambda: official(
        "facexlib.detection.retinaface").RetinaFace(network_name="mobile0.25", half=False), None, "module."),
    "RealESRGAN_x2plus.pth": ("realesrgan_x2plus", lambda: official("basicsr.archs.rrdbnet_arch").RRDBNet(
        3, 3, scale=2, num_feat=64, num_block=23, num_grow_ch=32), "params_ema", ""),
    "realesrnet_x2.pth": ("realesrnet_x2", lambda: official("basicsr.archs.rrdbnet_arch").RRDBNet(
        3, 3, scale=2, num_feat=32, num_block=23, num_grow_ch=32), "params_ema", ""),
    "arcface_resnet18.pth": ("arcface_resnet18", lambda: official("gfpgan.archs.arcface_arch").ResNetArcFace(
        block="IRBlock", layers=[2, 2, 2, 2], use_se=False), None, ""),
    "model_ir_se50.pth": ("ir_se50", lambda: official("facexlib.recognition.arcface_arch").Backbone(
        num_layers=50, drop_ratio=0.6, mode="ir_se"), None, ""),
    "vgg19-dcbb9e9d.pth": ("vgg19", lambda: _torchvision("vgg19"), None, ""),
    "vgg16-397923af.pth": ("vgg16_features", lambda: _torchvision("vgg16"), None, ""),
    "alexnet-owt-7be5be79.pth": ("alexnet_features", lambda: _torchvision("alexnet"), None, ""),
    "parsing_parsenet.pth": ("parsenet", lambda: official("facexlib.parsing.parsenet").ParseNet(
        in_size=512, out_size=512, parsing_ch=19), None, ""),
    "StyleGAN2_512_Cmul1_FFHQ_B12G4_scratch_800k.pth": ("stylegan2_512_cmul1", lambda: official(
        "basicsr.archs.stylegan2_arch").StyleGAN2Generator(out_size=512, num_style_feat=512, num_mlp=8,
                                                           channel_multiplier=1), "params_ema", ""),
    "GFPGANv1_net_d.pth": ("stylegan2_discriminator_512", lambda: official(
        "basicsr.archs.stylegan2_arch").StyleGAN2Discriminator(out_size=512, channel_multiplier=1), "params", ""),
    "GFPGANv1_net_d_mouth.pth": ("facial_component_discriminator", lambda: official(
        "gfpgan.archs.gfpganv1_arch").FacialComponentDiscriminator(), "params", ""),
}
# Public files that share an architecture with one above: detection picks the config by file name.
SAME_ARCHITECTURE = {"GFPGANCleanv1-NoCE-C2.pth": ("gfpgan_v1.2", "GFPGANv1.4.pth"),
                     "GFPGANv1.3.pth": ("gfpgan_v1.3", "GFPGANv1.4.pth"),
                     "RetinaFace-R50.pth": ("retinaface_resnet50", "detection_Resnet50_Final.pth")}

# Runs the CLI on several files in one process (Paddle imports once) with torch made unimportable.
NO_TORCH_CLI = """
import sys
sys.modules["torch"] = None
sys.path.insert(0, sys.argv[1])
from tools.convert_weights import main
codes = [main(["--src", src, "--dst", src + ".pdparams"]) for src in sys.argv[2:]]
print("exit codes", codes)
"""


def _run_cli_without_torch(files, cwd):
    return subprocess.run([sys.executable, "-c", NO_TORCH_CLI, str(REPO), *map(str, files)], cwd=cwd,
                          capture_output=True, text=True, timeout=1200, env=dict(os.environ, PYTHONPATH=str(REPO)))


@pytest.fixture(scope="module")
def official_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("official")
    for name, (_, factory, key, prefix) in OFFICIAL_FILES.items():
        torch.manual_seed(0)
        save_official(factory().state_dict(), folder / name, key=key, prefix=prefix)
    for name, (_, same_as) in SAME_ARCHITECTURE.items():
        (folder / name).symlink_to(folder / same_as)
    return folder


def test_every_official_checkpoint_converts_without_torch(official_files):
    names = list(OFFICIAL_FILES) + list(SAME_ARCHITECTURE)
    result = _run_cli_without_torch([official_files / n for n in names], official_files)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"exit codes {[0] * len(names)}" in result.stdout, result.stdout + result.stderr[-3000:]
    expected = {n: spec[0] for n, spec in OFFICIAL_FILES.items()}
    expected.update({n: spec[0] for n, spec in SAME_ARCHITECTURE.items()})
    for name, config_name in expected.items():
        line = next(line for line in result.stdout.splitlines() if line.startswith(str(official_files / name)))
        assert f": {config_name}" in line, line
        config = load_config(config_name)
        reference = load_checkpoint(build_network(config), config, official_files / name).state_dict()
        converted = paddle.load(str(official_files / f"{name}.pdparams"))
        assert set(converted) == set(reference), name
        for key, tensor in reference.items():
            np.testing.assert_array_equal(converted[key], tensor.numpy(), err_msg=f"{name}: {key}")


def test_refusals_are_one_line_and_write_nothing(official_files, tmp_path):
    truncated = tmp_path / "GFPGANv1.4.pth"
    truncated.write_bytes((official_files / "GFPGANv1.4.pth").read_bytes()[:100_000])
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint\n")
    torch.save({"params_ema": {"conv.weight": torch.zeros(3, 3)}}, tmp_path / "unknown.pth")
    cases = [
        ([truncated], "GFPGANv1.4.pth: "),
        ([text], "notes.pth: "),
        ([tmp_path / "unknown.pth"], "unknown.pth: matches no known architecture"),
        ([tmp_path / "absent.pth"], "absent.pth: file not found"),
        (["--arch", "gpen_bfr_512", official_files / "GFPGANv1.4.pth"], "GFPGANv1.4.pth does not match"),
    ]
    for args, message in cases:
        *options, src = args
        dst = tmp_path / "out.pdparams"
        result = subprocess.run([sys.executable, str(REPO / "tools" / "convert_weights.py"), *map(str, options),
                                 "--src", str(src), "--dst", str(dst)], capture_output=True, text=True, timeout=600)
        assert result.returncode == 1, (args, result.stdout, result.stderr[-2000:])
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert not dst.exists() and not list(tmp_path.glob(".out.pdparams*")), args


def test_pretrained_readme_lists_every_official_checkpoint():
    """pretrained/README.md is the catalogue users read: every config with a checkpoint has its row."""
    from ppgan_face.config import config_names

    catalogue = (REPO / "pretrained" / "README.md").read_text(encoding="utf-8")
    for name in config_names():
        spec = load_config(name).get("checkpoint")
        if spec and spec.get("file"):
            row = next((line for line in catalogue.splitlines() if line.startswith(f"| `{name}` |")), None)
            assert row is not None, f"pretrained/README.md has no row for {name}"
            assert f"`{spec['file']}`" in row and f"--src {spec['file']}" in row, row
            if spec.get("url"):
                assert spec["url"] in row, row
