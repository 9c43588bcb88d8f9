"""The not-a-digit check: held-out drawings (an asterisk, letters) said "not sure" with the reason,
MNIST test digits and drawn digits passed, a missing or corrupt weights file turning the check off
in one line (the older rule still decides), the pad's rasterisation, the generated drawings and
the held-out set's make-up. A few seconds: the network is 66k parameters."""
import json

import numpy as np
import pytest
import torch

from mnist_core.analysis.predict import check_state, reading, verdict
from mnist_core.analysis.reject import (
    WEIGHTS,
    RejectCheck,
    RejectError,
    RejectNet,
    default_check,
    load_reject,
    nondigit_score,
    save_reject,
)
from mnist_core.analysis.uncertainty import RULE
from mnist_core.data import mnist as mnist_data
from mnist_core.data import stroke_drawings
from mnist_core.data.preprocess import preprocess
from mnist_core.data.strokes import read_drawings, render
from mnist_core.models import list_models
from mnist_core.store.shipped import CHECKPOINT_DIR, shipped_models

HELD_OUT = CHECKPOINT_DIR / "reject" / "heldout_drawings.json"


@pytest.fixture(scope="module")
def drawings() -> dict:
    return {item["name"]: item for item in read_drawings(HELD_OUT)}


@pytest.fixture(scope="module")
def jury() -> dict:
    return shipped_models(CHECKPOINT_DIR)


def drawn(item: dict):
    return preprocess(render(item["strokes"], item["width"]))


@pytest.mark.parametrize("name", ["asterisk #1", "T #1", "U #2", "C #1", "W #3", "hash #2"])
def test_held_out_non_digits_are_not_sure_and_say_why(name, drawings, jury):
    result = reading(jury["best_small"], drawn(drawings[name]), jury)
    assert result["uncertain"] is True and result["nondigit_check"] == "on"
    assert "looks like no digit the models know" in result["reason"]


@pytest.mark.parametrize("name", ["7 #1", "1 #1", "4 closed #2", "9 curved #3"])
def test_drawn_digits_read_as_themselves(name, drawings, jury):
    result = reading(jury["best_small"], drawn(drawings[name]), jury)
    assert result["uncertain"] is False and result["prediction"] == drawings[name]["label"], result["reason"]


def test_the_check_passes_mnist_test_digits():
    check = default_check()
    images = mnist_data.test_images_uint8()[:60].numpy()
    scores = [nondigit_score(check, preprocess(image).tensor) for image in images]
    assert max(scores) <= RULE.max_nondigit, f"a test digit looked like no digit: {max(scores):.3f}"


def test_missing_or_corrupt_weights_turn_the_check_off_in_one_line(tmp_path, monkeypatch, drawings, jury):
    corrupt = tmp_path / "reject.pt"
    corrupt.write_bytes(b"not a zip file at all")
    for path in (corrupt, tmp_path / "missing.pt"):
        with pytest.raises(RejectError) as error:
            load_reject(path)
        assert str(path) in str(error.value) and "\n" not in str(error.value)
        monkeypatch.setenv("MNIST_REJECT_WEIGHTS", str(path))
        check = default_check()
        assert check.model is None and str(path) in check.problem
        assert check_state().startswith("off: ")
        result = reading(jury["best_small"], drawn(drawings["7 #1"]), jury)  # the older rule still decides
        assert result["prediction"] == 7 and result["uncertain"] is False
        assert result["nondigit_check"].startswith("off: ") and "nondigit" not in result["checks"]


def test_foreign_files_are_refused(tmp_path):
    wrong_shapes = RejectNet(11)
    wrong_shapes.head = torch.nn.Linear(576, 3)
    save_reject(wrong_shapes, tmp_path / "shapes.pt", {})
    torch.save({"format": "something else"}, tmp_path / "format.pt")
    torch.save({"format": "mnist-lab-reject/1", "state_dict": {"x": torch.zeros(1)}}, tmp_path / "keys.pt")
    torch.save(RejectCheck(None, "a pickled object"), tmp_path / "pickle.pt")  # needs unpickling code
    for name in ("shapes", "format", "keys", "pickle"):
        with pytest.raises(RejectError):
            load_reject(tmp_path / f"{name}.pt")


def test_shipped_weights_load_and_are_not_a_registered_model():
    model = load_reject(WEIGHTS)
    assert sum(p.numel() for p in model.parameters()) == 66_747 and not model.training
    assert not [name for name in list_models() if "reject" in name]
    assert not list(CHECKPOINT_DIR.glob("reject*.pt"))  # beside the iterations: it would be listed as one


def test_verdict_without_a_check_is_the_older_rule(drawings):
    prepared = drawn(drawings["asterisk #1"])
    off = verdict(prepared, [0.95] + [0.05 / 9] * 9, [0] * 12, RejectCheck(None, "off for the test"))
    assert off.uncertain is False and "nondigit" not in off.checks


def test_render_paints_like_the_pad():
    canvas = render([[[140, 140]], [[40, 40.5], [240, 40.5]]], width=20)
    assert canvas.shape == (280, 280, 4) and canvas.dtype == np.uint8 and (canvas[..., 3] == 255).all()
    assert canvas[140, 140, 0] == 255 and canvas[140, 152, 0] == 0  # a tap: a disc of radius 10
    assert canvas[40, 240, 0] == 255 and canvas[40, 252, 0] == 0  # round caps end 10 px past the point
    assert 0 < canvas[50, 140, 0] < 255  # the edge, half covered, is antialiased


def test_generated_drawings_are_reproducible_and_labelled():
    for kind in stroke_drawings.KINDS:
        first, again = stroke_drawings.make(kind, 5), stroke_drawings.make(kind, 5)
        assert json.dumps(first) == json.dumps(again)
        assert (first[2] in range(10)) if kind == "digit" else first[2] is None
        assert preprocess(render(first[0], first[1])) is not None


def test_the_held_out_set_is_large_and_covers_every_digit(drawings):
    items = list(drawings.values())
    digits = [item["label"] for item in items if item["kind"] == "digit"]
    assert len(items) - len(digits) >= 200 and len(digits) >= 50 and set(digits) == set(range(10))
    letters = {item["label"] for item in items if item["kind"] == "letter"}
    assert set("TUCVWLXZS") <= letters


def draw_page_with(image: np.ndarray):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(CHECKPOINT_DIR.parent / "pages" / "draw.py"), default_timeout=60)
    app.session_state["draw_injected_image"] = image
    return app.run()


def test_the_draw_page_says_not_sure_and_why_and_keeps_working_without_the_check(tmp_path, monkeypatch, drawings):
    asterisk = render(drawings["asterisk #1"]["strokes"], 20)
    app = draw_page_with(asterisk)
    assert not app.exception
    assert app.metric[0].label.startswith("Prediction") and app.metric[0].value == "Not sure"
    assert "looks like no digit the models know" in app.warning[0].value
    broken = tmp_path / "reject.pt"
    broken.write_bytes(b"garbage")
    monkeypatch.setenv("MNIST_REJECT_WEIGHTS", str(broken))
    app = draw_page_with(render(drawings["7 #1"]["strokes"], 20))
    assert not app.exception and app.metric[0].value == "7"
    notes = [caption.value for caption in app.caption if "not-a-digit check is off" in caption.value]
    assert len(notes) == 1 and str(broken) in notes[0] and "\n" not in notes[0]
