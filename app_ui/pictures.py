"""Digits as pictures: upscaling, canvas images, grids, heat overlays and tiled feature maps."""
from __future__ import annotations

import numpy as np
import streamlit as st


def upscale(image: np.ndarray, factor: int = 7) -> np.ndarray:
    """A 28x28 float/uint8 image as a crisp, larger uint8 picture."""
    array = np.asarray(image, dtype=np.float32)
    array = array / 255.0 if array.max() > 1.0 else array
    return (np.kron(array, np.ones((factor, factor))) * 255).astype(np.uint8)


def canvas_from_digit(digit: np.ndarray) -> np.ndarray:
    """A 28x28 uint8 digit as the Draw page's 280x280 RGBA canvas (white ink on opaque black)."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = np.kron(np.asarray(digit, np.uint8), np.ones((10, 10), np.uint8))[..., None]
    rgba[..., 3] = 255
    return rgba


def image_grid(images: list[np.ndarray], captions: list[str], columns: int = 8) -> None:
    for start in range(0, len(images), columns):
        cells = st.columns(columns)
        for cell, image, caption in zip(cells, images[start:start + columns], captions[start:start + columns]):
            cell.image(upscale(image, 3), caption=caption, width="stretch")


def sample_grid_image(images: np.ndarray, labels: list[int], predictions: list[int] | None,
                      columns: int = 12, factor: int = 3) -> np.ndarray:
    """The live view's fixed test digits as one picture: each digit with a green (right) or red
    (wrong) frame and its predicted label under it; grey before the first epoch ends."""
    from PIL import Image, ImageDraw, ImageFont

    cell, label_height = 28 * factor + 8, 22
    font = ImageFont.load_default(size=15)
    rows = -(-len(labels) // columns)
    canvas = Image.new("RGB", (columns * cell, rows * (cell + label_height)), "white")
    draw = ImageDraw.Draw(canvas)
    for position, (image, label) in enumerate(zip(images, labels)):
        left, top = (position % columns) * cell, (position // columns) * (cell + label_height)
        predicted = None if predictions is None else predictions[position]
        colour = "#bbbbbb" if predicted is None else ("#2e9e44" if predicted == label else "#d62728")
        draw.rectangle([left + 1, top + 1, left + cell - 2, top + cell - 2], fill=colour)
        digit = Image.fromarray(upscale(image, factor)).convert("RGB")
        canvas.paste(digit, (left + 4, top + 4))
        text = "…" if predicted is None else f"{predicted}" + ("" if predicted == label else f" (true {label})")
        draw.text((left + 4, top + cell + 1), text, font=font, fill=colour if predicted is not None else "#777777")
    return np.asarray(canvas)


def heat_colours(heat: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) in [0, 1]: dark blue through red to yellow."""
    heat = np.clip(np.asarray(heat, dtype=np.float32), 0, 1)
    return np.stack([np.clip(1.6 * heat, 0, 1), np.clip(1.6 * heat - 0.6, 0, 1), 0.35 * (1 - heat)], axis=-1)


def overlay(image: np.ndarray, heat: np.ndarray, factor: int = 8, strength: float = 0.65) -> np.ndarray:
    """A 28x28 digit (ink = 1) in gray with a heat map laid over it, upscaled: uint8 RGB."""
    gray = np.repeat(np.clip(np.asarray(image, np.float32), 0, 1)[..., None], 3, axis=-1)
    weight = strength * np.clip(np.asarray(heat, np.float32), 0, 1)[..., None]
    mixed = (1 - weight) * 0.8 * gray + weight * heat_colours(heat)
    big = np.kron(mixed, np.ones((factor, factor, 1), np.float32))
    return (np.clip(big, 0, 1) * 255).astype(np.uint8)


def tile(maps: np.ndarray, columns: int = 8, factor: int = 4, gap: int = 2) -> np.ndarray:
    """(N, H, W) maps, each scaled to [0, 1] on its own, as one uint8 grid picture."""
    maps = np.asarray(maps, dtype=np.float32)
    count, height, width = maps.shape
    low = maps.reshape(count, -1).min(1)[:, None, None]
    high = maps.reshape(count, -1).max(1)[:, None, None]
    scaled = np.where(high > low, (maps - low) / np.maximum(high - low, 1e-12), 0.0)
    factor = max(1, factor * 28 // max(height, 1) // 2) if height < 14 else factor
    cell_h, cell_w = height * factor + gap, width * factor + gap
    columns = min(columns, count)
    rows = -(-count // columns)
    canvas = np.ones((rows * cell_h, columns * cell_w), np.float32)
    for index in range(count):
        top, left = (index // columns) * cell_h, (index % columns) * cell_w
        canvas[top : top + height * factor, left : left + width * factor] = np.kron(
            scaled[index], np.ones((factor, factor))
        )
    return (canvas * 255).astype(np.uint8)


def to_unit(images) -> np.ndarray:
    """Normalized (N, 1, 28, 28) tensors -> (N, 28, 28) floats in [0, 1] for pictures."""
    from mnist_core.data.mnist import MNIST_MEAN, MNIST_STD

    return np.clip(images[:, 0].numpy() * MNIST_STD + MNIST_MEAN, 0, 1)
