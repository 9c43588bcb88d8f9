"""The measuring tools, on tiny data: side-by-side epoch timing, time to a target."""
import pytest

from mnist_core.perf.epoch_timing import epoch_seconds, first_epoch_reaching
from mnist_core.perf.seeds import seeds_table, time_to_target
from mnist_core.training.recipes import default_config

HISTORY = [{"epoch": 1, "partial": False, "test_acc": 98.0, "seconds": 5.0},
           {"epoch": 2, "partial": False, "test_acc": 99.45, "seconds": 6.0},
           {"epoch": 3, "partial": True, "test_acc": 99.6, "seconds": 2.0}]


def test_time_to_target_sums_epoch_seconds_until_the_first_epoch_reaching_it():
    assert time_to_target(HISTORY, 99.4) == (2, 11.0)
    assert time_to_target(HISTORY, 99.5) == (None, None)  # a partial epoch does not count
    assert first_epoch_reaching(HISTORY, 97.0) == 1 and first_epoch_reaching(HISTORY, 99.9) is None


def test_seeds_table_reports_each_seed_and_misses():
    seeds = [{"seed": s, "final_test_acc": acc, "final_val_acc": 99.0, "best_test_acc": acc, "best_test_epoch": 6,
              "epochs": 6, "wall_seconds": 50.0, "train_seconds": 45.0, "target_epoch": epoch,
              "seconds_to_target": seconds} for s, acc, epoch, seconds in ((1, 99.5, 5, 40.0), (2, 99.3, None, None))]
    text = seeds_table({"target": 99.4, "seeds": seeds, "mean_final_test_acc": 99.4,
                        "median_seconds_to_target": 40.0, "seeds_reaching_target": 1})
    assert "40.0 s (epoch 5)" in text and "not reached" in text and "1 of 2 seeds, median 40.0 s" in text


def test_epoch_seconds_times_two_recipes_side_by_side(tiny_data):
    configs = {"writeup": default_config("writeup001_iter3"), "fast": default_config("writeup001_iter3", "fast")}
    result = epoch_seconds(configs, tiny_data, batches=2, warmup=1)
    assert set(result) == {"writeup", "fast"}
    assert result["writeup"]["batches_per_epoch"] == 256 // 64 and result["fast"]["batches_per_epoch"] == 1
    for figures in result.values():
        assert figures["batch_ms"] > 0 and figures["eval_seconds"] > 0
        assert figures["epoch_seconds"] == pytest.approx(
            figures["batch_ms"] / 1e3 * figures["batches_per_epoch"] + figures["eval_seconds"])
    with pytest.raises(ValueError, match="batches must be"):
        epoch_seconds(configs, tiny_data, batches=0)


def test_a_validation_trial_never_reads_the_test_split(tiny, monkeypatch):
    """What every search script runs per candidate: trained and judged on validation alone."""
    from mnist_core.perf import search

    seen = []
    real_fit = search.fit

    def fit(config, data, **kwargs):
        seen.append(len(data.test))
        state = real_fit(config, data, **kwargs)
        seen.append(sorted(key for row in state.history for key in row if key.startswith("test_")))
        return state

    monkeypatch.setattr(search, "fit", fit)
    result = search.validation_trial(
        default_config("frontier", epochs=1, limit=256, eval_limit=200, batch_size=32), tiny
    )
    assert seen == [0, []]  # no test image was in memory, and no test figure was computed
    assert result["status"] == "finished" and result["params"] == 3962 and result["epochs"] == 1
    assert 0 < result["final_val_acc"] <= 100 and result["rows"][0][0] == 1
