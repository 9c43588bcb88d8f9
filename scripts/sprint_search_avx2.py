"""Validation search for `sprint` on the AVX2 fp32 path (issue 21): does a cheaper first stage
(a smaller crop, fewer full-resolution convs, fewer epochs) reach the validation accuracy of
today's `sprint` in less time? Seed 1, the sprint recipe, the test split never read.

    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python scripts/sprint_search_avx2.py [INDEX ...]

Prints the machine, then one JSON line per candidate (final validation accuracy, per-epoch rows,
wall time). The results are in docs/performance.md (Time to 99.4%).
"""
from __future__ import annotations

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

CANDIDATES = [  # (before the pool, after it, crop, epochs); the first is today's sprint
    ((16, 16, 16), (32, 32, 32), 24, 6),
    ((16, 16, 16), (32, 32, 32), 22, 6),
    ((16, 16), (32, 32, 32), 24, 7),
    ((16, 16, 16), (32, 32, 32), 22, 5),
]


def main() -> int:
    chosen = [int(a) for a in sys.argv[1:]] or range(len(CANDIDATES))
    data = load_mnist()
    print(json.dumps(machine_info()), flush=True)
    for index in chosen:
        before, after, crop, epochs = CANDIDATES[index]
        config = default_config("sprint", device="cpu", epochs=epochs, evaluate_test=False, seed=1)
        torch.manual_seed(1)
        model = PoolOnceNet(before, after, crop=crop)
        started = time.perf_counter()
        state = fit(config, data, model=model)
        rows = [(row["epoch"], round(row["val_acc"], 2), round(row["seconds"], 1)) for row in state.history]
        print(json.dumps({"candidate": f"{'-'.join(map(str, before))}|{'-'.join(map(str, after))} crop {crop}",
                          "params": sum(p.numel() for p in model.parameters()), "epochs": epochs,
                          "precision": state.config.precision, "channels_last": state.config.channels_last,
                          "final_val": rows[-1][1], "total_s": round(time.perf_counter() - started, 1),
                          "rows": rows}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
