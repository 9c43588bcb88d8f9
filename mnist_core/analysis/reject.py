"""The not-a-digit check: a small dedicated network that says how likely an input is no digit.

Not an iteration of the lab and not in the model registry (pages, tests and the README's table
iterate the registry): the write-up models stay as their write-ups made them, trained on digits
alone, and this network only answers "is this a digit at all?". It reads the same 28×28 input as
they do and has eleven outputs: the ten digits and "not a digit"; its score is the probability of
the eleventh. Trained with outlier exposure (training/reject.py: MNIST's training split against
generated non-digit pen strokes), chosen and thresholded by measurement on data it never trained
on (scripts/calibrate_uncertainty.py, docs/uncertainty.md). uncertainty.py turns the score into
a reason; a missing or unreadable weights file turns the check off, with a one-line reason, and
the older rule alone decides.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn

WEIGHTS = Path(__file__).resolve().parents[2] / "checkpoints" / "reject" / "reject.pt"
FORMAT = "mnist-lab-reject/1"
NOT_A_DIGIT = 10  # the eleventh output


class RejectNet(nn.Module):
    """28×28 -> `classes` logits (11: the digits and "not a digit"); 66k parameters. Flattened
    3×3 maps, not a global pool: where strokes sit matters (a T's stem is central, a 7's is not)."""

    def __init__(self, classes: int = 11):
        super().__init__()
        self.features = nn.Sequential(
            self.block(1, 16), nn.MaxPool2d(2),  # (B, 16, 14, 14)
            self.block(16, 32), nn.MaxPool2d(2),  # (B, 32, 7, 7)
            self.block(32, 64), self.block(64, 64), nn.MaxPool2d(2),  # (B, 64, 3, 3)
        )
        self.head = nn.Linear(64 * 3 * 3, classes)

    @staticmethod
    def block(inputs: int, outputs: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (B, 64, 3, 3)
        x = x.flatten(1)  # (B, 576)
        return self.head(x)


class RejectError(ValueError):
    """The not-a-digit weights cannot be used; the message says which file and why, in one line."""


def save_reject(model: RejectNet, path: Path, about: dict) -> None:
    """Weights and what made them (`about`, kept as plain JSON values: what weights_only loads) in
    one file."""
    about = json.loads(json.dumps(about, default=str))  # e.g. torch.__version__ is no plain str
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    torch.save({"format": FORMAT, "classes": model.head.out_features, "state_dict": state, "about": about}, path)


def load_reject(path: Path = WEIGHTS, classes: int = 11) -> RejectNet:
    """The network with `classes` outputs from `path` (tensors only: weights_only=True), checked
    name by name and shape by shape, in eval mode; RejectError in one line for a missing, corrupt
    or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise RejectError(f"no not-a-digit weights at {path}")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any unpickling or zip failure: the file is not ours or is damaged
        kind = type(error).__name__
        raise RejectError(f"cannot read {path}: damaged, or not a tensors-only file ({kind})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT or not isinstance(saved.get("state_dict"), dict):
        raise RejectError(f"{path} is not a not-a-digit weights file ({FORMAT})")
    if saved.get("classes") != classes:
        raise RejectError(f"{path} holds a network with {saved.get('classes')} outputs, not {classes}")
    model = RejectNet(classes)
    expected = model.state_dict()
    state = saved["state_dict"]
    if set(state) != set(expected):
        raise RejectError(f"{path}: its tensors do not match the network ({len(state)} of {len(expected)})")
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or tensor.shape != expected[name].shape:
            raise RejectError(f"{path}: {name} has the wrong shape")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise RejectError(f"{path}: {name} holds non-finite values")
    model.load_state_dict(state)
    return model.eval()


@dataclass(frozen=True)
class RejectCheck:
    """The loaded check, or why there is none (`model` None and `problem` one line)."""
    model: RejectNet | None
    problem: str = ""


@lru_cache(maxsize=4)
def cached_check(path: str, modified: float, size: int) -> RejectCheck:
    try:
        return RejectCheck(load_reject(Path(path)))
    except RejectError as error:
        return RejectCheck(None, str(error))


def default_check() -> RejectCheck:
    """The shipped check ($MNIST_REJECT_WEIGHTS or checkpoints/reject/reject.pt), loaded once per
    version of the file."""
    path = Path(os.environ.get("MNIST_REJECT_WEIGHTS", WEIGHTS)).expanduser()
    try:
        stat = path.stat()
    except OSError:
        return RejectCheck(None, f"no not-a-digit weights at {path}")
    return cached_check(str(path), stat.st_mtime, stat.st_size)


@torch.no_grad()
def nondigit_scores(model: nn.Module, images: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """(N,) probability of "not a digit" for normalized (N, 1, 28, 28) inputs."""
    model.eval()
    scores = [model(images[start:start + batch_size]).softmax(1)[:, NOT_A_DIGIT]
              for start in range(0, len(images), batch_size)]
    return torch.cat(scores) if scores else torch.zeros(0)


def nondigit_score(check: RejectCheck, tensor: torch.Tensor) -> float | None:
    """One preprocessed input's score, or None when the check is off."""
    if check.model is None:
        return None
    score = float(nondigit_scores(check.model, tensor)[0])
    return score if math.isfinite(score) else None
