"""Every registered model, tested through the registry (a new model is tested for free)."""
import pytest
import torch

from mnist_core.models import count_parameters, create_model, list_models, model_info
from mnist_core.models.registry import UnknownModelError
from mnist_core.training.recipes import get_recipe

EXACT_COUNTS = {"writeup000": 24_552, "writeup001_iter1": 194_884, "writeup001_iter2": 10_790,
                "writeup001_iter3": 10_970, "writeup001_iter4": 7_904, "writeup002": 19_578}


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_and_parameter_count(name):
    torch.manual_seed(0)
    model = create_model(name)
    output = model(torch.randn(3, 1, 28, 28))
    assert output.shape == (3, 10)
    assert torch.isfinite(output).all()
    output.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    info = model_info(name)
    if info.params is not None:
        assert count_parameters(model) == info.params
    if info.max_params is not None:
        assert count_parameters(model) < info.max_params


@pytest.mark.parametrize("name", list_models())
def test_metadata_is_complete(name):
    info = model_info(name)
    assert info.source and info.description and info.reported_on is not None
    assert create_model(name).__doc__ or info.factory.__doc__ or info.description
    get_recipe(info.recipe)  # the default recipe exists


def test_the_write_ups_exact_counts_are_registered():
    for name, params in EXACT_COUNTS.items():
        assert model_info(name).params == params
        assert count_parameters(create_model(name)) == params


def test_our_models_meet_their_parameter_goals():
    assert count_parameters(create_model("frontier")) < 4_000  # the smaller frontier
    assert count_parameters(create_model("frontier_v1")) == 4_930  # kept under its own name
    assert count_parameters(create_model("best_small")) < 20_000
    assert count_parameters(create_model("sprint")) == model_info("sprint").params == 28_410
    for name in list_models():
        if model_info(name).source == "own":
            assert model_info(name).params or model_info(name).max_params


def test_every_write_up_architecture_has_a_fast_variant():
    from mnist_core.training.recipes import default_config, fast_recipe_name

    for name in list_models():
        if model_info(name).source == "own":
            continue
        config = default_config(name, "fast")
        assert config.recipe == fast_recipe_name(name) == f"{name}_fast" and config.model == name
        assert config.epochs < get_recipe(model_info(name).recipe).epochs or name == "writeup000"
    with pytest.raises(ValueError, match="no fast variant"):
        default_config("frontier", "fast")


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(UnknownModelError, match="writeup002"):
        create_model("resnet9000")


def test_padding_the_convolutions_before_the_pool_keeps_the_parameters_and_enlarges_the_maps():
    from mnist_core.models.layers import PoolOnceNet

    unpadded, padded = PoolOnceNet((8, 8, 8), (10, 10, 10)), PoolOnceNet((8, 8, 8), (10, 10, 10), pad_before=True)
    assert count_parameters(padded) == count_parameters(unpadded) == model_info("frontier").params
    image = torch.zeros(2, 1, 28, 28)
    assert unpadded.features(image).shape == (2, 10, 5, 5)  # 28 -> 22, pool 11 -> 5
    assert padded.features(image).shape == (2, 10, 8, 8)  # 28 -> 28, pool 14 -> 8
    assert padded(image).shape == (2, 10)


def test_write_up_models_are_named_apart_from_random_seeds_and_old_names_still_resolve():
    from mnist_core.models import current_name, display_name, rename_notice
    from mnist_core.training.recipes import default_config

    assert not [name for name in list_models() if name.startswith("seed")]
    assert display_name("writeup001_iter1") == "write-up 001 · iteration 1"
    assert display_name("writeup002") == "write-up 002" and display_name("frontier") == "frontier"
    assert current_name("seed001_iter4") == "writeup001_iter4" and current_name("seed004_fast") == "writeup004_fast"
    assert current_name("seed") == "seed" and current_name("seed005") == "seed005"  # only what was renamed
    assert model_info("seed003") is model_info("writeup003")
    assert "the old name works until the next release" in rename_notice("seed002")
    assert rename_notice("writeup002") is None
    old = default_config("seed001_iter2", "seed001")  # a config written before the rename reads as today's
    assert (old.model, old.recipe) == ("writeup001_iter2", "writeup001")


def test_a_pool_once_spec_is_the_pool_once_network():
    from mnist_core.models.layers import PoolOnceNet
    from mnist_core.models.spec import parameter_count, pool_once_spec

    for before, after, crop, padded in [((8, 8, 8), (10, 10, 10), None, True), ((16, 16), (32, 32, 32), 24, False)]:
        spec = pool_once_spec("candidate", list(before), list(after), crop, padded)
        assert parameter_count(spec) == count_parameters(PoolOnceNet(before, after, crop, padded))
