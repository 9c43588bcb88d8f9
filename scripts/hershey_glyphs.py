"""Extract the Hershey stroke-font glyphs that train the not-a-digit model into
mnist_core/data/hershey_glyphs.json (committed; this script only says where it came from).

    pip install Hershey-Fonts==2.1.0   # MIT; the glyphs are the public-domain Hershey fonts
    python -m scripts.hershey_glyphs

Digits become "digit" glyphs (drawn digits in other hands than MNIST's); letters and symbols
become "nondigit" glyphs, less the ones that, drawn, are a digit's shape: O o I l i and the like
(0, 1), B b G g q (8, 6, 9), lines and brackets (1), circles (0), and the few script and Greek
letters that read as digits (script z, Q, I, J; Greek Θ β δ θ σ ο ι). Chosen by looking at every
glyph of these fonts rendered as the Draw pad would.
"""
from __future__ import annotations

import json
import string
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "mnist_core" / "data" / "hershey_glyphs.json"
LETTERS = set(string.ascii_letters) - set("OoIliBbGgq")
NONDIGITS = {
    "futural": LETTERS | set("#$%&*+<=>?@~"),
    "scripts": LETTERS - set("zZQIJ"),
    "cursive": LETTERS - set("zZQIJ"),
    "greeks": LETTERS - set("BHIOdhior"),  # Greek by ASCII position: H Θ, b β, d δ, h θ, r σ ...
    "markers": set("BCDEFGHIKLMNOP"),
    "symbolic": set("789:;<=>?@ACDEFGIJKLMNOPQRSTUVWXYZ[]^acdefghijlmnopu~xyz{|}"),
    "mathlow": set("!\"#$%&*+:;<=>?@^_adefghijklnovwxz|~"),
    "meteorology": set("#$%&'()*+:"),
}
DIGITS = {font: set(string.digits) for font in ("futural", "scripts", "cursive", "rowmans", "mathlow", "meteorology")}


def glyph(fonts, font: str, character: str) -> list:
    fonts.load_default_font(font)
    return [[list(point) for point in stroke] for stroke in fonts.strokes_for_text(character) if stroke]


def main() -> int:
    try:
        from HersheyFonts import HersheyFonts
    except ImportError:
        print("needs the Hershey-Fonts package: pip install Hershey-Fonts==2.1.0", file=sys.stderr)
        return 1
    fonts = HersheyFonts()
    table = {"source": "Hershey fonts via the Hershey-Fonts 2.1.0 package (MIT); y points down",
             "digit": [], "nondigit": []}
    for side, chosen in (("digit", DIGITS), ("nondigit", NONDIGITS)):
        for font, characters in chosen.items():
            for character in sorted(characters):
                strokes = glyph(fonts, font, character)
                if strokes:
                    table[side].append({"font": font, "char": character, "strokes": strokes})
    OUT.write_text(json.dumps(table, separators=(",", ":")))
    print(f"{len(table['digit'])} digit and {len(table['nondigit'])} non-digit glyphs -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
