"""Shareable views: a URL's query parameters reopen Compare's selection and pair, Evaluate's model
and cell, and Draw's model; changing the selection writes it back into the URL."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def page(name: str, **params) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    for key, value in params.items():
        app.query_params[key] = value
    return app.run()


def test_a_link_reopens_compares_selection_and_pair():
    app = page("compare", compare_choice=["writeup000", "writeup002", "frontier"], older="writeup000", newer="frontier")
    assert not app.exception and not app.warning
    assert app.multiselect[0].value == ["writeup000", "writeup002", "frontier"]
    assert {s.label: s.value for s in app.selectbox}["Older iteration"] == "writeup000"
    assert {s.label: s.value for s in app.selectbox}["Newer iteration"] == "frontier"
    app.multiselect[0].set_value(["writeup000", "frontier"]).run()
    assert app.query_params["compare_choice"] == ["writeup000", "frontier"]  # the URL follows the page


def test_unknown_names_in_a_link_are_ignored():
    app = page("compare", compare_choice=["no-such-model"], older="nor-this")
    assert not app.exception and app.multiselect[0].value  # the default selection instead


def test_a_link_reopens_evaluates_model_and_cell():
    app = page("evaluate", evaluate_model="writeup002", cell="4-9")
    assert not app.exception
    assert app.selectbox[0].value == "writeup002"
    assert any("Cell: true 4, predicted 9" in caption.value for caption in app.caption)
    next(b for b in app.button if b.label == "Show all mistakes").click().run()
    assert not any("Cell: true" in caption.value for caption in app.caption)
    assert "cell" not in app.query_params


def test_a_link_opens_draw_on_its_model():
    app = page("draw", draw_model="frontier")
    assert not app.exception
    assert {s.label: s.value for s in app.selectbox}["Model"] == "frontier"


def test_a_link_with_a_write_up_models_old_name_opens_it_under_its_new_name():
    """Links shared before the rename (?draw_model=seed004) still open the model, with one notice."""
    app = page("evaluate", evaluate_model="seed002")
    assert not app.exception
    assert app.selectbox[0].value == "writeup002"
    assert any("'seed002' is now called 'writeup002'" in caption.value for caption in app.caption)
    compare = page("compare", compare_choice=["seed000", "frontier"])
    assert not compare.exception and compare.multiselect[0].value == ["writeup000", "frontier"]
