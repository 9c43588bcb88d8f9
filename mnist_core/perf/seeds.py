"""A registered model's recipe trained over several seeds: the figures the Performance section
reports (final / best test accuracy per seed, and the wall time until the test accuracy first
reaches a target at an epoch end).

The first seed's model is shipped (checkpoints/<model>.pt/.json), or the shipped one stands for
seed 1; the other seeds' weights go to a scratch folder. `python -m scripts.seeds` drives it.
Choices are never made here: this is the one test-set reading of a candidate that was chosen on
the validation split.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from ..lab.promotion import publish
from ..training.machine import machine_info, resolve
from ..training.recipes import default_config
from .epoch_timing import first_epoch_reaching


def time_to_target(history: list[dict], target: float) -> tuple[int | None, float | None]:
    """(epoch, cumulative wall seconds incl. each epoch's evaluation) when the test accuracy at an
    epoch end first reaches `target`; (None, None) when it never does."""
    epoch = first_epoch_reaching(history, target)
    if epoch is None:
        return None, None
    return epoch, sum(row["seconds"] for row in history[:epoch])


def machine(precision: str | None = None) -> dict:
    """What the timings were taken on (CPU model and capability, cores, threads, torch, load)."""
    return machine_info(precision)


def seed_row(record, seed: int, target: float, wall_seconds: float) -> dict:
    """One seed's line of a seeds report, from its trained Record."""
    summary = record.summary
    epoch, seconds = time_to_target(record.history, target)
    return {"seed": seed, "final_test_acc": summary.final_test_acc, "final_val_acc": summary.final_val_acc,
            "best_test_acc": summary.best_test_acc, "best_test_epoch": summary.best_test_epoch,
            "epochs": summary.epochs, "wall_seconds": wall_seconds,
            "train_seconds": sum(row["seconds"] for row in record.history),
            "target_epoch": epoch, "seconds_to_target": seconds, "history": record.history}


def seeds_report(model: str, target: float, results: list[dict]) -> dict:
    """The JSON-ready report over seeds (the `<model>_seeds.json` keys), with this machine."""
    finals = [r["final_test_acc"] for r in results]
    reached = [r["seconds_to_target"] for r in results if r["seconds_to_target"] is not None]
    return {"model": model, "target": target, "seeds": results,
            "mean_final_test_acc": statistics.mean(finals),
            "sd_final_test_acc": statistics.stdev(finals) if len(finals) > 1 else 0.0,
            "median_seconds_to_target": statistics.median(reached) if reached else None,
            "seeds_reaching_target": len(reached),
            "machine": machine(resolve(default_config(model, device="cpu")).precision)}


def log_seed(row: dict, target: float, log=print) -> None:
    seconds, epoch = row["seconds_to_target"], row["target_epoch"]
    log(f"seed {row['seed']}: final test {row['final_test_acc']:.2f}%, best {row['best_test_acc']:.2f}%, "
        f"{target}% " + (f"at epoch {epoch} after {seconds:.1f} s" if seconds is not None else "not reached"))


def seed_target(model: str) -> float:
    """The target a seed table times: the write-up's claim when it has one, else 99.4%."""
    from ..models import model_info

    claim = model_info(model).reported_accuracy
    return float(claim) if claim is not None else 99.4


def shipped_row(model: str, target: float, checkpoints: Path) -> dict:
    """Seed 1's row from the shipped checkpoint's record (not retrained)."""
    from ..store.records import read_record

    record = read_record(Path(checkpoints) / f"{model}.json")
    row = seed_row(record, record.summary.seed or 1, target, record.summary.wall_seconds)
    row["source"] = f"the shipped run (checkpoints/{model}.json), not retrained"
    return row


def train_seeds(model: str, seeds: list[int], target: float, data_loader, ship_to: Path, scratch: Path,
                keep_shipped: bool = False, callbacks=(), log=print) -> dict:
    """Train `model` with its registered recipe once per seed and return the seeds report. The
    first seed's run is shipped to `ship_to` (checkpoints/), or, with `keep_shipped`, the shipped
    checkpoint stands for seed 1 and is not retrained. Resumable: each trained seed's row is kept
    in `scratch`/<model>_seed<k>.result.json (its weights beside it) and never trained again.
    `data_loader()` gives MNIST, called only when a seed has to train."""
    from ..store.records import write_json

    scratch.mkdir(parents=True, exist_ok=True)
    results = [shipped_row(model, target, ship_to)] if keep_shipped else []
    for position, seed in enumerate(seeds):
        ship = position == 0 and not keep_shipped
        done = scratch / f"{model}_seed{seed}.result.json"
        if done.exists() and not ship:
            log(f"{model} seed {seed}: kept from {done}")
            results.append(json.loads(done.read_text()))
            continue
        started = time.perf_counter()
        record = publish(model, ship_to if ship else scratch, data_loader(), callbacks=callbacks, seed=seed,
                         file_stem=model if ship else f"{model}_seed{seed}")
        results.append(seed_row(record, seed, target, time.perf_counter() - started))
        write_json(done, results[-1])
        log_seed(results[-1], target, log)
    return seeds_report(model, target, results)


def seeds_table(report: dict) -> str:
    """The report as the README's markdown table."""
    lines = [
        "| seed | final test | final val | best test (epoch) | epochs | training wall time "
        f"| time to {report['target']}% |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["seeds"]:
        to_target = (f"{r['seconds_to_target']:.1f} s (epoch {r['target_epoch']})"
                     if r["seconds_to_target"] is not None else "not reached")
        val = f"{r['final_val_acc']:.2f}%" if r.get("final_val_acc") is not None else "–"
        train = r.get("train_seconds", r["wall_seconds"])
        lines.append(f"| {r['seed']} | {r['final_test_acc']:.2f}% | {val} | {r['best_test_acc']:.2f}% "
                     f"({r['best_test_epoch']}) | {r['epochs']} | {train:.0f} s | {to_target} |")
    reached, median = report["seeds_reaching_target"], report["median_seconds_to_target"]
    to_target = f"{reached} of {len(report['seeds'])} seeds" + (
        f", median {median:.1f} s" if median is not None else ""
    )
    mean_train = statistics.mean(r.get("train_seconds", r["wall_seconds"]) for r in report["seeds"])
    lines.append(f"| **mean** | **{report['mean_final_test_acc']:.2f}%** | | | | {mean_train:.0f} s | {to_target} |")
    return "\n".join(lines)
