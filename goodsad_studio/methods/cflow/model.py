"""CFLOW-AD's networks: conditional normalizing flows of Glow-style coupling blocks (FrEIA's ``AllInOneBlock``,
written in torch), the 2-D positional encoding they are conditioned on, and the per-dimension log-likelihood."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def positional_encoding_2d(dim: int, height: int, width: int) -> torch.Tensor:
    """``dim x height x width`` sinusoidal encoding: the first half encodes the column, the second the row."""
    if dim % 4:
        raise ValueError(f"positional encoding size must be a multiple of 4, got {dim}")
    pe = torch.zeros(dim, height, width)
    half = dim // 2
    div = torch.exp(torch.arange(0.0, half, 2) * -(math.log(10000.0) / half))
    pos_w = torch.arange(0.0, width).unsqueeze(1)
    pos_h = torch.arange(0.0, height).unsqueeze(1)
    pe[0:half:2] = torch.sin(pos_w * div).T.unsqueeze(1).repeat(1, height, 1)
    pe[1:half:2] = torch.cos(pos_w * div).T.unsqueeze(1).repeat(1, height, 1)
    pe[half::2] = torch.sin(pos_h * div).T.unsqueeze(2).repeat(1, 1, width)
    pe[half + 1 :: 2] = torch.cos(pos_h * div).T.unsqueeze(2).repeat(1, 1, width)
    return pe


class AllInOneCoupling(nn.Module):
    """One conditional affine coupling block with global affine and a fixed soft permutation (FrEIA's
    ``AllInOneBlock`` with ``global_affine_type='SOFTPLUS', permute_soft=True``) for vectors ``N x C``."""

    w_perm: torch.Tensor  # a buffer

    def __init__(self, channels: int, condition: int, clamp: float = 1.9):
        super().__init__()
        self.clamp = clamp
        self.split1 = channels - channels // 2
        self.split2 = channels // 2
        hidden_in = self.split1 + condition
        self.subnet = nn.Sequential(
            nn.Linear(hidden_in, 2 * hidden_in), nn.ReLU(), nn.Linear(2 * hidden_in, 2 * self.split2)
        )
        self.global_scale = nn.Parameter(torch.full((1, channels), 2.0 * math.log(math.exp(5.0) - 1.0)))
        self.global_offset = nn.Parameter(torch.zeros(1, channels))
        q, r = torch.linalg.qr(torch.randn(channels, channels))
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)  # a uniformly random orthogonal matrix
        self.register_buffer("w_perm", q)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x1, x2 = x[:, : self.split1], x[:, self.split1 :]
        a = self.subnet(torch.cat([x1, cond], 1)) * 0.1
        log_s = self.clamp * torch.tanh(a[:, : self.split2])
        x2 = x2 * torch.exp(log_s) + a[:, self.split2 :]
        log_jac = log_s.sum(1)
        scale = 0.1 * F.softplus(self.global_scale, beta=0.5)
        out = torch.cat([x1, x2], 1) * scale + self.global_offset
        log_jac = log_jac + torch.log(scale).sum()
        return F.linear(out, self.w_perm), log_jac


class ConditionalFlow(nn.Module):
    def __init__(self, channels: int, condition: int, blocks: int, clamp: float):
        super().__init__()
        self.blocks = nn.ModuleList(AllInOneCoupling(channels, condition, clamp) for _ in range(blocks))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_jac = torch.zeros(len(x), device=x.device)
        for block in self.blocks:
            x, jac = block(x, cond)
            log_jac = log_jac + jac
        return x, log_jac


def log_likelihood_per_dim(z: torch.Tensor, log_jac: torch.Tensor) -> torch.Tensor:
    """``log p(x) / C`` under a standard-normal prior (the reference's ``get_logp`` divided by C)."""
    channels = z.shape[1]
    return (-channels * _LOG_SQRT_2PI - 0.5 * (z**2).sum(1) + log_jac) / channels


class CflowModel(nn.Module):
    reference_logp: torch.Tensor  # a buffer

    def __init__(self, channels: dict[str, int], condition: int, blocks: int, clamp: float):
        super().__init__()
        self.flows = nn.ModuleDict({r: ConditionalFlow(c, condition, blocks, clamp) for r, c in channels.items()})
        self.register_buffer("reference_logp", torch.zeros(len(channels)))


__all__ = ["AllInOneCoupling", "CflowModel", "ConditionalFlow", "log_likelihood_per_dim", "positional_encoding_2d"]
