"""The sweep verb: search a recipe's settings with Optuna on the validation split, every trial a
run (mnist_core.lab.sweep)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..data import mnist as mnist_data
from ..models import list_models
from ..training.config import ConfigError
from .common import positive_int, print_json, read_spec
from .run_verbs import add_device_flag


def add_verbs(verbs) -> dict:
    """The sweep verb; returns {verb: handler}."""
    sweep = verbs.add_parser("sweep", help="search a recipe's settings with Optuna on the validation split; "
                                           "every trial is a run (the test split is never read); "
                                           "`sweep import STUDY --trial N`: bring a trial in as a run")
    sweep.add_argument("action", nargs="?", choices=("import",),
                       help="import: bring trial --trial of STUDY (from --storage) into this runs folder as a run")
    sweep.add_argument("study_name", nargs="?", metavar="STUDY", help="import: the study's name")
    sweep.add_argument("--trial", type=int, help="import: the trial's number")
    sweep.add_argument("--as", dest="new_name", help="import: the run's name here (default: the trial's run name)")
    chosen = sweep.add_mutually_exclusive_group()
    chosen.add_argument("--model", help=f"architecture name ({', '.join(list_models())})")
    chosen.add_argument("--spec", type=Path, help="a network built from blocks: a JSON spec (see README)")
    sweep.add_argument("--recipe", help="the recipe the search starts from (default: the model's write-up's)")
    sweep.add_argument("--trials", type=positive_int, default=20,
                       help="trials in the whole study, every worker together (default 20)")
    sweep.add_argument("--space", type=Path,
                       help='JSON: the settings that vary, e.g. {"lr": {"low": 0.01, "high": 0.3, "log": true}, '
                            '"batch_size": {"choices": [64, 128]}} (default: the recipe family\'s; --json shows it)')
    sweep.add_argument("--epochs", type=positive_int, help="epochs per trial (default: the recipe's)")
    sweep.add_argument("--limit", type=positive_int, help="use only N training images and N validation images")
    sweep.add_argument("--seed", type=int, help="random seed of every trial's run (default: the recipe's)")
    sweep.add_argument("--study", help="study name; workers given the same name and storage share it "
                                       "(default: <model>-sweep-<date>-<time>, a new study)")
    sweep.add_argument("--storage", help="journal file, or database URL (sqlite:///f.db, postgresql://...); "
                                         "default: $MNIST_RUNS/.sweeps/<study>.journal (import: "
                                         "$MNIST_SWEEP_STORAGE, else that journal)")
    sweep.add_argument("--max-params", type=positive_int,
                       help="a trial whose network has more parameters fails at once and does not count against "
                            "--trials (for architecture searches: layers.N.FIELD in --space); the study stops "
                            "after 20 such networks per trial")
    sweep.add_argument("--prune-after", type=int, default=0,
                       help="epochs every trial trains before it can be pruned (default 0: from its first epoch; "
                            "a one-cycle schedule's early epochs say little about its last)")
    sweep.add_argument("--startup-trials", type=int, default=2,
                       help="trials that complete before a trial can be pruned (default 2)")
    sweep.add_argument("--heartbeat", type=positive_int, default=10,
                       help="seconds between a trial's heartbeats; a trial silent for 3 of them is failed "
                            "and retried (default 10)")
    sweep.add_argument("--lower-priority", action="store_true",
                       help="train at a lower CPU priority (nice 10, or $MNIST_RUN_NICE), as the app's background "
                            "runs and sweeps do, so that pages stay quick")
    sweep.add_argument("--json", action="store_true",
                       help="print JSON: study, storage, settings (with the space), trials (number, state, params, "
                            "val_acc, run, ...) and best (import: the run's row, as `runs --json`)")
    add_device_flag(sweep)
    return {"sweep": cmd_sweep}


def cmd_sweep(args) -> int:
    import signal
    import threading
    import warnings

    import optuna

    from ..lab.search_space import read_space
    from ..lab.sweep import Sweep, new_study_name, run_sweep
    from ..lab.worker import lower_priority
    from ..training.recipes import default_config, spec_config

    if args.action == "import":
        return cmd_sweep_import(args)
    if args.model is None and args.spec is None:
        raise ConfigError("sweep: give --model NAME or --spec FILE (or `sweep import STUDY --trial N`)")
    if args.lower_priority:
        lower_priority()

    settings = dict(epochs=args.epochs, seed=args.seed, limit=args.limit, eval_limit=args.limit, device=args.device)
    if args.spec is not None:
        base = spec_config(read_spec(args.spec), args.recipe or "writeup004", **settings)
    else:
        base = default_config(args.model, args.recipe, **settings)
    data = mnist_data.load_mnist(validation_size=base.validation_size)
    space = read_space(args.space, base, data) if args.space is not None else None
    sweep = Sweep(base, args.study or new_study_name(base.model), args.trials, space, args.storage,
                  args.startup_trials, args.heartbeat, args.max_params, args.prune_after)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial is ours to print (no tracebacks)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    interrupted = threading.Event()  # Ctrl-C: the trial stops between batches, the sweep after it

    def on_interrupt(*_) -> None:
        if not interrupted.is_set():
            print("interrupted: stopping the running trial after its current batch (Ctrl-C again to quit now)",
                  file=sys.stderr, flush=True)
        interrupted.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: KeyboardInterrupt, one line

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = run_sweep(sweep, data, on_trial=print_trial, stop=interrupted,
                           log=lambda line: print(line, file=sys.stderr, flush=True))
    except (optuna.exceptions.StorageInternalError, OSError) as error:
        raise ConfigError(f"sweep {sweep.study}: its storage failed ({type(error).__name__}: {error}); the trials "
                          f"recorded so far are kept") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print_json(result, indent=1)
    else:
        print_sweep(result)
    if result["interrupted"]:
        return 130
    return 0 if result["best"] is not None else 1


def cmd_sweep_import(args) -> int:
    """`sweep import STUDY --trial N [--storage URL] [--as NAME]`: a trial, trained on any machine,
    as a run of this lab."""
    import os

    from ..lab.sweep_results import import_trial
    from ..lab.sweep_storage import default_storage
    from .run_verbs import run_row

    if args.study_name is None or args.trial is None:
        raise ConfigError("sweep import: give the study and the trial, e.g. sweep import STUDY --trial 3")
    url = args.storage or os.environ.get("MNIST_SWEEP_STORAGE") or default_storage(args.study_name)
    run = import_trial(url, args.study_name, args.trial, name=args.new_name)
    if args.json:
        print_json(run_row(run), indent=1)
    print(f"imported trial {args.trial} of {args.study_name} as run {run.name} ({run.status}): evaluate, compare "
          f"or promote it like any run", file=sys.stderr)
    return 0


def trial_line(row: dict) -> str:
    accuracy = f"val {row['val_acc']:.2f}%" if row["val_acc"] is not None else "val -"
    params = " ".join(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
                      for name, value in row["params"].items())
    return f"trial {row['number']:>3} {row['state']:<8} {accuracy:<11} {params}  ({row['run'] or 'no run'})"


def print_trial(row: dict) -> None:
    print(trial_line(row) + (f": {row['reason']}" if row["state"] != "complete" and row["reason"] else ""),
          file=sys.stderr, flush=True)


def print_sweep(result: dict) -> None:
    print(f"study {result['study']} ({result['storage']}, Optuna {result['optuna']}): {result['objective']}")
    for row in result["trials"]:
        print(trial_line(row))
    best = result["best"]
    if best is None:
        print("no trial completed")
    else:
        print(f"best: trial {best['number']}, val {best['val_acc']:.2f}%, run {best['run']} "
              f"(promote it, or read its test accuracy once, with `promote {best['run']}`)")
