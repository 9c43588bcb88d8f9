"""Screenshots of every page for the README (docs/*.png), taken in headless Chromium.

    python scripts/screenshots.py        # needs Debian's chromium and the shipped checkpoints
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from PIL import Image, ImageChops  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from browser import CHROMIUM, CHROMIUM_ARGS, stop_button, streamlit_server, stroke  # noqa: E402

DOCS = ROOT / "docs"


def save_small(page, name: str, full_page: bool = True, width: int = 1000) -> None:
    raw = DOCS / f"{name}.raw.png"
    page.screenshot(path=str(raw), full_page=full_page)
    image = Image.open(raw).convert("RGB")
    main = image.crop((image.width // 4, 0, image.width, image.height))  # right of the sidebar
    content = ImageChops.difference(main, Image.new("RGB", main.size, main.getpixel((main.width - 5, main.height - 5)))).getbbox()
    if content:  # trim the empty page below the last element
        image = image.crop((0, 0, image.width, min(image.height, content[3] + 40)))
    image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=128).save(DOCS / f"{name}.png", optimize=True)
    raw.unlink()


def nav(page, title: str, wait_text: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
    page.get_by_text(wait_text).first.wait_for(timeout=120000)
    page.wait_for_timeout(2500)


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as runs, streamlit_server({"MNIST_RUNS": runs}) as url, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1700})
        page.goto(url)
        canvas = page.locator("canvas.upper-canvas")
        canvas.wait_for(timeout=60000)
        box = canvas.bounding_box()
        stroke(page, box, [(80, 60), (200, 60), (200, 140), (80, 140), (80, 230), (200, 230)])  # a "2"-ish 5
        page.locator("[data-testid='stDataFrame']").wait_for(timeout=30000)
        page.wait_for_timeout(2500)
        save_small(page, "draw")
        nav(page, "Evaluate", "Test accuracy")
        save_small(page, "evaluate")
        nav(page, "Compare", "Accuracy against size")
        save_small(page, "compare")
        nav(page, "Train", "Start training")
        page.get_by_label("Architecture").click()
        page.get_by_role("option", name="frontier").click()
        page.wait_for_timeout(1500)
        field = page.get_by_label("Training images (0 = all 55,000)", exact=True)
        field.fill("10000")
        field.press("Enter")
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Start training").click()
        page.wait_for_timeout(45000)  # a few epochs, so the curves have shape
        save_small(page, "train")
        stop_button(page).click()
        browser.close()
    print("wrote", ", ".join(sorted(p.name for p in DOCS.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
