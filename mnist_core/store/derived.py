"""Results derived from a checkpoint's weights, computed once and kept on disk.

Work that depends only on a weights file (its test-set log-probabilities, its robustness probe) is
keyed by the file's content hash, so a renamed copy reuses it and a retrained file never sees a
stale result. Two places are read, in order:
- `checkpoints/derived/`: shipped with the shipped checkpoints (small: float16 log-probabilities,
  ~160 KB a model), so a fresh clone opens Evaluate and Compare without computing anything;
- `$MNIST_CACHE/derived/` (default `runs/.cache/derived/`): everything else, written on first use.
A damaged file is computed again. Analysis modules compute; this module only decides when to.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from ..analysis.evaluate import predict_logits
from ..analysis.robustness import DEFAULT_LIMIT, probe
from ..analysis.robustness import VERSION as PROBE_VERSION
from ..data.mnist import Split
from ..training.machine import cache_root
from .records import write_json
from .shipped import CHECKPOINT_DIR

LOG_PROBS_VERSION = 1
SHIPPED_DIR = CHECKPOINT_DIR / "derived"


def cache_dir() -> Path:
    return cache_root() / "derived"


def content_digest(weights: Path | str) -> str:
    return hashlib.sha256(Path(weights).read_bytes()).hexdigest()[:16]


def _places(name: str, ship: bool = False) -> list[Path]:
    """Where a result may already be: with ship, only checkpoints/derived/ (a cached copy elsewhere
    must still be written there)."""
    return [SHIPPED_DIR / name] if ship else [SHIPPED_DIR / name, cache_dir() / name]


def _model(weights: Path, model: nn.Module | None) -> nn.Module:
    from .checkpoint import load_model

    return model if model is not None else load_model(weights)[0]


def compact_log_probs(logits: torch.Tensor) -> np.ndarray:
    """(N, 10) float16 log-probabilities whose argmax is the float32 logits' argmax: where rounding
    to float16 made a tie or swapped the top two, the winner is nudged up by one float16 step."""
    log_probs = torch.log_softmax(logits.float(), dim=1).numpy().astype(np.float16)
    winners = logits.argmax(1).numpy()
    rows = np.nonzero(log_probs.argmax(1) != winners)[0]
    for row in rows:
        while log_probs[row].argmax() != winners[row]:
            log_probs[row, winners[row]] = np.nextafter(log_probs[row, winners[row]], np.float16(1))
    return log_probs


def log_probs_name(weights: Path, digest: str, count: int) -> str:
    return f"{weights.stem}-{digest}-test{count}-logp-v{LOG_PROBS_VERSION}.npz"


def _read_npz(path: Path, count: int) -> torch.Tensor | None:
    try:
        with np.load(path) as stored:
            values = stored["log_probs"]
    except (OSError, ValueError, KeyError, EOFError):
        return None  # missing or damaged: compute it again
    return torch.from_numpy(values.astype(np.float32)) if values.shape == (count, 10) else None


def _write_npz(path: Path, log_probs: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, log_probs=log_probs)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, path)  # readers never see half a file


def test_log_probs(weights: Path | str, test: Split, model: nn.Module | None = None,
                   ship: bool = False) -> torch.Tensor:
    """(N, 10) log-probabilities of `weights` on the test split: read from disk when any place has
    them, else computed once and written (to checkpoints/derived/ with ship=True)."""
    weights = Path(weights)
    name = log_probs_name(weights, content_digest(weights), len(test))
    for place in _places(name, ship):
        if place.is_file() and (found := _read_npz(place, len(test))) is not None:
            return found
    log_probs = compact_log_probs(predict_logits(_model(weights, model), test.images))
    _write_npz((SHIPPED_DIR if ship else cache_dir()) / name, log_probs)
    return torch.from_numpy(log_probs.astype(np.float32))


def cached_probe(weights: Path | str, test: Split, limit: int = DEFAULT_LIMIT, model: nn.Module | None = None,
                 ship: bool = False) -> list[dict]:
    """probe() once per checkpoint file (by content hash) and limit; later calls read the JSON."""
    weights = Path(weights)
    name = f"{weights.stem}-{content_digest(weights)}-robustness{limit}-v{PROBE_VERSION}.json"
    for place in _places(name, ship):
        if place.is_file():
            try:
                return json.loads(place.read_text())
            except ValueError:
                pass  # a damaged entry: compute it again
    rows = probe(_model(weights, model), test, limit)
    target = (SHIPPED_DIR if ship else cache_dir()) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    write_json(target, rows)
    return rows


def is_derived(weights: Path | str, test_count: int, limit: int = DEFAULT_LIMIT) -> bool:
    """Whether both results of `weights` are already on disk (a page can then skip its spinner)."""
    weights = Path(weights)
    digest = content_digest(weights)
    names = [log_probs_name(weights, digest, test_count),
             f"{weights.stem}-{digest}-robustness{limit}-v{PROBE_VERSION}.json"]
    return all(any(place.is_file() for place in _places(name)) for name in names)
