"""A sweep's results never scatter: every trial keeps what the lab needs in the study itself.

When a trial's run ends, its settings (`config`), per-epoch train/validation curves (`history`) and
final validation accuracy go into the trial's user attributes, and the run itself (record, curves
and weights: `runs export`'s zip, 30-800 KiB for our models) into an Optuna artifact store that
lives with the study: for a journal file, a folder beside it (`<study>.artifacts/`, on the same
shared disk); for a database (SQLite, PostgreSQL, ...), a table in that same database
(`DatabaseArtifactStore`), so one URL is all a machine needs. Any machine's lab can then show the
whole study (`reports.sweeps`) and bring any trial in as a run (`import_trial`), whichever worker
trained it. Optuna's artifact API is experimental in 5.1; its warnings are silenced here.
"""
from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path

from ..store.run_archive import export_run, import_run
from ..store.runs import Run, RunError
from .mode import refuse_in_demo
from .storage_check import Storage, StorageError, check_storage, readable_storage

ARTIFACTS_TABLE = "mnist_lab_artifacts"
ARCHIVE_ATTR = "archive"  # the trial's user attribute naming its run archive's artifact id


class DatabaseArtifactStore:
    """Optuna's ArtifactStore protocol (open_reader, write, remove) on a table of the study's own
    database: blobs stay out of the trial rows (listing a study never loads them)."""

    def __init__(self, url: str, create: bool = True) -> None:
        import sqlalchemy

        self._sa = sqlalchemy
        self._engine = sqlalchemy.create_engine(url)
        metadata = sqlalchemy.MetaData()
        self._table = sqlalchemy.Table(ARTIFACTS_TABLE, metadata,
                                       sqlalchemy.Column("artifact_id", sqlalchemy.String(64), primary_key=True),
                                       sqlalchemy.Column("body", sqlalchemy.LargeBinary, nullable=False))
        if create:
            from .sweep_storage import first_to_create

            first_to_create(lambda: metadata.create_all(self._engine, tables=[self._table]))

    def open_reader(self, artifact_id: str):
        from optuna.artifacts.exceptions import ArtifactNotFound

        try:
            with self._engine.connect() as connection:
                row = connection.execute(self._sa.select(self._table.c.body)
                                         .where(self._table.c.artifact_id == artifact_id)).first()
        except self._sa.exc.SQLAlchemyError as error:
            raise ArtifactNotFound(f"artifact {artifact_id}: {type(error).__name__}") from None
        if row is None:
            raise ArtifactNotFound(f"no artifact {artifact_id} in {ARTIFACTS_TABLE}")
        return io.BytesIO(row[0])

    def write(self, artifact_id: str, content_body) -> None:
        with self._engine.begin() as connection:
            connection.execute(self._table.insert().values(artifact_id=artifact_id, body=content_body.read()))

    def remove(self, artifact_id: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(self._table.delete().where(self._table.c.artifact_id == artifact_id))


def artifact_store(storage: Storage, create: bool = True):
    """The artifact store that lives with `storage` (see the module)."""
    if storage.kind == "journal":
        from optuna.artifacts import FileSystemArtifactStore

        folder = storage.path.with_name(storage.path.name.removesuffix(".journal") + ".artifacts")
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return FileSystemArtifactStore(folder)
    return DatabaseArtifactStore(storage.url, create=create)


def record_trial(trial, run: Run, store) -> str | None:
    """Keep trial `trial`'s run in the study: settings and curves as user attributes, the run's
    archive as an artifact. Returns a one-line warning when the archive could not be stored (the
    sweep goes on; the run is still in this machine's runs folder), else None."""
    from optuna.artifacts import upload_artifact

    trial.set_user_attr("config", run.config)
    trial.set_user_attr("history", run.epochs())
    if not run.has_weights or run.status == "running":
        return None
    try:
        with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ExperimentalWarning: the artifact API
            archive = export_run(run.name, Path(scratch) / f"{run.name}.zip", run.folder.parent)
            artifact = upload_artifact(artifact_store=store, file_path=str(archive), study_or_trial=trial,
                                       mimetype="application/zip")
    except Exception as error:  # noqa: BLE001 - a full disk or a lost connection must not end the sweep
        return f"warning: trial {trial.number}: its run could not be stored with the study ({type(error).__name__}: " \
               f"{error}); it stays in this machine's runs folder as {run.name}"
    trial.set_user_attr(ARCHIVE_ATTR, artifact)
    return None


def import_trial(url: str, study: str, number: int, directory: Path | None = None, name: str | None = None) -> Run:
    """Bring trial `number` of `study` (in the storage `url`) into this runs folder as a run, under
    its own run name or `name`. RunError (one line) when the trial has no stored run."""
    import optuna
    from optuna.artifacts import download_artifact

    refuse_in_demo("Importing a sweep's trial")
    storage = readable_storage(url)
    try:
        loaded = optuna.load_study(study_name=study, storage=storage)
    except KeyError:
        raise StorageError(f"storage {url}: no study named {study!r}") from None
    trials = {trial.number: trial for trial in loaded.get_trials(deepcopy=False)}
    if number not in trials:
        known = ", ".join(map(str, sorted(trials))) or "none"
        raise RunError(f"study {study!r} has no trial {number} (trials: {known})")
    trial = trials[number]
    artifact = trial.user_attrs.get(ARCHIVE_ATTR)
    if artifact is None:
        raise RunError(f"trial {number} of {study!r} kept no run in the study ({trial.state.name.lower()}: "
                       f"{trial.user_attrs.get('reason') or 'no weights'}); only trials swept with this version "
                       f"and that saved weights can be imported")
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(scratch) / "trial.zip"
        try:
            download_artifact(artifact_store=artifact_store(check_storage(url, repair=False), create=False),
                              file_path=str(path), artifact_id=artifact)
        except Exception as error:  # noqa: BLE001 - ArtifactNotFound, an unreachable store
            raise RunError(f"trial {number} of {study!r}: its run cannot be fetched ({type(error).__name__}: "
                           f"{error})") from None
        return import_run(path, directory, name or trial.user_attrs.get("run"))
