"""The exporter: metadata next to the model, fixed sizes, deterministic graphs, refusals that leave nothing."""
import numpy as np
import pytest
import yaml

from ppgan_face.config import load_config
from ppgan_face.inference import PaddleInferenceRunner, read_metadata
from ppgan_face.inference.export import EXPORT_DEFAULTS, ExportError, export_model, random_ops
from tests.inference.small_models import SMALL, sample

KINDS = {"gfpgan_v1.4": "restorer", "gfpgan_v1": "restorer", "gpen_bfr_512": "restorer",
         "retinaface_mobilenet0.25": "detector", "realesrnet_x2": "upsampler", "parsenet": "parser"}
DEFAULTS = yaml.safe_load(EXPORT_DEFAULTS.read_text())


@pytest.mark.parametrize("name", SMALL)
def test_metadata_describes_the_model(small_exports, name):
    export_dir = small_exports[name][1]
    meta = read_metadata(export_dir)
    kind = DEFAULTS["kinds"][meta["kind"]]
    assert meta["config"] == name and meta["kind"] == KINDS[name]
    assert all((export_dir / f).is_file() for f in meta["files"].values())
    assert {k: meta["input"][k] for k in kind["input"]} == kind["input"]
    assert [o["name"] for o in meta["outputs"]] == [o["name"] for o in kind["outputs"]]
    if kind["dynamic_size"]:
        assert meta["input"]["shape"] == [None, 3, None, None] and meta["dynamic"] == ["batch", "height", "width"]
    else:
        assert meta["input"]["shape"] == [None, 3, 64, 64] and meta["dynamic"] == ["batch"]
    assert meta["tensorrt"]["max_shape"][0] == DEFAULTS["tensorrt"]["max_batch"]
    saved = load_config(export_dir / meta["files"]["model_config"])
    assert saved["model"] == load_config(name, SMALL[name][0])["model"]


def test_detector_normalisation_is_the_detectors():
    """export.yml restates the detector's mean for deploy code; it must stay the config's ``mean_bgr``."""
    for name in ("retinaface_mobilenet0.25", "retinaface_resnet50"):
        assert DEFAULTS["kinds"]["detector"]["input"]["mean"] == load_config(name)["detector"]["mean_bgr"]


@pytest.mark.parametrize("name", ["gfpgan_v1.4", "gfpgan_v1"])
def test_gfpgan_graph_is_deterministic(small_exports, name):
    """Stored noise at inference: no random op in the graph, two runs give the same output."""
    export_dir = small_exports[name][1]
    assert random_ops(export_dir / "inference.json") == {}
    runner, x = PaddleInferenceRunner(export_dir, enable_mkldnn=False), sample((1, 3, 64, 64))
    np.testing.assert_array_equal(runner(x), runner(x))


def test_random_noise_in_the_graph_is_refused(tmp_path):
    overrides = SMALL["gfpgan_v1"][0] + ["model.out_size=16", "restorer.input_size=16",
                                         "restorer.forward_kwargs.randomize_noise=true"]
    with pytest.raises(ExportError, match=r"draws random numbers \(gaussian x\d+\)"):
        export_model("gfpgan_v1", tmp_path / "out", overrides=overrides, random_init=True)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary folder


def test_input_size_fixes_the_sides_of_a_dynamic_model(tmp_path):
    meta = export_model("realesrnet_x2", tmp_path / "out", overrides=SMALL["realesrnet_x2"][0],
                        input_size=(16, 24), random_init=True)
    assert meta["input"]["shape"] == [None, 3, 16, 24] and meta["dynamic"] == ["batch"]
    assert PaddleInferenceRunner(tmp_path / "out")(sample((2, 3, 16, 24))).shape == (2, 3, 32, 48)


@pytest.mark.parametrize("name,kwargs,message", [
    ("gfpgan_v1", dict(input_size=(128, 128)), "fixed at 64x64 by the network"),
    ("vgg19", dict(), "not exportable"),
    ("realesrnet_x2", dict(random_init=False), "no --weights given"),
    ("realesrnet_x2", dict(random_init=False, weights="missing.pdparams"), "weights file not found"),
])
def test_refusals_leave_nothing(tmp_path, name, kwargs, message):
    kwargs = {"random_init": True, **kwargs}
    overrides = SMALL[name][0] if name in SMALL else []
    with pytest.raises(ExportError, match=message):
        export_model(name, tmp_path / "out", overrides=overrides, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_existing_export_is_replaced_only_when_asked(tmp_path):
    """An existing folder takes an export (TIPC exports into its training output); an export in it is
    replaced only with ``overwrite``, and other files stay."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    small = dict(overrides=SMALL["realesrnet_x2"][0], random_init=True)
    export_model("realesrnet_x2", out, onnx=True, **small)
    with pytest.raises(ExportError, match="holds an export already"):
        export_model("realesrnet_x2", out, **small)
    export_model("realesrnet_x2", out, overwrite=True, input_size=(8, 8), **small)
    assert read_metadata(out)["input"]["shape"] == [None, 3, 8, 8]
    assert sorted(p.name for p in out.iterdir()) == ["infer_cfg.yml", "inference.json", "inference.pdiparams",
                                                     "keep.txt", "model_config.yml"]  # stale model.onnx gone
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
