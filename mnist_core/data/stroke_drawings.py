"""Generated pen drawings that teach and tune the not-a-digit check (analysis/reject.py).

Pure functions of a seed, each giving (strokes, stroke width) in the Draw pad's 280×280 canvas
coordinates, painted by strokes.render as the pad paints them:
- "glyph": a non-digit glyph of the Hershey stroke fonts (hershey_glyphs.json: letters in print,
  script and Greek hands, symbols, arrows, markers; the glyphs that are a digit's shape are left
  out there), wobbled like a hand;
- "doodle": a procedural scribble, spiral, zigzag, wave, loop coil, outline (triangle, square,
  diamond, star), arrow, hatching or asterisk;
- "digit": a Hershey digit glyph (0-9 in six hands), wobbled: drawn digits that are not MNIST's, so
  that clean pen strokes alone never mean "not a digit".
The held-out drawings that measure the check (checkpoints/reject/heldout_drawings.json) were
drawn by hand apart from these generators; nothing here reads them.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from .strokes import SIZE, fit_box, wobble

GLYPHS = Path(__file__).with_name("hershey_glyphs.json")
KINDS = ("glyph", "doodle", "digit")


@lru_cache(maxsize=1)
def glyph_table() -> dict:
    return json.loads(GLYPHS.read_text())


def stroke_width(rng: np.random.Generator) -> float:
    """Most visitors keep the pad's 20 px; the slider goes from 8 to 40."""
    return 20.0 if rng.random() < 0.5 else float(rng.uniform(9, 36))


def placed(strokes: list, rng: np.random.Generator) -> list:
    """Fit into a random box (drawings fill 40-85% of the pad), then wobble."""
    height = rng.uniform(110, 240)
    width = height * rng.uniform(0.5, 1.3)
    cx, cy = rng.uniform(SIZE / 2 - 30, SIZE / 2 + 30, 2)
    box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    return wobble(fit_box(strokes, box), rng, tremor=rng.uniform(0.5, 4))


def glyph(rng: np.random.Generator, side: str = "nondigit") -> tuple[list, str]:
    """(strokes, the character) of a random glyph of one side: "nondigit" or "digit"."""
    entries = glyph_table()[side]
    entry = entries[int(rng.integers(len(entries)))]
    return placed(entry["strokes"], rng), entry["char"]


def polyline(points) -> list:
    return [[float(x), float(y)] for x, y in points]


def scribble(rng):
    turns = rng.normal(0, 0.6, int(rng.integers(8, 26))).cumsum()
    steps = rng.uniform(4, 12, len(turns))
    x, y = np.cumsum(steps * np.cos(turns)), np.cumsum(steps * np.sin(turns))
    return [polyline(zip(x, y))]


def spiral(rng):
    turns = rng.uniform(1.8, 4)
    angles = np.linspace(0, 2 * math.pi * turns, int(60 * turns))
    radius = 0.5 + angles / angles[-1]
    direction = rng.choice([-1, 1])
    return [polyline(zip(radius * np.cos(direction * angles), radius * np.sin(direction * angles)))]


def zigzag(rng):
    peaks = int(rng.integers(3, 8))
    points = [(i, (i % 2) * rng.uniform(0.6, 1.4)) for i in range(peaks + 1)]
    return [polyline(points if rng.random() < 0.5 else [(y, x) for x, y in points])]


def wave(rng):
    periods = rng.uniform(1.5, 4)
    t = np.linspace(0, 2 * math.pi * periods, 80)
    return [polyline(zip(t, rng.uniform(0.6, 2) * np.sin(t)))]


def coil(rng):
    loops = int(rng.integers(3, 7))
    t = np.linspace(0, 2 * math.pi * loops, 40 * loops)
    return [polyline(zip(t / (2 * math.pi) * rng.uniform(0.6, 1.2) + np.cos(t) * 0.5, np.sin(t)))]


def outline(rng):
    corners = int(rng.choice([3, 4, 5]))
    star = rng.random() < 0.4
    count = corners * 2 if star else corners
    angles = np.linspace(0, 2 * math.pi, count + 1) + rng.uniform(0, 2 * math.pi)
    radius = np.where(np.arange(count + 1) % 2 == 1, rng.uniform(0.35, 0.55), 1.0) if star else np.ones(count + 1)
    return [polyline(zip(radius * np.cos(angles), radius * np.sin(angles)))]


def arrow(rng):
    angle = rng.uniform(0, 2 * math.pi)
    tip = np.array([math.cos(angle), math.sin(angle)])
    head = rng.uniform(0.3, 0.6)
    wings = [tip - head * np.array([math.cos(angle + s * 0.5), math.sin(angle + s * 0.5)]) for s in (-1, 1)]
    shaft = polyline([-tip, tip])
    if rng.random() < 0.5:
        return [shaft, polyline([wings[0], tip, wings[1]])]
    return [shaft, polyline([wings[0], tip]), polyline([wings[1], tip])]


def hatching(rng):
    across, down = int(rng.integers(2, 5)), int(rng.integers(1, 5))
    rows = [polyline([(0, y), (1, y + rng.uniform(-0.1, 0.1))]) for y in np.linspace(0.15, 0.85, across)]
    cols = [polyline([(x, 0), (x + rng.uniform(-0.15, 0.15), 1)]) for x in np.linspace(0.2, 0.8, down)]
    return rows + cols


def asterisk(rng):
    count = int(rng.integers(3, 6))
    angles = np.linspace(0, math.pi, count, endpoint=False) + rng.uniform(0, math.pi)
    return [polyline([(-math.cos(a), -math.sin(a)), (math.cos(a), math.sin(a))]) for a in angles]


DOODLES = (scribble, spiral, zigzag, wave, coil, outline, arrow, hatching, asterisk)


def doodle(rng: np.random.Generator) -> list:
    maker = DOODLES[int(rng.integers(len(DOODLES)))]
    return placed(maker(rng), rng)


def make(kind: str, seed: int) -> tuple[list, float, int | None]:
    """(strokes, stroke width, digit or None) of one generated drawing of `kind` (one of KINDS)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    if kind == "doodle":
        return doodle(rng), stroke_width(rng), None
    strokes, character = glyph(rng, "digit" if kind == "digit" else "nondigit")
    return strokes, stroke_width(rng), int(character) if kind == "digit" else None
