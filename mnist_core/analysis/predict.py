"""Classify one drawn or photographed digit: preprocess.py, then the model, then the uncertainty
rule (uncertainty.py, with the not-a-digit check of reject.py), which may say "not sure" instead
of a digit. The Draw page and the CLI's predict and explain all judge through `verdict`."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image, UnidentifiedImageError

from ..data.preprocess import Preprocessed, preprocess
from .reject import RejectCheck, default_check, nondigit_score
from .uncertainty import Verdict, judge


@torch.no_grad()
def probabilities(model: nn.Module, prepared: Preprocessed) -> list[float]:
    model.eval()
    return torch.softmax(model(prepared.tensor), dim=1)[0].tolist()


def predict_array(model: nn.Module, image: np.ndarray, iterations: dict[str, nn.Module] | None = None) -> dict:
    """{prediction, confidence, probabilities, uncertain, reason}; prediction None (and uncertain)
    when there is no digit. `iterations` (the shipped models) feed the rule's agreement check."""
    prepared = preprocess(image)
    if prepared is None:
        return {"prediction": None, "confidence": None, "probabilities": None, "uncertain": True,
                "reason": "no digit: the image has (almost) no ink"}
    return reading(model, prepared, iterations)


def verdict(prepared: Preprocessed, probs: list[float], jury: list[int] | None = None,
            check: RejectCheck | None = None) -> Verdict:
    """The rule on one input: the chosen model's probabilities, the shipped iterations' answers
    (`jury`) and the not-a-digit check (default: the shipped one; off when it cannot load)."""
    check = default_check() if check is None else check
    return judge(prepared, probs, jury or None, nondigit=nondigit_score(check, prepared.tensor))


def check_state(check: RejectCheck | None = None) -> str:
    """"on", or "off: <why>" (the rule then runs without the not-a-digit check)."""
    check = default_check() if check is None else check
    return "on" if check.model is not None else f"off: {check.problem}"


def reading(model: nn.Module, prepared: Preprocessed, iterations: dict[str, nn.Module] | None = None,
            check: RejectCheck | None = None) -> dict:
    probs = probabilities(model, prepared)
    best = int(np.argmax(probs))
    others = [int(np.argmax(probabilities(other, prepared))) for other in (iterations or {}).values()]
    judged = verdict(prepared, probs, others, check)
    return {"prediction": best, "confidence": probs[best], "probabilities": probs,
            "uncertain": judged.uncertain, "reason": judged.reason, "checks": judged.checks,
            "nondigit_check": check_state(check)}


MAX_IMAGE_BYTES = 20 * 1024 * 1024  # a photo of a digit is far smaller
MAX_IMAGE_PIXELS = 4096 * 4096  # checked from the header, before any pixel is decoded


class ImageError(ValueError):
    """An image cannot be used; the message names the file and why."""


def read_image(path: Path) -> np.ndarray:
    """The image as an array (RGBA or grayscale). Oversized files and images are refused from the
    file size and the header alone, so a decompression bomb is never decoded."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image not found: {path}")
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        raise ImageError(f"image {path} is {size / 2**20:.0f} MiB; at most {MAX_IMAGE_BYTES // 2**20} MiB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageError(f"image {path} is {width}×{height} pixels; at most "
                                     f"{MAX_IMAGE_PIXELS // 10**6} megapixels (e.g. 4096×4096)")
                return np.asarray(image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "L"))
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image {path} is too large to decode safely") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ImageError(f"cannot read image {path}: {error}") from None


def predict_file(model: nn.Module, path: Path, iterations: dict[str, nn.Module] | None = None) -> dict:
    return predict_array(model, read_image(Path(path)), iterations)


def classify_with_models(models: dict[str, nn.Module], image: np.ndarray) -> tuple[Preprocessed | None, list[dict]]:
    """Preprocess once, then every model: [{model, prediction, confidence, probabilities}]."""
    prepared = preprocess(image)
    if prepared is None:
        return None, []
    rows = []
    for name, model in models.items():
        probs = probabilities(model, prepared)
        best = int(np.argmax(probs))
        rows.append({"model": name, "prediction": best, "confidence": probs[best], "probabilities": probs})
    return prepared, rows
