"""Inference apart from metrics: logits are computed once, every metric is derived from them.

Accuracies here are fractions (0..1); the training history shows percentages.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.mnist import Split

EVAL_BATCH = 256  # small batches stay in the CPU's cache: ~1.5-2x faster than 1000 for these nets


@torch.inference_mode()
def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int = EVAL_BATCH,
                   device: torch.device | str | None = None) -> torch.Tensor:
    """(N, 10) scores on the CPU, model in eval mode (restored afterwards).

    On the CPU, a batch of images runs through a channels_last copy of the model (the caller's
    model is left untouched): the same fp32 arithmetic, ~1.8x faster for these small convnets."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    fast = device.type == "cpu" and images.dim() == 4 and len(images) > 1
    net = copy.deepcopy(model).to(memory_format=torch.channels_last) if fast else model
    was_training = model.training
    net.eval()
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].to(device)
        if fast:
            batch = batch.contiguous(memory_format=torch.channels_last)
        outputs.append(net(batch).float().cpu())
    model.train(was_training)
    return torch.cat(outputs) if outputs else torch.empty(0, 10)


def loss_and_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (fraction). Works for logits and log-probabilities alike."""
    if len(labels) == 0:
        return float("nan"), float("nan")
    loss = F.cross_entropy(logits, labels).item()
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    return loss, accuracy


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """(classes, classes) counts; rows are true labels, columns predictions."""
    flat = labels * classes + predictions
    return torch.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def per_class_report(confusion: torch.Tensor) -> list[dict]:
    true_positive = confusion.diag().double()
    predicted = confusion.sum(0).double()
    support = confusion.sum(1).double()
    precision = torch.where(predicted > 0, true_positive / predicted.clamp(min=1), torch.zeros_like(predicted))
    recall = torch.where(support > 0, true_positive / support.clamp(min=1), torch.zeros_like(support))
    denominator = precision + recall
    f1 = torch.where(
        denominator > 0, 2 * precision * recall / denominator.clamp(min=1e-12), torch.zeros_like(denominator)
    )
    return [{"digit": digit, "precision": precision[digit].item(), "recall": recall[digit].item(),
             "f1": f1[digit].item(), "support": int(support[digit].item())}
            for digit in range(len(confusion))]


def digit_table(logits: torch.Tensor, labels: torch.Tensor) -> list[dict]:
    """One row per image: index, true, predicted, confidence, second (runner-up), second_confidence."""
    top = F.softmax(logits.float(), dim=1).topk(2, dim=1)
    return [{"index": index, "true": int(labels[index]), "predicted": int(top.indices[index, 0]),
             "confidence": float(top.values[index, 0]), "second": int(top.indices[index, 1]),
             "second_confidence": float(top.values[index, 1])} for index in range(len(labels))]


def cell_digits(table: list[dict], true: int, predicted: int) -> list[dict]:
    """The digits of one confusion-matrix cell. A diagonal cell's are the correctly read digits of
    that class, least confident first (the ones closest to being wrong); an off-diagonal cell's
    are those mistakes, most confident first."""
    rows = [row for row in table if row["true"] == true and row["predicted"] == predicted]
    return sorted(rows, key=lambda row: row["confidence"], reverse=true != predicted)


@dataclass
class EvalReport:
    accuracy: float  # fraction
    loss: float
    count: int
    confusion_matrix: list[list[int]]
    per_class: list[dict]
    misclassified: list[dict] = field(default_factory=list)
    digits: list[dict] = field(default_factory=list)  # every image's top-2 (digit_table)

    def to_dict(self) -> dict:
        return asdict(self)


def report_from_logits(logits: torch.Tensor, labels: torch.Tensor) -> EvalReport:
    loss, accuracy = loss_and_accuracy(logits, labels)
    confusion = confusion_matrix(logits.argmax(1), labels)
    table = digit_table(logits, labels) if len(labels) else []
    return EvalReport(accuracy=accuracy, loss=loss, count=len(labels),
                      confusion_matrix=confusion.tolist(), per_class=per_class_report(confusion),
                      misclassified=[row for row in table if row["true"] != row["predicted"]], digits=table)


def evaluate(model: nn.Module, split: Split, batch_size: int = EVAL_BATCH) -> EvalReport:
    return report_from_logits(predict_logits(model, split.images, batch_size), split.labels)
