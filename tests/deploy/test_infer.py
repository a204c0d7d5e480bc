"""deploy/python/infer.py: the whole-photo pipeline on exported models equals it on the dygraph models, with
both engines, TIPC-style flags, the benchmark report, and one-line refusals."""
import importlib.util
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from ppgan_face.config import load_config
from ppgan_face.face import FacePipeline
from ppgan_face.inference import DygraphRunner
from tests.face.photos import face_photo
from tests.inference.small_models import sample

REPO = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("deploy_infer", REPO / "deploy" / "python" / "infer.py")
infer = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(infer)


@pytest.fixture(scope="module")
def setup(small_exports, tmp_path_factory):
    """(export dirs by kind, dygraph runners by kind, photo folder). The restorer export is copied with a
    detection threshold that lets the random detector's two best boxes through (NMS may merge them)."""
    root = tmp_path_factory.mktemp("deploy")
    restorer_dir = root / "restorer"
    shutil.copytree(small_exports["gfpgan_v1.4"][1], restorer_dir)
    photo, _ = face_photo(160, 200, [(70, 80, 30, 5), (140, 90, 28, -10)])
    photos = root / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), photo)
    cv2.imwrite(str(photos / "b.jpg"), photo[::-1].copy())
    detector = small_exports["retinaface_mobilenet0.25"][0]
    x = (photo.astype(np.float32) - [104.0, 117.0, 123.0]).transpose(2, 0, 1)[None].astype(np.float32)
    scores = np.sort(DygraphRunner(detector)(x)[1][0, :, 1])[::-1]
    meta_path = restorer_dir / "model_config.yml"
    config = yaml.safe_load(meta_path.read_text())
    config["face_helper"]["detection"]["conf_threshold"] = float(scores[1] + scores[2]) / 2
    config["face_helper"]["eye_dist_threshold"] = None  # random landmarks may sit close together
    config["face_helper"]["paste"]["masks"]["parsing"]["input_size"] = 64  # the small parser's size
    meta_path.write_text(yaml.safe_dump(config))
    dirs = {"restorer": restorer_dir, "detector": small_exports["retinaface_mobilenet0.25"][1],
            "upsampler": small_exports["realesrnet_x2"][1], "parser": small_exports["parsenet"][1]}
    models = {"restorer": small_exports["gfpgan_v1.4"][0], "detector": detector,
              "upsampler": small_exports["realesrnet_x2"][0], "parser": small_exports["parsenet"][0]}
    return dirs, {k: DygraphRunner(m) for k, m in models.items()}, photos


def dygraph_result(dirs, runners, image):
    config = load_config(dirs["restorer"] / "model_config.yml")
    config["face_helper"]["detector"] = str(dirs["detector"] / "model_config.yml")
    config["face_helper"]["bg_upsampler"] = str(dirs["upsampler"] / "model_config.yml")
    return FacePipeline.from_config(config, runners["restorer"], runners["detector"], runners["upsampler"],
                                    runners["parser"]).enhance(image)


@pytest.mark.parametrize("backend", ["paddle", "onnxruntime"])
def test_exported_pipeline_equals_dygraph(setup, tmp_path, capsys, backend):
    dirs, runners, photos = setup
    code = infer.main([f"--model_dir={dirs['restorer']}", f"--det_model_dir={dirs['detector']}",
                       f"--bg_model_dir={dirs['upsampler']}", f"--parse_model_dir={dirs['parser']}",
                       f"--image_dir={photos}", f"--output_dir={tmp_path}",
                       f"--backend={backend}", "--enable_mkldnn=True", "--cpu_threads=2", "--use_tensorrt=False",
                       "--batch_size=1", "--benchmark=True"])
    out = capsys.readouterr().out
    assert code == 0, out
    ref = dygraph_result(dirs, runners, cv2.imread(str(photos / "a.png")))
    assert len(ref.restored_faces) >= 1
    mine = cv2.imread(str(tmp_path / "restored_imgs" / "a.png"))
    assert mine.shape == (320, 400, 3)
    diff = np.abs(mine.astype(int) - ref.restored_image.astype(int))
    print(f"{backend}: whole photo max diff {diff.max()}, pixels off {np.mean(diff > 0):.2e}")
    assert diff.max() <= 1 and np.mean(diff > 0) < 1e-3
    assert (tmp_path / "restored_faces" / "a_00.png").is_file()
    assert (tmp_path / "restored_imgs" / "b.jpg").is_file()
    assert "2 of 2 image(s) done" in out and f"{photos / 'a.png'}: {len(ref.restored_faces)} face(s)" in out
    report = out[out.index("Env info"):]
    for field in ("cpu_rss(MB):", "total time spent(s):", "preprocess_time(ms):", "inference_time(ms):",
                  "postprocess_time(ms):", f"backend: {backend}", "data_num: 2", "batch_size: 1",
                  "paddle_version: ", "cpu_math_library_num_threads: 2"):
        assert field in report
    assert all(line.startswith("[") and "] root INFO: " in line for line in report.splitlines()[1:])


@pytest.mark.parametrize("text,value", [("True", True), ("false", False), ("1", True), ("0", False)])
def test_tipc_bool_flags(text, value):
    args = infer.parse_args(["--model_dir=m", "--det_model_dir=d", "--image_dir=i", f"--enable_mkldnn={text}",
                             f"--benchmark={text}"])
    assert args.enable_mkldnn is value and args.benchmark is value
    assert infer.parse_args(["--model_dir=m", "--det_model_dir=d", "--image_dir=i", "--benchmark"]).benchmark


def test_aligned_faces_and_tipc_onnx_flags(setup, tmp_path, capsys):
    """TIPC's paddle2onnx step: --use_onnx=True --onnx_file=... --aligned=True, report saved to a file."""
    dirs, runners, photos = setup
    faces = tmp_path / "faces"
    faces.mkdir()
    face = (np.random.RandomState(0).rand(64, 64, 3) * 255).astype(np.uint8)
    cv2.imwrite(str(faces / "f.png"), face)
    log = tmp_path / "log" / "bench.log"
    code = infer.main([f"--model_dir={dirs['restorer']}", f"--image_dir={faces}", f"--output_dir={tmp_path / 'out'}",
                       "--use_onnx=True", f"--onnx_file={dirs['restorer'] / 'model.onnx'}", "--aligned=True",
                       "--benchmark=True", f"--save_log_path={log}", "--warmup=0"])
    assert code == 0
    mine = cv2.imread(str(tmp_path / "out" / "restored_faces" / "f_00.png"))
    x = ((face[..., ::-1] / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None].astype(np.float32)
    ref = np.round((np.clip(runners["restorer"](x)[0], -1, 1) + 1) / 2 * 255).transpose(1, 2, 0)[..., ::-1]
    assert np.abs(mine.astype(int) - ref).max() <= 1
    assert "backend: onnxruntime" in log.read_text() and "data_num: 1" in log.read_text()
    assert not (tmp_path / "out" / "restored_imgs").exists()


def test_refusals_are_one_line(setup, tmp_path, capsys):
    dirs, _, photos = setup
    base = [f"--image_dir={photos}", f"--output_dir={tmp_path / 'out'}"]
    cases = [
        ([f"--model_dir={dirs['restorer']}", f"--det_model_dir={dirs['detector']}"], "needs --parse_model_dir"),
        ([f"--model_dir={dirs['restorer']}", f"--det_model_dir={dirs['detector']}", "--paste_mask=oval"],
         "--paste_mask oval: not one of"),
        ([f"--model_dir={dirs['detector']}", f"--det_model_dir={dirs['detector']}"], "a detector export"),
        ([f"--model_dir={dirs['restorer']}", f"--det_model_dir={tmp_path}"], "not an exported model"),
        ([f"--model_dir={dirs['restorer']}"], "--det_model_dir is required for whole photos"),
        ([f"--model_dir={dirs['restorer']}", "--aligned=True", "--precision=int8"], "needs a quantised export"),
        ([f"--model_dir={dirs['restorer']}", f"--det_model_dir={dirs['detector']}", "--paste_mask=eroded_square",
          "--backend=paddle", "--precision=fp16"],
         "fp16 and TensorRT need --device gpu"),
    ]
    for args, message in cases:
        assert infer.main(base + args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert infer.main([f"--model_dir={dirs['restorer']}", f"--det_model_dir={dirs['detector']}",
                       f"--image_dir={tmp_path / 'none'}", "--paste_mask=eroded_square"]) == 2
    assert "no image found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
