"""Verbs that look at models and checkpoints: models, evaluate, predict, explain, robustness,
derive, report, bench, changes, diff."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..analysis.predict import ImageError
from ..data import mnist as mnist_data
from ..models import count_parameters, create_model, list_models, model_info
from ..store.checkpoint import check_output_path, load_model
from ..training.config import ConfigError
from .common import positive_int, print_json, read_spec


def add_verbs(verbs) -> dict:
    """The verbs that look at models and checkpoints; returns {verb: handler}."""
    models = verbs.add_parser("models", help="list the registered architectures (or check a spec)")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models.add_argument(
        "--spec", type=Path, help="a network spec (JSON, see README): print its layers and parameter count"
    )

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

    derive = verbs.add_parser(
        "derive", help="compute each checkpoint's test predictions and robustness once (kept on disk)"
    )
    derive.add_argument(
        "--checkpoint", type=Path, nargs="*", help="these .pt files (default: every shipped checkpoint)"
    )
    derive.add_argument(
        "--ship", action="store_true", help="write into checkpoints/derived/ (committed) instead of the cache"
    )
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
    return {"models": cmd_models, "evaluate": cmd_evaluate, "predict": cmd_predict, "explain": cmd_explain,
            "bench": cmd_bench, "report": cmd_report, "robustness": cmd_robustness, "derive": cmd_derive,
            "changes": cmd_changes, "diff": cmd_diff}


def cmd_models(args) -> int:
    if args.spec is not None:
        from ..models.spec import model_name, spec_layers

        spec = read_spec(args.spec)
        rows = spec_layers(spec)
        result = {
            "name": spec["name"],
            "model": model_name(spec),
            "params": sum(r["params"] for r in rows),
            "layers": rows,
        }
        if args.json:
            print_json(result, indent=1)
        else:
            for row in rows:
                print(
                    f"{row['layer']:>3} {row['block']:<10} {row['output']:>10} {row['params']:>9,}  {row['settings']}"
                )
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


def cmd_evaluate(args) -> int:
    from ..analysis.evaluate import evaluate

    model, checkpoint = load_model(args.checkpoint)
    data = mnist_data.load_mnist()
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
    from ..analysis.predict import predict_file
    from ..store.shipped import shipped_models

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
    from ..analysis.explain import explain
    from ..analysis.predict import read_image, reading
    from ..data.preprocess import preprocess
    from ..store.shipped import shipped_models

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


def cmd_bench(args) -> int:
    from ..perf.bench import format_report, run_bench

    result = run_bench(batches=args.batches, threads=args.threads)
    if args.json:
        print_json(result, indent=1)
    else:
        print(format_report(result))
    return 0


def cmd_report(args) -> int:
    from ..reports.tables import reproduction_table, update_readme
    from ..store.shipped import CHECKPOINT_DIR, list_checkpoints

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
    from ..analysis.evaluate import evaluate
    from ..reports.html import html_report

    if args.html is None or args.checkpoint is None:
        raise ConfigError(
            "report: --checkpoint and --html go together (e.g. --checkpoint checkpoints/writeup004.pt --html out.html)"
        )
    check_output_path(args.html)
    model, checkpoint = load_model(args.checkpoint)
    record = record_of_checkpoint(args.checkpoint, checkpoint)
    report = evaluate(model, mnist_data.load_mnist().test).to_dict()
    args.html.write_text(html_report(record, report))
    print(f"wrote {args.html}", file=sys.stderr)
    return 0


def record_of_checkpoint(path: Path, checkpoint):
    """The record beside a checkpoint (<stem>.json), or one built from the checkpoint itself."""
    from ..store.records import RecordError, read_record, summarize

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
    from ..store.derived import cached_probe

    model, _ = load_model(args.checkpoint)
    rows = cached_probe(args.checkpoint, mnist_data.load_mnist().test, args.limit, model)
    if args.json:
        print_json(rows, indent=1)
        return 0
    for perturbation in dict.fromkeys(row["perturbation"] for row in rows):
        cells = [
            f"{row['strength']:g}: {100 * row['accuracy']:.1f}%" for row in rows if row["perturbation"] == perturbation
        ]
        print(f"{perturbation:<28} " + "  ".join(cells))
    return 0


def cmd_derive(args) -> int:
    from ..store.derived import cached_probe, test_log_probs
    from ..store.shipped import list_checkpoints

    paths = args.checkpoint or [Path(record.weights_path) for record in list_checkpoints()[0]]
    test = mnist_data.load_mnist().test
    for path in paths:
        started = time.perf_counter()
        model, _ = load_model(path)
        log_probs = test_log_probs(path, test, model, ship=args.ship)
        rows = cached_probe(path, test, model=model, ship=args.ship)
        accuracy = (log_probs.argmax(1) == test.labels).float().mean().item()
        seconds = time.perf_counter() - started
        print(f"{path.stem}: test {100 * accuracy:.2f}%, {len(rows)} robustness points ({seconds:.1f} s)")
    return 0


def cmd_changes(args) -> int:
    from ..analysis.changes import what_changed
    from ..reports.comparison import find_trained, significance
    from ..store.derived import test_log_probs

    old, new = find_trained(args.old), find_trained(args.new)
    test = mnist_data.load_mnist().test
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
    from ..reports.diff import architecture_diff, format_diff

    result = architecture_diff(args.a, args.b, everything=args.all)
    if args.json:
        print_json(result, indent=1)
    else:
        print(format_diff(result))
    return 0
