"""Demo mode (MNIST_LAB_MODE=demo): what it refuses in mnist_core, the CLI and the Train page, and
that a capped run still trains to the end."""
import json
from pathlib import Path

import pytest
from hostile import FINITE_ROW, make_run, smallest_arguments, verb_parsers
from streamlit.testing.v1 import AppTest

from mnist_core.lab import launch, mode, promotion, run_queue
from mnist_core.store import runs
from mnist_core.training.config import ConfigError
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_LAB_MODE", "demo")
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def small(**settings):
    return default_config("writeup001_iter2", **{"epochs": 1, "limit": 256, "eval_limit": 100, **settings})


def test_the_mode_is_full_unless_set_and_a_typo_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("MNIST_LAB_MODE", raising=False)
    assert mode.lab_mode() == "full" and not mode.is_demo()
    mode.refuse_in_demo("anything")  # nothing refused in the default mode
    mode.check_demo_run(default_config("writeup004"))  # no caps either
    monkeypatch.setenv("MNIST_LAB_MODE", "Demo ")
    assert mode.is_demo()
    monkeypatch.setenv("MNIST_LAB_MODE", "public")
    with pytest.raises(ConfigError, match="MNIST_LAB_MODE must be one of full, demo"):
        mode.lab_mode()
    assert mode.is_demo()  # never raises: a typo reads as the safe mode


def test_demo_refuses_delete_promote_and_unpromote_in_mnist_core(demo, tiny_data):
    run = launch.train_run(small(), demo, name="a-run", data=tiny_data)
    assert run.status == "finished"  # a capped run trains to the end
    scratch = demo.parent / "checkpoints"
    scratch.mkdir()
    for call, words in ((lambda: launch.delete_run("a-run", demo), "Deleting runs"),
                        (lambda: promotion.promote("a-run", checkpoints=scratch, directory=demo, data=tiny_data),
                         "Promoting runs"),
                        (lambda: promotion.plan_promotion("a-run", checkpoints=scratch, directory=demo, data=tiny_data),
                         "Promoting runs"),
                        (lambda: promotion.unpromote("anything", checkpoints=scratch), "Un-promoting")):
        with pytest.raises(mode.DemoModeError, match=f"{words}.* is off in this demo"):
            call()
    assert runs.get_run("a-run", demo).status == "finished" and list(scratch.iterdir()) == []


def test_demo_caps_the_size_of_a_run_and_the_queue(demo, tiny_data):
    with pytest.raises(mode.DemoLimitError, match="at most 60,000 images × epochs per run"):
        launch.start_run(default_config("writeup004"), demo)  # 20 epochs of 55,000 images
    with pytest.raises(mode.DemoLimitError, match="parameters"):
        launch.check_trainable(default_config("writeup001_iter1", epochs=1, limit=1000))  # ~1.2M parameters
    fitted = mode.fit_demo(default_config("writeup004"))
    assert fitted.epochs * fitted.limit <= mode.DEMO.max_image_epochs and fitted.epochs >= 1
    launch.check_trainable(fitted)  # what the Train page offers fits
    try:
        with pytest.raises(mode.DemoLimitError, match="queues at most 2"):
            run_queue.enqueue([small(epochs=30, batch_size=8) for _ in range(3)], directory=demo, data=tiny_data)
        assert run_queue.queued() == [] or all(item.state != "waiting" for item in run_queue.queued())
    finally:
        run_queue.cancel_queued()


def test_cli_in_demo_mode_refuses_with_one_line(cli, demo):
    deleted = cli("delete", "whatever")
    assert deleted.returncode == 2 and "off in this demo" in deleted.stderr and "Traceback" not in deleted.stderr
    exported = cli(
        "train", "--model", "writeup001_iter2", "--epochs", "1", "--limit", "64", "--out", str(demo / "x.pt")
    )
    assert exported.returncode == 2 and "--out" in exported.stderr
    too_big = cli("train", "--model", "writeup004")
    assert too_big.returncode == 2 and "images × epochs" in too_big.stderr
    assert not demo.exists() or json.loads(cli("runs", "--json").stdout) == []


def test_train_page_in_demo_mode_has_a_banner_no_delete_or_promote_and_a_form_that_fits(demo, tiny_data):
    launch.train_run(small(), demo, name="finished-one", data=tiny_data)
    router = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not router.exception and any("Demo." in info.value for info in router.info)  # on every page
    app = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60).run()
    assert not app.exception
    labels = {button.label for button in app.button}
    assert "Start training" in labels and "Settings from this run" in labels
    assert not labels & {"Promote…", "Delete…", "Un-promote"}
    inputs = {n.label: n.value for n in app.number_input}
    assert inputs["Epochs"] * (inputs["Training images (0 = all 55,000)"] or 55_000) <= mode.DEMO.max_image_epochs
    assert not [e for e in app.error if "Cannot start" in e.value]


def test_full_mode_keeps_its_controls(monkeypatch, tmp_path, tiny_data):
    monkeypatch.delenv("MNIST_LAB_MODE", raising=False)
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    launch.train_run(small(), tmp_path, name="finished-one", data=tiny_data)
    app = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60).run()
    assert not app.exception and not any("Demo." in info.value for info in app.info)
    assert {"Promote…", "Delete…"} <= {button.label for button in app.button}


def test_the_router_reads_the_same_mode_key_as_mnist_core():
    import app_ui.deployment

    assert app_ui.deployment.MODE_ENV == mode.MODE_ENV  # the router keeps its own copy: no torch before the first page


PAGES = ["pages/draw.py", "pages/train.py", "pages/compare.py", "pages/evaluate.py"]


def test_a_misspelt_mode_reads_as_the_demo_and_the_cli_refuses_it(monkeypatch, cli):
    monkeypatch.setenv("MNIST_LAB_MODE", "pubilc")
    effective, problem = mode.mode_in_effect()
    assert mode.is_demo() and effective == "demo" and "running as the demo" in problem
    with pytest.raises(mode.DemoModeError):
        mode.refuse_in_demo("Deleting runs")  # the safe reading in mnist_core, not the full lab
    for verb in (["models"], ["runs"], ["delete", "x"]):  # read or write: the CLI says what is wrong, first
        result = cli(*verb)
        assert result.returncode == 2 and result.stderr.strip().splitlines() == [
            "error: MNIST_LAB_MODE must be one of full, demo, got 'pubilc'"]


@pytest.fixture
def misspelt(monkeypatch, tmp_path):
    """A runs folder with a finished run (so Train lists Delete and Promote where allowed) and a
    misspelt MNIST_LAB_MODE."""
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    make_run(tmp_path, "finished-one", [FINITE_ROW])
    monkeypatch.setenv("MNIST_LAB_MODE", "pubilc")


def test_a_misspelt_mode_is_said_above_the_demo_banner(misspelt):
    router = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()  # on every page
    assert not router.exception
    assert any("MNIST_LAB_MODE must be one of full, demo" in error.value for error in router.error)
    assert any("Demo." in info.value for info in router.info)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_under_a_misspelt_mode_as_the_demo(page, misspelt):
    app = AppTest.from_file(str(ROOT / page), default_timeout=60).run()
    assert not app.exception, app.exception[0].value if app.exception else ""
    if page == "pages/train.py":
        assert not {"Promote…", "Delete…", "Un-promote"} & {button.label for button in app.button}


def test_every_cli_verb_is_classified_by_demo_modes_one_rule():
    """A verb the CLI gains must say what it writes (lab.mode.VERB_WRITES) before this passes; every
    argument the rule names exists, and every path argument of a verb that runs in demo mode is
    either read or checked as an output."""
    for verb, parser in verb_parsers().items():
        assert verb in mode.VERB_WRITES, f"say what `{verb}` writes in mnist_core.lab.mode.VERB_WRITES"
        writes = mode.VERB_WRITES[verb]
        destinations = {action.dest for action in parser._actions}
        named = set(writes.flags) | set(writes.outputs) | set(writes.reads)
        assert named <= destinations, f"{verb}: the rule names {named - destinations}, which it does not have"
        paths = {action.dest for action in parser._actions if action.type is Path}
        assert writes.refused or paths <= named, f"{verb}: is {paths - named} read or written?"


@pytest.mark.parametrize("verb", sorted(verb_parsers()))
def test_demo_modes_rule_on_every_verb(verb, demo, monkeypatch):
    parser, writes = verb_parsers()[verb], mode.VERB_WRITES[verb]
    plain = vars(parser.parse_args(smallest_arguments(parser)))
    plain.update({output: demo / "plain.out" for output in writes.outputs if plain.get(output) is not None})
    if writes.refused:
        with pytest.raises(mode.DemoModeError, match="is off in this demo"):
            mode.check_verb(verb, plain)
        return
    mode.check_verb(verb, plain)  # as it is: it writes at most inside the runs folder
    for flag in writes.flags:
        with pytest.raises(mode.DemoModeError, match="is off in this demo"):
            mode.check_verb(verb, {**plain, flag: True})
    demo.mkdir(parents=True, exist_ok=True)
    (demo / "taken.out").write_text("a visitor's file")
    for output in writes.outputs:
        for outside in (demo.parent / "elsewhere.out", demo / ".." / "escape.out", demo, demo / "taken.out"):
            with pytest.raises(mode.DemoModeError):
                mode.check_verb(verb, {**plain, output: outside})
        mode.check_verb(verb, {**plain, output: demo / "new.out"})  # a new file inside the runs folder
    monkeypatch.setenv("MNIST_LAB_MODE", "full")
    mode.check_verb(verb, {**plain, **dict.fromkeys(writes.flags, True),
                           **dict.fromkeys(writes.outputs, demo.parent / "elsewhere.out")})


def test_a_verb_the_rule_does_not_know_is_refused_in_demo_mode(demo):
    with pytest.raises(mode.DemoModeError, match="not classified"):
        mode.check_verb("brand-new-verb", {})


def test_report_writes_nothing_outside_the_runs_folder_in_demo_mode(cli, demo):
    readme = ROOT / "README.md"
    before = readme.read_bytes()
    result = cli("report", "--write-readme")
    assert result.returncode == 2 and "--write-readme" in result.stderr and "Traceback" not in result.stderr
    assert readme.read_bytes() == before
    outside = demo.parent / "report.html"
    result = cli("report", "--checkpoint", ROOT / "checkpoints" / "frontier.pt", "--html", outside)
    assert result.returncode == 2 and "outside the runs folder" in result.stderr and not outside.exists()
    assert len(result.stderr.strip().splitlines()) == 1
