"""Classify one drawn or photographed digit: preprocess.py, then the model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image, UnidentifiedImageError

from .preprocess import Preprocessed, preprocess


@torch.no_grad()
def probabilities(model: nn.Module, prepared: Preprocessed) -> list[float]:
    model.eval()
    return torch.softmax(model(prepared.tensor), dim=1)[0].tolist()


def predict_array(model: nn.Module, image: np.ndarray) -> dict:
    """{prediction, confidence, probabilities} (prediction None when there is no digit)."""
    prepared = preprocess(image)
    if prepared is None:
        return {"prediction": None, "confidence": None, "probabilities": None}
    probs = probabilities(model, prepared)
    best = int(np.argmax(probs))
    return {"prediction": best, "confidence": probs[best], "probabilities": probs}


def read_image(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "L"))
    except FileNotFoundError:
        raise FileNotFoundError(f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError) as error:
        raise FileNotFoundError(f"cannot read image {path}: {error}") from None


def predict_file(model: nn.Module, path: Path) -> dict:
    return predict_array(model, read_image(Path(path)))


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
