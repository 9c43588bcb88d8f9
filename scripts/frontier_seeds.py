"""Train a registered model's recipe over several seeds and write checkpoints/<model>_seeds.json:
final / best test accuracy per seed and the wall time until the test accuracy first reaches a
target at an epoch end. Seed 1's run is shipped as checkpoints/<model>.pt/.json.

    python scripts/frontier_seeds.py [--model frontier] [--seeds 1 2 3] [--target 99.4]
    python scripts/frontier_seeds.py --model best_small --target 99.65
    python scripts/frontier_seeds.py --table [--model M]   # print the last results again

This is the one reading of the test set for a candidate chosen on the validation split.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.data.mnist import load_mnist  # noqa: E402
from mnist_core.perf.seeds import seeds_table, train_seeds  # noqa: E402
from mnist_core.store.records import write_json  # noqa: E402
from mnist_core.store.shipped import CHECKPOINT_DIR  # noqa: E402
from mnist_core.training.callbacks import ProgressPrinter  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="frontier", help="registered model with its default recipe")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds to train")
    parser.add_argument("--target", type=float, default=99.4, help="test accuracy target (percent)")
    parser.add_argument("--table", action="store_true",
                        help="only print the table of the last results (checkpoints/<model>_seeds.json)")
    args = parser.parse_args()
    path = CHECKPOINT_DIR / f"{args.model}_seeds.json"
    if args.table:
        print(seeds_table(json.loads(path.read_text())))
        return 0
    report = train_seeds(args.model, args.seeds, args.target, load_mnist(), CHECKPOINT_DIR,
                         Path("runs") / "seeds", callbacks=[ProgressPrinter()],
                         log=lambda line: print(line, file=sys.stderr))
    write_json(path, report)
    print(seeds_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
