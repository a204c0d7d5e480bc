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
