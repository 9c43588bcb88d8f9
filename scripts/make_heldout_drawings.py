"""Write checkpoints/reject/heldout_drawings.json: the held-out drawings that measure the
"not a digit" check, as pen strokes on the Draw pad's 280×280 canvas.

    python -m scripts.make_heldout_drawings

Every template below was drawn by hand, as coordinates, for this set alone: 86 non-digits
(letters, symbols, shapes, scribbles, two short words) and 21 digits (all ten, in the styles
people draw them: a 1 with and without flag and base, an open and a closed 4, a 7 with and without
a bar...). Each template gives three drawings: as drawn at the pad's default 20 px, and two
"other hands" (strokes.wobble: a slant, a size, a tremor) at 20 px and at 14 or 28 px. Nothing
that trains or tunes a model (data/stroke_drawings.py: Hershey glyphs and procedural doodles) reads
this set or these templates. Left out on purpose: shapes that *are* a digit when drawn (a circle
or O is a 0, a vertical bar, I, l, | or / is a 1; B, G, b, g, q are 8, 6 and 9).
"""
from __future__ import annotations

import json
import math
import sys
import zlib
from pathlib import Path

import numpy as np

from mnist_core.data.strokes import wobble

OUT = Path(__file__).resolve().parent.parent / "checkpoints" / "reject" / "heldout_drawings.json"


def arc(cx, cy, rx, ry, start, end, n=None):
    """Points along an ellipse from `start` to `end` degrees (0 = right, 90 = down: canvas y)."""
    n = n or max(6, int(abs(end - start) / 12))
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, n + 1)]


def ring(cx, cy, rx, ry):
    return arc(cx, cy, rx, ry, -90, 270, 30)


def star(cx, cy, r, points=5):
    angles = [-90 + k * 360 * 2 / points for k in range(points + 1)]
    return [(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a))) for a in angles]


S_CURVE = [(190, 75), (165, 52), (120, 50), (90, 70), (92, 110), (130, 135), (175, 155), (192, 190), (175, 222),
           (130, 232), (90, 215)]
P_BOWL = [(95, 230), (95, 50), (165, 55), (190, 90), (170, 130), (95, 135)]

LETTERS = {
    "A": [[(80, 230), (140, 50), (200, 230)], [(105, 160), (175, 160)]],
    "C": [arc(150, 140, 70, 90, -45, -315)],
    "D": [[(90, 50), (90, 230)], [(90, 50), (150, 60), (195, 110), (195, 170), (150, 220), (90, 230)]],
    "E": [[(190, 55), (90, 55), (90, 225), (190, 225)], [(90, 140), (170, 140)]],
    "F": [[(190, 55), (90, 55), (90, 230)], [(90, 140), (165, 140)]],
    "H": [[(85, 50), (85, 230)], [(195, 50), (195, 230)], [(85, 140), (195, 140)]],
    "J": [[(110, 55), (200, 55)], [(170, 55), (170, 190), (150, 225), (115, 230), (90, 205)]],
    "K": [[(90, 50), (90, 230)], [(190, 50), (92, 150)], [(120, 125), (195, 230)]],
    "L": [[(95, 50), (95, 225), (195, 225)]],
    "M": [[(70, 230), (80, 50), (140, 170), (200, 50), (210, 230)]],
    "N": [[(85, 230), (85, 50), (195, 230), (195, 50)]],
    "P": [P_BOWL],
    "Q": [ring(140, 135, 65, 85), [(150, 180), (205, 235)]],
    "R": [P_BOWL, [(130, 135), (195, 230)]],
    "S": [S_CURVE],
    "T": [[(70, 55), (210, 55)], [(140, 55), (140, 235)]],
    "U": [[(85, 50), (85, 170), (100, 215), (140, 232), (180, 215), (195, 170), (195, 50)]],
    "V": [[(80, 50), (140, 230), (200, 50)]],
    "W": [[(60, 50), (95, 230), (140, 100), (185, 230), (220, 50)]],
    "X": [[(80, 50), (200, 230)], [(200, 50), (80, 230)]],
    "Y": [[(80, 50), (140, 140)], [(200, 50), (140, 140), (140, 235)]],
    "Z": [[(80, 55), (200, 55), (80, 225), (205, 225)]],
    "a": [arc(130, 165, 45, 55, -20, 340), [(175, 115), (175, 225)]],
    "e": [[(95, 150), (190, 150), (180, 110), (145, 90), (105, 105), (90, 150), (105, 200), (145, 220), (185, 205)]],
    "f": [[(185, 60), (160, 45), (130, 55), (120, 90), (120, 240)], [(85, 125), (170, 125)]],
    "h": [[(95, 40), (95, 235)], [(95, 150), (130, 120), (170, 125), (185, 160), (185, 235)]],
    "k": [[(100, 40), (100, 235)], [(180, 120), (102, 180)], [(130, 165), (185, 235)]],
    "m": [[(70, 120), (70, 235), (70, 150), (95, 120), (125, 125), (135, 160), (135, 235), (135, 150), (160, 120),
           (190, 125), (205, 160), (205, 235)]],
    "n": [[(95, 110), (95, 235), (95, 150), (125, 115), (165, 118), (185, 150), (185, 235)]],
    "r": [[(110, 110), (110, 235), (110, 160), (135, 125), (175, 115), (195, 125)]],
    "t": [[(140, 50), (140, 200), (155, 228), (190, 225)], [(90, 110), (190, 110)]],
    "w": [[(70, 110), (100, 230), (140, 140), (180, 230), (210, 110)]],
    "y": [[(90, 110), (145, 200)], [(195, 110), (140, 210), (110, 250)]],
}

SYMBOLS = {
    "asterisk": [[(140, 55), (140, 225)], [(70, 95), (210, 185)], [(70, 185), (210, 95)]],
    "asterisk4": [[(140, 55), (140, 225)], [(70, 95), (210, 185)], [(70, 185), (210, 95)], [(55, 140), (225, 140)]],
    "plus": [[(140, 50), (140, 230)], [(50, 140), (230, 140)]],
    "hash": [[(110, 50), (95, 230)], [(180, 50), (165, 230)], [(60, 105), (220, 105)], [(55, 175), (215, 175)]],
    "at": [[(170, 120), (150, 100), (120, 105), (105, 140), (120, 175), (150, 180), (170, 155), (172, 115),
            (172, 170), (190, 185), (215, 160), (220, 120), (200, 75), (150, 50), (100, 60), (65, 100), (60, 160),
            (85, 210), (140, 235), (195, 220)]],
    "ampersand": [[(200, 230), (100, 120), (95, 80), (120, 55), (150, 60), (160, 90), (140, 120), (85, 170),
                   (80, 205), (110, 230), (150, 225), (205, 150)]],
    "percent": [[(200, 55), (80, 230)], ring(95, 85, 25, 30), ring(185, 200, 25, 30)],
    "arrow right": [[(50, 140), (230, 140)], [(185, 95), (230, 140), (185, 185)]],
    "arrow left": [[(230, 140), (50, 140)], [(95, 95), (50, 140), (95, 185)]],
    "arrow up": [[(140, 235), (140, 45)], [(95, 90), (140, 45), (185, 90)]],
    "arrow down": [[(140, 45), (140, 235)], [(95, 190), (140, 235), (185, 190)]],
    "arrow up-right": [[(60, 220), (215, 65)], [(140, 62), (215, 65), (212, 140)]],
    "equals": [[(60, 110), (220, 110)], [(60, 170), (220, 170)]],
    "question": [[(85, 95), (100, 60), (140, 45), (180, 60), (190, 100), (165, 135), (140, 150), (140, 190)],
                 [(140, 230)]],
    "exclamation": [[(140, 45), (140, 185)], [(140, 230)]],
    "dollar": [S_CURVE, [(140, 30), (140, 250)]],
    "check": [[(60, 150), (115, 215), (225, 55)]],
    "pi": [[(70, 80), (210, 80)], [(110, 80), (100, 230)], [(170, 80), (175, 230)]],
    "sigma": [[(200, 55), (80, 55), (150, 140), (80, 225), (205, 225)]],
    "root": [[(50, 160), (80, 140), (120, 230), (170, 50), (235, 50)]],
    "not equal": [[(60, 110), (220, 110)], [(60, 170), (220, 170)], [(185, 55), (95, 225)]],
    "less than": [[(200, 50), (80, 140), (200, 230)]],
    "greater than": [[(80, 50), (200, 140), (80, 230)]],
    "note": [arc(110, 200, 30, 22, 0, 360), [(140, 200), (140, 50), (190, 80), (195, 115)]],
    "infinity": [[(140, 140)] + arc(95, 140, 45, 35, 0, 360)[1:] + arc(185, 140, 45, 35, 180, -180)[1:]],
}

SHAPES = {
    "smiley": [ring(140, 140, 95, 95), [(110, 110)], [(170, 110)], arc(140, 150, 50, 40, 20, 160)],
    "heart": [[(140, 230), (70, 150), (60, 100), (80, 65), (115, 60), (140, 90), (165, 60), (200, 65), (220, 100),
               (210, 150), (140, 230)]],
    "star": [star(140, 145, 100)],
    "triangle": [[(140, 50), (225, 220), (55, 220), (140, 50)]],
    "square": [[(60, 60), (220, 60), (220, 220), (60, 220), (60, 60)]],
    "diamond": [[(140, 40), (225, 140), (140, 240), (55, 140), (140, 40)]],
    "house": [[(70, 230), (70, 120), (140, 50), (210, 120), (210, 230), (70, 230)]],
    "envelope": [[(50, 80), (230, 80), (230, 200), (50, 200), (50, 80)], [(50, 80), (140, 150), (230, 80)]],
    "crossed box": [[(60, 60), (220, 60), (220, 220), (60, 220), (60, 60)], [(60, 60), (220, 220)],
                    [(220, 60), (60, 220)]],
    "cloud": [arc(90, 160, 40, 35, 90, 270) + arc(140, 115, 45, 40, 180, 360) + arc(195, 160, 40, 35, -90, 90)
              + [(90, 195)]],
    "moon": [arc(140, 140, 90, 95, -70, -290) + arc(185, 140, 70, 80, 115, 245)[::-1]],
    "sun": [ring(140, 140, 40, 40)] + [[(140 + 55 * math.cos(a), 140 + 55 * math.sin(a)),
                                        (140 + 95 * math.cos(a), 140 + 95 * math.sin(a))]
                                       for a in np.linspace(0, 2 * math.pi, 8, endpoint=False)],
    "tree": [[(140, 240), (140, 160)], [(140, 40), (70, 160), (210, 160), (140, 40)]],
    "stick figure": [ring(140, 70, 25, 25), [(140, 95), (140, 175)], [(85, 125), (195, 125)],
                     [(95, 240), (140, 175), (185, 240)]],
    "fish": [[(220, 100), (180, 140), (140, 105), (90, 100), (55, 140), (90, 180), (140, 175), (180, 140),
              (220, 180), (220, 100)]],
    "lightning": [[(170, 40), (100, 150), (160, 150), (95, 245)]],
}


def lissajous():
    t = np.linspace(0, 2 * math.pi, 90)
    return [list(zip(140 + 90 * np.sin(3 * t + 0.5), 140 + 90 * np.sin(2 * t)))]


def rose():
    t = np.linspace(0, math.pi, 90)
    r = 95 * np.cos(3 * t)
    return [list(zip(140 + r * np.cos(t), 140 + r * np.sin(t)))]


SCRIBBLES = {
    "spiral": [[(140 + (8 + 1.2 * a) * math.cos(math.radians(a * 12)),
                 140 + (8 + 1.2 * a) * math.sin(math.radians(a * 12))) for a in range(0, 76)]],
    "zigzag": [[(50, 100), (90, 180), (130, 100), (170, 180), (210, 100), (240, 180)]],
    "wave": [[(30 + 4 * i, 140 + 45 * math.sin(i / 6)) for i in range(56)]],
    "coil": [[(60 + 3 * i + 25 * math.cos(i / 4), 140 + 45 * math.sin(i / 4)) for i in range(52)]],
    "lissajous": lissajous(),
    "rose": rose(),
    "scribble 1": [[(60, 150), (120, 60), (150, 200), (190, 70), (220, 190), (90, 210), (200, 120), (70, 90)]],
    "scribble 2": [[(80, 80), (200, 90), (90, 130), (210, 140), (85, 185), (205, 200), (100, 230)]],
    "scribble 3": [[(140, 60), (60, 140), (140, 220), (220, 140), (150, 70), (90, 150), (150, 200), (190, 140),
                    (140, 110)]],
    "hatching": [[(70, 70), (210, 90)], [(70, 110), (210, 130)], [(70, 150), (210, 170)], [(70, 190), (210, 210)]],
}

WORDS = {
    "hi": [[(60, 60), (60, 220)], [(60, 150), (90, 125), (120, 130), (130, 160), (130, 220)], [(190, 130), (190, 220)],
           [(190, 85)]],
    "ok": [ring(90, 165, 40, 50), [(170, 60), (170, 220)], [(230, 120), (172, 180)], [(190, 165), (235, 220)]],
}

DIGITS = {
    "0": [ring(140, 140, 60, 90)],
    "0 slanted": [arc(140, 140, 55, 88, -100, 280)],
    "1": [[(140, 45), (140, 235)]],
    "1 flag": [[(110, 85), (150, 45), (150, 235)]],
    "1 flag base": [[(110, 85), (150, 45), (150, 230)], [(105, 232), (195, 232)]],
    "2": [arc(140, 100, 55, 50, 200, 360) + [(185, 135), (80, 230), (205, 230)]],
    "2 loop": [arc(140, 100, 55, 50, 200, 360) + [(180, 140), (90, 215), (95, 235), (115, 222), (130, 215),
                                                    (210, 230)]],
    "3": [arc(135, 90, 50, 42, 210, 450) + arc(135, 185, 55, 50, 270, 500)],
    "3 flat top": [[(80, 55), (195, 55), (130, 120)] + arc(135, 175, 60, 55, -80, 150)],
    "4": [[(150, 45), (80, 170), (210, 170)], [(165, 100), (165, 240)]],
    "4 closed": [[(160, 235), (160, 45), (75, 175), (210, 175)]],
    "5": [[(190, 50), (105, 50), (95, 130)] + arc(135, 175, 55, 55, 235, 490)],
    "5 two strokes": [[(110, 50), (100, 130)] + arc(135, 175, 55, 55, 235, 490), [(110, 50), (195, 50)]],
    "6": [[(175, 50), (110, 125)] + arc(140, 185, 55, 55, 200, 560)],
    "6 curved": [[(170, 45), (120, 90), (95, 160), (110, 215), (150, 232), (190, 205), (190, 160), (150, 135),
                  (105, 160)]],
    "7": [[(75, 55), (205, 55), (120, 245)]],
    "7 bar": [[(75, 60), (205, 55), (125, 240)], [(105, 150), (185, 150)]],
    "8": [arc(140, 92, 42, 45, 90, 450) + arc(140, 190, 52, 52, -90, 270)],
    "8 two rings": [ring(140, 90, 42, 45), ring(140, 188, 52, 50)],
    "9": [arc(140, 95, 50, 48, 0, 360) + [(190, 95), (180, 245)]],
    "9 curved": [arc(140, 95, 50, 48, 10, 370) + [(190, 100), (185, 180), (165, 230), (120, 240)]],
}


def drawings(kind: str, templates: dict, label_of) -> list[dict]:
    """Three drawings a template: as drawn (20 px), and two other hands (20 px; 14 or 28 px)."""
    result = []
    for index, (name, strokes) in enumerate(templates.items()):
        rng = np.random.default_rng(zlib.crc32(f"{kind}/{name}".encode()))
        variants = [(strokes, 20), (wobble(strokes, rng, tremor=2.0), 20),
                    (wobble(strokes, rng, tremor=2.5), 14 if index % 2 else 28)]
        for number, (variant, width) in enumerate(variants):
            flat = [[round(float(v)) for point in stroke for v in point] for stroke in variant]
            result.append({"name": f"{name} #{number + 1}", "kind": kind, "label": label_of(name),
                           "width": width, "strokes": flat})
    return result


def main() -> int:
    items = (drawings("letter", LETTERS, str) + drawings("symbol", SYMBOLS, lambda name: name)
             + drawings("shape", SHAPES, lambda name: name) + drawings("scribble", SCRIBBLES, lambda name: name)
             + drawings("word", WORDS, str) + drawings("digit", DIGITS, lambda name: int(name[0])))
    table = {"about": "Held-out drawings for the not-a-digit check, drawn by hand as pen strokes on the Draw "
                      "pad's 280x280 canvas (scripts/make_heldout_drawings.py). strokes: one flat list "
                      "[x0, y0, x1, y1, ...] a stroke; width: the pad's stroke width in px. Render with "
                      "mnist_core.data.strokes.render, then preprocess, as the page does.",
             "drawings": items}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(table, separators=(",", ":")))
    counts = {}
    for item in items:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    print(f"{len(items)} drawings ({counts}) -> {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
