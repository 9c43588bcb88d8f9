"""Model registry; importing this package registers every architecture module in it."""
import importlib
import pkgutil

from .registry import (ModelInfo, UnknownModelError, count_parameters, create_model, list_models,
                       model_info, register_model)

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("registry", "layers"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["ModelInfo", "UnknownModelError", "count_parameters", "create_model", "list_models",
           "model_info", "register_model"]
