"""A sweep's storage cannot lose a study: what is not an Optuna journal, SQLite file or reachable
database is refused in one line before anything is written (the user's file stays byte for byte
as it was); a journal whose last line was cut by a killed worker is repaired, not written onto;
Ctrl-C and failing trials print one line each, never a traceback."""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ["sweep", "--model", "writeup004", "--epochs", "1", "--limit", "256", "--trials", "1", "--study", "kept"]


def refused(result, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_what_is_not_a_storage_is_refused_in_one_line_and_left_untouched(cli, tmp_path):
    env = {"MNIST_RUNS": str(tmp_path / "runs")}
    notes = tmp_path / "notes.txt"
    notes.write_text("my thesis, chapter 3\n")
    noise = tmp_path / "noise.bin"
    noise.write_bytes(bytes(range(256)) * 4)
    database = tmp_path / "sweeps.db"
    sqlite3.connect(database).execute("create table mine (x)").connection.commit()
    journal = tmp_path / "real.journal"
    journal.write_text('{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}\n')
    cases = [
        (str(notes), ("notes.txt", "a text file", "not an Optuna journal", "untouched")),
        (str(noise), ("noise.bin", "binary data", "not an Optuna journal")),
        (str(tmp_path), ("is a folder", "study.journal")),
        (str(database), ("SQLite database", f"sqlite:///{database}")),
        (f"sqlite:///{journal}", ("is an Optuna journal", "without sqlite:///")),
        (f"sqlite:///{notes}", ("not a SQLite database", "untouched")),
        (f"sqlite:///{tmp_path}", ("is a folder",)),
        (str(notes / "inside.journal"), ("is a file, not a folder",)),
        ("redis://localhost:6379", ("redis:// is not a storage",)),
        (f"postgresql+psycopg://nobody:secret@127.0.0.1:{free_port()}/none", ("cannot be reached",)),
    ]
    before = {path: path.read_bytes() for path in (notes, noise, database, journal)}
    for storage, words in cases:
        result = cli(*TINY, "--storage", storage, env=env)
        refused(result, *words)
        assert "secret" not in result.stderr  # a password is never printed
    assert {path: path.read_bytes() for path in before} == before
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no run was started


def test_a_journal_cut_mid_record_is_repaired_and_the_study_goes_on(cli, tmp_path):
    env = {"MNIST_RUNS": str(tmp_path / "runs")}
    storage = tmp_path / "kept.journal"
    first = cli(*TINY, "--storage", str(storage), env=env)
    assert first.returncode == 0, first.stderr
    whole = storage.read_bytes()
    last = whole.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    storage.write_bytes(whole + last[: len(last) // 2])  # a worker killed halfway through a record
    second = cli(*TINY[:-4], "--trials", "2", "--study", "kept", "--storage", str(storage), env=env)
    assert second.returncode == 0, second.stderr
    notes = [line for line in second.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "cut short" in notes[0] and "dropped" in notes[0]
    study = optuna.load_study(study_name="kept", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(storage))))
    assert [trial.state.name for trial in study.trials] == ["COMPLETE", "COMPLETE"]  # nothing lost, readable

    storage.write_bytes(storage.read_bytes().rstrip(b"\n"))  # a whole last record whose newline was lost
    third = cli(*TINY[:-4], "--trials", "3", "--study", "kept", "--storage", str(storage), env=env)
    assert third.returncode == 0 and "newline" in third.stderr and "restored" in third.stderr

    damaged = storage.read_bytes().split(b"\n")
    damaged[1] = b"#" + damaged[1][1:]  # a record before the last is damaged: not ours to guess
    storage.write_bytes(b"\n".join(damaged))
    before = storage.read_bytes()
    refused(cli(*TINY[:-4], "--trials", "4", "--study", "kept", "--storage", str(storage), env=env),
            "line 2", "damaged", "untouched")
    assert storage.read_bytes() == before


def test_trials_that_fail_print_one_line_each(cli, tmp_path):
    space = tmp_path / "space.json"  # every combination is refused when the trial builds its settings
    space.write_text(json.dumps({"loss": {"choices": ["nll"]}, "label_smoothing": {"choices": [0.1]}}))
    result = cli("sweep", "--model", "frontier", "--epochs", "1", "--limit", "1024", "--trials", "2",
                 "--space", str(space), "--study", "failing", env={"MNIST_RUNS": str(tmp_path / "runs")})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("trial ")]
    assert len(failed) == 2 and all("failed" in line and "label_smoothing must be 0" in line for line in failed)
    assert len(result.stderr.strip().splitlines()) == 2, result.stderr


def test_ctrl_c_stops_a_sweep_with_one_line_and_no_traceback(tmp_path):
    env = {**os.environ, "MNIST_RUNS": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"}
    sweep = subprocess.Popen([sys.executable, "-m", "mnist_core", "sweep", "--model", "writeup004", "--epochs", "3",
                              "--limit", "4096", "--trials", "5", "--study", "stopped"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not any(status.parent.joinpath("batches.jsonl").exists()
                      for status in (tmp_path / "runs").glob("*/status.json")):
            assert time.monotonic() < deadline and sweep.poll() is None, sweep.stderr.read() if sweep.poll() else ""
            time.sleep(0.05)
        sweep.send_signal(signal.SIGINT)
        out, err = sweep.communicate(timeout=60)
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait()
    assert sweep.returncode == 130 and "Traceback" not in err, err
    assert [line for line in err.splitlines() if line.startswith("interrupted")] == [
        "interrupted: stopping the running trial after its current batch (Ctrl-C again to quit now)"]
    assert len(err.strip().splitlines()) == 1  # that line alone on stderr
    assert "failed" in next(line for line in out.splitlines() if line.startswith("trial   0"))  # the one it stopped


@pytest.mark.parametrize("garbage", [b"", b"{\"op_code\": 0, \"wor"])
def test_a_new_or_only_partly_written_journal_is_a_journal(garbage, tmp_path):
    from mnist_core.lab.storage_check import check_storage

    path = tmp_path / "new.journal"
    path.write_bytes(garbage)
    checked = check_storage(str(path))
    assert checked.kind == "journal" and path.read_bytes() == b""  # nothing, or the partial record dropped
