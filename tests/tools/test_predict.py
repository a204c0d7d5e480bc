"""tools/predict.py end to end on synthetic photos, with random weights (--random_init, a narrow network).

Parity of the pipeline itself is in tests/face/test_helper.py; here: the folders GFPGAN writes, image modes,
bad inputs that must not stop a batch, the summary, exit codes and the missing-weights message.
"""
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.face.photos import face_photo

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import predict  # noqa: E402

# a narrow GFPGANv1Clean at 512 and the light detector; threshold 0 + centre face: exactly one face a photo
TINY = ["--random_init", "-o", "model.channel_multiplier=1", "-o", "model.narrow=0.125",
        "-o", "model.num_style_feat=32", "-o", "model.num_mlp=1",
        "--detector", "retinaface_mobilenet0.25", "-o", "face_helper.eye_dist_threshold=null",
        "-o", "face_helper.paste.mask=eroded_square"]  # the parsing mask is tested in tests/face
ONE_FACE = ["-o", "face_helper.detection.conf_threshold=0.0", "--only_center_face"]


def _inputs(folder):
    folder.mkdir()
    photo, _ = face_photo(96, 128, [(64, 48, 20, 0)])
    cv2.imwrite(str(folder / "color.jpg"), photo)
    cv2.imwrite(str(folder / "gray.png"), cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "deep.png"), photo.astype(np.uint16) * 257)
    cv2.imwrite(str(folder / "alpha.png"), np.dstack([photo, np.full(photo.shape[:2], 200, np.uint8)]))
    cv2.imwrite(str(folder / "tiny.png"), photo[:20, :30])
    cv2.imwrite(str(folder / "huge.png"), np.zeros((32, 8001, 3), np.uint8))
    (folder / "notes.png").write_text("not an image")
    return folder


def test_batch_writes_gfpgan_folders_and_survives_bad_files(tmp_path, capsys):
    inputs, out = _inputs(tmp_path / "in"), tmp_path / "out"
    code = predict.main(["-i", str(inputs), "-o", str(out), "--suffix", "v", *TINY, *ONE_FACE])
    report = capsys.readouterr().out
    assert code == 1  # some files failed
    assert "4 of 7 file(s) done, 4 face(s) restored" in report
    assert "tiny.png: image too small (30x20" in report
    assert "huge.png: image too large (8001x32" in report
    assert "notes.png: not an image" in report
    expected = {"color.jpg": ((192, 256, 3), np.uint8), "gray.png": ((192, 256, 3), np.uint8),
                "deep.png": ((192, 256, 3), np.uint16), "alpha.png": ((192, 256, 4), np.uint8)}
    for name, (shape, dtype) in expected.items():
        stem, ext = name.split(".")
        image = cv2.imread(str(out / "restored_imgs" / f"{stem}_v.{ext}"), cv2.IMREAD_UNCHANGED)
        assert image.shape == shape and image.dtype == dtype, name
        assert cv2.imread(str(out / "restored_faces" / f"{stem}_00_v.png")).shape == (512, 512, 3)
        cropped = cv2.imread(str(out / "cropped_faces" / f"{stem}_00.png"))
        cmp = cv2.imread(str(out / "cmp" / f"{stem}_00.png"))
        assert cmp.shape == (512, 1024, 3)
        np.testing.assert_array_equal(cmp[:, :512], cropped)
    alpha = cv2.imread(str(out / "restored_imgs" / "alpha_v.png"), cv2.IMREAD_UNCHANGED)[:, :, 3]
    assert np.abs(alpha.astype(int) - 200).max() <= 1  # the alpha channel is upscaled and kept
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporary file


def test_photo_without_face_is_written_and_reported(tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    photo, _ = face_photo(64, 80, [])
    cv2.imwrite(str(inputs / "empty.png"), photo)
    out = tmp_path / "out"
    code = predict.main(["-i", str(inputs / "*.png"), "-o", str(out), *TINY,
                         "-o", "face_helper.detection.conf_threshold=1.01", "--upscale", "1.5"])
    report = capsys.readouterr().out
    assert code == 0 and "1 file(s) with no face" in report and "empty.png" in report
    written = cv2.imread(str(out / "restored_imgs" / "empty.png"))
    np.testing.assert_array_equal(written, cv2.resize(photo, (120, 96), interpolation=cv2.INTER_LANCZOS4))
    assert not (out / "restored_faces").exists()


def test_aligned_faces_with_weight_zero_give_back_the_input(tmp_path, capsys):
    face, _ = face_photo(512, 512, [(256, 280, 126, 0)])
    cv2.imwrite(str(tmp_path / "face.png"), face)
    out = tmp_path / "out"
    code = predict.main(["-i", str(tmp_path / "face.png"), "-o", str(out), "--aligned", "--weight", "0", *TINY])
    assert code == 0 and "1 face(s) restored" in capsys.readouterr().out
    np.testing.assert_array_equal(cv2.imread(str(out / "restored_faces" / "face_00.png")), face)
    assert not (out / "restored_imgs").exists()  # aligned mode pastes nothing, as GFPGAN


def test_background_upsampler_and_jpg_output(tmp_path, capsys):
    photo, _ = face_photo(48, 64, [(32, 24, 12, 0)])
    cv2.imwrite(str(tmp_path / "small.png"), photo)
    out = tmp_path / "out"
    code = predict.main(["-i", str(tmp_path / "small.png"), "-o", str(out), *TINY, *ONE_FACE, "--ext", "jpg",
                         "--bg_upsampler", "realesrgan_x2plus", "--bg_tile", "32", "--upscale", "2"])
    assert code == 0, capsys.readouterr()
    assert cv2.imread(str(out / "restored_imgs" / "small.jpg")).shape == (96, 128, 3)


def test_missing_weights_say_how_to_convert(tmp_path, capsys):
    config = tmp_path / "gfpgan_test.yml"
    config.write_text(f"_base_: {REPO / 'configs' / 'gfpgan_v1.4.yml'}\nweights: {tmp_path / 'absent.pdparams'}\n")
    photo, _ = face_photo(64, 64, [])
    cv2.imwrite(str(tmp_path / "a.png"), photo)
    code = predict.main(["-i", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--model", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "GFPGANv1.4.pth" in err and "tools/convert_weights.py --src GFPGANv1.4.pth" in err
    assert "releases/download/v1.3.0/GFPGANv1.4.pth" in err


@pytest.mark.parametrize("argv,message", [
    (["-i", "nowhere/*.png"], "no image found"),
    (["--model", "gfpgan_v9"], "no such config"),
    (["-o", "face_helper.upscal=3"], "did you mean face_helper.upscale"),
    (["-o", "elsewhere"], "more than one output folder"),
])
def test_user_mistakes_are_one_line_errors(tmp_path, capsys, argv, message):
    photo, _ = face_photo(64, 64, [])
    cv2.imwrite(str(tmp_path / "a.png"), photo)
    try:
        code = predict.main(["-i", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--random_init", *argv])
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
