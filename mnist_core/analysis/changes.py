"""What changed between two iterations, computed from their logits on the same test images: the
digits the newer one fixed and the ones it broke (disjoint sets), per-class accuracy deltas and
the difference of the confusion matrices."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .evaluate import confusion_matrix


@dataclass
class Changes:
    fixed: list[dict]  # wrong before, right now: index, true, old/new prediction and confidence
    broken: list[dict]  # right before, wrong now
    per_class: list[dict]  # digit, old accuracy, new accuracy, delta (percentage points)
    confusion_delta: list[list[int]]  # new minus old counts (rows true, columns predicted)
    old_accuracy: float  # percent
    new_accuracy: float


def what_changed(old_logits: torch.Tensor, new_logits: torch.Tensor, labels: torch.Tensor) -> Changes:
    if old_logits.shape != new_logits.shape or len(labels) != len(old_logits):
        raise ValueError(f"logits of the same images expected, got {tuple(old_logits.shape)} and "
                         f"{tuple(new_logits.shape)} for {len(labels)} labels")
    old_probs, new_probs = F.softmax(old_logits.float(), 1), F.softmax(new_logits.float(), 1)
    old_pred, new_pred = old_probs.argmax(1), new_probs.argmax(1)
    old_right, new_right = old_pred == labels, new_pred == labels

    def rows(mask: torch.Tensor) -> list[dict]:
        return [{"index": int(i), "true": int(labels[i]),
                 "old_prediction": int(old_pred[i]), "old_confidence": float(old_probs[i, old_pred[i]]),
                 "new_prediction": int(new_pred[i]), "new_confidence": float(new_probs[i, new_pred[i]])}
                for i in mask.nonzero().flatten()]

    per_class = []
    for digit in range(old_logits.shape[1]):
        members = labels == digit
        count = int(members.sum())
        old = 100.0 * float(old_right[members].float().mean()) if count else float("nan")
        new = 100.0 * float(new_right[members].float().mean()) if count else float("nan")
        per_class.append({"digit": digit, "count": count, "old_accuracy": old, "new_accuracy": new,
                          "delta": new - old})
    delta = confusion_matrix(new_pred, labels, old_logits.shape[1]) - confusion_matrix(
        old_pred, labels, old_logits.shape[1]
    )
    return Changes(fixed=rows(~old_right & new_right), broken=rows(old_right & ~new_right), per_class=per_class,
                   confusion_delta=delta.tolist(), old_accuracy=100.0 * float(old_right.float().mean()),
                   new_accuracy=100.0 * float(new_right.float().mean()))
