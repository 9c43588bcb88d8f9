"""Three seeds for every shipped iteration (issue 19): each model with its own default recipe (a
write-up iteration with its write-up's), seed 1 being the shipped run (checkpoints/<model>.json,
not retrained) and seeds 2 and 3 trained now, into checkpoints/<model>_seeds.json (the keys of
scripts/frontier_seeds.py's files).

    python scripts/iteration_seeds.py [--models seed000 seed001_iter2 ...] [--seeds 2 3]
    python scripts/iteration_seeds.py --from-time-to-accuracy   # sprint_seeds.json from time_to_accuracy.json

Resumable: every finished seed is kept in runs/seeds/<model>_seed<k>.result.json (weights beside
it) and never trained again; stop it at any time and start it again. A model's seeds file is
written once all its seeds are there. Hours of CPU: run it in the background on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.data.mnist import load_mnist  # noqa: E402
from mnist_core.models import list_models, model_info  # noqa: E402
from mnist_core.perf.seeds import log_seed, seed_row, seeds_report, seeds_table  # noqa: E402
from mnist_core.store.records import read_record, write_json  # noqa: E402
from mnist_core.store.shipped import CHECKPOINT_DIR, publish  # noqa: E402
from mnist_core.training.callbacks import ProgressPrinter  # noqa: E402

SCRATCH = Path("runs") / "seeds"
CHEAPEST_FIRST = ["seed000", "seed001_iter2", "seed001_iter3", "seed003", "seed004", "seed002",
                  "seed001_iter4", "seed001_iter1"]


def target_of(model: str) -> float:
    """The write-up's claim when it has one (time to it is reported), else 99.4%."""
    claim = model_info(model).reported_accuracy
    return float(claim) if claim is not None else 99.4


def shipped_row(model: str, target: float) -> dict:
    record = read_record(CHECKPOINT_DIR / f"{model}.json")
    row = seed_row(record, record.summary.seed or 1, target, record.summary.wall_seconds)
    row["source"] = f"the shipped run (checkpoints/{model}.json), not retrained"
    return row


def trained_row(model: str, seed: int, target: float, data_loader, log) -> dict:
    done = SCRATCH / f"{model}_seed{seed}.result.json"
    if done.exists():
        log(f"{model} seed {seed}: kept from {done}")
        return json.loads(done.read_text())
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log(f"{model} seed {seed}: training ({model_info(model).recipe} recipe)")
    started = time.perf_counter()
    record = publish(model, SCRATCH, data_loader(), callbacks=[ProgressPrinter()], seed=seed,
                     file_stem=f"{model}_seed{seed}")
    row = seed_row(record, seed, target, time.perf_counter() - started)
    write_json(done, row)
    return row


def from_time_to_accuracy() -> Path:
    report = json.loads((CHECKPOINT_DIR / "time_to_accuracy.json").read_text())
    path = CHECKPOINT_DIR / f"{report['model']}_seeds.json"
    write_json(path, {**report, "source": "checkpoints/time_to_accuracy.json (scripts/time_to_accuracy.py)"})
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=CHEAPEST_FIRST, choices=list_models(), metavar="MODEL")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3], help="seeds to train beside the shipped one")
    parser.add_argument("--from-time-to-accuracy", action="store_true",
                        help="only write <model>_seeds.json from checkpoints/time_to_accuracy.json")
    parser.add_argument("--context", default="",
                        help="what else ran beside the training, for the seeds file's note (its wall times)")
    args = parser.parse_args()
    if args.from_time_to_accuracy:
        print(from_time_to_accuracy())
        return 0
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    cache = {}

    def data():
        if "mnist" not in cache:
            cache["mnist"] = load_mnist()
        return cache["mnist"]

    for model in args.models:
        target = target_of(model)
        rows = [shipped_row(model, target)]
        for seed in args.seeds:
            rows.append(trained_row(model, seed, target, data, log))
            log_seed(rows[-1], target, log)
        report = seeds_report(model, target, rows)
        report["note"] = ("seed 1 is the shipped run, trained earlier (its wall time is from that session, "
                          "maybe on another CPU); "
                          f"seeds {', '.join(map(str, args.seeds))} were trained by scripts/iteration_seeds.py "
                          f"(finished {time.strftime('%Y-%m-%d')}) on the machine below, whose load average is "
                          "from when this file was written" + (f"; {args.context}" if args.context else ""))
        write_json(CHECKPOINT_DIR / f"{model}_seeds.json", report)
        print(f"## {model}\n{seeds_table(report)}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
