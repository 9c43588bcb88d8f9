"""Explanations for every registered model, the uncertainty rule, what changed between two
iterations, and stable model colours."""
import numpy as np
import pytest
import torch

from mnist_core.analysis.changes import what_changed
from mnist_core.analysis.explain import conv_layers, explain, kernels
from mnist_core.analysis.predict import predict_array
from mnist_core.analysis.uncertainty import judge
from mnist_core.data.nondigits import KINDS, make
from mnist_core.data.preprocess import preprocess
from mnist_core.models import create_model, list_models
from mnist_core.store.checkpoint import load_model
from mnist_core.store.shipped import CHECKPOINT_DIR, shipped_models


@pytest.mark.parametrize("name", list_models())
def test_saliency_and_gradcam_are_finite_28x28_maps_for_every_model(name, tiny):
    torch.manual_seed(0)
    model = create_model(name)
    result = explain(model, tiny.test.images[0])
    for heat in (result.saliency, result.gradcam):
        assert heat.shape == (28, 28) and torch.isfinite(heat).all()
        assert heat.min() >= 0 and heat.max() <= 1
    assert result.saliency.max() > 0  # the gradient reaches the input
    assert result.prediction == int(np.argmax(result.probabilities))
    layers = dict(model.named_modules())
    assert [maps.layer for maps in result.feature_maps] == conv_layers(model)
    for maps in result.feature_maps:
        assert maps.channels == layers[maps.layer].out_channels  # the layer's channel count
    assert result.gradcam_layer in conv_layers(model)
    first = result.feature_maps[0].layer
    assert kernels(model, first, 0).shape == layers[first].weight.shape[1:]
    assert model.training  # explain() leaves the model's mode as it found it


def test_gradcam_points_at_the_ink(mnist):
    model, _ = load_model(CHECKPOINT_DIR / "writeup004.pt")
    image = mnist.test.images[0]
    cam = explain(model, image).gradcam
    ink = image[0] > 0.5
    assert cam[ink].mean() > cam[~ink].mean()


def test_the_rule_flags_a_dot_and_passes_a_clean_test_digit(mnist):
    from mnist_core.data.mnist import test_images_uint8

    models = shipped_models(CHECKPOINT_DIR)
    model = models["frontier"]
    clean = predict_array(model, test_images_uint8()[0].numpy(), models)
    assert clean["prediction"] == 7 and clean["uncertain"] is False and clean["reason"] == ""
    dot = np.zeros((280, 280), np.uint8)
    dot[140:146, 150:156] = 255  # a blank-ish canvas with one small dot
    verdict = predict_array(model, dot, models)
    assert verdict["uncertain"] is True and "too little ink" in verdict["reason"]
    filled = make("filled", 3)
    prepared = preprocess(filled)
    assert judge(prepared, [0.91] + [0.01] * 9).uncertain  # a filled shape: too much ink
    assert not judge(preprocess(test_images_uint8()[1].numpy()), [0.95] + [0.05 / 9] * 9, [0] * 9).uncertain
    assert judge(preprocess(test_images_uint8()[1].numpy()), [0.95] + [0.05 / 9] * 9, [0, 1, 2, 3, 0]).uncertain


def test_nondigits_are_reproducible_canvases():
    for kind in KINDS:
        first, again = make(kind, 7), make(kind, 7)
        assert first.shape == (280, 280, 4) and np.array_equal(first, again) and first[..., 0].max() == 255


def test_fixed_and_broken_come_from_the_logits_and_are_disjoint():
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    old = torch.nn.functional.one_hot(torch.tensor([0, 0, 2, 0, 4, 5]), 10).float() * 5  # wrong on 1 and 3
    new = torch.nn.functional.one_hot(torch.tensor([0, 1, 0, 3, 4, 0]), 10).float() * 5  # wrong on 2 and 5
    changes = what_changed(old, new, labels)
    assert [row["index"] for row in changes.fixed] == [1, 3]
    assert [row["index"] for row in changes.broken] == [2, 5]
    assert not {r["index"] for r in changes.fixed} & {r["index"] for r in changes.broken}
    assert changes.old_accuracy == pytest.approx(400 / 6) and changes.new_accuracy == pytest.approx(400 / 6)
    assert changes.confusion_delta[1][1] == 1 and changes.confusion_delta[1][0] == -1
    assert changes.per_class[2]["delta"] == -100.0


def test_fixed_and_broken_of_two_shipped_checkpoints(mnist):
    from mnist_core.analysis.evaluate import predict_logits

    old, _ = load_model(CHECKPOINT_DIR / "writeup001_iter2.pt")
    new, _ = load_model(CHECKPOINT_DIR / "writeup001_iter4.pt")
    changes = what_changed(predict_logits(old, mnist.test.images), predict_logits(new, mnist.test.images),
                           mnist.test.labels)
    fixed, broken = {r["index"] for r in changes.fixed}, {r["index"] for r in changes.broken}
    assert fixed and not fixed & broken
    assert len(fixed) - len(broken) == round((changes.new_accuracy - changes.old_accuracy) * 100)


def test_colours_depend_on_the_model_name_only():
    import app_ui

    assert app_ui.model_colour("writeup004") == app_ui.model_colour("writeup004")
    shipped = [path.stem for path in CHECKPOINT_DIR.glob("*.pt")]
    assert len({app_ui.model_colour(name) for name in shipped}) == len(shipped)  # distinct
    one = app_ui.colour_scale(["writeup004", "frontier"])
    other = app_ui.colour_scale(["writeup004", "writeup000", "writeup002", "frontier"])
    lookup = lambda scale: dict(zip(scale.domain, scale.range))  # noqa: E731
    assert (
        lookup(one)["writeup004"] == lookup(other)["writeup004"]
        and lookup(one)["frontier"] == lookup(other)["frontier"]
    )
