"""TrainConfig rejects invalid values naming the field; recipes are valid configs."""
import pytest

from mnist_core.models import list_models, model_info
from mnist_core.training.config import ConfigError, TrainConfig
from mnist_core.training.recipes import default_config, get_recipe, list_recipes


@pytest.mark.parametrize("field, value", [
    ("epochs", 0), ("batch_size", -1), ("lr", -0.1), ("lr", float("nan")), ("optimizer", "rmsprop"),
    ("scheduler", "warmup"), ("loss", "mse"), ("rotation", 400.0), ("momentum", 1.5),
    ("label_smoothing", 1.0), ("target_accuracy", 101.0), ("limit", 0), ("device", "tpu"),
    ("precision", "fp16"),
])
def test_invalid_values_are_rejected_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        TrainConfig(**{field: value})


def test_unknown_field_and_recipe_are_rejected():
    with pytest.raises(ConfigError, match="unknown config field"):
        TrainConfig.from_dict({"epochs": 1, "learning_rate": 0.1})
    with pytest.raises(ConfigError, match="recipe must be one of"):
        get_recipe("nope")


def test_round_trip_through_dict():
    config = default_config("writeup002")
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("name", list_models())
def test_default_recipe_is_the_write_ups(name):
    config = default_config(name)
    assert config.model == name
    assert config.recipe == model_info(name).recipe in list_recipes()


def test_write_up_recipes_say_what_was_written():
    assert (get_recipe("writeup002").optimizer, get_recipe("writeup002").label_smoothing) == ("adamw", 0.1)
    assert get_recipe("writeup004").target_accuracy == 99.4
    assert get_recipe("writeup000").center_crop_prob == 0.1
