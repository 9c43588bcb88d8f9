"""Any URL opens any page without an exception: every page's query parameters, fuzzed (hypothesis),
through AppTest. A value that does not parse (app_ui.share.url_values) is ignored. Pages are slow
(about a second a run once warm), so each page gets a handful of examples: this file runs in about
a minute on 2 cores."""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

# The parameters each page reads (app_ui.share.restore_from_url and pages/evaluate.py's cell), and a
# name no page reads: unknown keys must be harmless too.
PAGE_KEYS = {"draw": ["draw_model"], "train": [], "compare": ["compare_choice", "older", "newer"],
             "evaluate": ["evaluate_model", "cell"]}
NAMES = ["writeup004", "frontier", "seed002", "run:nothing", "best_small"]
NASTY = ["", " ", "²-³", "٣-٤", "4-9", "9-4", "10-1", "-", "4-", "4-9-1", "４-９", "\x00", "\n4-9", "x" * 5000,
         "%00", "../../etc/passwd", "writeup004\x00", "🙂", "None", "null", "NaN", "-1--1"]
VALUES = st.one_of(st.sampled_from(NAMES + NASTY),
                   st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12))


def parameters(page: str):
    keys = st.sampled_from(PAGE_KEYS[page] + ["zz_unknown"])
    return st.dictionaries(keys, st.lists(VALUES, min_size=1, max_size=3), max_size=3)


@pytest.fixture(scope="module", autouse=True)
def empty_runs(tmp_path_factory):
    """The pages list an empty runs folder of their own (not the checkout's runs/)."""
    saved = {key: os.environ.get(key) for key in ("MNIST_RUNS", "MNIST_LAB_MODE")}
    os.environ["MNIST_RUNS"] = str(tmp_path_factory.mktemp("runs"))
    os.environ.pop("MNIST_LAB_MODE", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def open_page(page: str, params: dict) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    for key, values in params.items():
        app.query_params[key] = values
    return app.run()


def check(page: str, params: dict) -> None:
    app = open_page(page, params)
    assert not app.exception, f"{page} with {params!r}: {app.exception[0].value if app.exception else ''}"


FUZZ = settings(max_examples=8, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(params=parameters("draw"))
@example(params={"draw_model": ["²", "frontier\x00", "x" * 5000]})
def test_any_url_opens_draw(params):
    check("draw", params)


@FUZZ
@given(params=parameters("train"))
@example(params={"zz_unknown": ["²"]})
def test_any_url_opens_train(params):
    check("train", params)


@FUZZ
@given(params=parameters("compare"))
@example(params={"compare_choice": ["²", "frontier", "frontier"], "older": ["٣"], "newer": ["frontier"]})
def test_any_url_opens_compare(params):
    check("compare", params)


@FUZZ
@given(params=parameters("evaluate"))
@example(params={"evaluate_model": ["writeup004"], "cell": ["²-³"]})  # str.isdigit says yes, int() says no
@example(params={"cell": ["٣-٤", "4-9"]})
def test_any_url_opens_evaluate(params):
    check("evaluate", params)


def test_only_a_plain_digit_pair_opens_a_cell():
    app = open_page("evaluate", {"evaluate_model": ["writeup004"], "cell": ["٣-٤"]})
    assert not app.exception and not any("Cell: true" in caption.value for caption in app.caption)
    app = open_page("evaluate", {"evaluate_model": ["writeup004"], "cell": ["²-³", "3-5"]})
    assert not app.exception and any("Cell: true 3, predicted 5" in caption.value for caption in app.caption)
