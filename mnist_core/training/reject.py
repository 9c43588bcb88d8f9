"""Train the not-a-digit network (analysis/reject.py) by outlier exposure.

The inputs: MNIST's training split (55,000 digits; never the validation or test split), drawn
digits in Hershey hands, and generated non-digits (data/stroke_drawings.py glyphs and doodles, and
data/nondigits.py's font letters, scribbles and filled shapes), every drawing painted as the Draw
pad paints it and preprocessed as the page does. Two ways to use the non-digits, compared in
docs/uncertainty.md:
- "class11": an eleventh class, "not a digit" (the shipped check: its score is that class's
  probability);
- "oe": ten classes, the non-digits pushed toward a uniform output (Hendrycks et al.'s outlier
  exposure; score: 1 - the top probability).
Generated inputs come from seeds 0.. (training) or from FIT_SEED.. (threshold fitting): the two
never overlap; the held-out drawings that measure the result are read by neither.

Digits also come **enlarged** (`enlarged_bank`): MNIST training digits resized smoothly to 3-10 times
their size (bilinear, bicubic or Lanczos, as a scan or an upscaled PNG is) and preprocessed back, as
the page would read them. Without them every MNIST digit the network saw was sharp and every
painted non-digit soft, so it learned softness as "not a digit": it flagged 77.9% of 2,000
smoothly enlarged MNIST test digits (docs/uncertainty.md).
"""
from __future__ import annotations

import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..analysis.reject import NOT_A_DIGIT, RejectNet
from ..data import nondigits, stroke_drawings
from ..data.augment import augment_batch
from ..data.mnist import normalize
from ..data.preprocess import preprocess
from ..data.strokes import render

FIT_SEED = 1_000_000  # first seed of the drawings that fit thresholds; training uses 0..
TRAIN_COUNTS = {"glyph": 24_000, "doodle": 12_000, "digit": 10_000, "letter": 3_000, "scribble": 1_500,
                "filled": 500}
FIT_COUNTS = {"glyph": 2_000, "doodle": 1_000, "digit": 1_000, "letter": 300, "scribble": 150, "filled": 50}
VARIANTS = ("class11", "oe")
ENLARGED_DIGITS = 20_000  # MNIST training digits shown large and smooth (enlarged_bank)


def random_enlargement(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 28x28 uint8 digit resized smoothly to a random 3-10 times its size (bilinear, bicubic or
    Lanczos, drawn from `rng`): a scan or an upscaled PNG of it."""
    from PIL import Image

    factor = int(rng.integers(3, 11))
    resample = (Image.BILINEAR, Image.BICUBIC, Image.LANCZOS)[int(rng.integers(3))]
    return np.asarray(Image.fromarray(digit).resize((28 * factor, 28 * factor), resample))


def enlarged_bank(digits: np.ndarray, labels: np.ndarray, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """{"images", "labels", "kinds"} for `count` of these digits (uint8, N x 28 x 28), each a
    random_enlargement read back as the page reads it (seeded)."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(digits), size=min(count, len(digits)), replace=False)
    kept = [(np.round(prepared.image * 255).astype(np.uint8), int(labels[index])) for index in chosen
            if (prepared := preprocess(random_enlargement(digits[index], rng))) is not None]
    return {"images": np.stack([image for image, _ in kept]), "labels": np.array([label for _, label in kept]),
            "kinds": np.full(len(kept), "enlarged digit")}


def drawn(kind: str, seed: int) -> tuple[np.ndarray | None, int]:
    """One generated input as the page would see it: (28×28 uint8 or None, label; 10 = not a digit)."""
    if kind in stroke_drawings.KINDS:
        strokes, width, digit = stroke_drawings.make(kind, seed)
        canvas, label = render(strokes, width), NOT_A_DIGIT if digit is None else digit
    else:
        canvas, label = nondigits.make(kind, seed + 1000), NOT_A_DIGIT  # the rule's own seeds are 0-199
    prepared = preprocess(canvas)
    return (None if prepared is None else np.round(prepared.image * 255).astype(np.uint8)), label


def drawn_chunk(job: tuple[str, int, int]) -> tuple[np.ndarray, np.ndarray]:
    torch.set_num_threads(1)
    kind, start, stop = job
    pairs = [drawn(kind, seed) for seed in range(start, stop)]
    kept = [(image, label) for image, label in pairs if image is not None]
    return (np.stack([image for image, _ in kept]) if kept else np.zeros((0, 28, 28), np.uint8),
            np.array([label for _, label in kept], np.int64))


def drawn_bank(counts: dict[str, int], first_seed: int = 0, workers: int = 2) -> dict[str, np.ndarray]:
    """{"images": (N, 28, 28) uint8, "labels": (N,), "kinds": (N,) str} for `counts` drawings of
    each kind, seeds first_seed.. (in chunks, over `workers` processes)."""
    jobs = [(kind, first_seed + start, first_seed + min(count, start + 500))
            for kind, count in counts.items() for start in range(0, count, 500)]
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(drawn_chunk, jobs))
    kinds = np.concatenate([np.full(len(labels), job[0]) for job, (_, labels) in zip(jobs, results)])
    return {"images": np.concatenate([images for images, _ in results]),
            "labels": np.concatenate([labels for _, labels in results]), "kinds": kinds}


@dataclass
class RejectTraining:
    variant: str = "class11"
    epochs: int = 6
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 5e-4
    outlier_weight: float = 0.5  # "oe": the uniform-output term's weight (Hendrycks et al. use 0.5)
    seed: int = 1

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {list(VARIANTS)}, got {self.variant!r}")
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError("epochs and batch_size must be >= 1 and lr > 0")


def loss_of(logits: torch.Tensor, labels: torch.Tensor, settings: RejectTraining) -> torch.Tensor:
    if settings.variant == "class11":
        return F.cross_entropy(logits, labels)
    outlier = labels == NOT_A_DIGIT
    digits = F.cross_entropy(logits[~outlier], labels[~outlier]) if (~outlier).any() else logits.sum() * 0
    uniform = -logits[outlier].log_softmax(1).mean(1).mean() if outlier.any() else logits.sum() * 0
    return digits + settings.outlier_weight * uniform


def train_reject(train_images: torch.Tensor, train_labels: torch.Tensor, bank: dict, settings: RejectTraining,
                 on_epoch=None) -> RejectNet:
    """MNIST's normalized training images and labels plus a drawn bank -> a trained RejectNet.
    `on_epoch(epoch, loss, seconds)` is called after each epoch (the caller prints, not this)."""
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    images = torch.cat([train_images, normalize(torch.from_numpy(bank["images"]))])
    labels = torch.cat([train_labels, torch.from_numpy(bank["labels"])])
    model = RejectNet(11 if settings.variant == "class11" else 10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    steps = settings.epochs * math.ceil(len(labels) / settings.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, settings.lr, total_steps=steps, pct_start=0.15)
    for epoch in range(settings.epochs):
        started, total, model = time.perf_counter(), 0.0, model.train()
        order = torch.randperm(len(labels), generator=generator)
        for start in range(0, len(order), settings.batch_size):
            batch = order[start:start + settings.batch_size]
            inputs = augment_batch(images[batch], rotation=12, translate=0.08, scale=0.12, generator=generator)
            loss = loss_of(model(inputs), labels[batch], settings)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        if on_epoch:
            on_epoch(epoch + 1, total / len(labels), time.perf_counter() - started)
    return model.eval()


@torch.no_grad()
def outlier_scores(model: RejectNet, images: torch.Tensor, variant: str) -> torch.Tensor:
    """(N,) how much each normalized input looks like no digit, for either variant."""
    probabilities = torch.cat([model(images[i:i + 2048]).softmax(1) for i in range(0, len(images), 2048)])
    if variant == "class11":
        return probabilities[:, NOT_A_DIGIT]
    return 1 - probabilities.max(1).values
