"""Device choice: CUDA, then Apple MPS, then CPU, unless the config names one."""
from __future__ import annotations

import torch

from .config import ConfigError


def pick_device(preference: str = "auto") -> torch.device:
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but this machine has no CUDA GPU that torch can use "
                          f"(choose one of: {', '.join(available_devices())})")
    if preference == "mps" and not _mps_available():
        raise ConfigError("device 'mps' was asked for but Apple's Metal (MPS) is not available here "
                          f"(choose one of: {', '.join(available_devices())})")
    return torch.device(preference)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """The devices this machine can train on: "cpu", plus "cuda" and "mps" where torch can use them."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if _mps_available() else [])


def device_name(device: torch.device) -> str:
    """What a run records: "cpu", "cuda (NVIDIA H100 80GB HBM3)", "mps"."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type
