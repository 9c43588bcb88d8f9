"""mnist_core: MNIST data, the model registry, training, evaluation, checkpoints (no UI code)."""
from .checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint
from .config import ConfigError, TrainConfig
from .data import DatasetError, load_mnist
from .evaluate import evaluate, predict_logits
from .models import count_parameters, create_model, list_models, model_info, register_model
from .recipes import default_config, list_recipes
from .train import fit

__all__ = ["CheckpointError", "ConfigError", "DatasetError", "TrainConfig", "count_parameters",
           "create_model", "default_config", "evaluate", "fit", "list_models", "list_recipes",
           "load_checkpoint", "load_mnist", "load_model", "model_info", "predict_logits",
           "register_model", "save_checkpoint"]
