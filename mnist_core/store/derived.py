"""Results derived from a checkpoint's weights, computed once and kept on disk.

Work that depends only on a weights file (its test-set log-probabilities, its robustness probe) is
keyed by the file's content hash, so a renamed copy reuses it and a retrained file never sees a
stale result. Two places are read, in order:
- `$MNIST_CACHE/derived/` (default `runs/.cache/derived/`): everything computed here, written on
  first use;
- `<checkpoints>/derived/` (the checkpoints folder the rest of the lab uses: `$MNIST_CHECKPOINTS`,
  default `checkpoints/`): shipped with the shipped checkpoints (small: float16 log-probabilities,
  ~160 KB a model), so a fresh clone opens Evaluate and Compare without computing anything.
Any entry that cannot be read or decoded, or holds the wrong shape or type, is a miss
(training.disk_cache: one logged line): the result is computed again and written atomically to
the cache, which is read first from then on. Only `derive --ship` writes into the checkpoints
folder (a damaged shipped file is replaced there by running it). Analysis modules compute; this
module only decides when to.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from ..analysis.evaluate import predict_logits
from ..analysis.robustness import DEFAULT_LIMIT, probe
from ..analysis.robustness import VERSION as PROBE_VERSION
from ..data.mnist import Split
from ..training.disk_cache import cache_root, read_cached, write_cached
from .shipped import checkpoints_dir

LOG_PROBS_VERSION = 1


def cache_dir() -> Path:
    return cache_root() / "derived"


def shipped_dir() -> Path:
    """The results shipped beside the checkpoints: `<checkpoints folder>/derived`."""
    return checkpoints_dir() / "derived"


def content_digest(weights: Path | str) -> str:
    return hashlib.sha256(Path(weights).read_bytes()).hexdigest()[:16]


def _places(name: str, ship: bool = False) -> list[Path]:
    """Where a result may already be, in the order read: the cache (where a recomputed result goes),
    then checkpoints/derived/; with ship, only the latter (a cached copy must still be written there)."""
    return [shipped_dir() / name] if ship else [cache_dir() / name, shipped_dir() / name]


def _keep(name: str, ship: bool, data: bytes) -> None:
    """Write a computed result: into the cache (a failure only costs computing it again), or with
    ship into checkpoints/derived/, where a failure is the command's (CheckpointError)."""
    target = (shipped_dir() if ship else cache_dir()) / name
    if not write_cached(target, data) and ship:
        from .checkpoint import CheckpointError

        raise CheckpointError(f"cannot write {target} (see the line above)")


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


def decode_log_probs(raw: bytes, count: int) -> torch.Tensor:
    """(count, 10) float32 log-probabilities from an .npz entry's bytes; raises for anything else
    (a bad zip or CRC, a zlib error, another array, shape or dtype, a NaN)."""
    with np.load(io.BytesIO(raw), allow_pickle=False) as stored:
        values = stored["log_probs"]
    if values.shape != (count, 10) or values.dtype.kind != "f" or np.isnan(values).any():
        raise ValueError(f"log_probs of shape {values.shape} and dtype {values.dtype}, expected ({count}, 10) "
                         "floats without NaN")
    return torch.from_numpy(values.astype(np.float32))


def encode_log_probs(log_probs: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, log_probs=log_probs)
    return buffer.getvalue()


def decode_probe(raw: bytes) -> list[dict]:
    """A robustness probe's rows from a JSON entry's bytes; ValueError unless it is a non-empty list
    of {perturbation: str, strength: number, accuracy: number in [0, 1]}."""
    rows = json.loads(raw)
    if not isinstance(rows, list) or not rows or not all(_probe_row(row) for row in rows):
        raise ValueError("not a list of {perturbation, strength, accuracy} rows")
    return rows


def _probe_row(row) -> bool:
    def number(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

    return (isinstance(row, dict) and isinstance(row.get("perturbation"), str) and number(row.get("strength"))
            and number(row.get("accuracy")) and 0 <= row["accuracy"] <= 1)


def test_log_probs(weights: Path | str, test: Split, model: nn.Module | None = None,
                   ship: bool = False) -> torch.Tensor:
    """(N, 10) log-probabilities of `weights` on the test split: read from disk when any place has
    them, else computed once and written (to checkpoints/derived/ with ship=True)."""
    weights = Path(weights)
    name = log_probs_name(weights, content_digest(weights), len(test))
    for place in _places(name, ship):
        if (found := read_cached(place, lambda raw: decode_log_probs(raw, len(test)))) is not None:
            return found
    log_probs = compact_log_probs(predict_logits(_model(weights, model), test.images))
    _keep(name, ship, encode_log_probs(log_probs))
    return torch.from_numpy(log_probs.astype(np.float32))


def cached_probe(weights: Path | str, test: Split, limit: int = DEFAULT_LIMIT, model: nn.Module | None = None,
                 ship: bool = False) -> list[dict]:
    """probe() once per checkpoint file (by content hash) and limit; later calls read the JSON."""
    weights = Path(weights)
    name = f"{weights.stem}-{content_digest(weights)}-robustness{limit}-v{PROBE_VERSION}.json"
    for place in _places(name, ship):
        if (found := read_cached(place, decode_probe)) is not None:
            return found
    rows = probe(_model(weights, model), test, limit)
    _keep(name, ship, json.dumps(rows, indent=1, allow_nan=False).encode())
    return rows


def is_derived(weights: Path | str, test_count: int, limit: int = DEFAULT_LIMIT) -> bool:
    """Whether both results of `weights` are already on disk (a page can then skip its spinner)."""
    weights = Path(weights)
    digest = content_digest(weights)
    names = [log_probs_name(weights, digest, test_count),
             f"{weights.stem}-{digest}-robustness{limit}-v{PROBE_VERSION}.json"]
    return all(any(place.is_file() for place in _places(name)) for name in names)
