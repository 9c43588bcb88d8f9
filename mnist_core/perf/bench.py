"""Speed benchmark: the write-ups' torchvision pipeline against mnist_core's own trainer.

Both paths train the same model (`writeup002`, batch 128, rotation up to 7 degrees, AdamW with the
writeup002 recipe's lr 1e-3 and weight decay, label smoothing 0.1) for the same number of batches, in
one process, with the same thread count (2, unless `threads` is given or OMP_NUM_THREADS /
MKL_NUM_THREADS is set), each after a few warm-up batches that are not timed:

* baseline: `torchvision.datasets.MNIST` with `Compose([RandomRotation(7), ToTensor(),
  Normalize((0.1307,), (0.3081,))])` behind `DataLoader(batch_size=128, shuffle=True,
  num_workers=0)`, and a plain loop (forward, cross-entropy, backward, step); a baseline batch's
  time includes fetching it from the DataLoader;
* project: `fit(default_config('writeup002', epochs=1, limit=..., eval_limit=1000,
  channels_last=...), data)`. A callback times each training batch from `on_batch_start` to
  `on_batch_end` (indexing, augmentation, step); the epoch-end evaluation is never counted. The
  memory format is the faster one in a short probe that alternates both, batch by batch.

This runs twice: once in fp32 (`speedup`, like-for-like arithmetic) and once with the project's
forward pass under bfloat16 autocast (`precision='bf16'`, `speedup_bf16`; weights, loss and
updates stay fp32), each pass with its own baseline measured side by side.

By default the two are interleaved: the project's callback runs one baseline batch after every
project batch, so that load from other processes on a shared machine hits both paths alike. The
headline images/s is 128 / median batch time, which resists stalls; images / total timed seconds
("wall") is reported beside it. Also measured: `predict_logits` over the 10k test set (its batch 256,
best of 3) and the batch-1 latency of `predict_array` (preprocessing + model) on a 280x280 RGBA
canvas-like image.

Missing MNIST files raise `mnist_core.data.DatasetError` (the CLI prints it).
"""
from __future__ import annotations

import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..analysis.evaluate import predict_logits
from ..analysis.predict import predict_array
from ..data.augment import augment_from_config
from ..data.mnist import MNIST, DatasetError, check_files, data_root, load_mnist, raw_dir, test_images_uint8
from ..models import create_model
from ..training.callbacks import Callback
from ..training.devices import available_devices
from ..training.loop import fit, make_optimizer, train_step
from ..training.machine import machine_info, resolve
from ..training.recipes import default_config

MODEL = "writeup002"
BATCH_SIZE = 128  # the writeup002 recipe's; the write-ups' DataLoader uses the same
WARMUP_BATCHES = 3  # per measured run, not timed
PROBE_BATCHES = 10  # timed batches per memory format when choosing channels_last
EVAL_LIMIT = 1000  # the project's epoch-end evaluation (not timed) uses this many images
LATENCY_WARMUP = 10
GOALS = {  # name: (target text, test)
    "speedup": (">= 3x", lambda value: value >= 3.0),
    "speedup_bf16": (">= 3x", lambda value: value >= 3.0),
    "eval_10k_seconds": ("<= 1 s", lambda value: value <= 1.0),  # a < 20k-parameter model (writeup002, 19,578)
    "latency_ms_p50": ("< 2 ms", lambda value: value < 2.0),
}


def busy_cpus(seconds: float = 0.5) -> float | None:
    """How many CPUs other processes keep busy, from two /proc/stat samples `seconds` apart
    (None where /proc/stat is missing). Unlike the load average it does not remember a job that
    ended a minute ago."""
    def sample():
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values), idle
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return (1 - (idle1 - idle0) / (total1 - total0)) * (os.cpu_count() or 1)


def busy_text(busy: float | None) -> str:
    return "unknown" if busy is None else f"{busy:.1f}"


def bench_threads(threads: int | None = None) -> int:
    """The thread count to use: the argument, else torch's current one when the environment set
    it (OMP_NUM_THREADS / MKL_NUM_THREADS), else 2."""
    if threads is not None:
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer, got {threads!r}")
        return threads
    if os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS"):
        return torch.get_num_threads()
    return 2


def throughput(durations: list[float], batch_size: int) -> dict:
    """Images/s from per-batch seconds: at the median batch, and over their sum (wall)."""
    if not durations:
        raise RuntimeError("no timed batches were recorded")
    median = statistics.median(durations)
    return {"batches": len(durations), "seconds": sum(durations), "median_batch_ms": median * 1e3,
            "images_per_s": batch_size / median,
            "wall_images_per_s": batch_size * len(durations) / sum(durations)}


def torchvision_train_set(root=None):
    """The write-ups' dataset: torchvision MNIST with RandomRotation(7), ToTensor, Normalize."""
    import torchvision
    from torchvision import transforms

    root = data_root() if root is None else root
    check_files(root, download=False)  # DatasetError naming the expected path
    transform = transforms.Compose([transforms.RandomRotation(7), transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    try:
        return torchvision.datasets.MNIST(root=str(root), train=True, download=False, transform=transform)
    except RuntimeError:  # e.g. only .gz files, which mnist_core reads and torchvision does not
        raise DatasetError(f"torchvision's MNIST needs the uncompressed IDX files in "
                           f"{raw_dir(root).resolve()} (gunzip the .gz files there).") from None


def baseline_steps(dataset=None):
    """The write-ups' plain training loop as a generator: yields after every batch."""
    config = default_config(MODEL)
    dataset = torchvision_train_set() if dataset is None else dataset
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size, shuffle=True,
                                         num_workers=0,
                                         generator=torch.Generator().manual_seed(config.seed))
    torch.manual_seed(config.seed)  # weights and RandomRotation's angles
    model = create_model(MODEL)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    for images, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels, label_smoothing=config.label_smoothing)
        loss.backward()
        optimizer.step()
        yield


def run_baseline(batches: int, warmup: int = WARMUP_BATCHES, dataset=None) -> dict:
    """The baseline alone: images/s over `batches` timed batches after `warmup` untimed ones."""
    steps = baseline_steps(dataset)
    durations = []
    for index in range(warmup + batches):
        started = time.perf_counter()
        next(steps)
        if index >= warmup:
            durations.append(time.perf_counter() - started)
    return throughput(durations, BATCH_SIZE)


class BatchClock(Callback):
    """Times every training batch of fit() from on_batch_start to on_batch_end, so the epoch-end
    evaluation is never counted. With `baseline` (a baseline_steps() generator) it also runs and
    times one baseline batch after each project batch: both paths then share whatever else the
    machine is doing at that moment."""

    def __init__(self, warmup: int, baseline=None) -> None:
        self.warmup, self.baseline = warmup, baseline
        self.project: list[float] = []
        self.baseline_durations: list[float] = []
        self.started = 0.0

    def on_batch_start(self, state) -> None:
        self.started = time.perf_counter()

    def on_batch_end(self, state) -> None:
        ended = time.perf_counter()
        timed = state.batch > self.warmup
        if timed:
            self.project.append(ended - self.started)
        if self.baseline is not None:
            started = time.perf_counter()
            next(self.baseline)
            if timed:
                self.baseline_durations.append(time.perf_counter() - started)


def project_config(batches: int, channels_last: bool, warmup: int = WARMUP_BATCHES,
                   precision: str = "fp32"):
    return default_config(MODEL, epochs=1, device="cpu", channels_last=channels_last,
                          limit=(warmup + batches) * BATCH_SIZE, eval_limit=EVAL_LIMIT,
                          precision=precision)


def run_project(data: MNIST, batches: int, channels_last: bool, warmup: int = WARMUP_BATCHES,
                interleave_baseline: bool = False, dataset=None,
                precision: str = "fp32") -> tuple[dict, dict | None]:
    """mnist_core.fit on exactly warmup + batches batches: (project, baseline or None) figures;
    with interleave_baseline, one baseline batch (on `dataset`) runs after each project batch."""
    config = project_config(batches, channels_last, warmup, precision)
    if config.limit > len(data.train):
        raise ValueError(f"batches: at most {len(data.train) // BATCH_SIZE - warmup} fit in one "
                         f"epoch of {len(data.train)} images, got {batches}")
    clock = BatchClock(warmup, baseline_steps(dataset) if interleave_baseline else None)
    state = fit(config, data, callbacks=[clock])
    if state.status != "finished" or len(clock.project) != batches:
        raise RuntimeError(f"project run ended early: {state.status} ({state.reason})")
    baseline = throughput(clock.baseline_durations, BATCH_SIZE) if interleave_baseline else None
    return throughput(clock.project, BATCH_SIZE), baseline


def probe_channels_last(data: MNIST, batches: int = PROBE_BATCHES) -> dict:
    """Median batch time of the project's training step in both memory formats, alternating
    batch by batch (same model, optimizer and augmentation as fit; no evaluation)."""
    config = project_config(batches, False, 0)
    durations: dict[bool, list[float]] = {True: [], False: []}
    runs = {}
    for flag in (True, False):
        torch.manual_seed(config.seed)
        model = create_model(MODEL)
        if flag:
            model = model.to(memory_format=torch.channels_last)
        runs[flag] = (model, make_optimizer(model, config), torch.Generator().manual_seed(config.seed))
    for index in range(WARMUP_BATCHES + batches):
        batch = slice(index * BATCH_SIZE, (index + 1) * BATCH_SIZE)
        for flag in (True, False):
            model, optimizer, generator = runs[flag]
            started = time.perf_counter()
            images = augment_from_config(data.train.images[batch], config, generator)
            if flag:
                images = images.contiguous(memory_format=torch.channels_last)
            loss, _ = train_step(model, optimizer, images, data.train.labels[batch], config)
            loss.item()
            if index >= WARMUP_BATCHES:
                durations[flag].append(time.perf_counter() - started)
    return {"batches": batches,
            "channels_last_images_per_s": throughput(durations[True], BATCH_SIZE)["images_per_s"],
            "contiguous_images_per_s": throughput(durations[False], BATCH_SIZE)["images_per_s"]}


def time_eval(data: MNIST, repeats: int = 3) -> float:
    """Best-of-`repeats` seconds for predict_logits over the whole test set (its default batch)."""
    torch.manual_seed(0)
    model = create_model(MODEL).eval()
    predict_logits(model, data.test.images[:1000])  # warm-up
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        predict_logits(model, data.test.images)
        best = min(best, time.perf_counter() - started)
    return best


def canvas_image(index: int = 0) -> np.ndarray:
    """A 280x280 RGBA image like the Draw page's canvas: an MNIST test digit upscaled 10x,
    white strokes on opaque black."""
    digit = test_images_uint8()[index].numpy()
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = np.kron(digit, np.ones((10, 10), np.uint8))[..., None]
    rgba[..., 3] = 255
    return rgba


def time_latency(runs: int) -> tuple[float, float]:
    """(p50, p95) milliseconds of predict_array (preprocessing + model) on one canvas image."""
    torch.manual_seed(0)
    model = create_model(MODEL).eval()
    image = canvas_image()
    for _ in range(LATENCY_WARMUP):
        predict_array(model, image)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        predict_array(model, image)
        times.append((time.perf_counter() - started) * 1e3)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def run_bench(batches: int = 100, latency_runs: int = 200, *, threads: int | None = None,
              interleave: bool = True, eval_repeats: int = 3) -> dict:
    """Run every measurement (see the module docstring); torch's thread count is restored after.

    interleave=True (default) runs one baseline batch after every project batch inside the same
    fit() call, so that load from other processes hits both paths alike; False runs the baseline
    on its own first, then fit(). eval_10k_seconds is the best of `eval_repeats` passes.
    """
    if not isinstance(batches, int) or batches < 1:
        raise ValueError(f"batches must be a positive integer, got {batches!r}")
    if not isinstance(latency_runs, int) or latency_runs < 1:
        raise ValueError(f"latency_runs must be a positive integer, got {latency_runs!r}")
    if not isinstance(eval_repeats, int) or eval_repeats < 1:
        raise ValueError(f"eval_repeats must be a positive integer, got {eval_repeats!r}")
    if default_config(MODEL).batch_size != BATCH_SIZE:
        raise RuntimeError(f"the {MODEL} recipe no longer uses batch {BATCH_SIZE}")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(bench_threads(threads))
    try:
        busy_before = busy_cpus()
        data = load_mnist()
        dataset = torchvision_train_set()  # a missing or unreadable dataset fails before any timing
        probe = probe_channels_last(data, min(batches, PROBE_BATCHES))
        channels_last = probe["channels_last_images_per_s"] >= probe["contiguous_images_per_s"]
        passes = {}
        for precision in ("fp32", "bf16"):  # each pass measures its own baseline side by side
            if interleave:
                passes[precision] = run_project(data, batches, channels_last, interleave_baseline=True,
                                                dataset=dataset, precision=precision)
            else:
                baseline = run_baseline(batches, dataset=dataset)
                passes[precision] = run_project(data, batches, channels_last, precision=precision)[0], baseline
        project, baseline = passes["fp32"]
        project_bf16, baseline_bf16 = passes["bf16"]
        eval_seconds = time_eval(data, eval_repeats)
        p50, p95 = time_latency(latency_runs)
        result = {
            "model": MODEL, "batch_size": BATCH_SIZE, "batches": batches,
            "warmup_batches": WARMUP_BATCHES, "interleaved": interleave,
            "threads": torch.get_num_threads(), "torch_version": torch.__version__,
            "busy_cpus_before": busy_before, "cpus": os.cpu_count() or 1,
            "baseline_images_per_s": baseline["images_per_s"],
            "project_images_per_s": project["images_per_s"],
            "speedup": project["images_per_s"] / baseline["images_per_s"],
            "baseline_wall_images_per_s": baseline["wall_images_per_s"],
            "project_wall_images_per_s": project["wall_images_per_s"],
            "wall_speedup": project["wall_images_per_s"] / baseline["wall_images_per_s"],
            "baseline_median_batch_ms": baseline["median_batch_ms"],
            "project_median_batch_ms": project["median_batch_ms"],
            "baseline_seconds": baseline["seconds"], "project_seconds": project["seconds"],
            "baseline_bf16_pass_images_per_s": baseline_bf16["images_per_s"],
            "project_bf16_images_per_s": project_bf16["images_per_s"],
            "speedup_bf16": project_bf16["images_per_s"] / baseline_bf16["images_per_s"],
            "channels_last": channels_last, "channels_last_probe": probe,
            "eval_10k_seconds": eval_seconds, "eval_repeats": eval_repeats,
            "latency_runs": latency_runs, "latency_ms_p50": p50, "latency_ms_p95": p95,
        }
        chosen = resolve(default_config(MODEL, device="cpu", precision="auto"))  # what "auto" picks here
        result.update(precision=chosen.precision, precision_reason=chosen.extra["precision_reason"],
                      device="cpu", devices_available=available_devices(),  # bench times the CPU path
                      cpu_capability=machine_info()["cpu_capability"],
                      machine=machine_info(precision=chosen.precision))
    finally:
        torch.set_num_threads(previous_threads)
    result["goals"] = {name: {"target": target, "value": result[name], "met": bool(test(result[name]))}
                       for name, (target, test) in GOALS.items()}
    # the speedup goal counts as met when either precision meets it (both are always shown)
    result["all_goals_met"] = all(goal["met"] for name, goal in result["goals"].items()
                                  if not name.startswith("speedup")) and \
        (result["goals"]["speedup"]["met"] or result["goals"]["speedup_bf16"]["met"])
    return result


def format_report(result: dict) -> str:
    """A short plain-text comparison table of a run_bench() result."""
    probe = result["channels_last_probe"]
    memory = "channels_last" if result["channels_last"] else "contiguous"
    lines = [
        f"mnist_core bench: {result['model']}, batch {result['batch_size']}, rotation 7, AdamW; "
        f"{result['batches']} timed batches after {result['warmup_batches']} warm-up; "
        f"threads {result['threads']}; {'interleaved' if result['interleaved'] else 'sequential'}; "
        f"torch {result['torch_version']}; {busy_text(result['busy_cpus_before'])} of "
        f"{result['cpus']} CPUs busy before the start",
        "",
        f"{'training path':<44} {'img/s (median batch)':>21} {'img/s (wall)':>13}",
        f"{'baseline: torchvision MNIST + DataLoader':<44} {result['baseline_images_per_s']:>21,.0f} "
        f"{result['baseline_wall_images_per_s']:>13,.0f}",
        f"{'project:  mnist_core.fit (' + memory + ')':<44} {result['project_images_per_s']:>21,.0f} "
        f"{result['project_wall_images_per_s']:>13,.0f}",
        f"{'speedup (project / baseline)':<44} {result['speedup']:>20.2f}x {result['wall_speedup']:>12.2f}x",
        f"{'project:  the same, bf16 autocast forward':<44} {result['project_bf16_images_per_s']:>21,.0f}",
        f"{'  its baseline, measured side by side':<44} {result['baseline_bf16_pass_images_per_s']:>21,.0f}",
        f"{'speedup (bf16 project / baseline)':<44} {result['speedup_bf16']:>20.2f}x",
        f"memory-format probe ({probe['batches']} batches each): channels_last "
        f"{probe['channels_last_images_per_s']:,.0f} img/s, contiguous "
        f"{probe['contiguous_images_per_s']:,.0f} img/s -> {memory}",
        f"eval: predict_logits on the 10k test set, batch 1000, best of {result['eval_repeats']}: "
        f"{result['eval_10k_seconds']:.2f} s",
        f"latency: predict_array on a 280x280 RGBA canvas, {result['latency_runs']} runs: "
        f"p50 {result['latency_ms_p50']:.2f} ms, p95 {result['latency_ms_p95']:.2f} ms",
        "",
        "goals:",
    ]
    busy = result["busy_cpus_before"]
    if busy is not None and busy + result["threads"] > result["cpus"] + 0.25:
        lines.insert(1, f"note: other processes kept {busy:.1f} of {result['cpus']} CPUs busy, so the "
                        "figures are noisy; with more threads than free cores each parallel region can "
                        "wait a scheduler time slice")
    units = {"speedup": "x", "speedup_bf16": "x", "eval_10k_seconds": " s", "latency_ms_p50": " ms"}
    for name, goal in result["goals"].items():
        lines.append(f"  {name:<18} {goal['target']:<8} {goal['value']:>8.2f}{units.get(name, ''):<3} "
                     f"{'met' if goal['met'] else 'NOT met'}")
    return "\n".join(lines)
