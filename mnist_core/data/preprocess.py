"""Turn a drawing or photo of one digit into what an MNIST model expects.

Follows how MNIST itself was made: ink intensity in [0, 1] (either polarity, RGBA or gray),
threshold away faint noise, crop to the ink's bounding box, scale the longer side to 20 px keeping
the aspect ratio (antialiased), paste into 28x28, shift the center of mass to the center, then
normalize with the MNIST mean/std. An image with (almost) no ink gives None: "no digit".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .mnist import MNIST_MEAN, MNIST_STD

NOISE_THRESHOLD = 0.1  # ink below 10% of the maximum is treated as paper
MIN_INK_PIXELS = 12  # fewer inked pixels than this is "no digit"
BOX = 20  # MNIST digits fit a 20x20 box inside the 28x28 field


@dataclass
class Preprocessed:
    tensor: torch.Tensor  # (1, 1, 28, 28) normalized, ready for a model
    image: np.ndarray  # (28, 28) float in [0, 1], ink = 1: what the model sees
    ink_extent: float = 1.0  # the ink's bounding box (longer side) over the input's shorter side


def ink_intensity(image: np.ndarray) -> np.ndarray:
    """(H, W) float in [0, 1] with ink high, from gray, RGB or RGBA of either polarity.

    RGBA with transparency (a canvas): ink is what is opaque, whatever its color. Otherwise the
    border's median says which side is paper; light paper is inverted.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 4 and array[..., 3].min() < 255:
        alpha = array[..., 3].astype(np.float32) / 255.0
        luminance = channel_mean(array) / 255.0
        paper = np.median(np.concatenate([luminance[0], luminance[-1], luminance[:, 0], luminance[:, -1]]))
        contrast = np.abs(luminance - (0.0 if paper < 0.5 and alpha.mean() > 0.5 else paper))
        return np.clip(np.where(alpha > 0.99, contrast if contrast.max() > 0.2 else alpha, alpha), 0, 1)
    if array.ndim == 3:
        array = channel_mean(array)
    gray = array.astype(np.float32)
    gray = gray / 255.0 if gray.max() > 1.0 else gray
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1.0 - gray if np.median(border) > 0.5 else gray


def channel_mean(array: np.ndarray) -> np.ndarray:
    """Mean of R, G, B as float32 (15x faster than astype(...).mean(axis=2) on a canvas)."""
    return (array[..., 0].astype(np.float32) + array[..., 1] + array[..., 2]) / 3.0


def center_of_mass_shift(image: np.ndarray) -> tuple[int, int]:
    """Whole-pixel (dy, dx) that moves the center of mass to the field's center."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    cy, cx = (rows * image).sum() / total, (cols * image).sum() / total
    center = image.shape[0] / 2.0  # MNIST's centers of mass sit at (14.0, 14.0), measured
    return int(round(center - cy)), int(round(center - cx))


def shift_image(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    shifted = np.zeros_like(image)
    height, width = image.shape
    src_y, dst_y = slice(max(0, -dy), min(height, height - dy)), slice(max(0, dy), min(height, height + dy))
    src_x, dst_x = slice(max(0, -dx), min(width, width - dx)), slice(max(0, dx), min(width, width + dx))
    shifted[dst_y, dst_x] = image[src_y, src_x]
    return shifted


def fit_to_box(ink: np.ndarray) -> np.ndarray:
    """Crop to the ink and scale the longer side to BOX px (antialiased), aspect kept."""
    rows, cols = np.nonzero(ink)
    crop = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    if size == crop.shape:
        return crop
    tensor = torch.from_numpy(np.ascontiguousarray(crop))[None, None]
    resized = F.interpolate(tensor, size=size, mode="bilinear", antialias=True, align_corners=False)
    return resized[0, 0].clamp(0, 1).numpy()


def undo_block_upscale(ink: np.ndarray) -> np.ndarray:
    """`ink` at its own resolution when it is an exact k-times nearest-neighbour enlargement (every
    k x k block one value: a 28x28 digit shown on the 280x280 pad, a pixel-art PNG), else unchanged.
    Lossless, so such an image reads exactly as the small one does; drawn strokes never match."""
    height, width = ink.shape
    rows = np.flatnonzero(np.any(ink[1:] != ink[:-1], axis=1)) + 1  # where a row differs from the one above
    cols = np.flatnonzero(np.any(ink[:, 1:] != ink[:, :-1], axis=0)) + 1
    k = int(np.gcd.reduce(np.concatenate([rows, cols, [height, width]])))
    # rows repeat within bands of k and columns within bands of k: every k x k block is one value
    return np.ascontiguousarray(ink[::k, ::k]) if k > 1 and min(height, width) // k >= 8 else ink


def preprocess(image: np.ndarray) -> Preprocessed | None:
    """Any single-digit image -> Preprocessed, or None when there is no digit."""
    ink = ink_intensity(image)
    if ink.max() <= 0:
        return None
    ink = np.where(ink >= NOISE_THRESHOLD * ink.max(), ink, 0.0).astype(np.float32)
    if np.count_nonzero(ink) < MIN_INK_PIXELS:
        return None
    ink = ink / ink.max()
    rows, cols = np.nonzero(ink)
    extent = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) / min(ink.shape)
    digit = fit_to_box(undo_block_upscale(ink))  # after the ink count, which is in the input's own pixels
    field = np.zeros((28, 28), np.float32)
    top, left = (28 - digit.shape[0]) // 2, (28 - digit.shape[1]) // 2
    field[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    field = shift_image(field, *center_of_mass_shift(field))
    tensor = (torch.from_numpy(field) - MNIST_MEAN) / MNIST_STD
    return Preprocessed(tensor=tensor[None, None].float(), image=field, ink_extent=float(extent))
