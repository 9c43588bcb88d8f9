"""The trainer on tiny slices: event order, stop mid-epoch, NaN, determinism, early stop."""
import threading

import torch

from mnist_core.training.callbacks import Callback, Recorder, StopOnEvent
from mnist_core.training.loop import fit
from mnist_core.training.recipes import default_config


def tiny_config(**changes):
    base = dict(epochs=1, batch_size=128, limit=256, eval_limit=200, rotation=5.0)
    return default_config("writeup001_iter2", **{**base, **changes})


def test_two_batches_fire_events_in_order(tiny):
    recorder = Recorder()
    state = fit(tiny_config(), tiny, callbacks=[recorder])
    assert recorder.events == ["fit_start", "epoch_start", "batch_start", "batch_end",
                               "batch_start", "batch_end", "epoch_end", "fit_end"]
    assert state.status == "finished" and state.step == 2
    row = state.history[0]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc",
                "lr", "seconds", "images_per_s"):
        assert key in row and row[key] == row[key]  # present and not NaN
    assert row["partial"] is False and row["batches"] == 2


class SetAfter(Callback):
    def __init__(self, event, after):
        self.event, self.after = event, after

    def on_batch_end(self, state):
        if state.step == self.after:
            self.event.set()


def test_stop_mid_epoch_keeps_a_consistent_partial_history(tiny):
    event = threading.Event()
    state = fit(tiny_config(epochs=3, batch_size=32), tiny,
                callbacks=[SetAfter(event, 3), StopOnEvent(event)])
    assert state.status == "stopped" and state.step == 3
    assert len(state.history) == 1
    row = state.history[0]
    assert row["partial"] is True and row["batches"] == 3
    assert 0 <= row["test_acc"] <= 100 and row["val_acc"] == row["val_acc"]


class PoisonWeights(Callback):
    def on_batch_end(self, state):
        if state.step == 1:
            with torch.no_grad():
                next(state.model.parameters()).fill_(float("nan"))


def test_nan_loss_stops_the_run_as_failed(tiny):
    state = fit(tiny_config(epochs=2, batch_size=32), tiny, callbacks=[PoisonWeights()])
    assert state.status == "failed"
    assert "nan" in state.reason and "batch 2" in state.reason
    assert state.history == []


def test_same_seed_gives_identical_history(tiny):
    def run(seed):
        state = fit(tiny_config(epochs=2, seed=seed), tiny)
        return [{k: v for k, v in row.items() if k not in ("seconds", "images_per_s")}
                for row in state.history], state.model.state_dict()
    first, weights = run(7)
    second, weights_again = run(7)
    third, _ = run(8)
    assert first == second
    assert all(torch.equal(weights[k], weights_again[k]) for k in weights)
    assert first != third


def test_early_stop_and_best_epoch_use_validation(tiny):
    state = fit(tiny_config(epochs=5, target_accuracy=1.0), tiny)
    assert len(state.history) == 1 and state.status == "finished"
    assert "validation accuracy reached" in state.reason
    assert state.best_epoch == 1 and state.best_state is not None


def test_schedulers_change_the_learning_rate(tiny):
    step = fit(tiny_config(epochs=2, scheduler="step", step_size=1, gamma=0.5, lr=0.02), tiny)
    assert [row["lr"] for row in step.history] == [0.02, 0.01]
    cycle = fit(tiny_config(epochs=2, batch_size=32, scheduler="onecycle", lr=0.05), tiny)
    assert cycle.history[0]["lr"] != cycle.history[1]["lr"]


def test_onecycle_on_too_few_batches_is_a_clear_error(tiny):
    import pytest

    from mnist_core.training.config import ConfigError
    with pytest.raises(ConfigError, match="pct_start"):
        fit(tiny_config(epochs=1, scheduler="onecycle"), tiny)  # 2 batches in all


def test_bf16_autocast_trains_and_differs_from_fp32_only_slightly(tiny):
    fp32 = fit(tiny_config(seed=3), tiny)
    bf16 = fit(tiny_config(seed=3, precision="bf16"), tiny)
    assert bf16.status == "finished" and bf16.config.precision == "bf16"
    first32, first16 = fp32.history[0], bf16.history[0]
    assert torch.isfinite(torch.tensor(first16["train_loss"]))
    assert first16["train_loss"] != first32["train_loss"]  # the forward pass really ran in bf16
    assert abs(first16["train_loss"] - first32["train_loss"]) < 0.05 * first32["train_loss"]
    assert all(p.dtype == torch.float32 for p in bf16.model.parameters())  # weights stay fp32
