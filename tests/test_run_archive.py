"""Runs that travel: `runs export` -> `runs import` on a second runs folder gives the same record and
the same weights, and every hostile archive is refused in one line with nothing written."""
from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from pathlib import Path

import pytest
import torch

from mnist_core.lab.launch import train_run
from mnist_core.store import runs
from mnist_core.store.run_archive import MANIFEST, ArchiveError, export_run, import_run
from mnist_core.training.recipes import default_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny):
    """One finished run in a runs folder of its own (a few batches of real MNIST)."""
    folder = tmp_path_factory.mktemp("here")
    run = train_run(default_config("writeup001_iter2", epochs=1, batch_size=64, limit=256, eval_limit=200), folder,
                    name="travels", data=tiny)
    assert run.status == "finished" and run.has_weights
    return folder, run


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*")) if folder.exists() else []


def test_an_exported_run_imports_with_the_same_record_and_weights(trained, tmp_path, cli):
    here, run = trained
    there = tmp_path / "there"
    exported = cli("runs", "export", "travels", "--out", str(tmp_path / "travels.zip"), env={"MNIST_RUNS": str(here)})
    assert exported.returncode == 0, exported.stderr
    imported = cli("runs", "import", str(tmp_path / "travels.zip"), "--json", env={"MNIST_RUNS": str(there)})
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["name"] == "travels"
    copy = runs.get_run("travels", there)
    assert digest(copy.weights_path) == digest(run.weights_path)
    original, moved = run.record.to_dict(), copy.record.to_dict()
    assert {k: v for k, v in moved.items() if k != "weights_path"} == {k: v for k, v in original.items()
                                                                       if k != "weights_path"}
    assert copy.epochs() == run.epochs() and copy.samples() == run.samples()

    again = cli("runs", "import", str(tmp_path / "travels.zip"), env={"MNIST_RUNS": str(there)})
    assert again.returncode == 2 and "already exists" in again.stderr and "--as" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    renamed = cli("runs", "import", str(tmp_path / "travels.zip"), "--as", "travels-2", env={"MNIST_RUNS": str(there)})
    assert renamed.returncode == 0 and runs.get_run("travels-2", there).status == "finished"


def rebuild(source: Path, target: Path, change) -> Path:
    """A copy of the archive at `source` with `change(members)` applied to its {name: bytes}."""
    with zipfile.ZipFile(source) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    change(members)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def with_manifest(members: dict) -> None:
    """Make the manifest agree with the members again (a forger would)."""
    manifest = json.loads(members[MANIFEST])
    manifest["files"] = {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                         for name, data in members.items() if name != MANIFEST}
    members[MANIFEST] = json.dumps(manifest).encode()


def hostile_archives(good: Path, folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (archive, words its refusal must say)."""
    cases = {}
    data = good.read_bytes()
    cases["truncated"] = (folder / "truncated.zip", "not a readable zip")
    cases["truncated"][0].write_bytes(data[: len(data) // 2])
    cases["not a zip"] = (folder / "random.zip", "not a readable zip")
    cases["not a zip"][0].write_bytes(bytes(range(256)) * 8)
    for name, member in (("absolute path", "/etc/cron.d/evil"), ("dot-dot", "../outside.json")):
        path = folder / f"{name}.zip"
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as archive:
            for info in source.infolist():
                archive.writestr(info, source.read(info))
            archive.writestr(zipfile.ZipInfo(member), b"{}")
        cases[name] = (path, "outside the run folder")
    symlink = folder / "symlink.zip"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(symlink, "w") as archive:
        for info in source.infolist():
            if info.filename != "metrics.jsonl":
                archive.writestr(info, source.read(info))
        link = zipfile.ZipInfo("metrics.jsonl")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    cases["symlink"] = (symlink, "not a plain file")
    bomb = folder / "bomb.zip"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            payload = source.read(info) if info.filename != "batches.jsonl" else b"\n" * (60 * 2**20)
            archive.writestr(info.filename, payload)
    cases["zip bomb"] = (bomb, "zip bomb")
    cases["extra member"] = (rebuild(good, folder / "extra.zip", lambda m: m.update({"run.sh": b"rm -rf ~"})),
                             "unexpected member")
    cases["tampered weights"] = (rebuild(good, folder / "tampered.zip",
                                         lambda m: m.update({"model.pt": m["model.pt"][:-10] + b"0" * 10})),
                                 "does not match its hash")
    buffer = io.BytesIO()
    torch.save({"format": "mnist_core.checkpoint/1", "model": "writeup001_iter2", "state_dict": {},
                "evil": Path("/")}, buffer)  # a pickled object: never loaded

    def pickled(members):
        members["model.pt"] = buffer.getvalue()
        with_manifest(members)
    cases["pickled weights"] = (rebuild(good, folder / "pickled.zip", pickled), "pickled")

    def other_model(members):
        config = json.loads(members["config.json"])
        members["config.json"] = json.dumps({**config, "model": "writeup004"}).encode()
        with_manifest(members)
    cases["weights of another model"] = (rebuild(good, folder / "other.zip", other_model), "weights")

    def still_running(members):
        members["status.json"] = json.dumps({"status": "running", "pid": 1}).encode()
        with_manifest(members)
    cases["still running"] = (rebuild(good, folder / "running.zip", still_running), "'running'")
    cases["no manifest"] = (rebuild(good, folder / "bare.zip", lambda m: m.pop(MANIFEST)), "no manifest.json")
    return cases


def test_hostile_or_damaged_archives_are_refused_in_one_line_and_nothing_is_written(trained, tmp_path, cli):
    here, _ = trained
    good = export_run("travels", tmp_path / "good.zip", here)
    target = tmp_path / "target"
    target.mkdir()
    for name, (archive, words) in hostile_archives(good, tmp_path).items():
        result = cli("runs", "import", str(archive), env={"MNIST_RUNS": str(target)})
        assert result.returncode == 2, name
        assert words in result.stderr, (name, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, name
        assert folder_state(target) == [], (name, folder_state(target))
    assert import_run(good, target).status == "finished"  # the honest one still goes in


def test_a_run_that_trains_or_does_not_exist_is_not_exported(trained, tmp_path):
    here, _ = trained
    with pytest.raises(runs.RunNotFoundError):
        export_run("nobody", tmp_path / "x.zip", here)
    with pytest.raises(ArchiveError, match="folder"):
        export_run("travels", tmp_path, here)
    assert not list(tmp_path.glob("*.tmp"))


def test_the_all_runs_table_offers_a_runs_zip_in_full_mode_only(trained, monkeypatch):
    from streamlit.testing.v1 import AppTest

    here, _ = trained
    monkeypatch.setenv("MNIST_RUNS", str(here))
    labels = {}
    for mode in ("full", "demo"):
        monkeypatch.setenv("MNIST_LAB_MODE", mode)
        app = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "pages" / "train.py"), default_timeout=60)
        app.session_state["open_run"] = "travels"
        app.run()
        assert not app.exception
        labels[mode] = [element.proto.label for element in app.get("download_button")]
    assert "Run (.zip)" in labels["full"] and "Run (.zip)" not in labels["demo"]
    assert "Metrics (CSV)" in labels["demo"]  # what a demo visitor may still take
