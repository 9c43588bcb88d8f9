"""Long measurements and one-off tools, run from the repository root as `python -m scripts.NAME`
(so `mnist_core` and `tests` import as they are, with no path edits): bench_app, load_test,
screenshots (browser), seeds (a model over seeds: the test set read once), candidate_search (a
validation search), fast_recipes, calibrate_uncertainty."""
