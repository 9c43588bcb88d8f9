"""A validation search: each candidate of a JSON file trained per seed with the test split out of
memory (`mnist_core.perf.search.validation_trial`), one JSON line each.

    python -m scripts.candidate_search docs/searches/frontier_larger_maps.json [--seeds 1 2] [--only 0 2]

The file: {"about": "...", "candidates": [{"name": "...", "model": "frontier"} or {"name": "...",
"spec": {...}, "recipe": "frontier"}, optionally "settings": {TrainConfig fields}]}. Prints the
machine first. Earlier searches and their results: docs/searches/ and docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mnist_core.data.mnist import load_mnist
from mnist_core.perf.search import validation_trial
from mnist_core.training.machine import machine_info
from mnist_core.training.recipes import default_config, spec_config


def candidate_config(candidate: dict, seed: int):
    settings = {**candidate.get("settings", {}), "seed": seed}
    if "spec" in candidate:
        return spec_config(candidate["spec"], candidate.get("recipe", "writeup004"), **settings)
    return default_config(candidate["model"], candidate.get("recipe"), **settings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", type=Path, help="JSON file of candidates (see docs/searches/)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1], help="seeds per candidate (default 1)")
    parser.add_argument("--only", type=int, nargs="+", help="only these candidates (0-based indices)")
    args = parser.parse_args()
    candidates = json.loads(args.candidates.read_text())["candidates"]
    chosen = args.only if args.only is not None else range(len(candidates))
    data = load_mnist()
    print(json.dumps(machine_info()), flush=True)
    for index in chosen:
        for seed in args.seeds:
            result = validation_trial(candidate_config(candidates[index], seed), data)
            print(json.dumps({"candidate": candidates[index]["name"], "seed": seed, **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
