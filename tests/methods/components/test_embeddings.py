"""Embeddings against numpy references written from their definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from goodsad_studio.methods.components.embeddings import (
    global_pool,
    locally_aware_patches,
    pyramid,
    stacked_channels,
    to_rows,
)


def maps(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "s4": torch.randn(2, 3, 8, 8, generator=g),
        "s8": torch.randn(2, 4, 4, 4, generator=g),
        "s16": torch.randn(2, 5, 2, 2, generator=g),
    }


def adaptive_pool_1d(rows: np.ndarray, size: int) -> np.ndarray:
    n = rows.shape[1]
    bins = [(i * n // size, -(-(i + 1) * n // size)) for i in range(size)]
    return np.stack([rows[:, a:b].mean(1) for a, b in bins], axis=1)


def bilinear(x: np.ndarray, out: tuple[int, int]) -> np.ndarray:
    """``C x h x w`` -> ``C x H x W``, align_corners=False (half-pixel centres, clamped at the border)."""

    def weights(n_in: int, n_out: int) -> np.ndarray:
        m = np.zeros((n_out, n_in))
        for o in range(n_out):
            src = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
            i0 = min(int(np.floor(src)), n_in - 1)
            i1 = min(i0 + 1, n_in - 1)
            m[o, i0] += 1 - (src - i0)
            m[o, i1] += src - i0
        return m

    wy, wx = weights(x.shape[1], out[0]), weights(x.shape[2], out[1])
    return np.einsum("yh,chw,xw->cyx", wy, x, wx)


def neighbourhoods(layer: np.ndarray) -> np.ndarray:
    """``C x h x w`` -> ``h x w x 9C``: each 3x3 neighbourhood, zero-padded, in (c, dy, dx) order."""
    c, h, w = layer.shape
    padded = np.pad(layer, ((0, 0), (1, 1), (1, 1)))
    return np.stack([padded[:, y : y + 3, x : x + 3].reshape(9 * c) for y in range(h) for x in range(w)]).reshape(
        h, w, 9 * c
    )


@pytest.mark.parametrize(("pretrain", "target"), [(12, 10), (36, 24)])
def test_locally_aware_patches(pretrain, target):
    m = maps()
    got = locally_aware_patches(m, pretrain, target)
    assert got.shape == (2, 4, 4, target) and got.is_contiguous()
    for b in range(2):
        fine = adaptive_pool_1d(neighbourhoods(m["s8"][b].double().numpy()).reshape(16, -1), pretrain)
        coarse = adaptive_pool_1d(neighbourhoods(m["s16"][b].double().numpy()).reshape(4, -1), pretrain)
        coarse = bilinear(coarse.T.reshape(pretrain, 2, 2), (4, 4)).reshape(pretrain, 16).T
        expected = adaptive_pool_1d(np.concatenate([fine, coarse], 1), target).reshape(4, 4, target)
        np.testing.assert_allclose(got[b].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_stacked_channels():
    m = maps(1)
    channels = torch.tensor([0, 2, 3, 6, 11])
    got = stacked_channels(m, ("s4", "s8", "s16"), channels)
    assert got.shape == (2, 8, 8, 5)
    nearest = [m["s4"].numpy(), m["s8"].numpy().repeat(2, 2).repeat(2, 3), m["s16"].numpy().repeat(4, 2).repeat(4, 3)]
    expected = np.concatenate(nearest, 1)[:, channels.numpy()].transpose(0, 2, 3, 1)
    assert np.array_equal(got.numpy(), expected)
    assert got.flatten(1, 2).shape == (2, 64, 5)


def test_pyramid_and_pooling():
    m = maps(2)
    got = pyramid(m)
    assert got.shape == (2, 4, 4, 3 + 4 + 5)
    s4 = m["s4"].numpy().reshape(2, 3, 4, 2, 4, 2).mean((3, 5))
    s16 = np.stack([bilinear(m["s16"][b].double().numpy(), (4, 4)) for b in range(2)])
    expected = np.concatenate([s4, m["s8"].numpy(), s16], 1).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(global_pool(m["s8"]).numpy(), m["s8"].numpy().mean((2, 3)), rtol=1e-6)
    assert torch.equal(to_rows(got), got.reshape(32, 12))
