"""The export verb: a checkpoint's or a run's model written as ONNX or TorchScript, then checked
against the torch model on the test set.

    python -m mnist_core export (--checkpoint PATH | --run NAME) --format onnx|torchscript --out FILE [--json]

analysis.export writes the file (eval mode, normalisation folded in, dynamic batch axis, opset
recorded) and measures parity; this module finds the weights (a run through store.runs), checks
everything that can fail before anything is written (the weights, the dataset, the output path)
and reports. Demo mode's rule for --out is the command line's one rule (lab.mode.check_verb: only a
new file inside the runs folder).
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..analysis.export import FORMATS, ExportError, check_parity, export_model
from ..data import mnist as mnist_data
from ..store import runs
from ..store.checkpoint import load_model
from .common import positive_int, print_json

MIN_AGREEMENT = 99.99  # percent of test digits the export must read as the torch model does
ACCURACY_TOLERANCE = 0.01  # points between the export's test accuracy and the torch model's


def add_verbs(verbs) -> dict:
    """The export verb; returns {verb: handler}."""
    export = verbs.add_parser("export", help="write a model as ONNX or TorchScript and check it on the 10k test set")
    source = export.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="path to a .pt checkpoint")
    source.add_argument("--run", help="a run's name (see `runs`): its weights")
    export.add_argument("--format", required=True, choices=FORMATS,
                        help="onnx (opset 18, for onnxruntime and most runtimes) or torchscript (libtorch)")
    export.add_argument("--out", type=Path, required=True,
                        help="the file to write (e.g. frontier.onnx, frontier.torchscript.pt): whole or not at all")
    export.add_argument("--json", action="store_true",
                        help="print JSON: the file (path, file_bytes, opset, input, output) and the parity "
                             "(max_abs_diff, argmax_agreement, test_acc, torch_test_acc in %%, batch-1 "
                             "latency_ms_export and latency_ms_torch, cpu_capability, threads)")
    export.add_argument("--limit", type=positive_int, help="check parity on the first N test images (default all)")
    export.add_argument("--latency-calls", type=positive_int, default=200,
                        help="batch-1 calls timed for each latency, the median reported (default 200)")
    return {"export": cmd_export}


def weights_of(args) -> tuple[Path, str]:
    """(the weights file, what it is) for --checkpoint or --run; RunError for an unknown run or one
    without weights."""
    if args.checkpoint is not None:
        return args.checkpoint, f"checkpoint {args.checkpoint}"
    run = runs.get_run(args.run)
    if not run.has_weights:
        raise runs.RunError(f"run {run.name!r} has no weights to export ({run.status}; see `runs`)")
    return run.weights_path, f"run {run.name}"


def folders_to_make(out: Path) -> list[Path]:
    """The folders above `out` that do not exist yet (removed again if the export fails); ExportError
    when `out` is a folder or something above it is a file."""
    if out.is_dir():
        raise ExportError(f"cannot write {out}: it is a folder (give a file name, e.g. {out / 'model.onnx'})")
    missing = []
    for folder in out.parents:
        if folder.exists():
            if not folder.is_dir():
                raise ExportError(f"cannot write {out}: {folder} is a file, not a folder")
            break
        missing.append(folder)
    return missing


def cmd_export(args) -> int:
    weights, source = weights_of(args)
    model, checkpoint = load_model(weights)  # a corrupt, pickled or unknown checkpoint: one line, nothing written
    test = mnist_data.load_test()
    test = test.head(args.limit) if args.limit else test
    try:
        made = folders_to_make(args.out)
        try:
            written = export_model(model, args.format, args.out)
        except (ExportError, OSError):
            for folder in made:  # innermost first; only the ones this call made, and only if empty
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            raise
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
        return 2
    parity = check_parity(model, args.out, args.format, test, latency_calls=args.latency_calls)
    recorded = checkpoint.metrics.get("final_test_acc")
    passed = (parity["argmax_agreement"] >= MIN_AGREEMENT
              and abs(parity["test_acc"] - parity["torch_test_acc"]) <= ACCURACY_TOLERANCE)
    if args.json:
        print_json({**written, **parity, "model": checkpoint.model_name, "source": source,
                    "recorded_test_acc": recorded, "parity_ok": passed})
    else:
        print_summary(written, parity, checkpoint.model_name, recorded)
    if not passed:
        print(f"error: the export reads the test digits differently from the model ({parity['argmax_agreement']:.2f}% "
              f"agree, test accuracy {parity['test_acc']:.2f}% against {parity['torch_test_acc']:.2f}%); "
              f"{args.out} is kept to inspect", file=sys.stderr)
        return 1
    return 0


def print_summary(written: dict, parity: dict, model_name: str, recorded: float | None) -> None:
    kind = f"ONNX opset {written['opset']}" if written["format"] == "onnx" else "TorchScript"
    print(f"wrote {written['path']} ({written['file_bytes'] / 1024:.0f} KiB, {kind}, {model_name}): input "
          f"'{written['input']['name']}' (batch, 1, 28, 28) float32 pixels 0..1, normalisation folded in")
    recorded_text = f", recorded {recorded:.2f}%" if recorded is not None else ""
    print(f"parity on {parity['images']:,} test images: argmax agreement {parity['argmax_agreement']:.2f}%, "
          f"test accuracy {parity['test_acc']:.2f}% (torch {parity['torch_test_acc']:.2f}%{recorded_text}), "
          f"max abs diff {parity['max_abs_diff']:.1e}")
    print(f"batch-1 latency, median of {parity['latency_calls']}: export {parity['latency_ms_export']:.3f} ms, "
          f"torch {parity['latency_ms_torch']:.3f} ms ({parity['threads']} threads, CPU {parity['cpu_capability']})")
