"""deploy/serving/web_service.py in a subprocess for tests and benchmarks: free ports, started in its own process
group, waited for on its HTTP port, stopped by that group. Also loads the deploy scripts as modules."""
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVING = Path(__file__).resolve().parents[2] / "deploy" / "serving"


class ServiceError(RuntimeError):
    """The service did not start; the message ends with its log."""


def load_script(name, path):
    """A script (deploy/python/infer.py, deploy/serving/*.py) as a module."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def stop_service(process):
    """SIGTERM to the service's process group (it leads one), SIGKILL if it is still there after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def start_service(model_config, workdir, opts=(), startup_s=90):
    """(process, http port) of web_service.py serving the ``serving_server`` folder ``model_config`` with the
    ``--opt`` values ``opts``, once its HTTP port accepts connections; new ports if the picked ones were taken
    meanwhile. Its log is ``workdir/server<attempt>.log``."""
    for attempt in range(3):
        http_port, rpc_port = free_ports(2)
        log = Path(workdir) / f"server{attempt}.log"
        with open(log, "w") as out:
            process = subprocess.Popen(
                [sys.executable, str(SERVING / "web_service.py"), "--config", str(SERVING / "config.yml"), "--opt",
                 f"http_port={http_port}", f"rpc_port={rpc_port}",
                 f"op.face_restore.local_service_conf.model_config={model_config}", *opts],
                cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + startup_s
        while process.poll() is None and time.monotonic() < deadline and not accepts(http_port):
            time.sleep(0.2)
        if process.poll() is None and accepts(http_port):
            return process, http_port
        stop_service(process)
        if "already used" not in log.read_text():
            break
    raise ServiceError(f"the service did not start; its log:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running_service(model_config, workdir, opts=(), startup_s=90):
    """The URL of a started service, stopped on exit."""
    process, port = start_service(model_config, workdir, opts, startup_s)
    try:
        yield f"http://127.0.0.1:{port}/face_restore/prediction"
    finally:
        stop_service(process)
