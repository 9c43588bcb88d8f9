"""Shared fixtures: the real MNIST (from MNIST_DATA) and small slices of it, and the CLI run in
this process (`cli`)."""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "MNIST_DATA" not in os.environ and (ROOT.parent / "shared" / "data" / "MNIST").is_dir():
    os.environ["MNIST_DATA"] = str(ROOT.parent / "shared" / "data")

# The suite never reads or writes the developer's runs folder or cache: a test that needs a runs
# folder of its own sets one; every other one gets this empty session folder (so a lab full of
# runs and sweep studies neither slows the pages under test nor changes what they show).
_SCRATCH = tempfile.mkdtemp(prefix="mnist-tests-")
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
os.environ["MNIST_RUNS"] = os.path.join(_SCRATCH, "runs")
os.environ["MNIST_CACHE"] = os.path.join(_SCRATCH, "cache")
os.environ.pop("MNIST_SWEEP_STORAGE", None)
# Runs started through the app train at the tests' own priority: at the default (nice 10, with their
# session's autogroup) a run yields its core to every other test process, and a test that waits for
# it waits for the others. tests/test_priority.py sets its own value and checks the lowering.
os.environ["MNIST_RUN_NICE"] = "0"

# Under pytest-xdist (make test runs the tests that need no browser in two worker processes) each
# worker, and every process it starts, uses one torch thread: two workers with two threads each on
# a 2-core machine wait on each other's cores (measured: slower than one process with two threads).
XDIST_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
TORCH_THREADS = 1 if XDIST_WORKERS > 1 else 2
if XDIST_WORKERS > 1:
    os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(TORCH_THREADS)

from mnist_core.data.mnist import MNIST, load_mnist  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium (make test runs these on their own, "
                            "after the rest: a busy machine loses drawn strokes and times out waits)")


def pytest_collection_modifyitems(items):
    """Every test that uses the browser (the `chromium` fixture, directly or through a server
    fixture) is marked `browser`, so `-m browser` / `-m "not browser"` select them."""
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def mnist() -> MNIST:
    return load_mnist()


@pytest.fixture(scope="session")
def tiny(mnist) -> MNIST:
    """256 training images, 200 validation and 200 test images: enough for a couple of batches."""
    return MNIST(train=mnist.train.head(256), validation=mnist.validation.head(200),
                 test=mnist.test.head(200), root=mnist.root)


@pytest.fixture
def tiny_data(tiny) -> MNIST:
    return tiny


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory):
    """A runs folder shared by the tests of one module (a browser test's server writes into it)."""
    return tmp_path_factory.mktemp("runs")


@dataclass
class CliResult:
    """What one CLI call left, named as subprocess.CompletedProcess names it."""
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(mnist, capsys, monkeypatch):
    """`cli(*args, env={...})` runs `python -m mnist_core ARGS` in this process and returns a
    CliResult: `main(argv)`'s exit code (a SystemExit's code, as the interpreter would give it) and
    what it printed. Each call runs from the repository root with `env` set for that call only.
    Loading MNIST from the session's data folder returns the session's copy (the CLI slices it for
    --limit as before); any other folder (a broken copy, say) is read as usual."""
    from mnist_core import cli as cli_module
    from mnist_core.data import mnist as mnist_module
    from mnist_core.training import callbacks

    real_load = mnist_module.load_mnist
    session_root = Path(mnist.root).resolve()

    def load_mnist(root=None, validation_size=5000):
        chosen = Path(root if root is not None else mnist_module.data_root()).resolve()
        if chosen == session_root and validation_size == 5000:
            return mnist
        return real_load(root, validation_size)

    monkeypatch.setattr(mnist_module, "load_mnist", load_mnist)  # the verbs and promotion call it through the module

    class ProgressPrinter(callbacks.ProgressPrinter):
        """Training's progress lines on the sys.stderr of the call, which capsys reads (the real
        class's default stream is the sys.stderr of import time)."""

        def __init__(self, stream=None):
            super().__init__(stream if stream is not None else sys.stderr)

    monkeypatch.setattr(callbacks, "ProgressPrinter", ProgressPrinter)  # cmd_train imports it when called

    def run(*args, env: dict[str, str] | None = None) -> CliResult:
        capsys.readouterr()  # only this call's output
        with monkeypatch.context() as patch:
            patch.chdir(ROOT)
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            try:
                code = cli_module.main([str(arg) for arg in args])
            except SystemExit as exit:  # argparse's usage errors
                code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture(autouse=True, scope="session")
def no_orphan_workers(tmp_path_factory):
    """After the session, stop any run worker still training in this session's temporary folders
    (a test that fails before its Stop would otherwise leave a full training run eating the cores)."""
    yield
    import signal

    base = str(tmp_path_factory.getbasetemp())
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mnist_core.lab.worker" in command and any(base.encode() in part for part in command):
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except OSError:
                pass


@pytest.fixture(autouse=True)
def nothing_left_training():
    """After each test, nothing this process started still trains or waits in the queue: a test that
    fails between starting a run and stopping it would otherwise leave the run holding this process's
    one place for training, and every later test that trains here (a study, the queue) would wait
    for it for good."""
    yield
    launch, run_queue = sys.modules.get("mnist_core.lab.launch"), sys.modules.get("mnist_core.lab.run_queue")
    if run_queue is not None:
        run_queue.cancel_queued()
    if launch is None:
        return
    active = launch.training_here()
    if active is not None:
        if active.stop is not None:
            active.stop.set()
        if active.process is not None:
            active.process.terminate()  # the worker stops between batches on SIGTERM
        deadline = time.monotonic() + 30
        while launch.training_here() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
    occupant = launch._OCCUPANT
    if occupant is not None and occupant[1].poll() is None:
        occupant[1].terminate()
        occupant[1].wait(timeout=30)


@pytest.fixture(scope="session")
def chromium():
    """One headless Debian Chromium for every browser module (skipped where it is not installed)."""
    import shutil

    from browser import CHROMIUM, CHROMIUM_ARGS, CountingBrowser

    playwright_api = pytest.importorskip("playwright.sync_api")
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium not installed (make test installs it)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield CountingBrowser(browser)
        browser.close()


@pytest.fixture(autouse=True)
def close_pages_after_a_browser_test(request):
    """A browser test's pages are closed when it ends: left open (a Train page's live view ticks
    every few seconds), their renderers and the server's reruns ate a core for the rest of the suite."""
    yield
    if "chromium" in request.fixturenames:
        for context in list(request.getfixturevalue("chromium").contexts):
            context.close()


@dataclass
class SharedApp:
    url: str
    browser: object
    runs: Path  # the server's runs folder


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory, chromium):
    """One Streamlit server for the browser modules that need no special environment (draw, lab,
    sessions): a runs folder of its own and the session's cache (so the Draw page's ONNX exports
    are built once for every server of the session). Modules that need another environment (demo
    mode, scratch checkpoints, a server no one has visited) start their own."""
    from browser import streamlit_server

    runs = tmp_path_factory.mktemp("shared-runs")
    with streamlit_server({"MNIST_RUNS": str(runs)}) as url:
        yield SharedApp(url, chromium, runs)
