"""Gaussians: the streaming fit equals numpy's mean and covariance of all samples, precisions are inverses, Ledoit-Wolf
equals its formula, Mahalanobis equals its definition, and the state round-trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from goodsad_studio.errors import ModelFileError
from goodsad_studio.methods.components.gaussian import (
    Gaussian,
    LedoitWolf,
    Ridge,
    StreamingGaussian,
    ledoit_wolf_covariance,
)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def samples(n: int, p: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((p, d, d))
    return np.einsum("npe,pef->npf", rng.standard_normal((n, p, d)), mix) + rng.standard_normal((p, d)) * 3


def test_streaming_equals_numpy_mean_and_covariance():
    x = samples(40, 6, 5)
    acc = StreamingGaussian(6, 5)
    for begin, end in ((0, 7), (7, 8), (8, 30), (30, 40)):  # uneven batches, one of a single sample
        acc.update(torch.from_numpy(x[begin:end]).float())
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(acc.mean.numpy(), x32.mean(0), rtol=1e-12, atol=1e-12)
    for p in range(6):
        np.testing.assert_allclose(acc.comoment[p].numpy() / 39, np.cov(x32[:, p].T), rtol=1e-10, atol=1e-12)
    g = acc.finish(Ridge(0.01))
    assert g.mean.dtype == g.precision.dtype == torch.float32
    for p in range(6):
        inverse = np.linalg.inv(np.cov(x32[:, p].T) + 0.01 * np.eye(5))  # inverted in float64, then cast
        np.testing.assert_allclose(g.precision[p].numpy(), inverse, rtol=1e-6, atol=1e-7 * np.abs(inverse).max())


def test_from_samples_ridge_is_one_streaming_update():
    x = torch.from_numpy(samples(30, 1, 4)[:, 0])
    g = Gaussian.from_samples(x, Ridge(0.5))
    np.testing.assert_allclose(
        np.linalg.inv(g.precision[0].double().numpy()), np.cov(x.numpy().T) + 0.5 * np.eye(4), rtol=1e-5
    )


def ledoit_wolf_reference(x: np.ndarray) -> np.ndarray:
    """Ledoit & Wolf (2004) as scikit-learn's ``ledoit_wolf`` writes it."""
    n, d = x.shape
    xc = x - x.mean(0)
    emp = xc.T @ xc / n
    mu = np.trace(emp) / d
    delta = ((emp - mu * np.eye(d)) ** 2).sum() / d
    beta = min(((xc**2).T @ (xc**2) / n - emp**2).sum() / (d * n), delta)
    shrinkage = beta / delta
    return (1 - shrinkage) * emp + shrinkage * mu * np.eye(d)


@pytest.mark.parametrize(("n", "d"), [(50, 8), (6, 12)])
def test_ledoit_wolf_equals_the_formula(n, d):
    x = samples(n, 1, d, seed=n)[:, 0]
    got = ledoit_wolf_covariance(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, ledoit_wolf_reference(x), rtol=1e-12)
    g = Gaussian.from_samples(torch.from_numpy(x), LedoitWolf(eps=1e-6))
    assert g.mean.shape == (1, d) and g.precision.shape == (1, d, d)
    np.testing.assert_allclose(g.mean[0].numpy(), x.mean(0), rtol=1e-6)
    expected = np.linalg.inv(ledoit_wolf_reference(x) + 1e-6 * np.eye(d))
    np.testing.assert_allclose(g.precision[0].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_ledoit_wolf_of_constant_samples_does_not_divide_by_zero():
    cov = ledoit_wolf_covariance(torch.ones(5, 3, dtype=torch.float64))
    assert torch.equal(cov, torch.zeros(3, 3, dtype=torch.float64))


@pytest.mark.parametrize("positions", [1, 5])
def test_mahalanobis_equals_its_definition(positions):
    rng = np.random.default_rng(3)
    d = 4
    mean = rng.standard_normal((positions, d)).astype(np.float32)
    a = rng.standard_normal((positions, d, d))
    precision = (a @ a.transpose(0, 2, 1) + np.eye(d)).astype(np.float32)
    x = rng.standard_normal((3, positions, d)).astype(np.float32)
    g = Gaussian(torch.from_numpy(mean), torch.from_numpy(precision))
    got = g.mahalanobis(torch.from_numpy(x))
    assert got.shape == (3, positions) and got.dtype == torch.float32
    diff = x.astype(np.float64) - mean
    expected = np.sqrt(np.einsum("bpe,pef,bpf->bp", diff, precision.astype(np.float64), diff))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
    xt = torch.from_numpy(x).requires_grad_(True)
    (grad,) = torch.autograd.grad(g.mahalanobis(xt).sum(), xt)  # differentiable (CutPaste's GradCAM)
    assert torch.isfinite(grad).all()
    with pytest.raises(ValueError):
        g.mahalanobis(torch.zeros(3, positions + 1, d))


def test_state_round_trip_and_errors(tmp_path):
    g = Gaussian(torch.randn(3, 2), torch.randn(3, 2, 2))
    arrays = g.state("gde/")
    assert set(arrays) == {"gde/mean", "gde/precision"}
    back = Gaussian.from_state(arrays, tmp_path, "gde/")
    assert torch.equal(back.mean, g.mean) and torch.equal(back.precision, g.precision)
    assert set(g.state()) == {"mean", "precision"}  # PaDiM's names
    with pytest.raises(ModelFileError, match="gde/precision") as missing:
        Gaussian.from_state({"gde/mean": arrays["gde/mean"]}, tmp_path, "gde/")
    assert missing.value.path == tmp_path
    with pytest.raises(ModelFileError) as misshapen:
        Gaussian.from_state({"mean": np.zeros((3, 2)), "precision": np.zeros((3, 2, 3))}, tmp_path / "m")
    assert misshapen.value.path == tmp_path / "m"
