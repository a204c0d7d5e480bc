"""GPENDegradationDataset. GPEN's dataset code is not installable (no package ships it), so its steps are
checked one by one here; the degradation functions themselves are compared with BasicSR's in
test_degradations.py."""
import cv2
import numpy as np
import pytest

from ppgan_face.data import build_dataset
from ppgan_face.data import degradations as deg

GPEN_OPTIONS = dict(type="GPENDegradationDataset", out_size=32, blur_kernel_size=41, kernel_list=["iso", "aniso"],
                    kernel_prob=[0.5, 0.5], blur_sigma=[0.1, 10], downsample_range=[0.8, 8], noise_range=[0, 20],
                    jpeg_range=[60, 100], gray_prob=0.2, color_jitter_prob=0.0)


def test_sample_follows_gpen_steps(faces):
    dataset = build_dataset(dict(GPEN_OPTIONS, dataroot_gt=str(faces)))
    for seed in range(6):
        out = dataset.sample(1, np.random.RandomState(seed))
        # GPEN's steps, in order, from the same draws
        rng = np.random.RandomState(seed)
        gt = cv2.resize(cv2.imread(dataset.paths[1]), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.
        if rng.uniform() > 0.5:
            gt = cv2.flip(gt, 1)
        rng.uniform()  # color jitter draw, probability 0
        if rng.uniform() < 0.2:
            gt = np.tile(cv2.cvtColor(gt, cv2.COLOR_BGR2GRAY)[:, :, None], [1, 1, 3])
        lq = deg.blur_downsample_noise_jpeg(rng, gt, ["iso", "aniso"], [0.5, 0.5], 41, [0.1, 10], [0.8, 8], [0, 20],
                                            [60, 100])
        lq = cv2.resize(np.clip((lq * 255.0).round(), 0, 255) / 255., (32, 32), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(out["gt"], (gt[:, :, ::-1].transpose(2, 0, 1) - 0.5) / 0.5)
        np.testing.assert_allclose(out["lq"], (lq[:, :, ::-1].transpose(2, 0, 1) - 0.5) / 0.5, rtol=0, atol=1e-6)


def test_gray_gt_before_degradation(faces):
    dataset = build_dataset(dict(GPEN_OPTIONS, dataroot_gt=str(faces), gray_prob=1.0, seed=0))
    sample = dataset[0]
    assert np.array_equal(sample["gt"][0], sample["gt"][2])  # (the LQ gets colour noise afterwards)
    assert sample["gt"].shape == (3, 32, 32) and sample["gt"].dtype == np.float32


def test_unreadable_image_is_reported_with_its_path(faces):
    dataset = build_dataset(dict(GPEN_OPTIONS, dataroot_gt=str(faces)))
    with open(dataset.paths[2], "r+b") as file:  # keep the PNG signature, break the rest
        file.seek(8)
        file.write(b"\0" * 64)
    with pytest.raises(Exception, match="00002.png: cannot decode the image"):
        dataset[2]
