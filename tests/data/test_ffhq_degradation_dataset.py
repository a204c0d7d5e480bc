"""FFHQDegradationDataset against GFPGAN's, sample by sample, with the same random draws.

Upstream draws from Python's ``random`` (flip, kernel type), ``np.random`` and torch (colour-jitter order and
factors); ``tests.training_oracles`` routes the first and last through ``np.random`` with the same algorithms,
and ours samples with the global RandomState, so both consume one stream in the same order. Upstream lists the
folder in ``os.scandir`` order; it is sorted here, the order the landmark file's indices assume.
"""
import cv2
import numpy as np
import pytest
import torch

from ppgan_face.data import DatasetError, build_dataset
from tests.oracles import official
from tests.training_oracles import NumpyDraws, gfpgan_dataset_module, numpy_torch, round_jpeg_quality

GFPGAN_OPTIONS = dict(out_size=64, blur_kernel_size=41, kernel_list=["iso", "aniso"], kernel_prob=[0.5, 0.5],
                      blur_sigma=[0.1, 10], downsample_range=[0.8, 8], noise_range=[0, 20], jpeg_range=[60, 100],
                      mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5], use_hflip=True, color_jitter_prob=0.3,
                      color_jitter_shift=20, color_jitter_pt_prob=0.3, gray_prob=0.01, crop_components=True,
                      eye_enlarge_ratio=1.4)
# every optional branch taken often, so a few samples exercise all of them
BUSY = dict(GFPGAN_OPTIONS, color_jitter_prob=0.6, color_jitter_pt_prob=0.7, gray_prob=0.4, gt_gray=True)


@pytest.fixture
def official_dataset(monkeypatch):
    module = gfpgan_dataset_module()
    torch_shim = numpy_torch()
    torch_shim.load = lambda path: torch.load(path, weights_only=False)  # the landmark file holds numpy arrays
    monkeypatch.setattr(module, "torch", torch_shim)
    monkeypatch.setattr(official("basicsr.data.transforms"), "random", NumpyDraws)
    degradations = official("basicsr.data.degradations")
    monkeypatch.setattr(degradations, "random", NumpyDraws)
    monkeypatch.setattr(degradations, "cv2", round_jpeg_quality(cv2))

    def build(options, folder, landmark_file):
        dataset = module.FFHQDegradationDataset(dict(options, dataroot_gt=str(folder), io_backend={"type": "disk"},
                                                     component_path=str(landmark_file)))
        dataset.paths = sorted(dataset.paths)
        return dataset
    return build


@pytest.mark.parametrize("options", [GFPGAN_OPTIONS, BUSY], ids=["gfpgan_v1", "all-branches"])
def test_samples_match_gfpgan(official_dataset, faces, landmark_file, options):
    theirs = official_dataset(options, faces, landmark_file)
    ours = build_dataset(dict(options, type="FFHQDegradationDataset", dataroot_gt=str(faces),
                              component_path=str(landmark_file)))
    assert len(ours) == len(theirs) == 3
    worst = 0.0
    for seed in range(8):
        index = seed % 3
        # upstream mirrors its loaded landmark entry in place on each flip (see FFHQDegradationDataset's
        # docstring); a fresh copy per sample is its behaviour in a new worker
        theirs.components_list = torch.load(landmark_file, weights_only=False)
        np.random.seed(seed)
        ref = theirs[index]
        np.random.seed(seed)
        out = ours.sample(index, np.random.mtrand._rand)
        assert out["gt_path"] == ref["gt_path"]
        np.testing.assert_array_equal(out["gt"], ref["gt"].numpy())
        for key in ("loc_left_eye", "loc_right_eye", "loc_mouth"):
            np.testing.assert_array_equal(out[key], ref[key].numpy())
        # contrast jitter averages in float64 here, float32 (cascade sum) in torch: an 8-bit rounding of the LQ
        # may flip, by one level (2/255 after normalisation), at a few pixels
        diff = np.abs(out["lq"] - ref["lq"].numpy())
        assert diff.max() <= 2 / 255 + 1e-6 and (diff > 1e-6).mean() < 1e-3, f"seed {seed}: max abs {diff.max()}"
        worst = max(worst, float(diff.max()))
    print(f"LQ max abs over 8 samples: {worst:.3g}")


def test_seeded_samples_are_reproducible_and_vary(faces, landmark_file):
    options = dict(BUSY, type="FFHQDegradationDataset", dataroot_gt=str(faces), component_path=str(landmark_file),
                   seed=3)
    first, second = build_dataset(options), build_dataset(options)
    np.testing.assert_array_equal(first[1]["lq"], second[1]["lq"])
    a = first[1]["lq"]
    first.set_epoch(1)
    assert not np.array_equal(first[1]["lq"], a)
    assert first[1]["lq"].dtype == np.float32 and first[1]["lq"].shape == (3, 64, 64)
    assert -1 <= first[1]["lq"].min() and first[1]["lq"].max() <= 1


def test_flip_swaps_and_mirrors_the_eyes(faces, landmark_file):
    dataset = build_dataset(dict(GFPGAN_OPTIONS, type="FFHQDegradationDataset", dataroot_gt=str(faces),
                                 component_path=str(landmark_file)))
    left, right, mouth = dataset.component_boxes(0, flipped=False)
    f_left, f_right, f_mouth = dataset.component_boxes(0, flipped=True)
    entry = torch.load(landmark_file, weights_only=False)["00000000"]
    cx, cy, half = entry["right_eye"]
    np.testing.assert_allclose(f_left, [64 - cx - 1.4 * half + 1, cy - 1.4 * half + 1, 64 - cx + 1.4 * half,
                                        cy + 1.4 * half], rtol=1e-6)
    assert f_mouth[1] == mouth[1] and f_mouth[0] != mouth[0]
    np.testing.assert_array_equal(dataset.component_boxes(0, flipped=False)[0], left)  # the file is not mutated


def test_landmark_file_must_match_the_images(tmp_path, faces):
    from tests.data.conftest import landmarks
    short = tmp_path / "short.pth"
    torch.save(landmarks(2), short)
    options = dict(GFPGAN_OPTIONS, type="FFHQDegradationDataset", dataroot_gt=str(faces))
    with pytest.raises(DatasetError, match="no landmarks for 1 of the 3 images .first: 00000002.*does not match"):
        build_dataset(dict(options, component_path=str(short)))
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(DatasetError, match="broken.pth"):
        build_dataset(dict(options, component_path=str(broken)))
    with pytest.raises(DatasetError, match="needs component_path"):
        build_dataset(options)


def test_a_json_landmark_file_gives_the_same_boxes_as_the_pth(tmp_path, faces, landmark_file):
    """The same structure as JSON (what test_tipc/make_data.py writes, no PyTorch needed)."""
    import json

    entries = torch.load(landmark_file, weights_only=False)
    as_json = tmp_path / "landmarks.json"
    as_json.write_text(json.dumps({k: {part: list(map(float, v)) for part, v in e.items()} for k, e in entries.items()}))
    options = dict(GFPGAN_OPTIONS, type="FFHQDegradationDataset", dataroot_gt=str(faces))
    from_pth = build_dataset(dict(options, component_path=str(landmark_file)))
    from_json = build_dataset(dict(options, component_path=str(as_json)))
    for flipped in (False, True):
        for a, b in zip(from_pth.component_boxes(2, flipped), from_json.component_boxes(2, flipped)):
            np.testing.assert_array_equal(a, b)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(DatasetError, match="broken.json: not valid JSON"):
        build_dataset(dict(options, component_path=str(broken)))



def test_image_size_must_match_the_boxes(faces, landmark_file):
    dataset = build_dataset(dict(GFPGAN_OPTIONS, type="FFHQDegradationDataset", dataroot_gt=str(faces),
                                 component_path=str(landmark_file), out_size=128))
    with pytest.raises(DatasetError, match="00000.png: 64x64 image, but the component boxes are for out_size 128"):
        dataset[0]


def test_bad_folders_and_options(tmp_path, faces):
    options = dict(GFPGAN_OPTIONS, type="FFHQDegradationDataset", crop_components=False)
    with pytest.raises(DatasetError, match="missing: dataroot_gt folder not found"):
        build_dataset(dict(options, dataroot_gt=str(tmp_path / "missing")))
    (faces / "00003.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="00003.png: empty file"):
        build_dataset(dict(options, dataroot_gt=str(faces)))
    (faces / "00003.png").write_bytes(b"GIF89a not really")
    with pytest.raises(DatasetError, match="00003.png: not an image file"):
        build_dataset(dict(options, dataroot_gt=str(faces)))
    with pytest.raises(DatasetError, match="has no option 'blur_sigmaa'; did you mean blur_sigma"):
        build_dataset(dict(options, dataroot_gt=str(faces), blur_sigmaa=[0.1, 10]))
    with pytest.raises(DatasetError, match="needs option.s. jpeg_range"):
        build_dataset({k: v for k, v in dict(options, dataroot_gt=str(faces)).items() if k != "jpeg_range"})
    with pytest.raises(DatasetError, match="no dataset named 'FFHQDataset'"):
        build_dataset(dict(options, type="FFHQDataset"))
