"""Shared fixtures: the real data beside the repo, and tiny MVTec-layout datasets built in a temp folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repo (real photos with masks); tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (the shared/ folder beside the repo)")
    return SHARED_DATA


def shared_category(shared: Path, relative: str) -> Path:
    path = shared / relative
    if not path.is_dir():
        pytest.skip(f"real data set {path} is absent")
    return path


@pytest.fixture(autouse=True)
def _user_data_dir(tmp_path_factory, monkeypatch):
    """Keep the studio's user data (demo set, recovery journals) out of the real home folder."""
    monkeypatch.setenv("GOODSAD_STUDIO_DATA", str(tmp_path_factory.mktemp("user-data")))


def make_image(path: Path, size: tuple[int, int] = (24, 32), *, gray: bool = False, seed: int = 0) -> np.ndarray:
    """Write a small random image (height, width) to ``path`` in the format of its suffix and return it."""
    from goodsad_studio.dataset.imageio import write_image

    rng = np.random.default_rng(seed)
    shape = size if gray else (*size, 3)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    write_image(path, image)
    return image


def make_mask(path: Path, size: tuple[int, int] = (24, 32), box=(4, 4, 10, 12)) -> np.ndarray:
    from goodsad_studio.dataset.imageio import write_mask

    mask = np.zeros(size, bool)
    top, left, bottom, right = box
    mask[top:bottom, left:right] = True
    write_mask(path, mask)
    return mask


def build_category(
    root: Path, *, names=("000", "001"), defects=("scratch",), suffix=".png", mask_style="suffix"
) -> Path:
    """A tiny category in MVTec layout: train/good, test/good, test/<defect> with masks."""
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        make_image(root / "train" / "good" / f"{name}{suffix}")
        make_image(root / "test" / "good" / f"{name}{suffix}")
        for defect in defects:
            make_image(root / "test" / defect / f"{name}{suffix}")
            mask_name = f"{name}_mask.png" if mask_style == "suffix" else f"{name}.png"
            make_mask(root / "ground_truth" / defect / mask_name)
    return root
