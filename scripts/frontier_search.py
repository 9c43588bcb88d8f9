"""Validation search for `frontier` (< 4,000 parameters): does the same net on larger maps (its
three convolutions before the pool padded by 1, so the pool sees 28x28 instead of 22x22, same
3,962 parameters, ~1.6x the multiply-adds), or without weight decay (it underfits), beat today's
one? The frontier recipe, 15 epochs, seeds 1 and 2 per candidate (single seeds differ by ~0.1
point), the test split never read.

    python scripts/frontier_search.py [INDEX ...]

Prints the machine, then one JSON line per candidate and seed (final validation accuracy,
per-epoch rows, wall time). The results are in docs/performance.md (The frontier, smaller).
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.data.mnist import load_mnist  # noqa: E402
from mnist_core.models.layers import PoolOnceNet  # noqa: E402
from mnist_core.training.loop import fit  # noqa: E402
from mnist_core.training.machine import machine_info  # noqa: E402
from mnist_core.training.recipes import default_config  # noqa: E402

CANDIDATES = [  # (name, before the pool, after it, padded before, recipe changes); the first is today's frontier
    ("8-8-8 | 10-10-10 (frontier)", (8, 8, 8), (10, 10, 10), False, {}),
    ("8-8-8 padded | 10-10-10", (8, 8, 8), (10, 10, 10), True, {}),
    ("8-8-8 | 10-10-10, weight decay 0", (8, 8, 8), (10, 10, 10), False, {"weight_decay": 0.0}),
]
SEEDS = (1, 2)


def main() -> int:
    chosen = [int(a) for a in sys.argv[1:]] or range(len(CANDIDATES))
    data = load_mnist()
    data = dataclasses.replace(data, test=data.validation)  # the test images out of memory: never read
    print(json.dumps(machine_info()), flush=True)
    for index in chosen:
        name, before, after, padded, changes = CANDIDATES[index]
        for seed in SEEDS:
            config = default_config("frontier", device="cpu", evaluate_test=False, seed=seed, **changes)
            torch.manual_seed(seed)  # the initial weights too: fit() seeds only what comes after it
            model = PoolOnceNet(before, after, pad_before=padded)
            started = time.perf_counter()
            state = fit(config, data, model=model)
            rows = [(row["epoch"], round(row["val_acc"], 2), round(row["seconds"], 1)) for row in state.history]
            print(json.dumps({"candidate": name, "seed": seed, "params": sum(p.numel() for p in model.parameters()),
                              "final_val": rows[-1][1], "train_acc": round(state.history[-1]["train_acc"], 2),
                              "total_s": round(time.perf_counter() - started, 1), "rows": rows}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
