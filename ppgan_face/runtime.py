"""Process-wide runtime settings that Paddle does not choose well by itself."""
import os

from paddle.base import core


def set_cpu_threads(threads=None):
    """Let Paddle's CPU kernels use ``threads`` threads (default: every core).

    Paddle sets ``OMP_NUM_THREADS=1`` when it is unset, so dygraph convolutions run on one core unless told
    otherwise; every tool calls this once at start. Returns the number set.
    """
    threads = int(threads or os.cpu_count() or 1)
    core.set_num_threads(threads)
    return threads


def set_device(device):
    """Run dygraph work on ``cpu`` or ``gpu`` (``gpu:N`` too). Returns a one-line reason when the device is not
    usable (a CPU build of Paddle asked for a GPU), None when set."""
    import paddle

    if device.startswith("gpu") and not paddle.device.is_compiled_with_cuda():
        return f"--device {device}: this Paddle build has no CUDA support (install paddlepaddle-gpu)"
    paddle.set_device(device)
    return None
