#!/usr/bin/env bash
# Install what the tests need: torch (CPU) and the official PyTorch code used as parity oracles.
# The official packages are installed without their dependencies: their pins cannot be met on Python 3.11
# and would pull torchvision (CUDA-linked on the index) or a CUDA torch; tests/oracles.py loads only the
# architecture files, with a small torchvision stand-in.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -r requirements-test.txt
python -m pip install --no-deps gfpgan==1.3.8 facexlib==0.3.0 modelscope==1.40.2 realesrgan==0.3.0
# basicsr is source-only and declares torch as a build requirement: build it against the installed torch.
python -m pip install --no-deps --no-build-isolation basicsr==1.4.2
# LPIPS parity: the official lpips package (its LPIPS class; the linear-head weights ship in its wheel).
python -m pip install --no-deps lpips==0.1.4
