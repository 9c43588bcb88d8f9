"""Significance of a difference: the exact McNemar test, the Welch interval over seeds, the `changes`
verb and the sentence on the Compare page."""
import json
import math
import statistics
from fractions import Fraction
from pathlib import Path

import pytest

from mnist_core.analysis.significance import (
    mcnemar_p_value,
    mcnemar_sentence,
    student_t_cdf,
    student_t_quantile,
    welch_interval,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def runs_folder(tmp_path, monkeypatch):
    """An empty runs folder: only the shipped checkpoints are trained models here."""
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def hand_mcnemar(fixed: int, broke: int) -> float:
    """p = min(1, 2 P[X <= min(b, c)]), X ~ Binomial(b + c, 1/2), term by term."""
    n = fixed + broke
    tail = sum(Fraction(math.comb(n, k), 2 ** n) for k in range(min(fixed, broke) + 1))
    return float(min(1, 2 * tail))


@pytest.mark.parametrize("fixed, broke", [(44, 38), (38, 44), (10, 0), (0, 0), (1, 1), (30, 12), (300, 250)])
def test_mcnemar_is_the_exact_two_sided_binomial_test(fixed, broke):
    assert mcnemar_p_value(fixed, broke) == pytest.approx(hand_mcnemar(fixed, broke), rel=1e-12)


def test_mcnemar_small_cases_by_hand():
    assert mcnemar_p_value(0, 0) == 1.0  # never disagree: no evidence at all
    assert mcnemar_p_value(5, 0) == 2 / 32
    assert mcnemar_p_value(3, 3) == 1.0
    assert mcnemar_p_value(44, 38) == pytest.approx(0.5811, abs=1e-4)


def test_sentences_say_what_the_test_means():
    assert "not distinguishable from noise at 5%" in mcnemar_sentence(44, 38, 0.58, "a", "b")
    significant = mcnemar_sentence(38, 14, 0.0012, "frontier", "best_small")
    assert significant.startswith("best_small is better than frontier on this test set beyond chance")
    assert "McNemar" in significant and "not their recipes" in significant


@pytest.mark.parametrize("df, quantile", [(1, 12.706205), (2, 4.302653), (4, 2.776445), (10, 2.228139),
                                          (30, 2.042272)])
def test_student_t_quantiles_match_the_tables(df, quantile):
    assert student_t_quantile(0.975, df) == pytest.approx(quantile, abs=1e-5)
    assert student_t_cdf(quantile, df) == pytest.approx(0.975, abs=1e-6)  # tables give 6 digits
    assert student_t_quantile(0.025, df) == pytest.approx(-quantile, abs=1e-5)


def test_welch_interval_by_hand():
    # variances 1 and 1, n = 3 each: standard error sqrt(2/3), Welch df exactly 4
    interval = welch_interval([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert interval["difference"] == pytest.approx(3.0)
    assert interval["df"] == pytest.approx(4.0)
    half = 2.776445 * math.sqrt(2 / 3)
    assert interval["low"] == pytest.approx(3.0 - half, abs=1e-5)
    assert interval["high"] == pytest.approx(3.0 + half, abs=1e-5)
    assert welch_interval([1.0], [2.0, 3.0]) is None  # one seed: no spread to estimate


def test_changes_verb_acceptance(cli):
    result = cli("changes", "--old", "writeup001_iter3", "--new", "writeup001_iter4", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))
    assert (report["fixed"], report["broke"]) == (44, 38)
    assert report["p_value"] == pytest.approx(hand_mcnemar(44, 38), rel=1e-12)
    assert report["p_value"] == pytest.approx(0.58, abs=0.005)
    records = {name: json.loads((ROOT / "checkpoints" / f"{name}.json").read_text())
               for name in ("writeup001_iter3", "writeup001_iter4")}
    assert report["old_acc"] == pytest.approx(records["writeup001_iter3"]["summary"]["final_test_acc"], abs=0.01)
    assert report["new_acc"] == pytest.approx(records["writeup001_iter4"]["summary"]["final_test_acc"], abs=0.01)
    assert "not distinguishable from noise at 5%" in report["sentence"]
    # both have 3 seeds (checkpoints/<name>_seeds.json): the difference of means with its interval
    finals = {name: [seed["final_test_acc"] for seed in json.loads(
        (ROOT / "checkpoints" / f"{name}_seeds.json").read_text())["seeds"]] for name in records}
    interval = welch_interval(finals["writeup001_iter3"], finals["writeup001_iter4"])
    assert report["seed_diff"] == pytest.approx(interval["difference"])
    assert report["seed_ci"] == pytest.approx([interval["low"], interval["high"]])
    text = cli("changes", "--old", "writeup001_iter3", "--new", "writeup001_iter4")
    assert "fixed 44" in text.stdout and "broke 38" in text.stdout and "p = 0.58" in text.stdout


def test_changes_with_seed_studies_gives_a_welch_interval(cli):
    result = cli("changes", "--old", "frontier", "--new", "best_small", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    finals = {name: [seed["final_test_acc"] for seed in json.loads(
        (ROOT / "checkpoints" / f"{name}_seeds.json").read_text())["seeds"]] for name in ("frontier", "best_small")}
    expected = statistics.mean(finals["best_small"]) - statistics.mean(finals["frontier"])
    assert report["seed_diff"] == pytest.approx(expected)
    low, high = report["seed_ci"]
    assert low < report["seed_diff"] < high
    assert report["seed_test"] == "Welch t, 95% interval" and report["seed_counts"] == [3, 3]
    assert "Welch t" in report["seed_sentence"]


def test_changes_resolves_run_names_and_refuses_unknown_ones(cli, tiny, runs_folder):
    from mnist_core.lab import launch
    from mnist_core.training.recipes import default_config

    launch.train_run(default_config("writeup004", epochs=1, limit=256, eval_limit=200), runs_folder, name="tiny-run",
                   data=tiny)
    for name in ("tiny-run", "run:tiny-run"):
        result = cli("changes", "--old", "writeup004", "--new", name, "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["new"] == "run:tiny-run" and report["fixed"] + report["broke"] > 0
    missing = cli("changes", "--old", "writeup004", "--new", "no-such-model")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "no checkpoint or finished run named 'no-such-model'" in missing.stderr


def test_compare_page_says_whether_the_change_is_beyond_noise():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=60).run()
    assert not app.exception
    assert any("not distinguishable from noise at 5%" in m.value and "McNemar" in m.value for m in app.markdown)
    app.session_state["compare_choice"] = ["frontier", "best_small"]
    app.run()
    assert not app.exception
    assert any("better beyond seed noise" in m.value and "Welch t" in m.value for m in app.markdown)
