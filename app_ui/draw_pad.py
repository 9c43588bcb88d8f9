"""The Draw page's drawing pad: a small Streamlit component (components v2, inline, no build step).

Why our own and not streamlit-drawable-canvas: that library sends a drawing to Python 200 ms after
each pen-up (a fixed debounce in its bundle, `Bc = 200`, with no option to change it), which is
most of the quarter second a reading should take. This pad sends the picture the moment the pen
lifts, and nothing else: white ink on black like MNIST, round strokes, Undo and Clear. Strokes
live in the browser and survive reruns (the pad stays mounted under one key), so a stroke drawn
while Python is busy is never lost; each pen-up sends the whole picture, so a reading is always
of everything drawn so far.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import streamlit as st

SIZE = 280  # canvas pixels (10x MNIST's 28)

HTML = f"""<div class="pad">
  <canvas width="{SIZE}" height="{SIZE}" role="img" aria-label="Drawing pad: draw one digit"></canvas>
  <div class="tools">
    <button type="button" class="undo" title="Take back the last stroke">Undo</button>
    <button type="button" class="clear" title="Start again on an empty pad">Clear</button>
  </div>
</div>"""

CSS = """
.pad { display: inline-flex; flex-direction: column; gap: 6px; }
canvas { background: #000; border-radius: 6px; touch-action: none; cursor: crosshair; width: 280px; height: 280px; }
.tools { display: flex; gap: 8px; }
button { font: inherit; font-size: 0.85rem; padding: 3px 12px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--st-border-color, #ccc); background: var(--st-secondary-background-color, #f0f2f6);
  color: var(--st-text-color, #31333f); }
button:disabled { opacity: 0.45; cursor: default; }
"""

JS = """
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const canvas = parentElement.querySelector("canvas");
  const existing = parentElement.__pad;
  if (existing) { existing.data = data; return; }  // a rerun: keep the strokes, take the new width
  const pad = { data, strokes: [], current: null };
  parentElement.__pad = pad;
  const context = canvas.getContext("2d");
  const undo = parentElement.querySelector("button.undo");
  const clear = parentElement.querySelector("button.clear");

  const paint = (stroke) => {
    context.strokeStyle = "#fff"; context.fillStyle = "#fff";
    context.lineWidth = stroke.width; context.lineCap = "round"; context.lineJoin = "round";
    if (stroke.points.length === 1) {
      const [x, y] = stroke.points[0];
      context.beginPath(); context.arc(x, y, stroke.width / 2, 0, 2 * Math.PI); context.fill();
      return;
    }
    context.beginPath();
    context.moveTo(...stroke.points[0]);
    for (const point of stroke.points.slice(1)) context.lineTo(...point);
    context.stroke();
  };
  const redraw = () => {
    context.fillStyle = "#000"; context.fillRect(0, 0, canvas.width, canvas.height);
    pad.strokes.forEach(paint);
    undo.disabled = clear.disabled = pad.strokes.length === 0;
  };
  const send = () => setStateValue("drawing", pad.strokes.length
    ? { image: canvas.toDataURL("image/png"), strokes: pad.strokes.length } : null);
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    pad.current = { width: pad.data.stroke_width || 20, points: [at(event)] };
    pad.strokes.push(pad.current);
    redraw();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!pad.current) return;
    pad.current.points.push(at(event));
    redraw();
  });
  const lift = () => {
    if (!pad.current) return;
    pad.current = null;
    send();  // at once: no debounce
  };
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  undo.addEventListener("click", () => { pad.strokes.pop(); redraw(); send(); });
  clear.addEventListener("click", () => { pad.strokes = []; redraw(); send(); });
  redraw();
}
"""

_PAD = st.components.v2.component("mnist_lab.draw_pad", html=HTML, css=CSS, js=JS, isolate_styles=True)


def decode(drawing) -> np.ndarray | None:
    """The pad's value -> (280, 280, 4) uint8 RGBA, or None for an empty pad."""
    if not drawing or not drawing.get("image"):
        return None
    from PIL import Image

    _, encoded = drawing["image"].split(";base64,", 1)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGBA"))


def draw_pad(key: str = "pad", stroke_width: int = 20, on_change=None) -> np.ndarray | None:
    """Mount the pad (one stable key keeps it, and its strokes, across reruns); the drawing as RGBA."""
    result = _PAD(data={"stroke_width": int(stroke_width)}, key=key, default={"drawing": None},
                  on_drawing_change=on_change or (lambda: None), width="content", height="content")
    return decode(result.get("drawing") if result is not None else None)
