"""MNIST as in-memory tensors: files checked, loaded once, normalized once.

The data root comes from the MNIST_DATA environment variable (default ./data). Files are the
official IDX files under <root>/MNIST/raw/ (plain or .gz). Sizes and IDX magic numbers are checked;
anything missing or corrupt raises `DatasetError` naming the expected path. Batching and
augmentation are left to training/loop.py and augment.py: this module only serves tensors.
"""
from __future__ import annotations

import functools
import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
BACKGROUND = (0.0 - MNIST_MEAN) / MNIST_STD  # value of a blank pixel after normalization
VALIDATION_SEED = 20240917  # fixed: the validation split never changes between runs
OFFICIAL_TRAIN_IMAGES = 60_000  # in the official training files; the validation split is held out of them
VALIDATION_IMAGES = 5_000  # the default validation split


def images_per_epoch(limit: int | None = None, validation_size: int = VALIDATION_IMAGES) -> int:
    """Training images one epoch sees: the training split (60,000 minus the validation images: 55,000
    by default), or `limit` when it is smaller."""
    split = OFFICIAL_TRAIN_IMAGES - validation_size
    return min(limit or split, split)

# name -> (IDX magic, expected shape)
FILES = {
    "train-images-idx3-ubyte": (2051, (60000, 28, 28)),
    "train-labels-idx1-ubyte": (2049, (60000,)),
    "t10k-images-idx3-ubyte": (2051, (10000, 28, 28)),
    "t10k-labels-idx1-ubyte": (2049, (10000,)),
}


class DatasetError(RuntimeError):
    """MNIST is missing or corrupt; the message names the path and how to fix it."""


@dataclass(frozen=True)
class Split:
    images: torch.Tensor  # (N, 1, 28, 28) float32, normalized
    labels: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, count: int | None) -> "Split":
        return self if count is None else Split(self.images[:count], self.labels[:count])


@dataclass(frozen=True)
class MNIST:
    train: Split
    validation: Split
    test: Split
    root: Path


def data_root() -> Path:
    return Path(os.environ.get("MNIST_DATA", "data")).expanduser()


def raw_dir(root: Path | str | None = None) -> Path:
    return Path(root if root is not None else data_root()) / "MNIST" / "raw"


def normalize(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) with the MNIST mean/std."""
    return ((images_uint8.float() / 255.0 - MNIST_MEAN) / MNIST_STD).unsqueeze(1).contiguous()


def read_idx(path: Path, magic: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Read one IDX file, checking magic number, dimensions and size."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as error:  # zlib.error: a corrupt deflate body in a .gz
        raise DatasetError(f"cannot read MNIST file {path}: {error}") from None
    header = 4 + 4 * len(shape)
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise DatasetError(f"{path} is not an MNIST IDX file (bad magic number; expected {magic})")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(len(shape)))
    expected_size = header + int(torch.tensor(shape).prod())
    if dims != shape or len(raw) != expected_size:
        raise DatasetError(
            f"{path} is corrupt: dimensions {dims}, {len(raw)} bytes; expected {shape}, {expected_size} bytes")
    data = torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8)
    if len(shape) == 1 and int(data.max()) > 9:  # a label file: classes 0..9 only
        bad = int((data > 9).nonzero()[0])
        raise DatasetError(f"{path} is corrupt: label {int(data[bad])} at index {bad} is not a digit 0-9")
    return data.reshape(shape)


def find_file(root: Path, name: str) -> Path | None:
    for candidate in (raw_dir(root) / name, raw_dir(root) / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def try_download(root: Path) -> None:
    """Only for the default ./data root: the ordinary torchvision download (fails offline)."""
    try:
        import torchvision

        torchvision.datasets.MNIST(str(root), train=True, download=True)
        torchvision.datasets.MNIST(str(root), train=False, download=True)
    except Exception:  # noqa: BLE001 - any failure is reported below as "missing"
        pass


def check_files(root: Path | str | None = None, download: bool = True) -> dict[str, Path]:
    """Paths of the four IDX files, or DatasetError naming what is missing."""
    root = Path(root) if root is not None else data_root()
    found = {name: find_file(root, name) for name in FILES}
    if any(path is None for path in found.values()) and download and "MNIST_DATA" not in os.environ:
        try_download(root)
        found = {name: find_file(root, name) for name in FILES}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise DatasetError(
            f"MNIST not found: expected {', '.join(missing)} in {raw_dir(root).resolve()}. "
            "Set MNIST_DATA to the folder that contains MNIST/raw/ (e.g. MNIST_DATA=../shared/data).")
    return found


TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@functools.lru_cache(maxsize=4)
def load_raw_test(root: str) -> dict[str, torch.Tensor]:
    """The two test IDX files only (8 MB, cached per root): what the app's pages need. The
    training files are checked for presence, not read."""
    paths = check_files(root)
    return {name: read_idx(paths[name], *FILES[name]) for name in TEST_FILES}


@functools.lru_cache(maxsize=4)
def load_raw(root: str) -> dict[str, torch.Tensor]:
    """The four IDX files as uint8 tensors (cached per root for the process); the test files are
    load_raw_test's, so a process that reads both holds them once."""
    paths = check_files(root)
    raw = {name: read_idx(paths[name], *FILES[name]) for name in FILES if name not in TEST_FILES}
    return {**raw, **load_raw_test(root)}


def verify_files(root: Path | str | None = None) -> None:
    """Read and check all four files (DatasetError naming a missing or corrupt one) without
    keeping them: ~0.2 s, and nothing stays in memory."""
    root = Path(root) if root is not None else data_root()
    for name, path in check_files(root).items():
        read_idx(path, *FILES[name])


def validation_indices(validation_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train_idx, val_idx): a fixed, seed-independent split of the 60k training images."""
    order = torch.randperm(OFFICIAL_TRAIN_IMAGES, generator=torch.Generator().manual_seed(VALIDATION_SEED))
    return order[validation_size:].sort().values, order[:validation_size].sort().values


def load_mnist(root: Path | str | None = None, validation_size: int = 5000) -> MNIST:
    """Train / validation / test splits as normalized tensors."""
    root = Path(root) if root is not None else data_root()
    raw = load_raw(str(root))
    images = normalize(raw["train-images-idx3-ubyte"])
    labels = raw["train-labels-idx1-ubyte"].long()
    train_idx, val_idx = validation_indices(validation_size)
    return MNIST(
        train=Split(images[train_idx], labels[train_idx]),
        validation=Split(images[val_idx], labels[val_idx]),
        test=Split(normalize(raw["t10k-images-idx3-ubyte"]), raw["t10k-labels-idx1-ubyte"].long()),
        root=root,
    )


def without_test(data: MNIST) -> MNIST:
    """The training and validation splits, and no test images at all: what a search trains on, so
    that no choice made from its results can have looked at the test set."""
    return MNIST(train=data.train, validation=data.validation, test=data.test.head(0), root=data.root)


def load_test(root: Path | str | None = None) -> Split:
    """The test split alone, normalized like load_mnist's (31 MB, against ~280 MB for all three
    splits): evaluation, comparison and promotion need nothing else."""
    root = Path(root) if root is not None else data_root()
    raw = load_raw_test(str(root))
    return Split(normalize(raw["t10k-images-idx3-ubyte"]), raw["t10k-labels-idx1-ubyte"].long())


def train_images_head(count: int, root: Path | str | None = None, validation_size: int = 5000) -> torch.Tensor:
    """The first `count` images of load_mnist's training split, normalized, without keeping the
    training files in memory (the Train page's augmentation preview)."""
    root = Path(root) if root is not None else data_root()
    name = "train-images-idx3-ubyte"
    images = read_idx(check_files(root)[name], *FILES[name])
    train_idx, _ = validation_indices(validation_size)
    return normalize(images[train_idx[:count]])


def test_images_uint8(root: Path | str | None = None) -> torch.Tensor:
    """The raw 10k test images (for galleries and previews)."""
    root = Path(root) if root is not None else data_root()
    return load_raw_test(str(root))["t10k-images-idx3-ubyte"]
