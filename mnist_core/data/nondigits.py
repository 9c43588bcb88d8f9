"""Canvases that are not digits, for calibrating and testing the uncertainty rule.

Pure functions of a seed: 280×280 RGBA canvases (white ink on opaque black, like the Draw page)
holding a dot, a scribble, a filled shape or a letter. Letters that look like digits (O, I, l, S,
Z, B, G, g, q, b) are left out: reading them as 0, 1, 5, 2, 8, 6, 9 is not a mistake.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

KINDS = ("dot", "scribble", "filled", "letter")
LETTERS = "ACEFHKMNPRTUVWXY"
SIZE = 280


def blank() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (SIZE, SIZE), "black")
    return image, ImageDraw.Draw(image)


def as_canvas(image: Image.Image) -> np.ndarray:
    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    rgba[..., :3] = np.asarray(image)
    rgba[..., 3] = 255
    return rgba


def dot(rng: np.random.Generator) -> np.ndarray:
    image, draw = blank()
    radius = int(rng.integers(3, 12))
    y, x = rng.integers(40, SIZE - 40, 2)
    draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill="white")
    return as_canvas(image)


def scribble(rng: np.random.Generator) -> np.ndarray:
    image, draw = blank()
    points = [tuple(int(v) for v in rng.integers(30, SIZE - 30, 2)) for _ in range(int(rng.integers(8, 20)))]
    draw.line(points, fill="white", width=int(rng.integers(12, 24)), joint="curve")
    return as_canvas(image)


def filled(rng: np.random.Generator) -> np.ndarray:
    image, draw = blank()
    left, top = rng.integers(20, 90, 2)
    right, bottom = rng.integers(190, 260, 2)
    shape = rng.integers(0, 3)
    if shape == 0:
        draw.rectangle([left, top, right, bottom], fill="white")
    elif shape == 1:
        draw.ellipse([left, top, right, bottom], fill="white")
    else:
        draw.polygon([(left, bottom), (right, bottom), ((left + right) // 2, top)], fill="white")
    return as_canvas(image)


def letter(rng: np.random.Generator) -> np.ndarray:
    image, draw = blank()
    character = LETTERS[int(rng.integers(len(LETTERS)))]
    font = ImageFont.load_default(size=int(rng.integers(170, 230)))
    stroke = int(rng.integers(6, 14))
    draw.text((SIZE // 2, SIZE // 2), character, fill="white", font=font, anchor="mm",
              stroke_width=stroke, stroke_fill="white")
    return as_canvas(image)


def make(kind: str, seed: int) -> np.ndarray:
    """One non-digit canvas of `kind` (one of KINDS), the same for the same seed."""
    makers = {"dot": dot, "scribble": scribble, "filled": filled, "letter": letter}
    if kind not in makers:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return makers[kind](np.random.default_rng(seed))
