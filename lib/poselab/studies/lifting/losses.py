"""The VAE-GAN's loss terms and schedules (sections 2.2 and 3.3, chapter 4)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) of eq. 2.7, averaged over the batch and the latent dimensions.

    mu, logvar (B, d).  The per-sample sum of eq. 2.7 divided by d: the thesis folds this
    normalisation into lambda_KLD.  Zero exactly when mu = 0 and logvar = 0.
    """
    return -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())


def reconstruction_loss(pred2d: torch.Tensor, input2d: torch.Tensor) -> torch.Tensor:
    """L1 distance between the reprojected and the input 2D pose (eq. 2.6), averaged per coordinate."""
    return F.l1_loss(pred2d, input2d)


def cyclic_beta(epoch: float | np.ndarray, warmup: float = 10.0, period: float = 40.0,
                hold: float = 10.0) -> float | np.ndarray:
    """The factor in [0, 1] on lambda_KLD at a (fractional) epoch.

    A linear warm-up from 0 to 1 over ``warmup`` epochs, then cycles of ``period`` epochs that
    rise linearly from 0 to 1 over ``period - hold`` epochs and stay at 1 for the last ``hold``
    (chapter 4: "cycled from 0 to lambda_KLD every 40 epochs, constant for 10 epochs, with a
    10 epoch warm-up"; the cyclical annealing of Fu et al.).
    """
    e = np.asarray(epoch, dtype=float)
    ramp = max(period - hold, 1e-12)
    in_cycle = np.mod(e - warmup, period)
    cycling = np.minimum(in_cycle / ramp, 1.0)
    beta = np.where(e < warmup, e / max(warmup, 1e-12), cycling)
    return float(beta) if beta.ndim == 0 else beta


def smoothed_real_labels(n: int, low: float = 0.7, high: float = 1.2, generator: torch.Generator | None = None,
                         device: str | torch.device = "cpu") -> torch.Tensor:
    """(n, 1) "real" targets drawn uniformly from [low, high] (one-sided label smoothing)."""
    return (low + (high - low) * torch.rand(n, 1, generator=generator)).to(device)


def bce(prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy (eq. 2.8) of probabilities (B, 1) against targets (B, 1), batch mean.

    -(t log p + (1 - t) log(1 - p)) written as t * BCE(p, 1) + (1 - t) * BCE(p, 0): torch's
    BCELoss rejects the smoothed "real" targets above 1 but, used on 0/1 targets, keeps its
    clamped logs and finite gradients where the discriminator saturates (p = 0 or 1).
    """
    ones, zeros = torch.ones_like(prob), torch.zeros_like(prob)
    as_real = F.binary_cross_entropy(prob, ones, reduction="none")
    as_fake = F.binary_cross_entropy(prob, zeros, reduction="none")
    return (target * as_real + (1 - target) * as_fake).mean()
