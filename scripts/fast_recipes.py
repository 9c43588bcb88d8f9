"""Every write-up, fast: each write-up architecture's `<model>_fast` recipe against the write-up's
own recipe, in wall time to the write-up's claimed accuracy on this machine.

    python -m scripts.fast_recipes --train [--models writeup002 ...]  # train each fast recipe (seed 1)
    python -m scripts.fast_recipes --time                           # time both recipes side by side,
                                                                    # write checkpoints/fast_recipes.json
    python -m scripts.fast_recipes --table                          # print the last results

Time to the claim = (the first epoch at whose end the claim's measurement reaches the claim) x
(wall seconds per epoch, measured side by side in one run: training batches alternately, plus
the per-epoch evaluation). The write-up recipe's epochs come from its shipped run
(checkpoints/<model>.json); the fast recipe's from --train. Run --time on an idle machine.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mnist_core.data.mnist import load_mnist
from mnist_core.lab.promotion import train_set_accuracy
from mnist_core.models import model_info
from mnist_core.perf.epoch_timing import epoch_seconds, first_epoch_reaching
from mnist_core.perf.seeds import machine
from mnist_core.store.records import read_record, write_json
from mnist_core.store.shipped import CHECKPOINT_DIR
from mnist_core.training.callbacks import ProgressPrinter
from mnist_core.training.loop import fit
from mnist_core.training.recipes import FAST_RECIPES, default_config

RUNS = Path("runs") / "fast_recipes"
OUT = CHECKPOINT_DIR / "fast_recipes.json"
GOAL = 5.0


def epochs_to_claim(model: str, history: list[dict], train_set_acc: float | None) -> int | None:
    """The first epoch whose figure (as the reproduction table reads it) reaches the claim."""
    info = model_info(model)
    if info.reported_measure == "train_set":  # measured once, on the final model
        return len(history) if train_set_acc is not None and train_set_acc >= info.reported_accuracy else None
    return first_epoch_reaching(history, info.reported_accuracy)


def train(models: list[str]) -> None:
    data = load_mnist()
    RUNS.mkdir(parents=True, exist_ok=True)
    for model in models:
        config = default_config(model, "fast")
        print(f"{model}: {config.recipe}, {config.epochs} epochs", file=sys.stderr)
        state = fit(config, data, callbacks=[ProgressPrinter()])
        if state.status != "finished":
            raise SystemExit(f"{model}: {state.status} ({state.reason})")
        write_json(RUNS / f"{model}.json", {
            "model": model, "recipe": config.recipe, "config": config.to_dict(), "history": state.history,
            "final_test_acc": state.history[-1]["test_acc"],
            "train_set_acc": train_set_accuracy(state.model, data)})


def time_all(batches: int) -> dict:
    data = load_mnist()
    rows = {}
    for config in FAST_RECIPES:
        model = config.model
        info = model_info(model)
        run_path = RUNS / f"{model}.json"
        if not run_path.exists():
            raise SystemExit(f"{model}: no fast run in {run_path}; run --train first")
        fast_run = json.loads(run_path.read_text())
        shipped = read_record(CHECKPOINT_DIR / f"{model}.json")
        timing = epoch_seconds({"writeup": default_config(model), "fast": config}, data, batches=batches)
        writeup_epochs = epochs_to_claim(model, shipped.history, shipped.summary.final_train_set_acc)
        fast_epochs = epochs_to_claim(model, fast_run["history"], fast_run["train_set_acc"])
        writeup_seconds = writeup_epochs * timing["writeup"]["epoch_seconds"] if writeup_epochs else None
        fast_seconds = fast_epochs * timing["fast"]["epoch_seconds"] if fast_epochs else None
        rows[model] = {
            "claim": info.reported_accuracy, "measure": info.reported_measure,
            "writeup": {"recipe": shipped.config.get("recipe"), "epochs_run": len(shipped.history),
                        "epochs_to_claim": writeup_epochs, "seconds_to_claim": writeup_seconds,
                        "final_test_acc": shipped.summary.final_test_acc, **timing["writeup"]},
            "fast": {"recipe": config.recipe, "epochs_run": len(fast_run["history"]),
                     "epochs_to_claim": fast_epochs, "seconds_to_claim": fast_seconds,
                     "final_test_acc": fast_run["final_test_acc"], "train_set_acc": fast_run["train_set_acc"],
                     "test_acc_by_epoch": [row["test_acc"] for row in fast_run["history"]], **timing["fast"]},
            "ratio": writeup_seconds / fast_seconds if writeup_seconds and fast_seconds else None}
        print(f"{model}: {rows[model]['ratio']}", file=sys.stderr)
    return {"goal_ratio": GOAL, "timed_batches": batches, "models": rows, "machine": machine()}


def table(report: dict) -> str:
    lines = [
        "| model | claim (measure) | write-up recipe: s/epoch × epochs to claim | = time "
        "| fast recipe: s/epoch × epochs to claim | = time | fast final test | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, row in report["models"].items():
        w, f = row["writeup"], row["fast"]

        def time_text(side):
            if side["epochs_to_claim"] is None:
                return f"{side['epoch_seconds']:.1f} s × never in {side['epochs_run']}", "–"
            return f"{side['epoch_seconds']:.1f} s × {side['epochs_to_claim']}", f"{side['seconds_to_claim']:.0f} s"

        w_each, w_total = time_text(w)
        f_each, f_total = time_text(f)
        if row["ratio"] is not None:
            ratio = (
                f"**{row['ratio']:.1f}×**" if row["ratio"] >= report["goal_ratio"] else f"{row['ratio']:.1f}× (missed)"
            )
        elif f["epochs_to_claim"] is not None:
            ratio = "write-up recipe never reached it"
        else:
            ratio = "missed: neither reached it" if w["epochs_to_claim"] is None else "missed: fast never reached it"
        measure = {"final_test": "test", "best_test": "test, best epoch", "train_set": "train set"}[row["measure"]]
        lines.append(f"| `{model}` | {row['claim']:.2f}% ({measure}) | {w_each} | {w_total} | {f_each} | {f_total} "
                     f"| {f['final_test_acc']:.2f}% | {ratio} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="train each fast recipe (seed 1)")
    parser.add_argument("--models", nargs="+", default=[c.model for c in FAST_RECIPES])
    parser.add_argument("--time", action="store_true", help="time both recipes side by side, write the JSON")
    parser.add_argument("--batches", type=int, default=20, help="timed batches per recipe and model")
    parser.add_argument("--table", action="store_true", help="print the last results")
    args = parser.parse_args()
    if args.train:
        train(args.models)
    if args.time:
        report = time_all(args.batches)
        write_json(OUT, report)
        print(table(report))
    if args.table:
        print(table(json.loads(OUT.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
