"""mnist_core: MNIST data, the model registry, training, the runs store, analysis, reports and
benchmarks (no UI code).

Wings, lowest first; a module imports only from its own wing or one below it (tests/test_layout.py):
    data -> models -> analysis -> training -> store -> lab -> reports -> perf -> cli
The names below are the public API; everything else is reached through its wing.
"""
from .analysis.evaluate import evaluate, predict_logits
from .data.mnist import DatasetError, load_mnist
from .lab.launch import start_run, train_run
from .models import count_parameters, create_model, list_models, model_info, register_model
from .store.checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint
from .store.runs import get_run, list_runs
from .training.config import ConfigError, TrainConfig
from .training.loop import fit
from .training.recipes import default_config, list_recipes

__all__ = ["CheckpointError", "ConfigError", "DatasetError", "TrainConfig", "count_parameters",
           "create_model", "default_config", "evaluate", "fit", "get_run", "list_models",
           "list_recipes", "list_runs", "load_checkpoint", "load_mnist", "load_model", "model_info",
           "predict_logits", "register_model", "save_checkpoint", "start_run", "train_run"]
