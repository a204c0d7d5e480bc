"""Serving overhead: the HTTP face restoration service against the same work in-process, measured in one run.

    python benchmarks/bench_serving.py                      # GFPGANv1Clean-512 and GPEN-512, 2 threads
    python benchmarks/bench_serving.py --models gpen_bfr_512 --requests 6

For each model a random-init export (tools' exporter, public size) is converted for Serving and served by
deploy/serving/web_service.py (oneDNN, --threads) in a subprocess on free ports of 127.0.0.1. The same export
runs in this process with PaddleInferenceRunner and the same settings: decode the PNG, restore the aligned
512 face (FacePipeline, aligned mode), encode the PNG, exactly what the service does around its gRPC / HTTP
machinery. Concurrency 1 alternates one direct and one served request; concurrency 4 sends from 4 client
threads. Direct requests all run in one worker thread, as the service's one op worker does (Paddle's oneDNN
caches its kernels per thread: a new thread pays for them again).
Overhead = served p50 / direct p50 - 1 at concurrency 1 (target <= 15 %).
"""
import argparse
import base64
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.deploy.serving_process import SERVING, load_script, running_service  # noqa: E402
MODELS = ("gfpgan_v1.4", "gpen_bfr_512")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--threads", type=int, default=2, help="CPU math threads of both engines (default 2)")
    parser.add_argument("--requests", type=int, default=8, help="timed requests per setting (default 8)")
    parser.add_argument("--work_dir", help="keep exports here and reuse them (default: a temporary folder)")
    return parser.parse_args()


def prepare(name, work):
    """(export dir, serving_server dir): a random-init export of ``name`` converted for Serving."""
    from ppgan_face.inference.export import export_model

    export, server = work / name, work / f"{name}_serving_server"
    if not (export / "infer_cfg.yml").is_file():
        export_model(name, export, random_init=True)
    subprocess.run([sys.executable, str(SERVING / "convert_model.py"), f"--dirname={export}",
                    f"--serving_server={server}", f"--serving_client={work / f'{name}_serving_client'}"],
                   check=True, stdout=subprocess.DEVNULL)
    return export, server


def timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def run(call, count, concurrency):
    """(latencies in s, requests per s) of ``count`` calls from ``concurrency`` threads."""
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(lambda _: timed(call), range(count)))
    return latencies, count / (time.perf_counter() - start)


def summary(latencies, rate):
    ms = sorted(1000 * t for t in latencies)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"req/s": rate, "p50": statistics.median(ms), "p95": p95}


def bench_model(name, args, work, client):
    import cv2

    from ppgan_face.config import load_config
    from ppgan_face.face import FacePipeline
    from ppgan_face.inference import PaddleInferenceRunner
    from ppgan_face.utils.image_io import decode_image, encode_image
    from tests.face.photos import face_photo

    export, server = prepare(name, work)
    photo, _ = face_photo(512, 512, [(256, 300, 126, 0)])
    data = cv2.imencode(".png", photo)[1].tobytes()
    fields = {"image": base64.b64encode(data).decode("ascii"), "aligned": "True"}
    runner = PaddleInferenceRunner(export, enable_mkldnn=True, cpu_threads=args.threads)
    pipeline = FacePipeline.from_config(load_config(export / "model_config.yml"), runner)

    def restore():
        encode_image(pipeline.enhance(decode_image(data), aligned=True).restored_faces[0], ".png")

    def direct():
        worker.submit(restore).result()

    (work / name).mkdir(exist_ok=True)
    rows = {}
    conf = "op.face_restore.local_service_conf"
    opts = (f"{conf}.devices=", f"{conf}.use_mkldnn=True", f"{conf}.thread_num={args.threads}")
    with ThreadPoolExecutor(1) as worker, running_service(server, work / name, opts, startup_s=300) as url:
        def served():
            answer = client.post(url, fields, timeout=600)
            if answer["err_no"] != 0:
                raise RuntimeError(answer["err_msg"])

        direct(), served()  # warm-up
        one = {"direct": [], "service": []}
        for _ in range(args.requests):  # alternate, pausing so that neither engine's idle threads still spin
            for mode, call in (("direct", direct), ("service", served)):
                one[mode].append(timed(call))
                time.sleep(0.5)
        for mode in one:
            rows[mode, 1] = summary(one[mode], len(one[mode]) / sum(one[mode]))
        rows["direct", 4] = summary(*run(direct, args.requests, 4))
        rows["service", 4] = summary(*run(served, args.requests, 4))
    return rows


def report(results, args, began, load):
    lines = [f"`{' '.join(['python', 'benchmarks/bench_serving.py'] + sys.argv[1:])}` "
             f"({began:%Y-%m-%d %H:%M}, load average before the run {load:.1f}; aligned 512 faces, "
             f"PNG in and out, oneDNN fp32, {args.threads} threads, {args.requests} timed requests per row)", "",
             "| model | engine | concurrency | req/s | p50 ms | p95 ms |", "|---|---|---|---|---|---|"]
    for name, rows in results.items():
        for (mode, concurrency), row in rows.items():
            lines.append(f"| {name} | {'Serving (HTTP)' if mode == 'service' else 'in-process'} | {concurrency} | "
                         f"{row['req/s']:.3f} | {row['p50']:.0f} | {row['p95']:.0f} |")
    lines.append("")
    for name, rows in results.items():
        overhead = rows["service", 1]["p50"] / rows["direct", 1]["p50"] - 1
        lines.append(f"{name}: serving overhead at concurrency 1 = {100 * overhead:+.1f} % "
                     f"(target <= 15 %: {'met' if overhead <= 0.15 else 'not met'})")
    print("\n".join(lines))


def main():
    args = parse_args()
    began, load = datetime.datetime.now(), os.getloadavg()[0]
    client = load_script("bench_serving_client", SERVING / "pipeline_http_client.py")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = {name: bench_model(name, args, work, client) for name in args.models}
    report(results, args, began, load)


if __name__ == "__main__":
    main()
