"""Robustness probes: test accuracy under increasing rotation, shift, scale, stroke thickening /
thinning and Gaussian noise, on a fixed subset of the test set (the first `limit` images).

Each perturbation is deterministic (a fixed strength for every image; noise from a fixed seed), so
a probe is reproducible and strength 0 is exactly the plain accuracy on the same images. Results
are cached on disk per checkpoint by `store.derived.cached_probe` (this module computes, the store
keeps).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.augment import apply_affine
from ..data.mnist import BACKGROUND, MNIST_MEAN, MNIST_STD, Split
from .evaluate import predict_logits

VERSION = 1
DEFAULT_LIMIT = 2000
# perturbation -> strengths; 0 (or 1 for scale) is the unperturbed baseline
PERTURBATIONS: dict[str, list[float]] = {
    "rotation (degrees)": [0, 10, 20, 30, 40, 50, 60],
    "shift (pixels)": [0, 1, 2, 3, 4, 5, 6, 7, 8],
    "scale (factor)": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5],
    "stroke (dilate + / erode -)": [-2, -1, 0, 1, 2],
    "gaussian noise (std)": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
}
BASELINE = {"scale (factor)": 1.0}


def affine(
    images: torch.Tensor, angle_degrees: float = 0.0, shift_pixels: float = 0.0, zoom: float = 1.0
) -> torch.Tensor:
    """Rotate / shift right and down / zoom every image by the same amount."""
    angle = math.radians(angle_degrees)
    cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
    shift = -2.0 * shift_pixels / images.shape[-1]  # grid units: moving the content, not the grid
    theta = torch.tensor([[cos, -sin, shift], [sin, cos, shift]], dtype=images.dtype)
    return apply_affine(images, theta.expand(len(images), 2, 3))


def stroke(images: torch.Tensor, steps: int) -> torch.Tensor:
    """Thicken (steps > 0, dilation) or thin (steps < 0, erosion) strokes by 3x3 max-pooling."""
    ink = images * MNIST_STD + MNIST_MEAN  # back to [0, 1], ink high
    for _ in range(abs(int(steps))):
        ink = F.max_pool2d(ink, 3, stride=1, padding=1) if steps > 0 else -F.max_pool2d(-ink, 3, stride=1, padding=1)
    return (ink - MNIST_MEAN) / MNIST_STD


def noise(images: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """Add Gaussian noise of `std` in [0, 1] pixel units, clipped to the valid range."""
    generator = torch.Generator().manual_seed(seed)
    ink = images * MNIST_STD + MNIST_MEAN
    ink = (ink + std * torch.randn(ink.shape, generator=generator)).clamp(0, 1)
    return (ink - MNIST_MEAN) / MNIST_STD


def perturb(images: torch.Tensor, perturbation: str, strength: float) -> torch.Tensor:
    if perturbation.startswith("rotation"):
        return images if strength == 0 else affine(images, angle_degrees=strength)
    if perturbation.startswith("shift"):
        return images if strength == 0 else affine(images, shift_pixels=strength)
    if perturbation.startswith("scale"):
        return images if strength == 1 else affine(images, zoom=strength)
    if perturbation.startswith("stroke"):
        return stroke(images, int(strength))
    if perturbation.startswith("gaussian"):
        return images if strength == 0 else noise(images, strength)
    raise ValueError(f"perturbation must be one of {list(PERTURBATIONS)}, got {perturbation!r}")


def probe(model: nn.Module, test: Split, limit: int = DEFAULT_LIMIT) -> list[dict]:
    """[{perturbation, strength, accuracy}] with accuracy as a fraction, on the first `limit` images."""
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    subset = test.head(limit)
    rows = []
    for perturbation, strengths in PERTURBATIONS.items():
        for strength in strengths:
            logits = predict_logits(model, perturb(subset.images, perturbation, strength))
            accuracy = float((logits.argmax(1) == subset.labels).float().mean())
            rows.append({"perturbation": perturbation, "strength": float(strength), "accuracy": accuracy})
    return rows


assert BACKGROUND == (0.0 - MNIST_MEAN) / MNIST_STD  # the padding value apply_affine uses
