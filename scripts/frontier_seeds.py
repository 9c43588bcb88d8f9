"""Train the frontier recipe over several seeds: final / best test accuracy per seed and the wall
time until the test accuracy first reaches a target at an epoch end.

    python scripts/frontier_seeds.py [--seeds 1 2 3] [--target 99.4] [--model frontier]
    python scripts/frontier_seeds.py --table    # print the last results again

Seed 1's run is shipped as checkpoints/<model>.pt/.json; every seed's summary and history go to
checkpoints/<model>_seeds.json (read by the README's Performance section).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.callbacks import ProgressPrinter  # noqa: E402
from mnist_core.data import load_mnist  # noqa: E402
from mnist_core.pretrained import CHECKPOINT_DIR, publish  # noqa: E402
from mnist_core.records import write_json  # noqa: E402


def time_to_target(history: list[dict], target: float) -> tuple[int | None, float | None]:
    """(epoch, cumulative seconds incl. per-epoch evaluation) when test accuracy first >= target."""
    elapsed = 0.0
    for row in history:
        elapsed += row["seconds"]
        if row["test_acc"] >= target:
            return row["epoch"], elapsed
    return None, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="frontier", help="registered model with its default recipe")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds to train")
    parser.add_argument("--target", type=float, default=99.4, help="test accuracy target (percent)")
    parser.add_argument("--table", action="store_true",
                        help="only print the table of the last results (checkpoints/<model>_seeds.json)")
    args = parser.parse_args()
    if args.table:
        print(seeds_table(json.loads((CHECKPOINT_DIR / f"{args.model}_seeds.json").read_text())))
        return 0
    data = load_mnist()
    results = []
    for seed in args.seeds:
        stem = args.model if seed == args.seeds[0] else f"{args.model}_seed{seed}"
        out = CHECKPOINT_DIR if seed == args.seeds[0] else Path("runs") / "frontier_seeds"
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        record = publish(args.model, out, data, callbacks=[ProgressPrinter()], seed=seed, file_stem=stem)
        summary = record.summary
        epoch, seconds = time_to_target(record.history, args.target)
        results.append({"seed": seed, "final_test_acc": summary.final_test_acc,
                        "best_test_acc": summary.best_test_acc, "best_test_epoch": summary.best_test_epoch,
                        "epochs": summary.epochs, "wall_seconds": time.perf_counter() - started,
                        "target_epoch": epoch, "seconds_to_target": seconds, "history": record.history})
        print(f"seed {seed}: final {summary.final_test_acc:.2f}%  best {summary.best_test_acc:.2f}%  "
              f"{args.target}% at epoch {epoch} after {seconds and round(seconds)} s", file=sys.stderr)
    finals = [r["final_test_acc"] for r in results]
    reached = [r["seconds_to_target"] for r in results if r["seconds_to_target"] is not None]
    report = {"model": args.model, "target": args.target, "seeds": results,
              "mean_final_test_acc": statistics.mean(finals),
              "median_seconds_to_target": statistics.median(reached) if reached else None,
              "seeds_reaching_target": len(reached)}
    write_json(CHECKPOINT_DIR / f"{args.model}_seeds.json", report)
    print(seeds_table(report))
    return 0


def seeds_table(report: dict) -> str:
    lines = [f"| seed | final test | best test (epoch) | epochs | wall time | time to {report['target']}% |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in report["seeds"]:
        to_target = f"{r['seconds_to_target']:.0f} s (epoch {r['target_epoch']})" if r["seconds_to_target"] else "not reached"
        lines.append(f"| {r['seed']} | {r['final_test_acc']:.2f}% | {r['best_test_acc']:.2f}% ({r['best_test_epoch']}) "
                     f"| {r['epochs']} | {r['wall_seconds']:.0f} s | {to_target} |")
    reached = report["seeds_reaching_target"]
    median = report["median_seconds_to_target"]
    to_target = (f"{reached} of {len(report['seeds'])} seeds" +
                 (f", median {median:.0f} s" if median is not None else ""))
    mean_wall = statistics.mean(r["wall_seconds"] for r in report["seeds"])
    lines.append(f"| **mean** | **{report['mean_final_test_acc']:.2f}%** | | | {mean_wall:.0f} s | {to_target} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
