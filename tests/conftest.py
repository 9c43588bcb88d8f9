"""Shared fixtures: the real MNIST (from MNIST_DATA) and small slices of it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "MNIST_DATA" not in os.environ and (ROOT.parent / "shared" / "data" / "MNIST").is_dir():
    os.environ["MNIST_DATA"] = str(ROOT.parent / "shared" / "data")

torch.set_num_threads(2)

from mnist_core.data.mnist import MNIST, Split, load_mnist  # noqa: E402


@pytest.fixture(scope="session")
def mnist() -> MNIST:
    return load_mnist()


@pytest.fixture(scope="session")
def tiny(mnist) -> MNIST:
    """256 training images, 200 validation and 200 test images: enough for a couple of batches."""
    return MNIST(train=mnist.train.head(256), validation=mnist.validation.head(200),
                 test=mnist.test.head(200), root=mnist.root)


@pytest.fixture
def tiny_data(tiny) -> MNIST:
    return tiny


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory):
    """A runs folder shared by the tests of one module (a browser test's server writes into it)."""
    return tmp_path_factory.mktemp("runs")
