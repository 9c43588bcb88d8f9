"""Command line: python -m mnist_core {models, train, runs, promote, unpromote, delete, stop, evaluate,
predict, explain, robustness, pretrain, report, bench, derive, sweep, changes, diff, study}.

Errors a user can fix (missing data, bad settings, bad checkpoints) print one line and exit 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .analysis.predict import ImageError
from .data.mnist import DatasetError, load_mnist
from .models import UnknownModelError, count_parameters, create_model, list_models, model_info
from .store.checkpoint import CheckpointError, check_output_path, copy_checkpoint, load_model
from .store.records import json_safe
from .store.mode import DemoModeError, refuse_in_demo
from .store.runs import RunError
from .training.config import PRECISIONS, ConfigError


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes exit 2 with one line on stderr, like every other expected error."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m mnist_core", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)

    models = verbs.add_parser("models", help="list the registered architectures (or check a spec)")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models.add_argument("--spec", type=Path, help="a network spec (JSON, see README): print its layers and parameter count")

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
    train.add_argument("--out", type=Path,
                       help="also export the final weights to this .pt file (the run folder keeps them anyway)")

    runs = verbs.add_parser("runs", help="list the runs in $MNIST_RUNS (default runs/), newest first")
    runs.add_argument("--json", action="store_true", help="print a JSON list instead of a table")

    promote = verbs.add_parser("promote", help="copy a finished run into checkpoints/ (loaded and evaluated first)")
    promote.add_argument("name", help="run name (see `runs`)")
    promote.add_argument("--as", dest="stem", help="checkpoint name (default: the run's name); never overwrites")

    unpromote = verbs.add_parser("unpromote", help="remove a promoted checkpoint (shipped ones are refused)")
    unpromote.add_argument("stem", help="checkpoint name, as promoted")

    delete = verbs.add_parser("delete", help="delete a run folder (refused while it trains)")
    delete.add_argument("name", help="run name (see `runs`)")

    stop = verbs.add_parser("stop", help="ask a training run to stop after its current batch")
    stop.add_argument("name", help="run name (see `runs`)")

    evaluate = verbs.add_parser("evaluate", help="evaluate a checkpoint on the 10k test set")
    evaluate.add_argument("--checkpoint", type=Path, required=True, help="path to a .pt checkpoint")
    evaluate.add_argument("--json", action="store_true", help="print JSON (accuracy as a fraction)")
    evaluate.add_argument("--limit", type=positive_int, help="evaluate only the first N test images (N >= 1)")

    predict = verbs.add_parser("predict", help="classify a PNG/JPEG of one handwritten digit")
    predict.add_argument("--checkpoint", type=Path, required=True, help="path to a .pt checkpoint")
    predict.add_argument("image", type=Path, help="image file (any size, either polarity)")
    predict.add_argument("--json", action="store_true",
                         help="print JSON with prediction, probabilities, uncertain and reason")

    explain = verbs.add_parser("explain", help="why a model reads an image as it does: saliency and Grad-CAM")
    explain.add_argument("--checkpoint", type=Path, required=True, help="path to a .pt checkpoint")
    explain.add_argument("image", type=Path, help="image file (any size, either polarity)")
    explain.add_argument("--json", action="store_true",
                         help="print JSON: prediction, probabilities, uncertain, reason, saliency and gradcam (28x28)")

    pretrain = verbs.add_parser("pretrain", help="(re)build checkpoints/<model>.pt/.json for every model")
    pretrain.add_argument("--models", nargs="*", help="only these models (default: all registered)")
    pretrain.add_argument("--force", action="store_true", help="retrain even if the files exist")
    pretrain.add_argument("--out", type=Path, help="output directory (default: checkpoints/)")

    bench = verbs.add_parser("bench", help="speed: the write-ups' pipeline vs ours, eval time, latency")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.add_argument("--batches", type=int, default=100, help="timed training batches per path")
    bench.add_argument("--threads", type=int, help="torch threads (default 2, or OMP_NUM_THREADS)")

    report = verbs.add_parser("report", help="the reproduction table, or one checkpoint's HTML report")
    report.add_argument("--write-readme", action="store_true",
                        help="also rewrite the table block in README.md")
    report.add_argument("--checkpoint", type=Path, help="with --html: the checkpoint (.pt) to report on")
    report.add_argument("--html", type=Path, help="write a self-contained HTML report of --checkpoint here")

    robustness = verbs.add_parser("robustness", help="accuracy under rotation, shift, scale, stroke and noise")
    robustness.add_argument("--checkpoint", type=Path, required=True, help="path to a .pt checkpoint")
    robustness.add_argument("--limit", type=positive_int, default=2000, help="first N test images (default 2000)")
    robustness.add_argument("--json", action="store_true",
                            help="print JSON: a list of {perturbation, strength, accuracy (fraction)}")

    derive = verbs.add_parser("derive", help="compute each checkpoint's test predictions and robustness once (kept on disk)")
    derive.add_argument("--checkpoint", type=Path, nargs="*", help="these .pt files (default: every shipped checkpoint)")
    derive.add_argument("--ship", action="store_true", help="write into checkpoints/derived/ (committed) instead of the cache")
    add_comparison_verbs(verbs)
    add_sweep_verb(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return VERBS[args.verb](args)
    except (DatasetError, ConfigError, CheckpointError, UnknownModelError, FileNotFoundError, RunError,
            ImageError, DemoModeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def print_json(value, indent: int | None = None) -> None:
    """Strict JSON on stdout: NaN / infinity become null, never bare NaN."""
    print(json.dumps(json_safe(value), indent=indent, allow_nan=False))


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def read_spec(path: Path) -> dict:
    from .models.spec import SpecError, layer_table

    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"spec not found: {path}") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"spec {path}: not readable JSON ({error})") from None
    try:
        layer_table(spec)
    except SpecError as error:
        raise ConfigError(f"spec {path}: {error}") from None
    return spec


def cmd_models(args) -> int:
    if args.spec is not None:
        from .models.spec import layer_table, model_name

        spec = read_spec(args.spec)
        rows = layer_table(spec)
        result = {"name": spec["name"], "model": model_name(spec), "params": sum(r["params"] for r in rows), "layers": rows}
        if args.json:
            print_json(result, indent=1)
        else:
            for row in rows:
                print(f"{row['layer']:>3} {row['block']:<10} {row['output']:>10} {row['params']:>9,}  {row['settings']}")
            print(f"{result['model']}: {result['params']:,} parameters")
        return 0
    rows = []
    for name in list_models():
        info = model_info(name)
        rows.append({**info.to_dict(), "params": count_parameters(create_model(name)),
                     "declared_params": info.params})
    if args.json:
        print_json(rows, indent=1)
        return 0
    print(f"{'name':<15} {'write-up':>8} {'params':>9} {'reported':>9}  description")
    for row in rows:
        reported = f"{row['reported_accuracy']:.2f}%" if row["reported_accuracy"] else "-"
        print(f"{row['name']:<15} {row['source']:>8} {row['params']:>9,} {reported:>9}  {row['description']}")
    return 0


def cmd_train(args) -> int:
    import signal
    import threading

    from .store.runs import train_run
    from .training.callbacks import ProgressPrinter
    from .training.recipes import default_config

    settings = dict(epochs=args.epochs, seed=args.seed, batch_size=args.batch_size, lr=args.lr, limit=args.limit,
                    eval_limit=args.limit, precision=args.precision)
    if args.spec is not None:
        from .training.recipes import spec_config
        config = spec_config(read_spec(args.spec), args.recipe or "seed004", **settings)
    else:
        config = default_config(args.model, args.recipe, **settings)
    if args.out is not None:
        refuse_in_demo("Exporting weights outside the runs folder (--out)")
        check_output_path(args.out)  # before training, not after
    data = load_mnist(validation_size=config.validation_size)
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
    study); figures never measured (a sweep trial's test accuracy) are None."""
    summary = run.record.summary
    return json_safe({
        "name": run.name, "model": run.config.get("model"), "status": run.status, "reason": run.reason,
        "final_test_acc": summary.final_test_acc if summary else None,
        "final_val_acc": summary.final_val_acc if summary else None,
        "epochs": summary.epochs if summary else 0, "planned_epochs": run.config.get("epochs"),
        "partial": summary.partial if summary else False, "wall_seconds": run.wall_seconds,
        "started_at": run.started_at, "has_weights": run.has_weights, "study": run.study})


def cmd_runs(args) -> int:
    from .store.runs import list_runs, runs_dir

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
    return 0


def cmd_promote(args) -> int:
    from .store.runs import promote

    record = promote(args.name, args.stem)
    print(f"promoted run {args.name} to {record.weights_path} (test accuracy {record.verified_test_acc:.2f}% "
          f"on the 10,000 test images)", file=sys.stderr)
    return 0


def cmd_unpromote(args) -> int:
    from .store.runs import unpromote

    unpromote(args.stem)
    print(f"removed the promoted checkpoint {args.stem}", file=sys.stderr)
    return 0


def cmd_delete(args) -> int:
    from .store.runs import delete_run

    delete_run(args.name)
    print(f"deleted run {args.name}", file=sys.stderr)
    return 0


def cmd_stop(args) -> int:
    from .store.runs import stop_run

    print(stop_run(args.name), file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    from .analysis.evaluate import evaluate

    model, checkpoint = load_model(args.checkpoint)
    data = load_mnist()
    report = evaluate(model, data.test.head(args.limit))
    if args.json:
        result = report.to_dict()
        result.update(model=checkpoint.model_name, checkpoint=str(args.checkpoint),
                      misclassified_count=len(report.misclassified))
        result.pop("misclassified")
        result.pop("digits")
        print_json(result)
    else:
        print(f"{checkpoint.model_name}: test accuracy {100 * report.accuracy:.2f}% "
              f"({report.count - len(report.misclassified)}/{report.count}), loss {report.loss:.4f}")
    return 0


def cmd_predict(args) -> int:
    from .analysis.predict import predict_file
    from .store.shipped import shipped_models

    model, checkpoint = load_model(args.checkpoint)
    result = predict_file(model, args.image, shipped_models())
    if args.json:
        print_json(result)
    elif result["prediction"] is None:
        print("no digit found in the image")
    elif result["uncertain"]:
        print(f"not sure: {result['reason']} (best guess {result['prediction']}, {100 * result['confidence']:.1f}%)")
    else:
        print(f"{result['prediction']} (confidence {100 * result['confidence']:.1f}%)")
    return 0


def cmd_explain(args) -> int:
    from .analysis.explain import explain
    from .analysis.predict import read_image, reading
    from .data.preprocess import preprocess
    from .store.shipped import shipped_models

    model, checkpoint = load_model(args.checkpoint)
    prepared = preprocess(read_image(args.image))
    if prepared is None:
        raise ImageError(f"no digit found in {args.image} (it has almost no ink)")
    result = {**reading(model, prepared, shipped_models()), **explain(model, prepared.tensor).to_dict()}
    if args.json:
        print_json(result)
        return 0
    print(f"{checkpoint.model_name} reads {result['prediction']} ({100 * result['confidence']:.1f}%)"
          + (f"; not sure: {result['reason']}" if result["uncertain"] else ""))
    print(f"Grad-CAM on {result['gradcam_layer']} (brightest = most responsible):")
    print(ascii_map(result["gradcam"]))
    return 0


def ascii_map(values: list[list[float]]) -> str:
    shades = " .:-=+*#%@"
    return "\n".join("".join(shades[min(9, int(v * 10))] * 2 for v in row) for row in values)


def cmd_pretrain(args) -> int:
    refuse_in_demo("Rebuilding the shipped checkpoints")
    from .store.shipped import CHECKPOINT_DIR, publish
    from .training.callbacks import ProgressPrinter

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
        data = data or load_mnist()
        record = publish(name, out, data, callbacks=[ProgressPrinter()])
        summary = record.summary
        print(f"[{position}/{len(names)}] {name}: final test {summary.final_test_acc:.2f}% "
              f"in {summary.wall_seconds:.0f}s", file=sys.stderr, flush=True)
    return 0


def cmd_bench(args) -> int:
    from .perf.bench import format_report, run_bench

    result = run_bench(batches=args.batches, threads=args.threads)
    if args.json:
        print_json(result, indent=1)
    else:
        print(format_report(result))
    return 0


def cmd_report(args) -> int:
    from .reports.tables import reproduction_table, update_readme
    from .store.shipped import CHECKPOINT_DIR, list_checkpoints

    if args.html is not None or args.checkpoint is not None:
        return cmd_html_report(args)
    records, problems = list_checkpoints(CHECKPOINT_DIR)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(reproduction_table(records))
    if args.write_readme:
        readme = CHECKPOINT_DIR.parent / "README.md"
        print(f"{readme}: {'updated' if update_readme(readme) else 'already up to date'}", file=sys.stderr)
    return 0


def cmd_html_report(args) -> int:
    from .analysis.evaluate import evaluate
    from .reports.html import html_report

    if args.html is None or args.checkpoint is None:
        raise ConfigError("report: --checkpoint and --html go together (e.g. --checkpoint checkpoints/seed004.pt --html out.html)")
    check_output_path(args.html)
    model, checkpoint = load_model(args.checkpoint)
    record = record_of_checkpoint(args.checkpoint, checkpoint)
    report = evaluate(model, load_mnist().test).to_dict()
    args.html.write_text(html_report(record, report))
    print(f"wrote {args.html}", file=sys.stderr)
    return 0


def record_of_checkpoint(path: Path, checkpoint):
    """The record beside a checkpoint (<stem>.json), or one built from the checkpoint itself."""
    from .store.records import RecordError, read_record, summarize

    try:
        record = read_record(path.with_suffix(".json"))
        if record.kind:
            return record
    except RecordError:
        pass
    return summarize(path.stem, "run", {**checkpoint.config, "model": checkpoint.model_name}, checkpoint.history,
                     status=checkpoint.metrics.get("status", "finished"), weights_path=path,
                     versions=checkpoint.versions, created_at=checkpoint.created_at)


def cmd_robustness(args) -> int:
    from .store.derived import cached_probe

    model, _ = load_model(args.checkpoint)
    rows = cached_probe(args.checkpoint, load_mnist().test, args.limit, model)
    if args.json:
        print_json(rows, indent=1)
        return 0
    for perturbation in dict.fromkeys(row["perturbation"] for row in rows):
        cells = [f"{row['strength']:g}: {100 * row['accuracy']:.1f}%" for row in rows if row["perturbation"] == perturbation]
        print(f"{perturbation:<28} " + "  ".join(cells))
    return 0


def cmd_derive(args) -> int:
    if args.ship:
        refuse_in_demo("Writing into checkpoints/ (--ship)")
    from .store.derived import cached_probe, test_log_probs
    from .store.shipped import list_checkpoints

    paths = args.checkpoint or [Path(record.weights_path) for record in list_checkpoints()[0]]
    test = load_mnist().test
    for path in paths:
        started = time.perf_counter()
        model, _ = load_model(path)
        log_probs = test_log_probs(path, test, model, ship=args.ship)
        rows = cached_probe(path, test, model=model, ship=args.ship)
        accuracy = (log_probs.argmax(1) == test.labels).float().mean().item()
        print(f"{path.stem}: test {100 * accuracy:.2f}%, {len(rows)} robustness points ({time.perf_counter() - started:.1f} s)")
    return 0


VERBS = {"derive": cmd_derive, "models": cmd_models, "train": cmd_train, "runs": cmd_runs, "promote": cmd_promote,
         "unpromote": cmd_unpromote, "delete": cmd_delete, "stop": cmd_stop, "evaluate": cmd_evaluate,
         "predict": cmd_predict, "explain": cmd_explain, "pretrain": cmd_pretrain,
         "report": cmd_report, "bench": cmd_bench, "robustness": cmd_robustness}


# --- changes and diff: two models side by side (issue 19) ---------------------------------------

def add_comparison_verbs(verbs) -> None:
    changes = verbs.add_parser("changes",
                               help="what changed between two trained models, and whether it is beyond noise")
    changes.add_argument("--old", required=True, help="checkpoint stem or run name (see `runs`)")
    changes.add_argument("--new", required=True, help="checkpoint stem or run name (see `runs`)")
    changes.add_argument("--json", action="store_true",
                         help="print JSON: fixed, broke, old_acc, new_acc (%%), p_value (exact McNemar), and "
                              "seed_diff, seed_ci (Welch t, 95%%) when both have a seed study")
    diff = verbs.add_parser("diff", help="two architectures' layer tables side by side, and the settings that differ")
    diff.add_argument("a", help="registered model, checkpoint stem or run name")
    diff.add_argument("b", help="registered model, checkpoint stem or run name")
    diff.add_argument("--all", action="store_true", help="list every training setting, not only those that differ")
    diff.add_argument("--json", action="store_true",
                      help="print JSON: layers_a, layers_b, params_a, params_b, macs_a, macs_b, config_diff")
    study = verbs.add_parser("study", help="queue one ordinary run per seed, tagged as one study, and wait for them")
    study.add_argument("--model", required=True, help=f"architecture name ({', '.join(list_models())})")
    study.add_argument("--seeds", type=int, nargs="+", required=True, help="one run per seed, e.g. --seeds 1 2 3")
    study.add_argument("--recipe", help="recipe name (default: the model's write-up's; fast: its fast variant)")
    study.add_argument("--epochs", type=positive_int, help="number of epochs (default: the recipe's)")
    study.add_argument("--limit", type=positive_int,
                       help="dry run: use only N training images and N validation/test images")
    study.add_argument("--json", action="store_true", help="print the study's runs as `runs --json` does")


def cmd_changes(args) -> int:
    from .analysis.changes import what_changed
    from .reports.comparison import find_trained, significance
    from .store.derived import test_log_probs

    old, new = find_trained(args.old), find_trained(args.new)
    test = load_mnist().test
    changes = what_changed(test_log_probs(old.weights_path, test), test_log_probs(new.weights_path, test), test.labels)
    result = significance(changes, old, new)
    if args.json:
        print_json(result, indent=1)
        return 0
    print(f"{new.key} fixed {result['fixed']} test digits {old.key} got wrong and broke {result['broke']} it got "
          f"right: {result['old_acc']:.2f}% -> {result['new_acc']:.2f}%.")
    print(result["sentence"])
    if "seed_sentence" in result:
        print(result["seed_sentence"])
    return 0


def cmd_diff(args) -> int:
    from .reports.diff import architecture_diff, format_diff

    result = architecture_diff(args.a, args.b, everything=args.all)
    if args.json:
        print_json(result, indent=1)
    else:
        print(format_diff(result))
    return 0


def cmd_study(args) -> int:
    """Queue the seeds' runs (each an ordinary run with extra["study"] set, so `runs --json` shows the
    tag) and wait in the foreground: the queue lives in this process. Ctrl-C cancels the waiting
    runs and stops the training one."""
    from .store.runs import batch_runs, cancel_queued, enqueue, get_run, queued, stop_run
    from .training.recipes import default_config

    tag = f"{args.model}-study-{time.strftime('%Y%m%d-%H%M%S')}"
    configs = []
    for seed in dict.fromkeys(args.seeds):
        config = default_config(args.model, args.recipe, seed=seed, epochs=args.epochs, limit=args.limit,
                                eval_limit=args.limit)
        configs.append(config.replace(extra={**config.extra, "study": tag}))
    load_mnist()  # a missing or broken dataset is refused here, before any run exists
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


VERBS.update({"changes": cmd_changes, "diff": cmd_diff, "study": cmd_study})


# --- sweep: search a recipe with Optuna on the validation split (issue 20) ----------------------

def add_sweep_verb(verbs) -> None:
    sweep = verbs.add_parser("sweep", help="search a recipe's settings with Optuna on the validation split; "
                                           "every trial is a run (the test split is never read)")
    chosen = sweep.add_mutually_exclusive_group(required=True)
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
                                         "default: $MNIST_RUNS/.sweeps/<study>.journal")
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
                            "val_acc, run, ...) and best")


def cmd_sweep(args) -> int:
    import signal
    import threading

    import optuna

    from .store.sweep import Sweep, new_study_name, read_space, run_sweep
    from .store.worker import lower_priority
    from .training.recipes import default_config, spec_config

    if args.lower_priority:
        lower_priority()

    settings = dict(epochs=args.epochs, seed=args.seed, limit=args.limit, eval_limit=args.limit)
    if args.spec is not None:
        base = spec_config(read_spec(args.spec), args.recipe or "seed004", **settings)
    else:
        base = default_config(args.model, args.recipe, **settings)
    data = load_mnist(validation_size=base.validation_size)
    space = read_space(args.space, base, data) if args.space is not None else None
    sweep = Sweep(base, args.study or new_study_name(base.model), args.trials, space, args.storage,
                  args.startup_trials, args.heartbeat)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial is ours to print
    interrupted = threading.Event()  # Ctrl-C: the trial stops between batches, the sweep after it
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        result = run_sweep(sweep, data, on_trial=print_trial, stop=interrupted)
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print_json(result, indent=1)
    else:
        print_sweep(result)
    if result["interrupted"]:
        return 130
    return 0 if result["best"] is not None else 1


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


VERBS.update({"sweep": cmd_sweep})
