"""What a sweep's `--storage` is, checked before anything is written to it.

A storage is an Optuna journal file (a path, optionally "journal:PATH"), a SQLite file
(sqlite:///PATH) or a database server (postgresql://..., mysql://...). `check_storage` refuses in
one line, naming what the target is and what was probably meant, anything else: a folder, an
ordinary file of the user's (text, random bytes), a SQLite file given as a journal path or a
journal given as sqlite:///, a missing folder, an unknown scheme. Optuna's own journal writer
appends after a last line cut short by a killed worker, which makes the whole journal unreadable;
`repair_journal` drops such a partial record (or restores its newline when the record is whole),
under the journal's own lock, and says so. `readable_storage` opens a storage for looking only:
it creates no file, no table and no study.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..training.config import ConfigError

SQLITE_MAGIC = b"SQLite format 3\x00"
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql")


class StorageError(ConfigError):
    """A storage that cannot be used (or repaired); the message says what it is, in one line."""


@dataclass
class Storage:
    """A checked storage: its kind ("journal", "sqlite" or "database"), the URL Optuna is given,
    the file where it has one, and a note for the user (a repair) or None."""
    kind: str
    url: str
    path: Path | None = None
    note: str | None = None


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].split("+", 1)[0].lower()


def check_storage(url: str, repair: bool = True) -> Storage:
    """The storage `url` names, checked; StorageError in one line when it is not one. With
    `repair`, a journal whose last record was cut short is repaired first (see the module)."""
    if not isinstance(url, str) or not url.strip():
        raise StorageError("storage: give a journal file path or a database URL (sqlite:///f.db, postgresql://...)")
    if "://" not in url:
        path = Path(url.removeprefix("journal:")).expanduser()
        _check_journal_path(path)
        note = repair_journal(path) if repair and path.is_file() else None
        return Storage("journal", str(path), path, note)
    scheme = _scheme(url)
    if scheme not in DATABASE_SCHEMES:
        raise StorageError(f"storage {url!r}: {scheme}:// is not a storage this lab knows; give a journal file path, "
                           f"sqlite:///PATH or a database URL (postgresql://USER@HOST/DB, mysql://...)")
    if scheme != "sqlite":
        return Storage("database", url)
    path = _sqlite_path(url)
    if path is None:
        raise StorageError(f"storage {url!r}: an in-memory SQLite database would vanish with this process; "
                           f"give a file, e.g. sqlite:///sweeps.db")
    _check_sqlite_path(path, url)
    return Storage("sqlite", url, path)


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    try:
        database = make_url(url).database
    except Exception as error:  # noqa: BLE001 - SQLAlchemy's ArgumentError and friends
        raise StorageError(f"storage {url!r}: not a database URL ({error})") from None
    return Path(database).expanduser() if database and database != ":memory:" else None


def _head(path: Path, size: int = 4096) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as error:
        raise StorageError(f"storage {path}: cannot be read ({error.strerror or error})") from None


def _check_parent(path: Path) -> None:
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise StorageError(f"storage {path}: {ancestor} is a file, not a folder")
            if not os.access(ancestor, os.W_OK):
                raise StorageError(f"storage {path}: the folder {ancestor} cannot be written to")
            return


def _check_journal_path(path: Path) -> None:
    if path.is_dir():
        raise StorageError(f"storage {path} is a folder; give a journal file inside it, e.g. {path / 'study.journal'}")
    _check_parent(path)
    if not path.exists() or path.stat().st_size == 0:
        return  # a new journal (Optuna creates it)
    head = _head(path)
    if head.startswith(SQLITE_MAGIC):
        raise StorageError(f"storage {path} is a SQLite database, not a journal; did you mean sqlite:///{path}?")
    first = head.split(b"\n", 1)[0]
    if not _is_journal_record(first) and not (b"\n" not in head and _is_journal_record_prefix(first)):
        kind = "a text file" if _looks_like_text(head) else "a file of binary data"
        raise StorageError(f"storage {path} is {kind} that is not an Optuna journal; it was left untouched: give a "
                           f"new file name (a journal), or sqlite:///FILE.db or a database URL")


def _is_journal_record(line: bytes) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and "op_code" in record


def _is_journal_record_prefix(line: bytes) -> bool:
    """The start of a journal record cut short (a journal whose only line was cut)."""
    return line.startswith(b'{"op_code":')


def _looks_like_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


def _check_sqlite_path(path: Path, url: str) -> None:
    if path.is_dir():
        raise StorageError(f"storage {url!r}: {path} is a folder; give a file inside it, e.g. "
                           f"sqlite:///{path / 'sweeps.db'}")
    _check_parent(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    head = _head(path)
    if head.startswith(SQLITE_MAGIC):
        return
    if _is_journal_record(head.split(b"\n", 1)[0]):
        raise StorageError(f"storage {url!r}: {path} is an Optuna journal, not a SQLite database; give its path "
                           f"without sqlite:/// ({path})")
    raise StorageError(f"storage {url!r}: {path} exists and is not a SQLite database; it was left untouched: "
                       f"give a new file name")


def repair_journal(path: Path) -> str | None:
    """Make a journal whose last line was cut short readable and writable again, under the journal's
    own lock (so a worker writing right now is never mistaken for a dead one): a whole last record
    gets its newline back, a partial one is dropped. Returns a note saying what was done, or None.
    A damaged line before the last is refused (StorageError): that journal is left as it is."""
    from optuna.storages.journal import JournalFileSymlinkLock

    lock = JournalFileSymlinkLock(str(path))  # the lock JournalFileBackend writes under
    lock.acquire()
    try:
        data = path.read_bytes()
        lines = data.split(b"\n")
        for number, line in enumerate(lines[:-1], 1):
            if line.strip() and not _is_journal_record(line):
                raise StorageError(f"storage {path}: line {number} of the journal is damaged (not a journal record); "
                                   f"it was left untouched")
        tail = lines[-1]
        if not tail:
            return None
        if _is_journal_record(tail):
            with path.open("ab") as handle:
                handle.write(b"\n")
            return f"note: {path}: its last record had lost its newline (a worker killed mid-write); restored"
        with path.open("r+b") as handle:
            handle.truncate(len(data) - len(tail))
        return (f"note: {path}: its last record was cut short ({len(tail)} bytes, a worker killed mid-write); "
                f"dropped, the {len(lines) - 1} whole records before it are kept")
    finally:
        lock.release()


def readable_storage(url: str):
    """An Optuna storage for reading the studies in `url`: nothing is created (no journal file, no
    SQLite file, no tables), nothing repaired. StorageError in one line when there is nothing to read."""
    import optuna
    import sqlalchemy

    checked = check_storage(url, repair=False)
    if checked.kind == "journal":
        if not checked.path.is_file():
            raise StorageError(f"storage {checked.path}: no such journal file")
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(checked.path)))
    if checked.kind == "sqlite" and not checked.path.is_file():
        raise StorageError(f"storage {url}: no such SQLite file ({checked.path})")
    try:
        engine = sqlalchemy.create_engine(url, connect_args=_connect_timeout(url))
        try:
            has_studies = sqlalchemy.inspect(engine).has_table("studies")
        finally:
            engine.dispose()
    except Exception as error:  # noqa: BLE001 - the driver's errors: unreachable, refused, bad password
        raise StorageError(f"storage {safe_url(url)}: cannot be read ({type(error).__name__}: "
                           f"{str(error).strip().splitlines()[0][:200]})") from None
    if not has_studies:
        raise StorageError(f"storage {safe_url(url)}: no Optuna studies in that database")
    return optuna.storages.RDBStorage(url, skip_table_creation=True)


def _connect_timeout(url: str) -> dict:
    return {"connect_timeout": 5} if _scheme(url) in ("postgresql", "postgres", "mysql", "mariadb") else {}


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return url
