"""A throwaway PostgreSQL server for the tests, from Debian's `postgresql` package.

`postgres_server()` (a context manager) initdb's a temporary data directory, starts the server on a
free port of 127.0.0.1 (its unix socket in that directory, not /var/run/postgresql), waits until it
accepts connections, creates a database and yields a `Postgres` whose `.url` SQLAlchemy (and so
`optuna.storages.RDBStorage`) takes: `postgresql+psycopg://USER:PASSWORD@127.0.0.1:PORT/DB`. On the
way out the server is stopped and the directory removed, whatever happened inside.

`postgres_url` is the same as a module-scoped pytest fixture. A test module imports it by name
(the tests folder is on sys.path under `python -m pytest`, as for `from browser import ...`):

    from postgres import postgres_url  # noqa: F401  (a fixture: pytest finds it by name)

    def test_something(postgres_url):  # noqa: F811  (the parameter is the fixture, not a redefinition)
        storage = optuna.storages.RDBStorage(postgres_url)

Each module that imports it gets its own server for its own tests (a session-scoped fixture
imported by several modules would be one server per module anyway, each kept until the session
ends). A test that wants a database of its own calls `create_database` on a `postgres_server()`.
Without the server binaries the fixture skips, naming the package to install (`make test` does).
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

BINARIES_GLOB = "/usr/lib/postgresql/*/bin/initdb"
PACKAGE_HINT = ("install Debian's `postgresql` package (`apt-get install postgresql`; "
                "`make test` installs it)")
# PostgreSQL refuses to run as root; as root the server runs as the user Debian's package creates.
UNPRIVILEGED_USER = "postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# Fast and light: the data is thrown away, the machine is shared (2 cores). No durability
# (fsync, full-page writes, synchronous commit), small shared buffers, no parallel query workers
# (none of their dynamic shared memory either, which a small /dev/shm in a container would
# refuse), no huge pages, no autovacuum worker waking up.
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_parallel_workers_per_gather": "0",
    "huge_pages": "off",
    "autovacuum": "off",
    "max_connections": "100",
}


class PostgresUnavailable(RuntimeError):
    """The server cannot run here at all (no binaries, or root without an unprivileged user)."""


def find_bindir() -> Path | None:
    """The bin folder of the newest PostgreSQL server installed by Debian's packages, if any."""
    found = []
    for initdb in glob.glob(BINARIES_GLOB):
        version = Path(initdb).parent.parent.name
        if os.access(initdb, os.X_OK) and version.isdigit():
            found.append((int(version), Path(initdb).parent))
    return max(found)[1] if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Postgres:
    """A running server: `url` is its test database's SQLAlchemy URL."""
    user: str
    password: str
    port: int
    database: str
    socket_dir: Path
    bindir: Path
    run_as: list[str]

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        user = quote(self.user, safe="")  # a login name may hold '@', '.', ...
        return f"postgresql+psycopg://{user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Creates database `name` (letters, digits, underscores) and returns its URL."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"not a plain database name: {name!r}")
        _run(self.run_as + [str(self.bindir / "createdb"), "-h", str(self.socket_dir),
                            "-p", str(self.port), "-U", self.user, name])
        return self.url_for(name)


def _clean_env() -> dict[str, str]:
    """The environment without the PG* variables (PGHOST, PGPORT, PGDATA, PGUSER, ...) that would
    point the client tools elsewhere, and with the C locale: initdb fails on a LANG naming a
    locale that is not generated, and the C locale exists everywhere."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    return env


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env=_clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}")
    return result


def _world_traversable(path: Path) -> bool:
    """Whether another user can reach files under `path` (every folder above it has o+x)."""
    for folder in [path, *path.parents]:
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return True


def _server_identity() -> tuple[str, list[str], int | None, int | None]:
    """(the server's user name, the command prefix that runs a program as that user, its uid and
    gid to chown the temporary folder to, or None when it is the current user)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name, [], None, None
    # PostgreSQL's binaries refuse to run as root ("cannot be run as root": a compromised server
    # would own the machine), so as root (a container, CI) the server runs as an unprivileged
    # system user: Debian's package creates `postgres`. setpriv (util-linux, always there on
    # Debian) switches to it without a login shell or PAM, and keeps the environment we pass.
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and there is no `{UNPRIVILEGED_USER}` user to run PostgreSQL as "
            f"(PostgreSQL refuses to run as root): {PACKAGE_HINT}") from None
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise PostgresUnavailable("running as root and `setpriv` (util-linux) is missing: it "
                                  f"runs PostgreSQL as `{UNPRIVILEGED_USER}`")
    prefix = [setpriv, f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
    return entry.pw_name, prefix, entry.pw_uid, entry.pw_gid


def _temporary_folder(uid: int | None, gid: int | None) -> Path:
    base = Path(tempfile.gettempdir())
    # The unix socket's path (FOLDER/.s.PGSQL.PORT) must stay under 108 bytes, and when the server
    # runs as another user that user must be able to reach the folder (root's pytest temp folders
    # are 0700): fall back to /tmp then.
    if len(str(base)) > 60 or (uid is not None and not _world_traversable(base)):
        base = Path("/tmp")
    folder = Path(tempfile.mkdtemp(prefix="pg-test-", dir=base))
    if uid is not None:
        os.chown(folder, uid, gid)
    return folder


def _stop(process: subprocess.Popen) -> None:
    """Fast shutdown (SIGINT: clients disconnected, no waiting for them), then immediate
    (SIGQUIT), then SIGKILL."""
    for sig, timeout in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)


def _start(bindir: Path, run_as: list[str], folder: Path, port: int, log_path: Path):
    """Starts the postmaster; returns it once it accepts TCP connections, or None when the port
    was taken meanwhile (the caller picks another)."""
    settings = {**SETTINGS, "listen_addresses": "127.0.0.1", "port": str(port),
                "unix_socket_directories": str(folder)}
    options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
    # The postmaster is our child (not pg_ctl's daemon), and setpriv's --pdeathsig makes the kernel
    # send it SIGQUIT (immediate shutdown) should this process die without its teardown (killed by
    # a timeout, say), so that no server outlives the test run.
    if run_as:  # setpriv already: one more option (it applies --pdeathsig after the switch)
        guard = [run_as[0], "--pdeathsig", "SIGQUIT", *run_as[1:]]
    elif shutil.which("setpriv"):
        guard = [shutil.which("setpriv"), "--pdeathsig", "SIGQUIT"]
    else:
        guard = []
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            guard + [str(bindir / "postgres"), "-D", str(folder / "data"), *options],
            env=_clean_env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=folder, start_new_session=True)  # Ctrl-C reaches pytest, which stops it in order
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                text = log_path.read_text(errors="replace")
                if "could not bind" in text or "already in use" in text:
                    return None
                raise RuntimeError(f"PostgreSQL exited ({process.returncode}) on start:\n{text}")
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "1"],
                env=_clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if ready.returncode == 0:
                return process
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not accept connections within "
                                   f"{START_TIMEOUT:.0f} s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.05)
    except BaseException:
        _stop(process)
        raise


@contextlib.contextmanager
def postgres_server(database: str = "test"):
    """A running throwaway server with database `database`; see the module's docstring."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(f"no PostgreSQL server binaries ({BINARIES_GLOB}): {PACKAGE_HINT}")
    user, run_as, uid, gid = _server_identity()
    folder = _temporary_folder(uid, gid)
    process = None
    try:
        password = secrets.token_hex(16)
        password_file = folder / "password"
        password_file.write_text(password + "\n")
        if uid is not None:
            os.chown(password_file, uid, gid)
        # TCP connections (the tests') need the password, the unix socket in the 0700 folder
        # (createdb's) is trusted. UTF8 and the C locale whatever the machine's locale is; no
        # fsync of the new files (a throwaway).
        _run(run_as + [str(bindir / "initdb"), "-D", str(folder / "data"), "-U", user,
                       f"--pwfile={password_file}", "--auth-local=trust",
                       "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C",
                       "--no-sync", "--no-instructions"], cwd=folder)
        for _ in range(5):  # another process may take the free port before the server binds it
            port = free_port()
            process = _start(bindir, run_as, folder, port, folder / "server.log")
            if process is not None:
                break
        else:
            raise RuntimeError("PostgreSQL found no free port in 5 tries")
        server = Postgres(user=user, password=password, port=port, database=database,
                          socket_dir=folder, bindir=bindir, run_as=run_as)
        server.create_database(database)
        yield server
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url():
    """The SQLAlchemy URL of a database on a throwaway PostgreSQL server, one server per test
    module (stopped and removed after the module's tests); skips without the server binaries."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(postgres_server())
        except PostgresUnavailable as reason:
            pytest.skip(str(reason))
        yield server.url
