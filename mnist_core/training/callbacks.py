"""Training events. The loop in training/loop.py fires them; these classes react (print, stop, save).

Hooks mirror each other: on_fit_start/end, on_epoch_start/end, on_batch_start/end. Each gets the
`TrainState` (read it; call `state.request_stop(reason)` to end the run between batches).
"""
from __future__ import annotations

import sys
import threading
from typing import TextIO


class Callback:
    def on_fit_start(self, state) -> None: ...
    def on_epoch_start(self, state) -> None: ...
    def on_batch_start(self, state) -> None: ...
    def on_batch_end(self, state) -> None: ...
    def on_epoch_end(self, state) -> None: ...
    def on_fit_end(self, state) -> None: ...


class StopOnEvent(Callback):
    """Stops the run when a threading.Event is set (the app's Stop button, Ctrl-C handlers)."""

    def __init__(self, event: threading.Event, reason: str = "stop requested") -> None:
        self.event, self.reason = event, reason

    def on_batch_end(self, state) -> None:
        if self.event.is_set():
            state.request_stop(self.reason, status="stopped")


class EarlyStopAtAccuracy(Callback):
    """Write-up 004's rule: stop once *validation* accuracy reaches the target (percent)."""

    def __init__(self, target: float) -> None:
        self.target = target

    def on_epoch_end(self, state) -> None:
        if state.history and state.history[-1]["val_acc"] >= self.target:
            state.request_stop(f"validation accuracy reached {self.target}%", status="finished")


class ProgressPrinter(Callback):
    """One line per epoch (the CLI's view)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream

    def on_fit_start(self, state) -> None:
        config = state.config
        print(f"training {config.model} with recipe {config.recipe}: {config.epochs} epochs, "
              f"{state.train_size} images, batch {config.batch_size}, device {state.device}",
              file=self.stream, flush=True)
        reason = config.extra.get("precision_reason")
        if reason:
            print(f"precision {config.precision}{' + channels_last' if config.channels_last else ''} ({reason})",
                  file=self.stream, flush=True)

    def on_epoch_end(self, state) -> None:
        row = state.history[-1]
        print(f"epoch {row['epoch']:>3}/{state.config.epochs}  train loss {row['train_loss']:.4f} "
              f"acc {row['train_acc']:.2f}%  val {row['val_acc']:.2f}%  test {row['test_acc']:.2f}%  "
              f"lr {row['lr']:.2e}  {row['seconds']:.1f}s  {row['images_per_s']:.0f} img/s",
              file=self.stream, flush=True)

    def on_fit_end(self, state) -> None:
        print(f"{state.status}: {state.reason}", file=self.stream, flush=True)


class Recorder(Callback):
    """Keeps every event name in order (tests, debugging)."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def on_fit_start(self, state) -> None: self.events.append("fit_start")
    def on_epoch_start(self, state) -> None: self.events.append("epoch_start")
    def on_batch_start(self, state) -> None: self.events.append("batch_start")
    def on_batch_end(self, state) -> None: self.events.append("batch_end")
    def on_epoch_end(self, state) -> None: self.events.append("epoch_end")
    def on_fit_end(self, state) -> None: self.events.append("fit_end")
