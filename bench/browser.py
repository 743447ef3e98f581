"""The app in a real browser: first page load after server start, and mouse-up → prediction shown.

(a) From starting `streamlit run` to the Draw page's canvas visible in Chromium (the app script, and so
    TensorFlow's import and the model load, run only when the first session opens). Chromium is already
    running; every load gets a fresh server.
(b) From releasing the mouse at the end of a stroke to the Prediction metric appearing, timed inside the
    page, over strokes of different digits with the canvas cleared between them.

    python bench/browser.py [--loads N] [--strokes N]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED_DATA, print_table, summary, write_result

from tests.browser import (
    CANVAS,
    DIGITS,
    clear_canvas,
    draw_stroke,
    launch_chromium,
    open_page,
    problems_in_log,
    read_prediction,
    start_timing,
    streamlit_server,
    timed_milliseconds,
    wait_for_idle,
)

READY_TEXT = "Draw a digit (0–9)"


def first_page_load(browser, log_path, env):
    """Milliseconds from server start to healthy, and to the canvas visible on a first page."""
    started = time.perf_counter()
    with streamlit_server(log_path, env=env) as url:
        healthy = time.perf_counter()
        page = browser.new_page()
        page.goto(url, timeout=120_000)
        page.locator(CANVAS).wait_for(state="visible", timeout=120_000)
        usable = time.perf_counter()
        page.context.close()
    return (healthy - started) * 1000, (usable - started) * 1000


def mouse_up_to_prediction(page, digits):
    """Milliseconds from mouse-up to the Prediction shown, one stroke per digit; fails on a misread."""
    timings = []
    for digit in digits:
        clear_canvas(page)
        (stroke,) = DIGITS[digit]
        start_timing(page)
        draw_stroke(page, stroke)
        timings.append(timed_milliseconds(page))
        wait_for_idle(page)
        shown = read_prediction(page)
        if shown != digit:
            raise AssertionError(f"drew {digit}, the app read {shown}")
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=3, help="first page loads, each on a fresh server")
    parser.add_argument("--strokes", type=int, default=10)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    mnist = os.environ.get("MNIST_NPZ") or str(SHARED_DATA / "mnist.npz")
    env = {"MNIST_NPZ": mnist}
    digits = [list(DIGITS)[index % len(DIGITS)] for index in range(args.strokes)]
    log_dir = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    healthy_ms, usable_ms = [], []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for index in range(args.loads):
            healthy, usable = first_page_load(browser, log_dir / f"load-{index}.log", env)
            healthy_ms.append(healthy)
            usable_ms.append(usable)
        with streamlit_server(log_dir / "strokes.log", env=env) as url:
            page = open_page(browser, url, ready_text=READY_TEXT)
            mouse_up_to_prediction(page, ["1"])  # an untimed warm-up stroke
            stroke_ms = mouse_up_to_prediction(page, digits)
            page.context.close()
        browser.close()
    problems = [line for log in sorted(log_dir.glob("*.log")) for line in problems_in_log(log)]
    if problems:
        raise SystemExit("the server logged errors:\n" + "\n".join(problems))

    rows = {
        "server start → healthy": healthy_ms,
        "server start → canvas visible (first page load)": usable_ms,
        "mouse-up → prediction shown": stroke_ms,
    }
    results = {name: {"n": len(samples), **summary(samples)} for name, samples in rows.items()}
    print_table(
        ["measurement", "n", "p50 ms", "p95 ms"],
        [[name, r["n"], f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}"] for name, r in results.items()],
    )
    write_result(
        "browser",
        {"model_dir": os.environ.get("DIGITLAB_MODEL_DIR") or str(ROOT / "model"), "digits": digits, **results},
    )


if __name__ == "__main__":
    main()
