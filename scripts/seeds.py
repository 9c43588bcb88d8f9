"""A registered model's recipe over several seeds: checkpoints/<model>_seeds.json with each seed's
final / best test accuracy and the wall time until the test accuracy first reaches a target at an
epoch end. The one reading of the test set for a candidate chosen on the validation split.

    python -m scripts.seeds frontier --seeds 1 2 3 --target 99.4         # ships seed 1's run
    python -m scripts.seeds writeup002 writeup004 --keep-shipped --seeds 2 3  # seed 1 = the shipped run
    python -m scripts.seeds sprint --goal-seconds 60                      # time to 99.4%, with its goal
    python -m scripts.seeds frontier --table                              # print the last results

Resumable: each trained seed is kept in runs/seeds/ and never trained again; stop and start it at
any time. Hours of CPU for the larger models: run it in the background on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from mnist_core.data.mnist import load_mnist
from mnist_core.models import list_models
from mnist_core.perf.seeds import seed_target, seeds_table, train_seeds
from mnist_core.store.records import write_json
from mnist_core.store.shipped import CHECKPOINT_DIR
from mnist_core.training.callbacks import ProgressPrinter

SCRATCH = Path("runs") / "seeds"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", choices=list_models(), metavar="MODEL", help="registered models")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds to train (default 1 2 3)")
    parser.add_argument("--target", type=float, help="test accuracy to time (default: the write-up's claim, or 99.4)")
    parser.add_argument("--keep-shipped", action="store_true",
                        help="the shipped checkpoint is seed 1 (not retrained); train only --seeds")
    parser.add_argument("--goal-seconds", type=float, help="record whether every seed reached the target within this")
    parser.add_argument("--context", default="", help="what else ran beside the training, for the file's note")
    parser.add_argument("--table", action="store_true", help="only print the last results")
    args = parser.parse_args()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    cache = {}

    def data():
        if "mnist" not in cache:
            started = time.perf_counter()
            cache["mnist"] = load_mnist()
            cache["seconds"] = time.perf_counter() - started
        return cache["mnist"]

    for model in args.models:
        path = CHECKPOINT_DIR / f"{model}_seeds.json"
        if args.table:
            print(f"## {model}\n{seeds_table(json.loads(path.read_text()))}\n")
            continue
        load_before = os.getloadavg()[0]  # 1-minute load average: what else was running
        target = args.target if args.target is not None else seed_target(model)
        report = train_seeds(model, args.seeds, target, data, CHECKPOINT_DIR, SCRATCH, keep_shipped=args.keep_shipped,
                             callbacks=[ProgressPrinter()], log=log)
        report["machine"].update(load_average_before=load_before, data_load_seconds=cache.get("seconds"))
        if args.goal_seconds is not None:
            report["goal_seconds"] = args.goal_seconds
            report["all_seeds_within_goal"] = all(row["seconds_to_target"] is not None
                                                  and row["seconds_to_target"] <= args.goal_seconds
                                                  for row in report["seeds"])
        report["note"] = (f"trained by scripts/seeds.py (finished {time.strftime('%Y-%m-%d')}) on the machine below"
                          + (f"; {args.context}" if args.context else ""))
        write_json(path, report)
        print(f"## {model}\n{seeds_table(report)}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
