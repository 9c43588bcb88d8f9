"""Per-checkpoint results on disk (store.derived): shipped for every shipped checkpoint, keyed by
the weights' content, exact where it matters (the answers), recomputed when damaged."""
import json
import shutil

import numpy as np
import pytest
import torch

from mnist_core.store import derived
from mnist_core.store.shipped import CHECKPOINT_DIR, list_checkpoints

SHIPPED = [record for record in list_checkpoints()[0] if record.kind == "shipped"]


@pytest.mark.parametrize("record", SHIPPED, ids=lambda record: record.name)
def test_every_shipped_checkpoint_ships_its_test_predictions_and_they_match_its_record(record, mnist, monkeypatch,
                                                                                       tmp_path):
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path))  # nothing may be computed: it must be shipped
    weights = CHECKPOINT_DIR / f"{record.name}.pt"
    name = derived.log_probs_name(weights, derived.content_digest(weights), len(mnist.test))
    assert (derived.shipped_dir() / name).is_file(), f"run `python -m mnist_core derive --ship` for {record.name}"
    log_probs = derived.test_log_probs(weights, mnist.test)
    accuracy = 100 * (log_probs.argmax(1) == mnist.test.labels).float().mean().item()
    assert accuracy == pytest.approx(record.summary.final_test_acc, abs=0.005)
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(len(log_probs)), atol=2e-2)
    assert not list(tmp_path.rglob("*.npz"))


def test_compact_log_probs_keep_every_answer_even_at_near_ties():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2000, 10, generator=generator)
    logits[:, 3] = logits[:, 7] + 1e-5  # ties that float16 rounding would break either way
    compact = derived.compact_log_probs(logits)
    assert compact.dtype == np.float16
    assert (compact.argmax(1) == logits.argmax(1).numpy()).all()


def test_a_copy_reuses_the_result_and_a_damaged_file_is_computed_again(tmp_path, monkeypatch, tiny):
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "renamed.pt"
    shutil.copy(CHECKPOINT_DIR / "frontier.pt", copy)
    first = derived.test_log_probs(copy, tiny.test)  # 200 images: not shipped, so computed
    files = list((tmp_path / "cache").rglob("*.npz"))
    assert len(files) == 1 and first.shape == (200, 10)
    files[0].write_bytes(b"not a zip")
    again = derived.test_log_probs(copy, tiny.test)
    assert torch.equal(first, again)
    assert derived.is_derived(copy, 200, limit=2000) is False  # no robustness probe yet


def _npz(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _flip(raw: bytes) -> bytes:
    middle = len(raw) // 2
    return raw[:middle] + bytes([raw[middle] ^ 0xFF]) + raw[middle + 1:]


LOG_PROBS_DAMAGE = {  # what a cut copy, a bad disk or a hand-made file leaves: each must read as a miss
    "truncated": lambda raw: raw[: len(raw) // 2],
    "bit-flipped": _flip,
    "empty": lambda raw: b"",
    "not a zip": lambda raw: b"not a zip",
    "wrong shape": lambda raw: _npz(log_probs=np.zeros((5, 10), np.float16)),
    "integers": lambda raw: _npz(log_probs=np.zeros((200, 10), np.int64)),
    "NaN": lambda raw: _npz(log_probs=np.full((200, 10), np.nan, np.float16)),
    "another array": lambda raw: _npz(other=np.zeros((200, 10), np.float16)),
    "a pickle": lambda raw: _npz(log_probs=np.array([None, {}], dtype=object)),
}
PROBE_DAMAGE = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "null": lambda raw: b"null",
    "empty list": lambda raw: b"[]",
    "an object": lambda raw: b'{"rows": []}',
    "wrong rows": lambda raw: b'[{"perturbation": 1, "strength": "x"}]',
    "NaN accuracy": lambda raw: b'[{"perturbation": "rotation", "strength": 5, "accuracy": NaN}]',
    "not UTF-8": lambda raw: b"\xff\xfe[",
}


@pytest.fixture
def places(tmp_path, monkeypatch):
    """A cache and a checkpoints folder of this test's own (MNIST_CACHE, MNIST_CHECKPOINTS), with a
    copy of frontier's weights in the latter."""
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MNIST_CHECKPOINTS", str(tmp_path / "checkpoints"))
    (tmp_path / "checkpoints").mkdir()
    shutil.copy(CHECKPOINT_DIR / "frontier.pt", tmp_path / "checkpoints" / "copy.pt")
    return tmp_path


def cache_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "mnist_core.training.disk_cache"]


def damaged_once(caplog, path) -> bool:
    lines = cache_lines(caplog)
    return len(lines) == 1 and str(path) in lines[0] and "computing it again" in lines[0]


@pytest.mark.parametrize("where", ["cache", "shipped"])
@pytest.mark.parametrize("damage", LOG_PROBS_DAMAGE, ids=str)
def test_a_damaged_log_probs_entry_is_recomputed_replaced_and_logged_once(damage, where, places, tiny, caplog):
    weights = places / "checkpoints" / "copy.pt"
    first = derived.test_log_probs(weights, tiny.test, ship=where == "shipped")  # 200 images: computed, written
    folder = places / ("checkpoints" if where == "shipped" else "cache") / "derived"  # shipped: $MNIST_CHECKPOINTS
    [path] = folder.glob("*.npz")
    path.write_bytes(LOG_PROBS_DAMAGE[damage](path.read_bytes()))
    with caplog.at_level("WARNING", logger="mnist_core.training.disk_cache"):
        assert torch.equal(derived.test_log_probs(weights, tiny.test), first)
    assert damaged_once(caplog, path)
    caplog.clear()
    assert torch.equal(derived.test_log_probs(weights, tiny.test), first) and not cache_lines(caplog)  # kept
    assert not list((places / "cache" / "derived").glob(".*.tmp"))


@pytest.mark.parametrize("where", ["cache", "shipped"])
@pytest.mark.parametrize("damage", PROBE_DAMAGE, ids=str)
def test_a_damaged_robustness_entry_is_recomputed_replaced_and_logged_once(damage, where, places, tiny, caplog,
                                                                          monkeypatch):
    rows = [{"perturbation": "rotation (degrees)", "strength": 5.0, "accuracy": 0.95}]
    monkeypatch.setattr(derived, "probe", lambda model, test, limit: rows)  # the cache is tested, not the probe
    weights = places / "checkpoints" / "copy.pt"
    first = derived.cached_probe(weights, tiny.test, limit=20, ship=where == "shipped")
    [path] = (places / ("checkpoints" if where == "shipped" else "cache") / "derived").glob("*.json")
    path.write_bytes(PROBE_DAMAGE[damage](path.read_bytes()))
    with caplog.at_level("WARNING", logger="mnist_core.training.disk_cache"):
        assert derived.cached_probe(weights, tiny.test, limit=20) == first
    assert damaged_once(caplog, path)
    caplog.clear()
    assert derived.cached_probe(weights, tiny.test, limit=20) == first and not cache_lines(caplog)


def test_an_unwritable_cache_costs_a_recomputation_not_the_result(places, tiny, monkeypatch, caplog):
    (places / "a-file").write_text("")
    monkeypatch.setenv("MNIST_CACHE", str(places / "a-file"))
    weights = places / "checkpoints" / "copy.pt"
    with caplog.at_level("WARNING", logger="mnist_core.training.disk_cache"):
        assert derived.test_log_probs(weights, tiny.test).shape == (200, 10)
    assert "cannot keep" in caplog.text


def test_changes_and_evaluate_heal_a_damaged_shipped_entry(places, mnist, cli, caplog):
    """The page and the verb that read checkpoints/derived/ (here $MNIST_CHECKPOINTS/derived/) go on
    when a shipped entry is bit-flipped: computed again, into the cache, with one line."""
    from streamlit.testing.v1 import AppTest

    checkpoints = places / "checkpoints"
    (checkpoints / "derived").mkdir()
    for stem in ("frontier", "writeup004"):
        for suffix in (".pt", ".json"):
            shutil.copy(CHECKPOINT_DIR / f"{stem}{suffix}", checkpoints / f"{stem}{suffix}")
        weights = CHECKPOINT_DIR / f"{stem}.pt"
        name = derived.log_probs_name(weights, derived.content_digest(weights), len(mnist.test))
        shutil.copy(CHECKPOINT_DIR / "derived" / name, checkpoints / "derived" / name)
    [shipped] = (checkpoints / "derived").glob("frontier-*.npz")
    shipped.write_bytes(_flip(shipped.read_bytes()))
    with caplog.at_level("WARNING", logger="mnist_core.training.disk_cache"):
        app = AppTest.from_file(str(CHECKPOINT_DIR.parent / "pages" / "evaluate.py"), default_timeout=60)
        app.query_params["evaluate_model"] = "frontier"
        app.run()
        assert not app.exception and app.selectbox[0].value == "frontier"
        assert any(metric.value == "99.37%" for metric in app.metric)
        assert damaged_once(caplog, shipped)
        for healed in (places / "cache").rglob("frontier-*.npz"):
            healed.unlink()  # the page healed it into the cache: the verb must meet the damage too
        caplog.clear()
        result = cli("changes", "--old", "frontier", "--new", "writeup004", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["old_acc"] == pytest.approx(99.37) and damaged_once(caplog, shipped)
