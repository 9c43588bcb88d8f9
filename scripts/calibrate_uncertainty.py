"""Measure the uncertainty rule: the share of MNIST test digits it flags (keep it low) and the share
of generated non-digits it flags (dots, scribbles, filled shapes, letters), with the shipped models.

    python -m scripts.calibrate_uncertainty [--per-kind 100]

Test digits go through the same preprocessing as a drawing. The primary model is the best shipped
checkpoint (the Draw page's default); agreement is over every shipped iteration. Writes
checkpoints/uncertainty_calibration.json and prints the table for the README.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mnist_core.analysis.uncertainty import RULE, batch_features, flagged
from mnist_core.data import nondigits
from mnist_core.data.mnist import load_mnist, test_images_uint8
from mnist_core.data.preprocess import preprocess
from mnist_core.store.checkpoint import load_model
from mnist_core.store.records import write_json
from mnist_core.store.shipped import CHECKPOINT_DIR, list_checkpoints

ROOT = Path(__file__).resolve().parent.parent


def percentiles(values: np.ndarray) -> dict:
    return {f"p{q}": float(np.percentile(values, q)) for q in (0.5, 1, 5, 50, 95, 99, 99.5)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=100, help="non-digits of each kind")
    args = parser.parse_args()
    records = [r for r in list_checkpoints(CHECKPOINT_DIR)[0] if r.kind == "shipped"]
    models = {r.name: load_model(r.weights_path)[0] for r in records}
    primary = min(records, key=lambda r: (-r.summary.final_test_acc, r.name)).name  # as the Draw page
    images = test_images_uint8().numpy()
    labels = load_mnist().test.labels.numpy()
    prepared = [preprocess(image) for image in images]
    kept = [i for i, p in enumerate(prepared) if p is not None]
    digits = batch_features([prepared[i] for i in kept], models, primary)
    digit_flags = flagged(digits)
    correct = digits["prediction"] == labels[kept]
    report = {
        "rule": asdict(RULE),
        "primary_model": primary,
        "iterations": sorted(models),
        "test_digits": len(kept),
        "test_flagged": float(digit_flags["any"].mean()),
        "test_flagged_by_check": {k: float(v.mean()) for k, v in digit_flags.items()},
        "test_accuracy_unflagged": float(correct[~digit_flags["any"]].mean()),
        "test_accuracy_flagged": float(correct[digit_flags["any"]].mean()) if digit_flags["any"].any() else None,
        "test_percentiles": {k: percentiles(digits[k]) for k in ("ink_extent", "coverage", "confidence", "agreement")},
        "nondigits": {},
    }
    for kind in nondigits.KINDS:
        canvases = [nondigits.make(kind, seed) for seed in range(args.per_kind)]
        prepared_kind = [p for p in (preprocess(c) for c in canvases) if p is not None]
        features = batch_features(prepared_kind, models, primary)
        flags = flagged(features)
        empty = args.per_kind - len(prepared_kind)  # "no digit" at all counts as flagged
        report["nondigits"][kind] = {"count": args.per_kind,
                                     "flagged": float((flags["any"].sum() + empty) / args.per_kind),
                                     "by_check": {k: float(v.mean()) for k, v in flags.items()},
                                     "percentiles": {k: percentiles(features[k]) for k in
                                                     ("ink_extent", "coverage", "confidence", "agreement")}}
    total = sum(v["flagged"] * v["count"] for v in report["nondigits"].values())
    report["nondigits_flagged"] = total / sum(v["count"] for v in report["nondigits"].values())
    write_json(CHECKPOINT_DIR / "uncertainty_calibration.json", report)
    print(f"primary model {primary}; rule {asdict(RULE)}")
    print(f"MNIST test digits flagged: {100 * report['test_flagged']:.2f}% of {len(kept):,} "
          f"({', '.join(f'{k} {100 * v:.2f}%' for k, v in report['test_flagged_by_check'].items() if k != 'any')})")
    print(f"accuracy of the primary model on unflagged test digits {100 * report['test_accuracy_unflagged']:.2f}%, "
          f"on flagged ones {100 * (report['test_accuracy_flagged'] or 0):.1f}%")
    for kind, value in report["nondigits"].items():
        print(f"non-digits, {kind}: {100 * value['flagged']:.0f}% flagged of {value['count']}")
    print(f"non-digits overall: {100 * report['nondigits_flagged']:.1f}% flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
