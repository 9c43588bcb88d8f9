"""Every page through Streamlit's AppTest (no browser)."""
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.data import mnist as mnist_data

ROOT = Path(__file__).resolve().parent.parent


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)


def canvas_like(digit: np.ndarray) -> np.ndarray:
    """A 280x280 RGBA canvas image: white strokes on opaque black, like the Draw page's canvas."""
    big = np.kron(digit, np.ones((10, 10), np.uint8))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = big[..., None]
    rgba[..., 3] = 255
    return rgba


def iteration_answers(app: AppTest) -> dict[str, str]:
    """The Draw page's table of every iteration: model -> its answer (the digit it reads)."""
    table = next(element.value for element in app.html if "probabilities-table" in element.value)
    return dict(re.findall(r'<th class="model">([^<]+)</th>.*?<td class="answer">(\d) ·', table))


def test_router_runs():
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not app.exception


def test_draw_page_without_a_drawing_shows_a_hint():
    app = page("draw").run()
    assert not app.exception
    assert any("Draw a digit" in info.value for info in app.info)
    assert not app.metric


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_draw_page_predicts_injected_mnist_digits(index):
    digit = mnist_data.test_images_uint8()[index].numpy()
    truth = int(mnist_data.load_raw(str(mnist_data.data_root()))["t10k-labels-idx1-ubyte"][index])
    app = page("draw")
    app.session_state["draw_injected_image"] = canvas_like(digit)
    app.run()
    assert not app.exception
    metric = app.metric[0]
    assert metric.label.startswith("Prediction")
    assert metric.value == str(truth)
    answers = list(iteration_answers(app).values())  # one row per iteration
    assert len(answers) == len(list((ROOT / "checkpoints").glob("*.pt")))
    assert sum(answer == str(truth) for answer in answers) >= 0.75 * len(answers)  # nearly every iteration agrees


def test_evaluate_page_shows_metrics_mistakes_pages_and_an_explanation():
    app = page("evaluate").run()
    assert not app.exception
    labels = [m.label for m in app.metric]
    assert labels == ["Test accuracy", "Test loss", "Mistakes"]
    assert float(app.metric[0].value.rstrip("%")) > 90
    assert len(app.dataframe[0].value) == 10  # per-class table
    mistakes = int(app.metric[2].value.split(" of ")[0].replace(",", ""))
    captions = " ".join(c.value for c in app.caption)
    assert f"{mistakes:,} mistakes, most confident first" in captions
    assert any(s.label == "Kernels of layer" for s in app.selectbox)  # the first digit's explanation
    assert any(b.label == "Open in Draw" for b in app.button)
    next(s for s in app.selectbox if s.label == "True digit").set_value(7).run()  # filter: true digit 7
    assert not app.exception
    assert any("mistakes, most confident first" in c.value for c in app.caption)
    next(t for t in app.toggle if t.label.startswith("Row-normalized")).set_value(True).run()
    assert not app.exception


def test_evaluate_pages_through_every_mistake(tmp_path, monkeypatch):
    for suffix in (".pt", ".json"):  # writeup000: the model with the most mistakes (328)
        (tmp_path / f"writeup000{suffix}").write_bytes((ROOT / "checkpoints" / f"writeup000{suffix}").read_bytes())
    monkeypatch.setenv("MNIST_CHECKPOINTS", str(tmp_path))
    app = page("evaluate").run()
    mistakes = int(app.metric[2].value.split(" of ")[0].replace(",", ""))
    pages = -(-mistakes // 48)
    pager = next(n for n in app.number_input if n.label.startswith("Page"))
    assert pager.label == f"Page (of {pages})" and pages > 1
    pager.set_value(pages).run()
    assert not app.exception
    assert any(f"on page {pages} of {pages}" in c.value for c in app.caption)


def test_train_page_runs_a_tiny_run_to_the_end(tmp_path, monkeypatch):
    import time

    from mnist_core.lab import launch
    from mnist_core.store import runs

    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    app = page("train").run()
    assert not app.exception
    assert any("parameters" in c.value for c in app.caption)
    inputs = {n.label: n for n in app.number_input}
    inputs["Epochs"].set_value(1)
    inputs["Training images (0 = all 55,000)"].set_value(256)
    next(r for r in app.radio if r.label == "Precision").set_value("bf16")
    app.run()
    next(b for b in app.button if b.label == "Start training").click().run()
    assert not app.exception
    deadline = time.time() + 90
    while launch.active_run() is not None and time.time() < deadline:
        time.sleep(0.2)
    app.run()
    assert not app.exception
    (run,) = runs.list_runs(tmp_path)
    assert run.status == "finished" and run.epochs() and run.config["precision"] == "bf16"
    assert any("finished" in m.value for m in app.markdown)
    assert any(s.value == f"Run {run.name}" for s in app.subheader)
    assert list(app.dataframe[-1].value["run"]) == [run.name]  # the runs table


def test_train_form_mirrors_the_running_run_and_start_is_disabled(tmp_path, monkeypatch, tiny_data):
    import time

    from mnist_core.lab import launch
    from mnist_core.training.recipes import default_config

    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    config = default_config("writeup001_iter3", epochs=40, batch_size=8, limit=256, eval_limit=100, lr=0.02, seed=7)
    run = launch.start_run(config, tmp_path, data=tiny_data)
    try:
        app = page("train").run()  # a fresh session, as after a reload
        assert not app.exception
        assert app.session_state["form_model"] == "writeup001_iter3"
        inputs = {n.label: n for n in app.number_input}
        assert inputs["Epochs"].value == 40 and inputs["Seed"].value == 7
        assert inputs["Learning rate (peak for onecycle)"].value == 0.02
        assert inputs["Training images (0 = all 55,000)"].value == 256
        start = next(b for b in app.button if b.label == "Start training")
        assert start.disabled
        assert any("Start is off while" in c.value and run.name in c.value for c in app.caption)
        app.run()  # and after a rerun
        assert app.session_state["form_model"] == "writeup001_iter3"
        assert next(b for b in app.button if b.label == "Start training").disabled
    finally:
        launch.stop_run(run.name, tmp_path)
        deadline = time.time() + 60
        while launch.active_run() is not None and time.time() < deadline:
            time.sleep(0.1)


def scratch_checkpoints(tmp_path, monkeypatch, names=("writeup001_iter3", "writeup004", "frontier")):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in names:
        for suffix in (".pt", ".json"):
            (folder / f"{name}{suffix}").write_bytes((ROOT / "checkpoints" / f"{name}{suffix}").read_bytes())
    monkeypatch.setenv("MNIST_CHECKPOINTS", str(folder))
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    return folder


def test_draw_survives_a_checkpoint_that_disappears_or_is_corrupt(tmp_path, monkeypatch):
    folder = scratch_checkpoints(tmp_path, monkeypatch)
    digit = mnist_data.test_images_uint8()[0].numpy()
    app = page("draw")
    app.session_state["draw_injected_image"] = canvas_like(digit)
    app.run()
    assert not app.exception and len(iteration_answers(app)) == 3
    (folder / "writeup004.pt").unlink()  # while the app runs
    (folder / "frontier.pt").write_bytes(b"garbage")
    app.run()
    assert not app.exception
    assert app.metric[0].label.startswith("Prediction") and app.metric[0].value == "7"
    assert list(iteration_answers(app)) == ["write-up 001 · iteration 3"]  # shown by its title
    notes = " ".join(c.value for c in app.caption)
    assert "writeup004.pt is missing" in notes and "frontier" in notes


def test_evaluate_survives_its_checkpoint_disappearing(tmp_path, monkeypatch):
    folder = scratch_checkpoints(tmp_path, monkeypatch, ("writeup001_iter3", "writeup004"))
    app = page("evaluate").run()
    assert not app.exception and app.metric[0].label == "Test accuracy"
    (folder / "writeup004.pt").unlink()
    (folder / "writeup001_iter3.pt").unlink()
    app.run()
    assert not app.exception
    assert app.warning or app.error  # nothing to evaluate: said plainly, no traceback


def test_compare_page_default_view_shows_write_up_001_and_what_changed():
    app = page("compare").run()
    assert not app.exception
    assert app.multiselect[0].value == [s for s in ["writeup001_iter1", "writeup001_iter2", "writeup001_iter3",
                                                    "writeup001_iter4"] if (ROOT / "checkpoints" / f"{s}.pt").exists()]
    table = app.dataframe[0].value
    assert {"model", "params", "final test (%)", "best test (%)", "epochs"} <= set(table.columns)
    assert app.selectbox[0].label == "Older iteration" and app.selectbox[0].value == "writeup001_iter3"
    assert app.selectbox[1].value == "writeup001_iter4"
    assert any("fixed" in m.value and "broke" in m.value for m in app.markdown)
    app.session_state["highlight"] = "writeup001_iter2"
    app.run()
    assert not app.exception
    app.session_state["pareto"] = {"selection": {"pick": [{"run": "writeup001_iter3"}]}}  # a click on a point
    app.run()
    assert not app.exception and app.session_state["highlight"] == "writeup001_iter3"


def test_compare_and_evaluate_offer_a_run_trained_from_the_cli(tmp_path, monkeypatch, tiny_data):
    from mnist_core.lab import launch
    from mnist_core.training.recipes import default_config

    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    launch.train_run(default_config("writeup004", epochs=1, limit=256, eval_limit=200), tmp_path, name="cli-run",
                   data=tiny_data)
    evaluate = page("evaluate").run()
    assert not evaluate.exception
    assert any(option.startswith("run:cli-run (") for option in evaluate.selectbox[0].options)
    evaluate.selectbox[0].set_value("run:cli-run").run()
    assert not evaluate.exception and evaluate.metric[0].label == "Test accuracy"
    compare = page("compare").run()
    assert not compare.exception
    assert any("run:cli-run" in option for option in compare.multiselect[0].options)


def test_reproduce_a_write_up_queues_its_iterations_and_can_be_cancelled(tmp_path, monkeypatch):
    import time

    from mnist_core.lab import launch, run_queue
    from mnist_core.models import list_models, model_info

    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)  # through the router
    app.switch_page("pages/train.py").run()
    next(b for b in app.button if b.label == "Reproduce 001").click().run()
    assert not app.exception
    batch = [item for item in run_queue.queued() if item.batch.startswith("Reproduce write-up 001")]
    expected = [name for name in list_models() if model_info(name).source == "001"]
    assert [item.config.model for item in batch] == expected
    assert [item.config.recipe for item in batch] == [model_info(name).recipe for name in expected]
    deadline = time.time() + 30
    while launch.active_run() is None and time.time() < deadline:
        time.sleep(0.1)
    assert run_queue.cancel_queued() == len(expected) - 1  # everything but the one already training
    active = launch.active_run()
    launch.stop_run(active.name, tmp_path)
    while launch.active_run() is not None and time.time() < deadline + 60:
        time.sleep(0.1)
    names, done = run_queue.batch_runs(batch[0].batch)
    assert done and names == [active.name]
    app.run()  # the batch is over: Compare opens on its runs
    assert not app.exception
    assert any(t.value == "Compare iterations" for t in app.title)
    assert app.multiselect[0].value == [f"run:{active.name}"]


def test_reproduce_with_fast_recipes_queues_each_architectures_fast_variant(tmp_path, monkeypatch):
    import time

    from mnist_core.lab import launch, run_queue

    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    app.switch_page("pages/train.py").run()
    app.toggle(key="reproduce_fast").set_value(True).run()
    next(b for b in app.button if b.label == "Reproduce 002").click().run()
    assert not app.exception
    batch = [item for item in run_queue.queued() if item.batch.startswith("Reproduce write-up 002 (fast)")]
    assert [(item.config.model, item.config.recipe, item.config.precision) for item in batch] == \
        [("writeup002", "writeup002_fast", "auto")]  # settled by the machine when it starts
    deadline = time.time() + 30
    while launch.active_run() is None and time.time() < deadline:
        time.sleep(0.1)
    launch.stop_run(launch.active_run().name, tmp_path)
    while launch.active_run() is not None and time.time() < deadline + 60:
        time.sleep(0.1)
    assert launch.active_run() is None


def test_every_ui_helper_name_resolves_to_what_its_module_defines():
    import importlib
    import types

    import app_ui

    for name, module in app_ui._MODULE_OF.items():
        value = getattr(app_ui, name)
        assert not isinstance(value, types.ModuleType), f"ui.{name} is shadowed by a module"
        assert value is getattr(importlib.import_module(f"app_ui.{module}"), name)
    with pytest.raises(AttributeError):
        app_ui.no_such_helper  # noqa: B018


def test_the_builder_on_its_own_adds_blocks_and_counts_parameters():
    def view():
        from app_ui.builder import builder

        builder()

    app = AppTest.from_function(view, default_timeout=60).run()
    assert not app.exception
    assert app.metric[0].label == "Parameters" and app.metric[0].value == "0 so far"  # nothing yet
    next(b for b in app.button if b.label == "Load").click().run()  # the 3-layer example template
    assert not app.exception
    assert int(app.metric[0].value.replace(",", "")) > 0 and len(app.dataframe[0].value) == 7


def test_the_queue_panel_on_its_own_offers_every_write_up():
    def view():
        from app_ui.queue_panel import queue_panel

        queue_panel()

    app = AppTest.from_function(view, default_timeout=60).run()
    assert not app.exception
    labels = {button.label for button in app.button}
    assert {"Reproduce 000", "Reproduce 001", "Reproduce 004", "Train ours"} <= labels


def test_the_preview_on_its_own_shows_the_digits_and_their_augmentation():
    def view():
        from app_ui.preview import augmentation_preview
        from mnist_core.training.recipes import default_config

        augmentation_preview(default_config("writeup001_iter4"))

    app = AppTest.from_function(view, default_timeout=60).run()
    assert not app.exception
    assert any(caption.value.startswith("Rotation ±") for caption in app.caption)
