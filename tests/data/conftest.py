"""A tiny folder of aligned 'faces' and a GFPGAN-style landmark file."""
import cv2
import numpy as np
import pytest
import torch

SIZE = 64


def write_faces(folder, count=3, size=SIZE, names=None):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        small = np.random.RandomState(i).randint(0, 256, (8, 8, 3)).astype(np.uint8)
        cv2.imwrite(str(folder / (names[i] if names else f"{i:05d}.png")),
                    cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC))
    return folder


def landmarks(count, size=SIZE):
    rs = np.random.RandomState(7)
    return {f"{i:08d}": {"left_eye": np.array([0.35 * size, 0.45 * size, 0.06 * size]) + rs.uniform(-2, 2, 3),
                         "right_eye": np.array([0.65 * size, 0.45 * size, 0.06 * size]) + rs.uniform(-2, 2, 3),
                         "mouth": np.array([0.5 * size, 0.75 * size, 0.1 * size]) + rs.uniform(-2, 2, 3)}
            for i in range(count)}


@pytest.fixture
def faces(tmp_path):
    return write_faces(tmp_path / "hq")


@pytest.fixture
def landmark_file(tmp_path):
    path = tmp_path / "landmarks.pth"
    torch.save(landmarks(3), path)
    return path
