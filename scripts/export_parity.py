"""Export every shipped checkpoint to ONNX and TorchScript and check each export against its
checkpoint on the full 10k test set; then time the Draw page's case (every shipped model reading one
digit) in eager torch and in ONNX Runtime. Prints markdown (docs/export.md keeps one run's output).

    python -m scripts.export_parity [--limit N] [--latency-calls 200] [--readouts 300] [--draw-only] [--json]

Run it from the repository root with nothing else heavy running: latencies on a shared 2-core
machine move with the load, which is printed before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from mnist_core.analysis.export import EXTENSIONS, FORMATS, check_parity, export_model, onnx_session, to_pixels
from mnist_core.data.mnist import load_test
from mnist_core.store.checkpoint import load_model
from mnist_core.store.shipped import list_checkpoints
from mnist_core.training.machine import cpu_model


def versions() -> dict:
    import onnx
    import onnxruntime
    import onnxscript

    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__,
            "onnxscript": onnxscript.__version__, "python": platform.python_version()}


def machine() -> dict:
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch_threads": torch.get_num_threads(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def parity_rows(records, models, test_split, out_dir: Path, latency_calls: int) -> list[dict]:
    rows = []
    for record in records:
        for fmt in FORMATS:
            path = out_dir / f"{record.name}{EXTENSIONS[fmt]}"
            started = time.perf_counter()
            written = export_model(models[record.name], fmt, path)
            export_seconds = time.perf_counter() - started
            parity = check_parity(models[record.name], path, fmt, test_split, latency_calls)
            rows.append({"model": record.name, **parity, "opset": written["opset"],
                         "record_final_test_acc": record.summary.final_test_acc,
                         "export_seconds": export_seconds})
    return rows


def readout_ms(read_all, readouts: int) -> dict:
    """Median and 90th percentile of `readouts` timed calls of read_all() (10 untimed first)."""
    for _ in range(10):
        read_all()
    times = []
    for _ in range(readouts):
        started = time.perf_counter()
        read_all()
        times.append(1000.0 * (time.perf_counter() - started))
    times.sort()
    return {"median_ms": statistics.median(times), "p90_ms": times[int(0.9 * (len(times) - 1))]}


def draw_page_latency(models: dict, onnx_paths: dict, image: torch.Tensor, readouts: int) -> list[dict]:
    """One readout = every shipped model called once on one (1, 1, 28, 28) digit, one after another,
    as the Draw page does: eager torch under inference_mode against onnxruntime sessions, each on
    the same number of threads. Torch is timed first at each thread count: onnxruntime's pool
    threads (2 threads and up) spin for a while after a run and would slow torch down."""
    nets = [model.eval() for model in models.values()]
    pixels = to_pixels(image).numpy()
    results = []
    default_threads = torch.get_num_threads()
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)

        def torch_readout():
            with torch.inference_mode():
                for net in nets:
                    net(image)

        torch_figures = readout_ms(torch_readout, readouts)
        sessions = [onnx_session(onnx_paths[name], threads) for name in models]

        def onnx_readout(sessions=sessions):
            for session in sessions:
                session.run(None, {"image": pixels})

        onnx_figures = readout_ms(onnx_readout, readouts)
        del sessions
        results.append({"threads": threads, "models": len(nets), "readouts": readouts,
                        "torch": torch_figures, "onnxruntime": onnx_figures})
    torch.set_num_threads(default_threads)
    return results


def markdown(report: dict) -> str:
    info, after = report["machine"], report["load_average_after"]
    lines = [f"CPU: {info['cpu']} ({info['cores']} cores), torch CPU capability {info['cpu_capability']}, "
             f"{info['torch_threads']} torch threads; load average (1, 5, 15 min) "
             f"{' / '.join(map(str, info['load_average']))} before, {' / '.join(map(str, after))} after.",
             "Versions: " + ", ".join(f"{key} {value}" for key, value in report["versions"].items()) + ".",
             ""]
    if report["parity"]:
        lines += [f"Parity on {report['images']:,} test images; latency: batch 1, median of "
                  f"{report['latency_calls']} calls, {info['torch_threads']} threads.",
                  "",
                  "| model | format | file | max abs diff | argmax agreement | test acc (export) "
                  "| final test acc (record) | latency export | latency torch |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in report["parity"]:
        opset = f" (opset {row['opset']})" if row["opset"] else ""
        lines.append(f"| `{row['model']}` | {row['format']}{opset} "
                     f"| {row['file_bytes'] / 1024:.0f} KiB | {row['max_abs_diff']:.1e} "
                     f"| {row['argmax_agreement']:.2f}% | {row['test_acc']:.2f}% | {row['record_final_test_acc']:.2f}% "
                     f"| {row['latency_ms_export']:.3f} ms | {row['latency_ms_torch']:.3f} ms |")
    if report["parity"]:
        lines.append("")
    lines += ["Draw page: every shipped model reading one 1x1x28x28 digit, one after another "
              f"({report['draw'][0]['models']} models), {report['draw'][0]['readouts']} readouts:", "",
              "| threads | eager torch (inference_mode): median / p90 | ONNX Runtime: median / p90 | torch / ORT |",
              "|---:|---:|---:|---:|"]
    for row in report["draw"]:
        torch_ms, onnx_ms = row["torch"], row["onnxruntime"]
        lines.append(f"| {row['threads']} | {torch_ms['median_ms']:.2f} / {torch_ms['p90_ms']:.2f} ms "
                     f"| {onnx_ms['median_ms']:.2f} / {onnx_ms['p90_ms']:.2f} ms "
                     f"| {torch_ms['median_ms'] / onnx_ms['median_ms']:.1f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N test images (default: all 10,000)")
    parser.add_argument("--latency-calls", type=int, default=200, help="batch-1 calls per latency (median)")
    parser.add_argument("--readouts", type=int, default=300, help="Draw-page readouts timed per runtime")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="keep the exports here (default: a temporary folder)")
    parser.add_argument("--draw-only", action="store_true",
                        help="only the Draw-page timing (exports ONNX, skips the parity table): a quick rerun")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of markdown")
    args = parser.parse_args(argv)

    records, problems = list_checkpoints()
    for problem in problems:
        print(f"skipped: {problem}")
    test_split = load_test().head(args.limit)
    models = {record.name: load_model(record.weights_path)[0] for record in records}
    report = {"machine": machine(), "versions": versions(), "images": len(test_split),
              "latency_calls": args.latency_calls}
    with tempfile.TemporaryDirectory() as scratch:
        out_dir = args.out_dir or Path(scratch)
        onnx_paths = {name: out_dir / f"{name}{EXTENSIONS['onnx']}" for name in models}
        if args.draw_only:
            report["parity"] = []
            for name, model in models.items():
                export_model(model, "onnx", onnx_paths[name])
        else:
            report["parity"] = parity_rows(records, models, test_split, out_dir, args.latency_calls)
        report["draw"] = draw_page_latency(models, onnx_paths, test_split.images[:1].contiguous(), args.readouts)
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=1) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
