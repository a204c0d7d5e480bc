"""The TIPC pipelines as a user runs them: prepare.sh then the driver, for GFPGAN and GPEN.

Green means: the driver exits 0, its results log has no ``Run failed`` line and exactly the number of
``Run successfully`` lines the config implies, and the programs wrote what they should.
"""
import re
import shutil
import socket
import subprocess
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["GFPGAN", "GPEN"]
TRAIN_CONFIG = "test_tipc/configs/{}/train_infer_python.txt"
ONNX_CONFIG = "test_tipc/configs/{}/model_linux_gpu_normal_normal_paddle2onnx_python_linux_cpu.txt"
SERVING_CONFIG = "test_tipc/configs/{}/model_linux_gpu_normal_normal_serving_python_linux_gpu_cpu.txt"
TRAIN_MODES = ("lite_train_lite_infer", "lite_train_whole_infer", "whole_train_whole_infer")


def read_slots(config):
    """The non-blank lines of a TIPC config, as the drivers see them."""
    return [line for line in (ROOT / config).read_text().splitlines() if line.strip()]


def run(*args, timeout=900):
    result = subprocess.run(["bash", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def status_lines(path):
    text = re.sub(r"\x1b\[[0-9;]*m", "", (ROOT / path).read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [l for l in lines if l.startswith("Run successfully")], [l for l in lines if l.startswith("Run failed")]


@pytest.mark.parametrize("model", MODELS)
def test_train_infer_config_has_51_slots_and_lists_every_training_mode(model):
    slots = read_slots(TRAIN_CONFIG.format(model))
    assert len(slots) == 51
    assert slots[0] == "=" * 27 + "train_params" + "=" * 27
    assert slots[1] == f"model_name:{model}"
    for line in (slots[6], slots[8]):  # iterations and batch size: an unlisted mode would fall back to the YAML
        assert sorted(item.split("=")[0] for item in line.split(":", 1)[1].split("|")) == sorted(TRAIN_MODES)
    for line in slots:
        assert line.count(":") <= 1, line


@pytest.mark.parametrize("model", MODELS)
def test_lite_train_lite_infer_is_green(model):
    config = TRAIN_CONFIG.format(model)
    code, log = run("test_tipc/prepare.sh", config, "lite_train_lite_infer")
    assert code == 0, log[-3000:]
    output = ROOT / "test_tipc/output" / model / "restored"
    shutil.rmtree(output, ignore_errors=True)
    code, log = run("test_tipc/test_train_inference_python.sh", config, "lite_train_lite_infer")
    ok, failed = status_lines(f"test_tipc/output/{model}/lite_train_lite_infer/results_python.log")
    assert failed == [] and code == 0, log[-3000:]
    slots = read_slots(config)
    combinations = 1
    for index in (41, 42, 43, 45):  # oneDNN x threads x batch x precision (CPU)
        combinations *= len(slots[index].split(":", 1)[1].split("|"))
    assert len(ok) == 3 + combinations  # train, eval, export, then every inference combination
    assert [line.split(" - ")[2].split()[1] for line in ok[:3]] == ["tools/train.py", "tools/eval.py",
                                                                     "tools/export_model.py"]
    run_dir = ROOT / f"test_tipc/output/{model}/lite_train_lite_infer/norm_train_gpus_-1_autocast_null"
    assert (run_dir / "models/net_g_ema_latest.pdparams").is_file()
    assert (run_dir / "inference.json").is_file() and (run_dir / "inference.pdiparams").is_file()
    eval_log = (ROOT / f"test_tipc/output/{model}/lite_train_lite_infer/"
                "norm_train_gpus_-1_autocast_null_nodes_1_eval.log").read_text()
    assert re.search(r"^Metric psnr: \d+\.\d{4}$", eval_log, re.M) and re.search(r"^Metric ssim: ", eval_log, re.M)
    infer_logs = sorted((ROOT / f"test_tipc/output/{model}/lite_train_lite_infer").glob("python_infer_cpu_*.log"))
    assert len(infer_logs) == combinations
    for path in infer_logs:
        text = path.read_text()
        assert "4 of 4 image(s) done" in text and "inference_time(ms)" in text, path.name
    faces = sorted((output / "restored_faces").glob("*.png"))
    assert len(faces) == 4 and cv2.imread(str(faces[0])).shape == (32, 32, 3)


def test_a_failing_step_is_reported_and_the_next_steps_still_run(tmp_path):
    """The driver takes each program's own exit code (not a later cat's) and exits 1 at the end."""
    slots = read_slots(TRAIN_CONFIG.format("GPEN"))
    slots[1] = "model_name:GPEN_broken_eval"
    slots[23] = "eval:tools/eval.py -c test_tipc/configs/GPEN/gpen_tipc.yml --no_such_flag"
    slots[41], slots[42] = "--enable_mkldnn:True", "--cpu_threads:2"
    config = tmp_path / "train_infer_python.txt"
    config.write_text("\n".join(slots))  # no final newline: the last slot must still count
    assert run("test_tipc/prepare.sh", TRAIN_CONFIG.format("GPEN"), "lite_train_lite_infer")[0] == 0
    code, log = run("test_tipc/prepare.sh", str(config), "lite_train_lite_infer")
    assert code != 0 and "knows the models GFPGAN and GPEN, not 'GPEN_broken_eval'" in log  # never a silent no-op
    code, log = run("test_tipc/test_train_inference_python.sh", str(config), "lite_train_lite_infer")
    ok, failed = status_lines("test_tipc/output/GPEN_broken_eval/lite_train_lite_infer/results_python.log")
    assert code == 1
    assert len(failed) == 1 and "tools/eval.py" in failed[0]
    assert len(ok) == 3 and "--aligned=True" in ok[-1]  # train, export, and the inference after it
    shutil.rmtree(ROOT / "test_tipc/output/GPEN_broken_eval")


@pytest.mark.parametrize("model", MODELS)
def test_paddle2onnx_is_green(model):
    config = ONNX_CONFIG.format(model)
    assert len(read_slots(config)) == 13
    code, log = run("test_tipc/prepare.sh", config, "paddle2onnx_infer")
    assert code == 0, log[-3000:]
    code, log = run("test_tipc/test_paddle2onnx.sh", config)
    ok, failed = status_lines(f"test_tipc/output/{model}/paddle2onnx_infer/results_paddle2onnx.log")
    assert code == 0 and failed == [] and len(ok) == 2, log[-3000:]
    assert "paddle2onnx" in ok[0] and "--onnx_file=" in ok[1]
    infer_log = (ROOT / f"test_tipc/output/{model}/paddle2onnx_infer/paddle2onnx_infer_cpu.log").read_text()
    assert "4 of 4 image(s) done" in infer_log
    assert len(list((ROOT / f"test_tipc/output/{model}/paddle2onnx_infer/restored/restored_faces").glob("*.png"))) == 4


@pytest.mark.parametrize("model", MODELS)
def test_serving_is_green_and_stops_its_service(model):
    config = SERVING_CONFIG.format(model)
    assert len(read_slots(config)) == 14
    code, log = run("test_tipc/prepare.sh", config, "serving_infer")
    assert code == 0, log[-3000:]
    code, log = run("test_tipc/test_serving_infer_python.sh", config)
    ok, failed = status_lines(f"test_tipc/output/{model}/serving_infer/results_serving.log")
    assert code == 0 and failed == [] and len(ok) == 3, log[-3000:]  # convert, client, service (still up at the end)
    assert "convert_model.py" in ok[0] and "pipeline_http_client.py" in ok[1] and "web_service.py" in ok[2]
    outputs = sorted((ROOT / f"test_tipc/output/{model}/serving_infer/client_output_cpu").glob("*.png"))
    assert [p.name for p in outputs] == [f"{i:05d}.png" for i in range(4)]
    port = int(re.search(r"^http_port:\s*(\d+)", (ROOT / "deploy/serving/config.yml").read_text(), re.M).group(1))
    with socket.socket() as probe:  # the driver stopped the service it started
        assert probe.connect_ex(("127.0.0.1", port)) != 0
