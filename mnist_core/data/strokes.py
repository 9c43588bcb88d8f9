"""Pen strokes -> the picture the Draw pad sends, and how hand-drawn strokes vary.

The pad (app_ui/draw_pad.py) paints white strokes on an opaque black 280×280 canvas with the 2D
context: `lineWidth` = the stroke width (20 by default), round caps and joins, a lone point as a
filled circle, antialiased; each pen-up sends the canvas as a PNG. `render` paints the same strokes
here (coverage of each pixel by a round-capped segment: clip(r + 0.5 - distance, 0, 1)), so a
drawing kept as strokes (JSON) goes through the page's own path: render -> preprocess.preprocess.
`wobble` turns one template into the many ways a hand draws it (for generated training data and
for the held-out drawings' variants). What the strokes depict is left to their makers.
"""
from __future__ import annotations

import math

import numpy as np

SIZE = 280  # the pad's canvas, pixels
DEFAULT_WIDTH = 20  # the pad's default stroke width

Stroke = list  # [[x, y], ...] in canvas pixels


def paint_segment(ink: np.ndarray, start, end, radius: float) -> None:
    """Max-composite one round-capped segment's coverage into `ink` (H, W) float32."""
    (x0, y0), (x1, y1) = start, end
    left = max(0, int(math.floor(min(x0, x1) - radius - 1)))
    right = min(ink.shape[1], int(math.ceil(max(x0, x1) + radius + 2)))
    top = max(0, int(math.floor(min(y0, y1) - radius - 1)))
    bottom = min(ink.shape[0], int(math.ceil(max(y0, y1) + radius + 2)))
    if left >= right or top >= bottom:
        return
    ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32) + 0.5  # pixel centres
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = np.zeros_like(xs) if length2 == 0 else np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0, 1)
    distance = np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy))
    coverage = np.clip(radius + 0.5 - distance, 0.0, 1.0)
    np.maximum(ink[top:bottom, left:right], coverage, out=ink[top:bottom, left:right])


def render(strokes: list[Stroke], width: float = DEFAULT_WIDTH, size: int = SIZE) -> np.ndarray:
    """Strokes -> (size, size, 4) uint8 RGBA: white ink on opaque black, as the pad sends it."""
    ink = np.zeros((size, size), np.float32)
    radius = width / 2
    for stroke in strokes:
        points = [tuple(map(float, point)) for point in stroke]
        if len(points) == 1:
            points = points * 2  # a tap: the pad paints a filled circle
        for start, end in zip(points[:-1], points[1:]):
            paint_segment(ink, start, end, radius)
    canvas = np.empty((size, size, 4), np.uint8)
    canvas[..., :3] = np.round(ink * 255).astype(np.uint8)[..., None]
    canvas[..., 3] = 255
    return canvas


def resample(stroke: Stroke, spacing: float) -> Stroke:
    """Points every `spacing` px along a polyline, as a moving pointer reports them."""
    points = np.asarray(stroke, np.float64)
    if len(points) < 2:
        return points.tolist()
    steps = np.hypot(*np.diff(points, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    if along[-1] == 0:
        return points[:1].tolist()
    count = max(2, int(math.ceil(along[-1] / spacing)) + 1)
    where = np.linspace(0, along[-1], count)
    return np.stack([np.interp(where, along, points[:, 0]), np.interp(where, along, points[:, 1])], 1).tolist()


def wobble(strokes: list[Stroke], rng: np.random.Generator, rotate: float = 12.0, scale: tuple = (0.8, 1.08),
           shear: float = 0.15, shift: float = 18.0, tremor: float = 3.0) -> list[Stroke]:
    """One hand's take on a template: a random rotation (degrees), scale, shear and shift about the
    canvas centre, then a smooth tremor (px) along each stroke, resampled every 3-7 px."""
    angle = math.radians(rng.uniform(-rotate, rotate))
    factor = rng.uniform(*scale)
    aspect = rng.uniform(0.9, 1.1)
    slant = rng.uniform(-shear, shear)
    matrix = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    matrix = matrix @ np.array([[factor * aspect, slant * factor], [0, factor / aspect]])
    offset = np.array([SIZE / 2, SIZE / 2]) + rng.uniform(-shift, shift, 2)
    spacing = rng.uniform(3, 7)
    result = []
    for stroke in strokes:
        points = np.asarray(resample(stroke, spacing), np.float64)
        points = (points - SIZE / 2) @ matrix.T + offset
        if len(points) > 2 and tremor > 0:
            noise = rng.normal(0, tremor, (len(points) // 6 + 2, 2))
            knots = np.linspace(0, len(points) - 1, len(noise))
            points += np.stack([np.interp(np.arange(len(points)), knots, noise[:, k]) for k in (0, 1)], 1)
        result.append(np.clip(points, 2, SIZE - 2).round(1).tolist())
    return result


def fit_box(strokes: list[Stroke], box: tuple[float, float, float, float]) -> list[Stroke]:
    """Scale and move strokes (any units, y down) so that their bounding box fills `box`
    (left, top, right, bottom) with the aspect ratio kept and centred."""
    points = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in strokes])
    low, high = points.min(0), points.max(0)
    span = np.maximum(high - low, 1e-6)
    left, top, right, bottom = box
    factor = min((right - left) / span[0], (bottom - top) / span[1])
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    return [((np.asarray(s, np.float64).reshape(-1, 2) - (low + high) / 2) * factor + centre).tolist()
            for s in strokes]


def read_drawings(path) -> list[dict]:
    """A drawings file (JSON: {"drawings": [{name, kind, label, width, strokes}]}, each stroke a
    flat [x0, y0, x1, y1, ...] list) -> the drawings with strokes as [[x, y], ...] lists."""
    import json
    from pathlib import Path

    items = json.loads(Path(path).read_text())["drawings"]
    return [{**item, "strokes": [[stroke[i:i + 2] for i in range(0, len(stroke), 2)] for stroke in item["strokes"]]}
            for item in items]
