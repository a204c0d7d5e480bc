"""Send images to the face restoration service (web_service.py) and save what it returns.

    python pipeline_http_client.py --image_dir=../../photos/
    python pipeline_http_client.py --image_dir='faces/*.png' --aligned=True --format=jpg --concurrency=4 --port=18090

Prints one line per image: file, err_no, latency, then the output file (and faces restored) or the
service's err_msg. Outputs are <output_dir>/<input stem>.<format>, written atomically. Exit status: 0 when
every image was restored, 1 when any request failed, 2 when the service cannot be reached or nothing was
sent. The server's own log is PipelineServingLogs/pipeline.log in its working folder.
"""
import argparse
import base64
import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

import yaml  # noqa: E402

from ppgan_face.utils.image_io import list_images, write_bytes  # noqa: E402

SERVICE = "face_restore"


def default_port():
    """The http_port of config.yml beside this script."""
    return yaml.safe_load((HERE / "config.yml").read_text(encoding="utf-8"))["http_port"]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--image_dir", required=True, help="an image, a folder of images or a glob pattern")
    parser.add_argument("--url", help=f"service URL (default: http://127.0.0.1:<port>/{SERVICE}/prediction)")
    parser.add_argument("--port", type=int, help="HTTP port of the service (default: http_port of config.yml)")
    parser.add_argument("--output_dir", default="output", help="where restored images go (default: output)")
    parser.add_argument("--aligned", help="True: the images are aligned faces (default: whole photos)")
    parser.add_argument("--upscale", help="output size / input size (default: the model config's)")
    parser.add_argument("--weight", help="fidelity, 0 (input) to 1 (restored; default: the model config's)")
    parser.add_argument("--format", default="png", help="png (default) or jpg")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight (default 1)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per request (default 600)")
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    args.url = args.url or f"http://127.0.0.1:{args.port or default_port()}/{SERVICE}/prediction"
    return args


def request_fields(path, args):
    """The request's key/value pairs: the file's bytes in base64, and the options given."""
    fields = {"image": base64.b64encode(Path(path).read_bytes()).decode("ascii")}
    for key in ("aligned", "upscale", "weight", "format"):
        if getattr(args, key) is not None:
            fields[key] = str(getattr(args, key))
    return fields


def post(url, fields, timeout):
    """The service's answer as a dict (``err_no``, ``err_msg``, then ``key`` / ``value`` pairs)."""
    body = json.dumps({"key": list(fields), "value": list(fields.values()), "logid": 0}).encode("utf-8")
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as err:
        return {"err_no": err.code, "err_msg": f"HTTP {err.code} {err.reason}: "
                                               f"{err.read()[:200].decode('utf-8', 'replace').strip()}"}
    except (urllib.error.URLError, OSError, ValueError) as err:
        return {"err_no": -1, "err_msg": f"request failed ({getattr(err, 'reason', err)})"}
    answer.update(zip(answer.get("key") or [], answer.get("value") or []))
    return answer


def restore(path, args):
    """(line to print, success) for one image."""
    start = time.perf_counter()
    try:
        fields = request_fields(path, args)
    except OSError as err:
        return f"{path}: cannot read the file ({err.strerror or err})", False
    answer = post(args.url, fields, args.timeout)
    ms = (time.perf_counter() - start) * 1000
    err_no = answer.get("err_no", -1)
    if err_no != 0:
        return f"{path}: err_no={err_no}, {ms:.1f} ms, {answer.get('err_msg', '')}", False
    out = Path(args.output_dir) / f"{Path(path).stem}.{answer['format']}"
    try:
        write_bytes(out, base64.b64decode(answer["image"]))
    except OSError as err:
        return f"{path}: err_no=0, {ms:.1f} ms, cannot write {out} ({err.strerror or err})", False
    return f"{path}: err_no=0, {ms:.1f} ms, {answer['faces']} face(s) -> {out}", True


def reachable(url, timeout=5):
    parts = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout).close()
        return True
    except OSError:
        return False


def main(argv=None):
    args = parse_args(argv)
    files = list_images(args.image_dir)
    if not files:
        print(f"error: {args.image_dir}: no image found", file=sys.stderr)
        return 2
    stems = {}
    for path in files:
        if stems.setdefault(path.stem, path) != path:
            print(f"error: {stems[path.stem]} and {path} would both be saved as {path.stem}.*", file=sys.stderr)
            return 2
    if not reachable(args.url):
        print(f"error: cannot reach {args.url}: is web_service.py running?", file=sys.stderr)
        return 2
    failed = 0
    with ThreadPoolExecutor(args.concurrency) as pool:
        for line, ok in pool.map(lambda path: restore(path, args), files):
            print(line, flush=True)
            failed += not ok
    print(f"{len(files) - failed} of {len(files)} image(s) restored -> {args.output_dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
