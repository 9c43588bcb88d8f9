"""Measuring "is this a digit at all?" scores: the scores a digits-only classifier offers (top
probability, top logit, energy, with or without temperature scaling) and thresholds fitted at a
rate on fitting data alone. scripts/calibrate_uncertainty.py puts these side
by side with the not-a-digit network (reject.py) and the older rule; docs/uncertainty.md reports
them. Every score here is "higher = less like a digit"; an input is flagged when its score is
above the threshold.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def classifier_scores(logits: torch.Tensor, temperature: float = 1.0) -> dict[str, np.ndarray]:
    """(N, 10) logits of a digits-only model -> {name: (N,) score}: one minus the top
    probability (at `temperature`), minus the top logit, and the energy -T·logsumexp(logits/T)."""
    scaled = logits / temperature
    return {"top probability": (1 - scaled.softmax(1).max(1).values).numpy(),
            "top logit": (-logits.max(1).values).numpy(),
            "energy": (-temperature * torch.logsumexp(scaled, 1)).numpy()}


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature minimizing the negative log-likelihood of `labels` (Guo et al. 2017), fitted
    on held-out digits (MNIST's validation split), by a 1-D search on log T."""
    candidates = torch.exp(torch.linspace(np.log(0.05), np.log(20.0), 400))
    losses = torch.stack([F.cross_entropy(logits / t, labels) for t in candidates])
    return float(candidates[int(losses.argmin())])


def threshold_at(digit_scores: np.ndarray, rate: float) -> float:
    """The lowest threshold that flags (score > threshold) at most `rate` of these digits."""
    ordered = np.sort(np.asarray(digit_scores, np.float64))
    allowed = int(np.floor(rate * len(ordered)))
    return float(ordered[len(ordered) - allowed - 1]) if allowed < len(ordered) else float(ordered[0]) - 1.0
