"""Train the not-a-digit networks (both ways: an eleventh class, and outlier exposure to a uniform
output) on MNIST's training split and generated drawings; write their weights under
checkpoints/reject/ (reject.pt: the eleven-class one the app uses; reject_oe.pt: the other, kept
for the comparison in docs/uncertainty.md).

    nice -n 19 python -m scripts.train_reject [--variants class11 oe] [--epochs 6]

The generated drawings are painted and preprocessed once and cached in $MNIST_CACHE/reject/
(7 minutes at nice 19 on 2 busy cores), as are 20,000 training digits enlarged smoothly (under a
minute); each network then trains in 3-5 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import io
import sys
import time

import numpy as np
import torch

from mnist_core.analysis.reject import WEIGHTS, save_reject
from mnist_core.data.mnist import data_root, load_mnist, load_raw, validation_indices
from mnist_core.training.disk_cache import cache_root, read_cached, write_cached
from mnist_core.training.machine import machine_info
from mnist_core.training.reject import (
    ENLARGED_DIGITS,
    FIT_COUNTS,
    FIT_SEED,
    TRAIN_COUNTS,
    VARIANTS,
    RejectTraining,
    drawn_bank,
    enlarged_bank,
    train_reject,
)

OTHER_WEIGHTS = {"class11": WEIGHTS, "oe": WEIGHTS.with_name("reject_oe.pt")}


def training_digits() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's training split (never the validation split) as uint8 images and labels."""
    raw = load_raw(str(data_root()))
    train = validation_indices(5000)[0]
    return raw["train-images-idx3-ubyte"][train].numpy(), raw["train-labels-idx1-ubyte"][train].numpy()


def cached_bank(name: str, counts: dict, first_seed: int, make=None) -> dict:
    """A bank of inputs (by default the drawn one, `drawn_bank(counts, first_seed)`), from
    $MNIST_CACHE/reject/<name>.npz when it was made with these counts."""
    path = cache_root() / "reject" / f"{name}.npz"
    key = repr(sorted(counts.items())) + f"@{first_seed}"

    def decode(raw: bytes) -> dict | None:  # a damaged file raises: read_cached logs it and it is painted again
        with np.load(io.BytesIO(raw), allow_pickle=False) as saved:
            return {name: saved[name] for name in ("images", "labels", "kinds")} if str(saved["key"]) == key else None

    if (bank := read_cached(path, decode)) is not None:
        return bank
    started = time.perf_counter()
    bank = make() if make is not None else drawn_bank(counts, first_seed)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, key=np.array(key), **bank)
    write_cached(path, buffer.getvalue())
    print(f"{name}: {len(bank['labels']):,} drawings painted and preprocessed in {time.perf_counter() - started:.0f} s")
    return bank


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(2)
    bank = cached_bank("train", TRAIN_COUNTS, 0)
    large = cached_bank("enlarged", {"enlarged digit": ENLARGED_DIGITS}, args.seed,
                        make=lambda: enlarged_bank(*training_digits(), ENLARGED_DIGITS, args.seed))
    bank = {key: np.concatenate([bank[key], large[key]]) for key in ("images", "labels", "kinds")}
    cached_bank("fit", FIT_COUNTS, FIT_SEED)  # made now so that calibration finds it ready
    data = load_mnist()
    for variant in args.variants:
        settings = RejectTraining(variant=variant, epochs=args.epochs, seed=args.seed)
        started = time.perf_counter()
        model = train_reject(data.train.images, data.train.labels, bank, settings,
                             on_epoch=lambda e, loss, s: print(f"{variant} epoch {e}: loss {loss:.4f} ({s:.0f} s)"))
        seconds = time.perf_counter() - started
        about = {"variant": variant, "settings": vars(settings),
                 "train_counts": {**TRAIN_COUNTS, "enlarged digit": len(large["labels"])},
                 "mnist_train_images": len(data.train.labels), "seconds": round(seconds, 1),
                 "machine": machine_info(), "torch": torch.__version__}
        save_reject(model, OTHER_WEIGHTS[variant], about)
        print(f"{variant}: trained in {seconds:.0f} s -> {OTHER_WEIGHTS[variant]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
