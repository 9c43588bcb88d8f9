"""Pure batch-tensor augmentations with per-sample random parameters.

Every transform is folded into one affine matrix per sample and applied with a single
`affine_grid` + `grid_sample`, so a batch of 128 costs one kernel instead of 128 PIL calls.
Functions take a generator and return new tensors; labels are never touched.
Images are normalized: the padding value is the normalized background, not zero.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .mnist import BACKGROUND


def uniform(count: int, low: float, high: float, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(count, generator=generator) * (high - low) + low


def affine_matrices(count: int, rotation: float = 0.0, translate: float = 0.0, scale: float = 0.0,
                    center_crop_prob: float = 0.0, center_crop_size: int = 22,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """(count, 2, 3) sampling matrices for affine_grid, one random draw per sample.

    rotation: angle ~ U(-rotation, rotation) degrees; translate: shift ~ U(-t, t) of the side;
    scale: zoom ~ U(1 - scale, 1 + scale); center_crop_prob: with this probability the sample is
    cropped to its central center_crop_size pixels and resized back to 28 (write-up 000).
    """
    angle = uniform(count, -rotation, rotation, generator) * math.pi / 180.0
    zoom = uniform(count, 1.0 - scale, 1.0 + scale, generator)
    crop = torch.rand(count, generator=generator) < center_crop_prob
    zoom = torch.where(crop, zoom * 28.0 / center_crop_size, zoom)
    shift = uniform(2 * count, -translate, translate, generator).reshape(count, 2) * 2.0  # grid units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom  # sampling = inverse of the zoom
    theta = torch.stack([torch.stack([cos, -sin, -shift[:, 0]], 1),
                         torch.stack([sin, cos, -shift[:, 1]], 1)], 1)
    return theta  # (count, 2, 3)


def apply_affine(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Warp normalized images (B, 1, H, W) by per-sample matrices, padding with background."""
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    warped = F.grid_sample(images - BACKGROUND, grid, mode="bilinear", padding_mode="zeros",
                           align_corners=False)
    return warped + BACKGROUND


def augment_batch(images: torch.Tensor, rotation: float = 0.0, translate: float = 0.0,
                  scale: float = 0.0, center_crop_prob: float = 0.0, center_crop_size: int = 22,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Randomly rotate / shift / zoom / center-crop each image; zero strength returns the input."""
    if rotation == 0 and translate == 0 and scale == 0 and center_crop_prob == 0:
        return images
    theta = affine_matrices(len(images), rotation, translate, scale, center_crop_prob,
                            center_crop_size, generator)
    return apply_affine(images, theta.to(images.device))


def augment_from_config(images: torch.Tensor, config, generator: torch.Generator | None) -> torch.Tensor:
    return augment_batch(images, config.rotation, config.translate, config.scale,
                         config.center_crop_prob, config.center_crop_size, generator)


def preview(images: torch.Tensor, config, seed: int, count: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """(originals, augmented): the first `count` images and the same images as the recipe's
    augmentation transforms them with this seed (the Train page's preview), both normalized."""
    originals = images[:count]
    return originals, augment_from_config(originals, config, torch.Generator().manual_seed(seed))
