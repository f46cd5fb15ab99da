"""Fixtures for the method tests: the offline mobilenet_v2 weights and tiny textured images with and without a
synthetic defect (fast on a CPU: 64-96 px images, 64 px network input)."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.methods.components.backbones import MOBILENET_PIP_LINE, MOBILENET_WEIGHTS_PACKAGE
from goodsad_studio.methods.components.weights import find_in_package

from .helpers import texture, with_defect


@pytest.fixture(scope="session")
def mobilenet_weights():
    """Path of the offline mobilenet_v2 weights; the test is skipped (saying how to install them) when absent."""
    path = find_in_package(MOBILENET_WEIGHTS_PACKAGE, "mobilenet_v2-b0353104.pth")
    if path is None:
        pytest.skip(f"offline mobilenet_v2 weights not installed ({MOBILENET_PIP_LINE})")
    return path


@pytest.fixture(scope="session")
def train_images() -> list[np.ndarray]:
    return [texture(seed) for seed in range(6)]


@pytest.fixture(scope="session")
def test_images() -> list[np.ndarray]:
    """Square, non-square and grayscale inputs."""
    gray = texture(101, (72, 56))[:, :, 0]
    return [texture(100), texture(102, (48, 96)), gray, with_defect(texture(103))]
