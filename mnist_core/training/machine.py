"""What this machine is, and the precision and memory format it trains fastest in.

Recipes say `precision="auto"`: bf16 autocast only where it is *measured* faster here, fp32
otherwise. The rule, cheapest test first:

1. not a CPU: CUDA with bf16 support → bf16; MPS / older CUDA → fp32 (no probe);
2. a CPU without native bf16 (torch's CPU capability below AVX512, or no `avx512_bf16`/`amx_bf16`
   flag) → fp32 without probing: emulated bf16 is several times slower (0.23× measured on an AVX2
   EPYC);
3. a CPU with native bf16 → a one-off probe: a few training steps of the run's own network in fp32
   and in bf16 (and contiguous vs channels_last where the recipe asks for channels_last); the
   fastest wins, bf16 only if it beats fp32 by ≥ 5%. The probe is cached per machine (CPU model,
   capability, core and thread count, torch version) and network in `$MNIST_CACHE/probes.json`.

`resolve(config)` returns the config with concrete settings and says why in
`extra["precision_reason"]`; an explicit "bf16" is kept, with a warning in that text when this
machine is known to run it slower.
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

import torch

from .config import TrainConfig
from .devices import pick_device
from .disk_cache import cache_root, read_cached, write_cached
from .step import train_step

PROBE_VERSION = 1
PROBE_WARMUP, PROBE_STEPS, PROBE_BATCH = 2, 4, 256
BF16_MARGIN = 1.05  # bf16 must beat fp32 by this much to be chosen (noise of a few steps)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_capability() -> str:
    """torch's view of the CPU's vector ISA (`AVX2`, `AVX512`, ...): what its kernels really use."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 - older torch or an unusual build
        return "unknown"


def emulated() -> bool:
    """True when the ISA is lowered by environment (ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA)."""
    return bool(os.environ.get("ATEN_CPU_CAPABILITY") or os.environ.get("ONEDNN_MAX_CPU_ISA"))


def machine_info(precision: str | None = None) -> dict:
    """Everything a timing needs beside it to be read on another machine."""
    try:
        load = [round(value, 2) for value in os.getloadavg()]
    except OSError:
        load = None
    info = {"cpu_model": cpu_model(), "cpu_capability": cpu_capability(), "emulated": emulated(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch_version": torch.__version__, "load_average": load}
    if precision is not None:
        info["precision"] = precision
    return info


def native_bf16() -> tuple[bool, str]:
    """(does this CPU run bf16 natively, why we think so)."""
    capability = cpu_capability()
    if not capability.startswith("AVX512"):
        return False, f"no native bf16 on this CPU (torch CPU capability {capability})"
    flags = cpu_flags()
    if not flags & {"avx512_bf16", "amx_bf16"}:
        return False, f"no native bf16 on this CPU ({capability} without the avx512_bf16/amx_bf16 flags)"
    return True, f"native bf16 ({capability} with {'amx_bf16' if 'amx_bf16' in flags else 'avx512_bf16'})"


def probe_key(config: TrainConfig) -> str:
    network = config.model if config.spec is None else json.dumps(config.spec, sort_keys=True)
    return "|".join([str(PROBE_VERSION), cpu_model(), cpu_capability(), str(os.cpu_count()),
                     str(torch.get_num_threads()), torch.__version__, network])


def _steps_per_second(config: TrainConfig, precision: str, channels_last: bool) -> float:
    from ..models.spec import network  # noqa: PLC0415

    torch.manual_seed(0)
    model = network(config.model, config.spec)
    memory = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(PROBE_BATCH, 1, 28, 28).contiguous(memory_format=memory)
    labels = torch.randint(0, 10, (PROBE_BATCH,))
    settings = TrainConfig(model=config.model, spec=config.spec, precision=precision, channels_last=channels_last)
    for step in range(PROBE_WARMUP + PROBE_STEPS):
        if step == PROBE_WARMUP:
            started = time.perf_counter()
        train_step(model, optimizer, images, labels, settings)
    return PROBE_STEPS / (time.perf_counter() - started)


def probe(config: TrainConfig, precisions: tuple[str, ...] = ("fp32", "bf16")) -> dict:
    """Steps/s of the config's network for each candidate setting, measured once per machine (an
    entry of the cache that is damaged or lacks a setting is measured again and replaced)."""
    path = cache_root() / "probes.json"
    cache = read_cached(path, read_probes) or {}
    key = probe_key(config) + "|" + "/".join(precisions)
    candidates = [(p, cl) for p in precisions for cl in (False, True)]
    if not config.channels_last:
        candidates = [c for c in candidates if not c[1]]
    names = [f"{p}{'+channels_last' if cl else ''}" for p, cl in candidates]
    if isinstance(cache.get(key), dict) and sorted(cache[key]) == sorted(names):
        return cache[key]
    result = {name: _steps_per_second(config, p, cl) for name, (p, cl) in zip(names, candidates)}
    cache[key] = result
    write_cached(path, json.dumps(cache, indent=1, allow_nan=False).encode())  # unwritable: a re-probe next time
    return result


def read_probes(raw: bytes) -> dict:
    """The probe cache: {key: {setting: steps per second}}; ValueError for anything else (then every
    entry is measured again)."""
    probes = json.loads(raw)
    if not isinstance(probes, dict) or not all(isinstance(rates, dict) and all(map(is_rate, rates.values()))
                                               for rates in probes.values()):
        raise ValueError("not a table of positive, finite steps-per-second figures")
    return probes


def is_rate(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def resolve(config: TrainConfig) -> TrainConfig:
    """The config with concrete precision (and memory format), and the reason in
    `extra["precision_reason"]`. Concrete settings pass through untouched unless they are bf16 on
    a CPU that has no native bf16 or measured slower (kept, with a warning in the reason)."""
    if config.precision == "fp32" or ("precision_reason" in config.extra and config.precision != "auto"):
        return config  # nothing to choose, or chosen already
    device = pick_device(config.device)
    precision, channels_last, reason = config.precision, config.channels_last, ""
    if device.type != "cpu":
        if precision == "auto":
            fast = device.type == "cuda" and torch.cuda.is_bf16_supported()
            precision = "bf16" if fast else "fp32"
            reason = f"{'bf16' if fast else 'fp32'} on {device.type}"
    else:
        native, why = native_bf16()
        if precision == "auto" and not native:
            precision, reason = "fp32", f"fp32: {why}"
            if channels_last:
                speeds = probe(config, ("fp32",))
                if speeds["fp32"] > speeds["fp32+channels_last"]:
                    channels_last, reason = False, reason + "; channels_last measured slower, so off"
        elif precision == "bf16" and not native:
            reason = f"bf16 as asked, but warning: {why}, so bf16 is emulated and several times slower than fp32"
        elif precision == "bf16":
            speeds = probe(config)
            bf16, fp32 = max(speeds.get("bf16", 0), speeds.get("bf16+channels_last", 0)), max(
                speeds.get("fp32", 0), speeds.get("fp32+channels_last", 0))
            reason = f"bf16 as asked ({why})" + (
                f"; warning: a probe measured it at {bf16 / fp32:.2f}× fp32 here" if bf16 < fp32 else "")
        elif precision == "auto":
            speeds = probe(config)
            best = max(speeds, key=speeds.get)
            fp32_best = max((k for k in speeds if k.startswith("fp32")), key=speeds.get)
            chosen = best if speeds[best] >= BF16_MARGIN * speeds[fp32_best] else fp32_best
            precision, channels_last = chosen.split("+")[0], chosen.endswith("channels_last")
            ratio = max(v for k, v in speeds.items() if k.startswith("bf16")) / speeds[fp32_best]
            reason = (f"{precision}: {why}; a probe of {PROBE_STEPS} steps measured bf16 at {ratio:.2f}× fp32"
                      + ("" if channels_last == config.channels_last else "; channels_last was slower, so off"))
    if not reason:
        return config  # bf16 asked on an accelerator: nothing to say
    extra = dict(config.extra, precision_reason=reason)
    return config.replace(precision=precision, channels_last=channels_last, extra=extra)
