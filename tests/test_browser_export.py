"""In Chromium: Evaluate's Download ONNX builds the export on the click (Streamlit's deferred
download) and hands over a file that onnxruntime runs and that reads a test digit as the page's
model does; the "Use this model" snippet opens beside it."""
import numpy as np
from browser import ARTIFACTS

from mnist_core.data.mnist import load_test
from mnist_core.data.mnist import test_images_uint8 as raw_test_images


def test_download_onnx_from_evaluate_gives_a_working_model(shared_app, tmp_path):
    import onnxruntime

    page = shared_app.browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto(shared_app.url + "/evaluate")
    page.get_by_text("Test accuracy").first.wait_for(timeout=120000)
    button = page.get_by_role("button", name="Download ONNX")
    button.wait_for(timeout=60000)
    page.get_by_text("Use this model").first.click()
    page.get_by_text("onnxruntime.InferenceSession").first.wait_for(timeout=30000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "evaluate_downloads.png"))
    with page.expect_download(timeout=120000) as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".onnx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    session = onnxruntime.InferenceSession(str(saved), providers=["CPUExecutionProvider"])
    pixels = raw_test_images()[:20].numpy().astype(np.float32)[:, None] / 255.0  # white on black, 0..1
    scores = session.run(None, {"image": pixels})[0]
    assert scores.shape == (20, 10)
    assert (scores.argmax(1) == load_test().labels[:20].numpy()).mean() >= 0.95
    page.close()
