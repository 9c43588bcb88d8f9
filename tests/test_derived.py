"""Per-checkpoint results on disk (store.derived): shipped for every shipped checkpoint, keyed by
the weights' content, exact where it matters (the answers), recomputed when damaged."""
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
    assert (derived.SHIPPED_DIR / name).is_file(), f"run `python -m mnist_core derive --ship` for {record.name}"
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
