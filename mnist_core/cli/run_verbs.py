"""Verbs that train, list and manage runs: train, runs, stop, promote, unpromote, delete, pretrain,
study."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..data import mnist as mnist_data
from ..models import list_models, model_info
from ..store.checkpoint import CheckpointError, check_output_path, copy_checkpoint
from ..store.records import json_safe
from ..training.config import DEVICES, PRECISIONS, ConfigError
from .common import positive_int, print_json, read_spec


def add_verbs(verbs) -> dict:
    """The verbs that train, list and manage runs; returns {verb: handler}."""
    train = verbs.add_parser("train", help="train a model with its write-up's recipe")
    chosen = train.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--model", help=f"architecture name ({', '.join(list_models())})")
    chosen.add_argument("--spec", type=Path, help="a network built from blocks: a JSON spec (see README)")
    train.add_argument("--recipe", help="recipe name (default: the model's write-up's)")
    train.add_argument("--epochs", type=int, help="number of epochs (default: the recipe's)")
    train.add_argument("--seed", type=int, help="random seed (default: the recipe's)")
    train.add_argument("--batch-size", type=int, help="batch size (default: the recipe's)")
    train.add_argument("--lr", type=float, help="learning rate (default: the recipe's)")
    train.add_argument("--precision", choices=PRECISIONS,
                       help="auto: bf16 only where measured faster on this machine (it says why), else fp32; "
                            "bf16: forward pass under bfloat16 autocast (default: the recipe's)")
    train.add_argument("--limit", type=positive_int,
                       help="dry run: use only N training images and N validation/test images")
    train.add_argument("--name", help="run name (default: <model>-<date>-<time>)")
    add_device_flag(train)
    train.add_argument("--out", type=Path,
                       help="also export the final weights to this .pt file (the run folder keeps them anyway)")

    runs = verbs.add_parser("runs", help="list the runs in $MNIST_RUNS (default runs/), newest first; "
                                         "`runs export NAME --out FILE.zip`, `runs import FILE.zip`: move runs")
    runs.add_argument("action", nargs="?", choices=("export", "import"),
                      help="export: one run as a zip file; import: a run's zip file into this runs folder")
    runs.add_argument("target", nargs="?", help="export: the run's name; import: the zip file")
    runs.add_argument("--out", type=Path, help="export: the zip file to write")
    runs.add_argument("--as", dest="new_name", help="import: the name it gets here (default: its own name)")
    runs.add_argument("--json", action="store_true", help="print JSON (the list, or the imported run's row)")

    promote = verbs.add_parser("promote", help="copy a finished run into checkpoints/ (loaded and evaluated first)")
    promote.add_argument("name", help="run name (see `runs`)")
    promote.add_argument("--as", dest="stem", help="checkpoint name (default: the run's name); never overwrites")

    unpromote = verbs.add_parser("unpromote", help="remove a promoted checkpoint (shipped ones are refused)")
    unpromote.add_argument("stem", help="checkpoint name, as promoted")

    delete = verbs.add_parser("delete", help="delete a run folder (refused while it trains)")
    delete.add_argument("name", help="run name (see `runs`)")

    stop = verbs.add_parser("stop", help="ask a training run to stop after its current batch")
    stop.add_argument("name", help="run name (see `runs`)")

    pretrain = verbs.add_parser("pretrain", help="(re)build checkpoints/<model>.pt/.json for every model")
    pretrain.add_argument("--models", nargs="*", help="only these models (default: all registered)")
    pretrain.add_argument("--force", action="store_true", help="retrain even if the files exist")
    pretrain.add_argument("--out", type=Path, help="output directory (default: checkpoints/)")

    study = verbs.add_parser("study", help="queue one ordinary run per seed, tagged as one study, and wait for them")
    study.add_argument("--model", required=True, help=f"architecture name ({', '.join(list_models())})")
    study.add_argument("--seeds", type=int, nargs="+", required=True, help="one run per seed, e.g. --seeds 1 2 3")
    study.add_argument("--recipe", help="recipe name (default: the model's write-up's; fast: its fast variant)")
    study.add_argument("--epochs", type=positive_int, help="number of epochs (default: the recipe's)")
    study.add_argument("--limit", type=positive_int,
                       help="dry run: use only N training images and N validation/test images")
    study.add_argument("--json", action="store_true", help="print the study's runs as `runs --json` does")
    add_device_flag(study)
    return {"train": cmd_train, "runs": cmd_runs, "promote": cmd_promote, "unpromote": cmd_unpromote,
            "delete": cmd_delete, "stop": cmd_stop, "pretrain": cmd_pretrain, "study": cmd_study}


def cmd_train(args) -> int:
    import signal
    import threading

    from ..lab.launch import train_run
    from ..training.callbacks import ProgressPrinter
    from ..training.recipes import default_config

    settings = dict(epochs=args.epochs, seed=args.seed, batch_size=args.batch_size, lr=args.lr, limit=args.limit,
                    eval_limit=args.limit, precision=args.precision, device=args.device)
    if args.spec is not None:
        from ..training.recipes import spec_config
        config = spec_config(read_spec(args.spec), args.recipe or "writeup004", **settings)
    else:
        config = default_config(args.model, args.recipe, **settings)
    if args.out is not None:  # demo mode refused it already (lab.mode.VERB_WRITES)
        check_output_path(args.out)  # before training, not after
    data = mnist_data.load_mnist(validation_size=config.validation_size)
    interrupted = threading.Event()  # Ctrl-C: finish the batch, keep and save what was done
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        run = train_run(config, name=args.name, data=data, callbacks=[ProgressPrinter()], stop=interrupted,
                        stop_reason="interrupted (Ctrl-C)")
    finally:
        signal.signal(signal.SIGINT, previous)
    print(f"run {run.name}: {run.status} ({run.reason})", file=sys.stderr)
    if args.out is not None and run.has_weights:
        try:
            copy_checkpoint(run.weights_path, args.out)
            print(f"exported {args.out}", file=sys.stderr)
        except OSError as error:
            raise CheckpointError(f"cannot write {args.out} ({error.strerror or error}); the weights are "
                                  f"kept in run {run.name}") from None
    return 0 if run.status in ("finished", "stopped") else 1


def run_row(run) -> dict:
    """A run as the `runs --json` contract gives it (name, model, status, final_test_acc, epochs, ...,
    study, usable: whether Compare, Evaluate and `changes` take it, and unusable_reason when not);
    figures never measured (a sweep trial's test accuracy) are None."""
    from ..store.runs import usable_record

    record = run.record
    summary = record.summary
    why_not = usable_record(run, record)[1]
    return json_safe({
        "name": run.name, "model": record.model, "status": run.status, "reason": run.reason,
        "final_test_acc": summary.final_test_acc if summary else None,
        "final_val_acc": summary.final_val_acc if summary else None,
        "epochs": summary.epochs if summary else 0, "planned_epochs": run.config.get("epochs"),
        "partial": summary.partial if summary else False, "wall_seconds": run.wall_seconds,
        "started_at": run.started_at, "has_weights": run.has_weights, "sweep": run.sweep,
        "seed_study": run.seed_study, "study": run.sweep or run.seed_study, "device": run.progress.get("device"),
        "usable": why_not is None, "unusable_reason": why_not})


def cmd_runs(args) -> int:
    from ..store.runs import list_runs, runs_dir

    if args.action is not None:
        return cmd_move_run(args)
    rows = [run_row(run) for run in list_runs()]
    if args.json:
        print_json(rows, indent=1)
        return 0
    if not rows:
        print(f"no runs in {runs_dir()}", file=sys.stderr)
        return 0
    print(f"{'name':<36} {'model':<15} {'status':<12} {'epochs':>7} {'final test':>10}")
    for row in rows:
        final = f"{row['final_test_acc']:.2f}%" if row["final_test_acc"] is not None else "-"
        print(f"{row['name']:<36} {row['model'] or '?':<15} {row['status']:<12} "
              f"{row['epochs']:>3}/{row['planned_epochs'] or '?':<3} {final:>10}")
        if row["status"] in ("finished", "stopped") and not row["usable"]:
            print(f"{'':<4}cannot be used: {row['unusable_reason']}")
    return 0


def cmd_move_run(args) -> int:
    """`runs export NAME --out FILE.zip` / `runs import FILE.zip [--as NAME]`."""
    from ..lab.transfer import export_to_file, import_archive
    from ..store.runs import runs_dir

    if args.target is None:
        raise ConfigError(f"runs {args.action}: give the {'run name' if args.action == 'export' else 'zip file'}")
    if args.action == "export":
        if args.out is None:
            raise ConfigError("runs export: --out FILE.zip says where to write the run")
        written = export_to_file(args.target, args.out)
        print(f"exported run {args.target} to {written} ({written.stat().st_size:,} bytes)", file=sys.stderr)
        return 0
    run = import_archive(Path(args.target), name=args.new_name)
    if args.json:
        print_json(run_row(run), indent=1)
    print(f"imported {args.target} as run {run.name} ({run.status}) into {runs_dir()}", file=sys.stderr)
    return 0


def add_device_flag(parser) -> None:
    parser.add_argument("--device", choices=DEVICES,
                        help="where to train: auto (CUDA, then Apple MPS, then the CPU; the default) or one of them")


def cmd_promote(args) -> int:
    from ..lab.promotion import promote

    record = promote(args.name, args.stem)
    print(f"promoted run {args.name} to {record.weights_path} (test accuracy {record.verified_test_acc:.2f}% "
          f"on the 10,000 test images)", file=sys.stderr)
    return 0


def cmd_unpromote(args) -> int:
    from ..lab.promotion import unpromote

    unpromote(args.stem)
    print(f"removed the promoted checkpoint {args.stem}", file=sys.stderr)
    return 0


def cmd_delete(args) -> int:
    from ..lab.launch import delete_run

    delete_run(args.name)
    print(f"deleted run {args.name}", file=sys.stderr)
    return 0


def cmd_stop(args) -> int:
    from ..lab.launch import stop_run

    print(stop_run(args.name), file=sys.stderr)
    return 0


def cmd_pretrain(args) -> int:
    from ..lab.promotion import publish
    from ..store.shipped import CHECKPOINT_DIR
    from ..training.callbacks import ProgressPrinter

    out = args.out or CHECKPOINT_DIR
    names = args.models or list_models()
    for name in names:
        model_info(name)  # unknown names fail before any training
    data = None
    for position, name in enumerate(names, 1):
        if not args.force and (out / f"{name}.pt").exists() and (out / f"{name}.json").exists():
            print(f"[{position}/{len(names)}] {name}: present, skipped (--force retrains)", file=sys.stderr)
            continue
        print(f"[{position}/{len(names)}] {name}", file=sys.stderr, flush=True)
        data = data or mnist_data.load_mnist()
        record = publish(name, out, data, callbacks=[ProgressPrinter()])
        summary = record.summary
        print(f"[{position}/{len(names)}] {name}: final test {summary.final_test_acc:.2f}% "
              f"in {summary.wall_seconds:.0f}s", file=sys.stderr, flush=True)
    return 0


def cmd_study(args) -> int:
    """Queue the seeds' runs (each an ordinary run with extra["seed_study"] set, so `runs --json` shows the
    tag) and wait in the foreground: the queue lives in this process. Ctrl-C cancels the waiting
    runs and stops the training one."""
    from ..lab.launch import stop_run
    from ..lab.run_queue import batch_runs, cancel_queued, enqueue, queued
    from ..store.runs import get_run
    from ..training.recipes import default_config

    tag = f"{args.model}-seeds-{time.strftime('%Y%m%d-%H%M%S')}"
    configs = []
    for seed in dict.fromkeys(args.seeds):
        config = default_config(args.model, args.recipe, seed=seed, epochs=args.epochs, limit=args.limit,
                                eval_limit=args.limit, device=args.device)
        configs.append(config.replace(extra={**config.extra, "seed_study": tag}))
    mnist_data.load_mnist()  # a missing or broken dataset is refused here, before any run exists
    batch = f"study {tag}"
    enqueue(configs, batch)
    print(f"study {tag}: {len(configs)} runs queued (seeds {', '.join(map(str, dict.fromkeys(args.seeds)))})",
          file=sys.stderr, flush=True)
    reported: list[str] = []
    try:
        while True:
            names, over = batch_runs(batch)
            for name in names[len(reported):]:
                print(f"started {name}", file=sys.stderr, flush=True)
            reported = names
            if over:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        for item in queued():
            if item.batch == batch:
                cancel_queued(item.id)
        if reported:
            stop_run(reported[-1])
        raise
    for item in queued():
        if item.batch == batch and item.state == "failed-to-start":
            print(f"seed {item.config.seed}: not started ({item.reason})", file=sys.stderr)
    rows = [run_row(get_run(name)) for name in reported]
    if args.json:
        print_json(rows, indent=1)
    else:
        for row in rows:
            final = f"{row['final_test_acc']:.2f}%" if row["final_test_acc"] is not None else "-"
            print(f"{row['name']}: {row['status']}, final test {final}")
    return 0 if len(rows) == len(configs) and all(row["status"] == "finished" for row in rows) else 1
