"""Many visitors at once: N browser sessions draw digits on the Draw page at the same time for a
fixed time while one run trains, against a local server (127.0.0.1 only).

    python -m scripts.load_test [--sessions 8] [--seconds 60] [--json]

Each session is its own browser context (its own Streamlit session) and draws its own random
sequence of digits: clear, draw, pen-up -> the Prediction metric. Figures:
- per session: drawings, answers read as drawn (correct), unsettled (no answer within 10 s);
- cross_talk: a session that, right after its own Clear, shows a prediction it did not draw
  (another session's drawing leaking into it); and answers that are not the session's own digit;
- pen-up -> prediction p50 / p95 over every drawing of every session;
- errors: browser console errors, page errors and HTTP >= 400 responses;
- server memory: the Streamlit process's RSS cold, after one warm-up visitor once the server is idle
  (models loaded, background imports done: the "before"), and after the N sessions closed;
- the training run (started as the Train page starts one: `launch.start_run`, its own process at the
  lower CPU priority of app runs, into the server's runs folder): whether it finished, its images/s.
Goals: no errors, no cross-talk, p95 <= 2 s with 8 sessions, RSS growth <= 200 MB, the
run finishes. Bounded: at most 16 sessions and 600 s. Nothing here asserts: it prints figures.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import CANVAS, CHROMIUM, CHROMIUM_ARGS, METRIC, digit_strokes, streamlit_server

ROOT = Path(__file__).resolve().parent.parent

MAX_SESSIONS, MAX_SECONDS = 16, 600
TRAIN = dict(model="writeup002", epochs=2, limit=10000)  # ~1 min alone on 2 cores
SETTLE_TIMEOUT_MS = 10000
# Resolves when an element matching the selector is (or is no longer) on the page: a MutationObserver
# rather than polling, so that 8 pages waiting at once cost the shared CPU next to nothing.
WAIT_FOR = """([selector, present, timeout]) => new Promise((resolve) => {
  const done = () => !!document.querySelector(selector) === present;
  if (done()) return resolve(true);
  const timer = setTimeout(() => { observer.disconnect(); resolve(false); }, timeout);
  const observer = new MutationObserver(() => {
    if (done()) { observer.disconnect(); clearTimeout(timer); resolve(true); }
  });
  observer.observe(document.body, { childList: true, subtree: true });
})"""


async def wait_for(page, present: bool) -> bool:
    """True once the Prediction metric is shown (present) or gone (not present); False on timeout."""
    return await page.evaluate(WAIT_FOR, [METRIC, present, SETTLE_TIMEOUT_MS])


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its children (the server starts none for drawing)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


async def wait_until_idle(pid: int, quiet: float = 2.0, limit: float = 30.0) -> float:
    """Wait until the server has used < 0.1 CPU-seconds for `quiet` seconds (its background
    imports and cache fills done), at most `limit` seconds; returns the seconds waited."""
    started = time.time()
    last = cpu_seconds(pid)
    while time.time() - started < limit and last is not None:
        await asyncio.sleep(quiet)
        now = cpu_seconds(pid)
        if now is None or now - last < 0.1:
            break
        last = now
    return time.time() - started


async def draw_session(browser, url: str, index: int, deadline: float, errors: list[str]) -> dict:
    context = await browser.new_context(viewport={"width": 1300, "height": 1000})
    page = await context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(f"session {index}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"session {index}: page error {e}"))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"session {index}: HTTP {r.status} {r.url}"))
    rng = random.Random(index)
    figures = {"session": index, "drawings": 0, "correct": 0, "unsettled": 0, "not_own": 0, "cross_talk": 0, "stuck": 0,
               "latencies": []}
    await page.goto(url)
    canvas = page.locator(CANVAS)
    await canvas.wait_for(timeout=120000)
    clear = page.get_by_role("button", name="Clear", exact=True)
    while time.time() < deadline:
        digit = rng.randrange(10)
        try:
            if await clear.is_enabled():
                await clear.click(timeout=SETTLE_TIMEOUT_MS)
        except Exception as error:  # noqa: BLE001 - a Clear that never became clickable
            figures["stuck"] += 1
            errors.append(f"session {index}: Clear not clickable ({type(error).__name__})")
            continue
        if not await wait_for(page, present=False):  # the cleared page still shows an answer
            figures["cross_talk"] += 1
            continue
        await page.wait_for_timeout(150)
        if await page.locator(METRIC).count():  # an answer appeared that this session did not draw
            figures["cross_talk"] += 1
            continue
        box = await canvas.bounding_box()
        for points in digit_strokes(digit, rng):
            await page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
            await page.mouse.down()
            for x, y in points[1:]:
                await page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
            await page.mouse.up()
        pen_up = time.perf_counter()
        figures["drawings"] += 1
        if not await wait_for(page, present=True):  # no answer
            figures["unsettled"] += 1
            continue
        figures["latencies"].append(time.perf_counter() - pen_up)
        shown = (await page.locator(METRIC).first.inner_text()).strip()
        figures["correct"] += shown == str(digit)
        figures["not_own"] += shown.isdigit() and shown != str(digit)
    await context.close()
    return figures


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def run_sessions(url: str, sessions: int, seconds: float, errors: list[str], warm: dict) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # one visitor first (the server loads its models and, in the background, what the other
        # pages import), then wait for the server to go idle: memory growth is the sessions' own
        await draw_session(browser, url, -1, time.time() + 5, errors)
        warm["idle_wait_s"] = round(await wait_until_idle(url.pid), 1)
        warm["rss"] = rss_mb(url.pid)
        deadline = time.time() + seconds
        results = await asyncio.gather(*(draw_session(browser, url, i, deadline, errors) for i in range(sessions)))
        await browser.close()
    return list(results)


def load_test(sessions: int, seconds: float) -> dict:
    from mnist_core.lab import launch
    from mnist_core.store import runs
    from mnist_core.training.machine import machine_info
    from mnist_core.training.recipes import default_config

    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="load-test-") as scratch:
        env = {"MNIST_RUNS": str(Path(scratch) / "runs"), "MNIST_CACHE": str(Path(scratch) / "cache")}
        with streamlit_server(env) as url:
            rss_cold, warm = rss_mb(url.pid), {}
            # the run is started the way the Train page starts one (its own process, at the lower CPU
            # priority of app runs), into the server's runs folder
            os.environ.update(env)
            folder = Path(env["MNIST_RUNS"])
            launch.start_run(default_config(**TRAIN), folder, name="load-test")
            started = time.time()
            results = asyncio.run(run_sessions(url, sessions, seconds, errors, warm))
            rss_before = warm["rss"]
            rss_after = rss_mb(url.pid)
            while runs.get_run("load-test", folder).status == "running" and time.time() - started < 600:
                time.sleep(0.5)
            if runs.get_run("load-test", folder).status == "running":
                launch.stop_run("load-test", folder)
            run = runs.get_run("load-test", folder)
            rows = run.epochs()
    latencies = [value for result in results for value in result.pop("latencies")]
    return {
        "sessions": sessions, "seconds": seconds,
        "drawings": sum(r["drawings"] for r in results), "correct": sum(r["correct"] for r in results),
        "unsettled": sum(r["unsettled"] for r in results),
        "answers_not_own_digit": sum(r["not_own"] for r in results),
        "cross_talk": sum(r["cross_talk"] for r in results), "stuck": sum(r["stuck"] for r in results),
        "draw_p50_ms": round(1000 * statistics.median(latencies)) if latencies else None,
        "draw_p95_ms": round(1000 * percentile(latencies, 0.95)) if latencies else None,
        "errors": len(errors), "error_samples": errors[:5],
        "server_rss_mb_cold": rss_cold, "server_idle_wait_s": warm.get("idle_wait_s"),
        "server_rss_mb_before": rss_before, "server_rss_mb_after": rss_after,
        "server_rss_growth_mb": round(rss_after - rss_before, 1) if rss_before and rss_after else None,
        "training": {"started_as": f"launch.start_run(default_config(**{TRAIN}))", "status": run.status,
                     "reason": run.reason, "nice": os.environ.get("MNIST_RUN_NICE", "10 (default)"),
                     "epochs": len(rows), "images_per_s": round(statistics.mean(r["images_per_s"] for r in rows))
                     if rows else None},
        "per_session": results, "machine": machine_info(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8, help=f"browser sessions drawing at once (1-{MAX_SESSIONS})")
    parser.add_argument("--seconds", type=float, default=60, help=f"how long they draw (1-{MAX_SECONDS})")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    if not 1 <= args.sessions <= MAX_SESSIONS or not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--sessions must be 1-{MAX_SESSIONS} and --seconds 1-{MAX_SECONDS}")
    result = load_test(args.sessions, args.seconds)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for key, value in result.items():
            if key != "per_session":
                print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
