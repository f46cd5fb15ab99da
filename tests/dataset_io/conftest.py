"""Tiny GoodsAD-shaped datasets for the export/import/edit tests, built in a temp folder.

Two categories with six-digit GoodsAD names: ``drink_can`` (PNG images, MVTec mask names ``<stem>_mask.png``,
defects dent and scratch) and ``food_box`` (JPEG images, masks named like their images, defect opened). Masks mix
rectangles, a ring with a hole and scattered pixels, so regions touch diagonally and have holes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from goodsad_studio.dataset.imageio import write_image, write_mask

HEIGHT, WIDTH = 20, 28

LAYOUT = {
    "drink_can": {
        "suffix": ".png",
        "mask_style": "suffix",
        "train/good": ["001000", "001001", "002000"],
        "test/good": ["001002", "002001"],
        "test/dent": ["001003", "002002"],
        "test/scratch": ["001004", "002003"],
    },
    "food_box": {
        "suffix": ".jpg",
        "mask_style": "same",
        "train/good": ["010000", "011000"],
        "test/good": ["010001"],
        "test/opened": ["010002", "011001"],
    },
}


def random_mask(seed: int, shape: tuple[int, int] = (HEIGHT, WIDTH)) -> np.ndarray:
    """A mask with a rectangle, a ring (a region with a hole) and scattered pixels (diagonal touches)."""
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) > 0.9
    top, left = rng.integers(0, shape[0] - 6), rng.integers(0, shape[1] - 8)
    mask[top : top + 5, left : left + 7] = True
    mask[top + 2, left + 2 : left + 5] = False  # a hole inside the rectangle
    return mask


def build_dataset(root: Path) -> dict[str, np.ndarray]:
    """Write the dataset under ``root``; returns the mask of each defective image by image path (str)."""
    masks: dict[str, np.ndarray] = {}
    rng = np.random.default_rng(1)
    seed = 0
    for category, spec in LAYOUT.items():
        for folder, stems in spec.items():
            if "/" not in folder:
                continue
            for stem in stems:
                image_path = root / category / folder / f"{stem}{spec['suffix']}"
                write_image(image_path, rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))
                defect = folder.split("/")[1]
                if folder.startswith("test/") and defect != "good":
                    seed += 1
                    mask = random_mask(seed)
                    name = f"{stem}_mask.png" if spec["mask_style"] == "suffix" else f"{stem}.png"
                    write_mask(root / category / "ground_truth" / defect / name, mask)
                    masks[str(image_path)] = mask
    return masks


@pytest.fixture(scope="session")
def _pristine(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    root = tmp_path_factory.mktemp("pristine") / "goods"
    return root, build_dataset(root)


@pytest.fixture
def dataset(tmp_path, _pristine) -> tuple[Path, dict[str, np.ndarray]]:
    """A fresh copy of the tiny dataset (tests may change it) and its masks by image path."""
    source, masks = _pristine
    root = tmp_path / "goods"
    shutil.copytree(source, root)
    return root, {str(root / Path(path).relative_to(source)): mask for path, mask in masks.items()}
