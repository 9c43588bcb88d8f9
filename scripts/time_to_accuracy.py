"""Time to 99.4%: train the `sprint` model with its registered recipe for 3 seeds and write
checkpoints/time_to_accuracy.json: per seed `seed`, `seconds_to_target` (wall time from the start
of training, each epoch's evaluation included, until the test accuracy at an epoch end first
reaches the target), `target_epoch`, `final_test_acc`, plus the machine's CPU count and torch
version. Seed 1's run is shipped as checkpoints/sprint.pt/.json.

    python scripts/time_to_accuracy.py [--model sprint] [--seeds 1 2 3] [--target 99.4]
    python scripts/time_to_accuracy.py --table

Run it on an otherwise idle machine: the figures are wall times.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.data.mnist import load_mnist  # noqa: E402
from mnist_core.perf.seeds import seeds_table, train_seeds  # noqa: E402
from mnist_core.store.records import write_json  # noqa: E402
from mnist_core.store.shipped import CHECKPOINT_DIR  # noqa: E402

OUT = CHECKPOINT_DIR / "time_to_accuracy.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sprint", help="registered model with its default recipe")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--target", type=float, default=99.4, help="test accuracy target (percent)")
    parser.add_argument("--table", action="store_true", help="only print the last results")
    args = parser.parse_args()
    if args.table:
        print(seeds_table(json.loads(OUT.read_text())))
        return 0
    load_before = os.getloadavg()[0]  # 1-minute load average: what else was running
    started = time.perf_counter()
    data = load_mnist()
    load_seconds = time.perf_counter() - started
    report = train_seeds(args.model, args.seeds, args.target, data, CHECKPOINT_DIR,
                         Path("runs") / "seeds", log=lambda line: print(line, file=sys.stderr))
    report["machine"].update({"load_average_before": load_before, "data_load_seconds": load_seconds})
    report["goal_seconds"] = 60.0
    report["all_seeds_within_goal"] = all(r["seconds_to_target"] is not None and r["seconds_to_target"] <= 60.0
                                          for r in report["seeds"])
    write_json(OUT, report)
    print(seeds_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
