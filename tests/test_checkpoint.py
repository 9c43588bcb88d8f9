"""Checkpoints: round trip, and clear refusals of pickles, unknown names, wrong shapes, junk."""
import pytest
import torch

from mnist_core.models import create_model
from mnist_core.store.checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    torch.manual_seed(0)
    model = create_model("writeup002").eval()
    path = save_checkpoint(tmp_path / "m.pt", model, "writeup002", {"epochs": 3},
                           [{"epoch": 1, "test_acc": 50.0}], {"final_test_acc": 50.0})
    loaded, checkpoint = load_model(path)
    x = torch.randn(4, 1, 28, 28)
    assert torch.equal(model(x), loaded(x))
    assert checkpoint.model_name == "writeup002" and checkpoint.config == {"epochs": 3}
    assert checkpoint.history[0]["test_acc"] == 50.0 and checkpoint.metrics["params"] == 19578
    assert checkpoint.versions["torch"] and checkpoint.created_at
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_pickled_object_is_refused(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save(create_model("writeup000"), path)  # a whole module: needs unpickling code
    with pytest.raises(CheckpointError, match="pickled"):
        load_checkpoint(path)


def test_unknown_model_and_wrong_shapes_are_refused(tmp_path):
    model = create_model("writeup001_iter2")
    save_checkpoint(tmp_path / "a.pt", model, "writeup001_iter2")
    payload = torch.load(tmp_path / "a.pt", weights_only=True)
    payload["model"] = "no_such_model"
    torch.save(payload, tmp_path / "unknown.pt")
    with pytest.raises(CheckpointError, match="unknown model 'no_such_model'"):
        load_checkpoint(tmp_path / "unknown.pt")
    payload["model"] = "writeup001_iter3"  # same family, but BN layers are missing
    torch.save(payload, tmp_path / "shapes.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(tmp_path / "shapes.pt")


def test_junk_and_missing_files_are_refused(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not an mnist_core checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.pt")
