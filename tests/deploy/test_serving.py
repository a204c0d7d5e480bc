"""deploy/serving: the Paddle Serving service in a real server process gives what deploy/python/infer.py gives
(same export, same oneDNN setting), under concurrent clients; refuses bad requests with one-line messages and
keeps serving; its converter, client and command line exit as documented."""
import base64
import importlib.util
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import paddle
import pytest
import yaml

from ppgan_face.face.helper import to_working_image
from ppgan_face.inference import load_runner
from ppgan_face.inference.export import export_model
from tests.deploy.serving_process import SERVING, ServiceError, free_ports, load_script, running_service
from tests.face.photos import face_photo

REPO = Path(__file__).resolve().parents[2]
INSTALL = ("python -m pip install -r requirements-serving.txt && "
           "python -m pip install --no-deps -r requirements-serving-nodeps.txt")
SERVER_OPTS = ["op.face_restore.local_service_conf.devices=", "op.face_restore.local_service_conf.use_mkldnn=False",
               "op.face_restore.local_service_conf.thread_num=2"]
STARTUP_S = 90


infer = load_script("serving_test_infer", REPO / "deploy" / "python" / "infer.py")
client = load_script("serving_test_client", SERVING / "pipeline_http_client.py")
convert = load_script("serving_test_convert", SERVING / "convert_model.py")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def png(image):
    return cv2.imencode(".png", image)[1].tobytes()


def detector_scores(det_dir, photo):
    """Face scores of every prior of the exported detector on a photo, best first."""
    runner, _ = load_runner(det_dir, backend="paddle", enable_mkldnn=False, cpu_threads=2)
    x = (photo.astype(np.float32) - [104.0, 117.0, 123.0]).transpose(2, 0, 1)[None].astype(np.float32)
    return np.sort(runner(x)[1][0, :, 1])[::-1]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A converted lite GFPGAN + random MobileNet RetinaFace (serving_server/), two photos (photos/: one whose
    best detections pass the confidence threshold written into the bundle, one where none does) and a 16-bit
    photo without faces whose restored PNG is too large for the HTTP gateway at upscale 4 (big16.png)."""
    if importlib.util.find_spec("paddle_serving_server") is None:
        pytest.fail(f"Paddle Serving is not installed; run: {INSTALL}")
    root = tmp_path_factory.mktemp("serving")
    paddle.seed(0)
    export_model(str(REPO / "configs" / "train" / "gfpgan_v1_lite.yml"), root / "restorer", random_init=True)
    export_model("retinaface_mobilenet0.25", root / "detector", random_init=True)
    done = subprocess.run([sys.executable, str(SERVING / "convert_model.py"), f"--dirname={root / 'restorer'}",
                           "--model_filename=inference.json", "--params_filename=inference.pdiparams",
                           f"--serving_server={root / 'serving_server'}", f"--serving_client={root / 'serving_client'}",
                           f"--det_dirname={root / 'detector'}", "--paste_mask=eroded_square"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    photos = root / "photos"
    photos.mkdir()
    faces, _ = face_photo(120, 160, [(50, 60, 24, 5), (115, 65, 22, -10)])
    plain = np.full((96, 128, 3), 128, np.uint8)
    cv2.imwrite(str(photos / "faces.png"), faces)
    cv2.imwrite(str(photos / "plain.png"), plain)
    big16 = (128 * 257 + np.random.RandomState(3).randint(-100, 100, (320, 320, 3))).astype(np.uint16)
    cv2.imwrite(str(root / "big16.png"), big16)  # low bits of noise: the PNG hardly compresses
    with_faces = detector_scores(root / "detector", faces)
    without = max(detector_scores(root / "detector", image)[0] for image in (plain, to_working_image(big16)))
    threshold = float(with_faces[1] + max(with_faces[2], without)) / 2
    assert without < threshold < with_faces[1], "pick other photos: the random detector ranks them the same"
    config_path = root / "serving_server" / "model_config.yml"
    config = yaml.safe_load(config_path.read_text())
    config["face_helper"]["detection"]["conf_threshold"] = threshold
    config["face_helper"]["eye_dist_threshold"] = None  # random landmarks may sit close together
    config_path.write_text(yaml.safe_dump(config))
    return root


@pytest.fixture(scope="module")
def server(bundle, tmp_path_factory):
    """The URL of a running service (its working folder is a temporary one: logs, ProcessInfo.json)."""
    try:
        with running_service(bundle / "serving_server", tmp_path_factory.mktemp("server"), SERVER_OPTS,
                             STARTUP_S) as url:
            yield url
    except ServiceError as err:
        pytest.fail(str(err))


def ask(url, **fields):
    return client.post(url, fields, timeout=120)


def cli_outputs(bundle, images, out, *extra):
    """deploy/python/infer.py (Paddle Inference) on the bundle, oneDNN off as the served op."""
    code = infer.main([f"--model_dir={bundle / 'serving_server'}", f"--image_dir={images}", f"--output_dir={out}",
                       "--backend=paddle", "--enable_mkldnn=False", "--cpu_threads=2", *extra])
    assert code == 0
    return out


def test_aligned_faces_equal_infer_cli_under_concurrent_clients(bundle, server, tmp_path):
    faces = tmp_path / "faces"
    faces.mkdir()
    rng = np.random.RandomState(1)
    for k in range(10):
        side = 24 + 8 * k  # resized to the restorer's 32 px, as the CLI does
        cv2.imwrite(str(faces / f"f{k}.png"), (rng.rand(max(side, 32), max(side, 32), 3) * 255).astype(np.uint8))
    expected = cli_outputs(bundle, faces, tmp_path / "cli", "--aligned=True") / "restored_faces"
    with_onednn = cli_outputs(bundle, faces, tmp_path / "onednn", "--aligned=True", "--enable_mkldnn=True")
    assert any((expected / f"f{k}_00.png").read_bytes() != (with_onednn / "restored_faces" / f"f{k}_00.png")
               .read_bytes() for k in range(10)), "oneDNN gives the same faces: this test cannot tell it is off"
    requests = [k % 10 for k in range(50)]

    def restore(k):
        return k, ask(server, image=b64((faces / f"f{k}.png").read_bytes()), aligned="True")

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(restore, requests))
    for k, answer in answers:
        assert answer["err_no"] == 0, answer["err_msg"]
        assert answer["faces"] == "1" and answer["format"] == "png"
        assert base64.b64decode(answer["image"]) == (expected / f"f{k}_00.png").read_bytes(), f"f{k}"


def test_whole_photos_equal_infer_cli(bundle, server, tmp_path):
    photos = bundle / "photos"
    out = cli_outputs(bundle, photos, tmp_path / "cli", f"--det_model_dir={bundle / 'serving_server' / 'detector'}")
    counts = {}
    for name in ("faces.png", "plain.png"):
        answer = ask(server, image=b64((photos / name).read_bytes()))
        assert answer["err_no"] == 0, answer["err_msg"]
        counts[name] = int(answer["faces"])
        assert base64.b64decode(answer["image"]) == (out / "restored_imgs" / name).read_bytes(), name
        assert len(list((out / "restored_faces").glob(f"{Path(name).stem}_*.png"))) == counts[name]
    assert counts["faces.png"] >= 1 and counts["plain.png"] == 0


def test_request_options(bundle, server):
    photo = (bundle / "photos" / "plain.png").read_bytes()
    answer = ask(server, image=b64(photo), upscale="1.5", format="jpg")
    assert answer["err_no"] == 0, answer["err_msg"]
    image = base64.b64decode(answer["image"])
    assert answer["format"] == "jpg" and image[:2] == b"\xff\xd8"
    assert cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR).shape == (144, 192, 3)
    face = (np.random.RandomState(2).rand(32, 32, 3) * 255).astype(np.uint8)
    answer = ask(server, image=b64(png(face)), aligned="true", weight="0")  # weight 0: the input face back
    assert answer["err_no"] == 0, answer["err_msg"]
    assert np.array_equal(cv2.imdecode(np.frombuffer(base64.b64decode(answer["image"]), np.uint8), 1), face)


def test_bad_requests_are_refused_in_one_line_and_the_service_goes_on(bundle, server):
    good = b64((bundle / "photos" / "plain.png").read_bytes())
    cases = [
        ({"image": "@@not base64@@"}, "'image' is not valid base64"),
        ({"image": b64(b"just some text")}, "not an image"),
        ({"aligned": "True"}, "no 'image' key"),
        ({"image": good, "colour": "red"}, "unknown request key 'colour'"),
        ({"image": good, "weight": "2"}, "'weight' must be a number from 0 to 1"),
        ({"image": good, "upscale": "many"}, "'upscale' must be a number from 1 to 4"),
        ({"image": good, "aligned": "maybe"}, "'aligned' must be True or False"),
        ({"image": good, "format": "gif"}, "'format' must be one of"),
        ({"image": b64(png(np.zeros((32, 8001, 3), np.uint8)))}, "image too large (8001x32"),
        ({"image": b64((bundle / "big16.png").read_bytes()), "upscale": "4"}, "over the HTTP gateway's 4 MiB"),
    ]
    for fields, message in cases:
        answer = ask(server, **fields)
        assert answer["err_no"] not in (0, None) and message in answer["err_msg"], (fields.keys(), answer)
        assert "\n" not in answer["err_msg"] and "Traceback" not in answer["err_msg"]
        after = ask(server, image=good)
        assert after["err_no"] == 0 and after["faces"] == "0", after.get("err_msg")


def run_client(*args):
    return subprocess.run([sys.executable, str(SERVING / "pipeline_http_client.py"), *args], capture_output=True,
                          text=True, timeout=120)


def test_client_cli(bundle, server, tmp_path):
    photos = bundle / "photos"
    done = run_client(f"--image_dir={photos}", f"--url={server}", f"--output_dir={tmp_path / 'out'}",
                      "--concurrency=2")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{photos / 'faces.png'}: err_no=0, ") and lines[0].endswith(
        f"face(s) -> {tmp_path / 'out' / 'faces.png'}")
    assert lines[-1] == f"2 of 2 image(s) restored -> {tmp_path / 'out'}"
    assert (tmp_path / "out" / "plain.png").read_bytes() == base64.b64decode(
        ask(server, image=b64((photos / "plain.png").read_bytes()))["image"])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "note.png").write_text("not a picture")
    done = run_client(f"--image_dir={broken}", f"--url={server}", f"--output_dir={tmp_path / 'out2'}")
    assert done.returncode == 1 and "note.png: err_no=51, " in done.stdout and "not an image" in done.stdout
    assert not (tmp_path / "out2").exists()
    port = free_ports(1)[0]
    done = run_client(f"--image_dir={photos}", f"--port={port}")
    assert done.returncode == 2 and done.stderr.strip() == (
        f"error: cannot reach http://127.0.0.1:{port}/face_restore/prediction: is web_service.py running?")


def test_service_refuses_bad_setups_in_one_line(bundle, tmp_path):
    cases = [
        (["--config", str(tmp_path / "none.yml")], "error: --config"),
        (["--config", str(SERVING / "config.yml"), "--opt", "http_port"], "expected key=value"),
        (["--config", str(SERVING / "config.yml"), "--opt",
          f"op.face_restore.local_service_conf.model_config={bundle / 'restorer'}"], "serving_server_conf.prototxt"),
    ]
    for args, message in cases:
        done = subprocess.run([sys.executable, str(SERVING / "web_service.py"), *args], capture_output=True,
                              text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_converter_refusals(bundle, tmp_path, capsys):
    base = [f"--serving_server={tmp_path / 'server'}", f"--serving_client={tmp_path / 'client'}"]
    cases = [
        ([f"--dirname={tmp_path / 'none'}"], "not an exported model"),
        ([f"--dirname={bundle / 'detector'}"], "a detector export (retinaface_mobilenet0.25), not a restorer"),
        ([f"--dirname={bundle / 'restorer'}", "--model_filename=inference.pdmodel"], "inference.pdmodel: file not"),
        ([f"--dirname={bundle / 'restorer'}", f"--det_dirname={bundle / 'detector'}"], "needs --parse_dirname"),
        ([f"--dirname={bundle / 'restorer'}", "--paste_mask=oval"], "--paste_mask oval: not one of"),
    ]
    for args, message in cases:
        assert convert.main(base + args) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "server").exists() and not (tmp_path / "client").exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind
