"""Demo mode (MNIST_LAB_MODE=demo): what it refuses in mnist_core, the CLI and the Train page, and
that a capped run still trains to the end."""
import json
from pathlib import Path

import pytest
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
        mode.is_demo()


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
