"""The shipped checkpoints: one per registered model, matching the registry and their own records."""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from mnist_core.analysis.evaluate import evaluate
from mnist_core.models import count_parameters, list_models, model_info
from mnist_core.reports.studies import seeds_file
from mnist_core.reports.tables import END, START, reproduction_table
from mnist_core.store.checkpoint import load_model
from mnist_core.store.records import read_record
from mnist_core.store.shipped import CHECKPOINT_DIR, list_checkpoints

README = CHECKPOINT_DIR.parent / "README.md"


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_ships_weights_and_history(name):
    assert (CHECKPOINT_DIR / f"{name}.pt").is_file(), f"run: python -m mnist_core pretrain --models {name}"
    record = read_record(CHECKPOINT_DIR / f"{name}.json")
    assert record.kind == "shipped" and record.model == name and record.params == model_info(name).params
    assert record.weights_path == str(CHECKPOINT_DIR / f"{name}.pt") and record.size_bytes > 0
    assert record.history and record.summary.epochs >= 1 and record.status == "finished"
    assert record.versions["torch"] and record.created_at
    for row in record.history:
        assert {"train_loss", "train_acc", "val_acc", "test_loss", "test_acc", "lr", "seconds"} <= set(row)


def test_recorded_accuracy_matches_a_fresh_evaluation(mnist):
    def fresh(name):
        model, checkpoint = load_model(CHECKPOINT_DIR / f"{name}.pt")
        return model, checkpoint, 100 * evaluate(model, mnist.test).accuracy

    # Two models at a time with one torch thread each: as fast as two threads on one model on an idle
    # machine, and far faster on a busy one (two threads wait on each other when a core is taken).
    # Largest first, so that both threads finish together.
    names = sorted(list_models(), key=lambda name: model_info(name).params or 0, reverse=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(2) as pool:
            evaluated = dict(zip(names, pool.map(fresh, names), strict=True))
    finally:
        torch.set_num_threads(threads)
    for name in list_models():
        model, checkpoint, measured = evaluated[name]
        assert checkpoint.model_name == name
        assert count_parameters(model) == model_info(name).params or model_info(name).params is None
        recorded = read_record(CHECKPOINT_DIR / f"{name}.json").summary.final_test_acc
        assert abs(measured - recorded) <= 0.05, (name, measured, recorded)


def test_checkpoints_stay_small():
    total = sum(path.stat().st_size for path in Path(CHECKPOINT_DIR).iterdir())
    assert total < 5 * 1024 * 1024


def test_readme_table_is_generated_from_the_records():
    records, problems = list_checkpoints(CHECKPOINT_DIR)
    assert not problems
    text = README.read_text()
    block = text[text.index(START) + len(START):text.index(END)].strip()
    assert block == reproduction_table(records), "run: python -m mnist_core report --write-readme"


def test_every_shipped_model_has_three_seeds_and_seed_one_is_the_shipped_run():
    records, _ = list_checkpoints(CHECKPOINT_DIR)
    assert {record.model for record in records} == set(list_models())
    for record in records:
        study = seeds_file(record)
        assert study is not None, f"{record.name}: run python -m scripts.seeds {record.name}"
        seeds = [row["seed"] for row in study["seeds"]]
        assert len(set(seeds)) == len(seeds) >= 3, (record.name, seeds)
        first = next((row for row in study["seeds"] if row["seed"] == (record.summary.seed or 1)), None)
        assert first is not None, f"{record.name}: its seeds file lacks the shipped run's seed"
        assert abs(first["final_test_acc"] - record.summary.final_test_acc) < 1e-6, record.name
