"""The models wing: the registry, one module per write-up (and our own), shared layers, networks
built from JSON specs, and layer tables. Importing this package registers every architecture module
in it; the modules named in NOT_ARCHITECTURES are helpers, not architectures."""
import importlib
import pkgutil

from .registry import (
    ModelInfo,
    UnknownModelError,
    count_parameters,
    create_model,
    current_name,
    display_name,
    list_models,
    model_info,
    register_model,
    rename_notice,
)

NOT_ARCHITECTURES = ("registry", "layers", "spec", "trace")

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in NOT_ARCHITECTURES:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["ModelInfo", "UnknownModelError", "count_parameters", "create_model", "current_name",
           "display_name", "list_models", "model_info", "register_model", "rename_notice"]
