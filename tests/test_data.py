"""Data: file checks with clear errors, the fixed validation split, normalization."""
import shutil

import pytest
import torch

from mnist_core.data.mnist import (
    FILES,
    DatasetError,
    check_files,
    load_test,
    read_idx,
    train_images_head,
    validation_indices,
    verify_files,
)


def make_root(tmp_path, mnist_root, skip=None):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FILES:
        if name != skip:
            shutil.copy(mnist_root / "MNIST" / "raw" / name, raw / name)
    return raw


def test_missing_dataset_names_the_expected_path(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))
    with pytest.raises(DatasetError) as error:
        check_files(tmp_path)
    assert str(tmp_path / "MNIST" / "raw") in str(error.value)
    assert "MNIST_DATA" in str(error.value)


def test_one_missing_file_is_named(tmp_path, mnist, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))
    make_root(tmp_path, mnist.root, skip="t10k-labels-idx1-ubyte")
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        check_files(tmp_path)


def test_bad_magic_and_truncated_files_are_refused(tmp_path, mnist):
    raw = make_root(tmp_path, mnist.root)
    labels = raw / "t10k-labels-idx1-ubyte"
    data = labels.read_bytes()
    labels.write_bytes(b"\x00\x00\x08\x03" + data[4:])
    with pytest.raises(DatasetError, match="magic"):
        read_idx(labels, *FILES["t10k-labels-idx1-ubyte"])
    labels.write_bytes(data[:-10])
    with pytest.raises(DatasetError, match="corrupt"):
        read_idx(labels, *FILES["t10k-labels-idx1-ubyte"])


def test_splits_sizes_normalization_and_fixed_validation(mnist):
    assert (len(mnist.train), len(mnist.validation), len(mnist.test)) == (55000, 5000, 10000)
    assert mnist.train.images.shape[1:] == (1, 28, 28) and mnist.train.images.dtype == torch.float32
    assert abs(mnist.train.images.mean().item()) < 0.05  # normalized once with mean/std
    assert abs(mnist.train.images.std().item() - 1.0) < 0.05
    train_idx, val_idx = validation_indices(5000)
    again_train, again_val = validation_indices(5000)
    assert torch.equal(val_idx, again_val)
    assert len(set(train_idx.tolist()) & set(val_idx.tolist())) == 0
    assert len(set(train_idx.tolist()) | set(val_idx.tolist())) == 60000
    assert sorted(torch.bincount(mnist.validation.labels).tolist())[0] > 400  # all digits present


def test_the_apps_light_loaders_give_what_load_mnist_gives(mnist, tmp_path):
    """The server holds the test split alone: the same tensors as load_mnist's, the
    preview's training images are load_mnist's first ones, and a corrupt training file is still
    refused before a run starts."""
    test = load_test(mnist.root)
    assert torch.equal(test.images, mnist.test.images) and torch.equal(test.labels, mnist.test.labels)
    assert torch.equal(train_images_head(16, mnist.root), mnist.train.images[:16])
    verify_files(mnist.root)  # the real files pass
    raw = make_root(tmp_path, mnist.root)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-5])
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte is corrupt"):
        verify_files(tmp_path)
    load_test(tmp_path)  # the test files alone are fine


def test_cli_reports_missing_data_without_traceback(tmp_path, monkeypatch, capsys):
    from mnist_core.cli import main
    from mnist_core.data.mnist import load_raw
    load_raw.cache_clear()
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "nowhere"))
    code = main(["train", "--model", "writeup000", "--limit", "8", "--out", str(tmp_path / "x.pt")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and str(tmp_path / "nowhere") in err
