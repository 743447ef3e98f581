"""The app in a real browser: first page load after server start, and mouse-up → prediction shown.

(a) From starting `python -m digitlab serve` (what `make run` runs) to its health answering (once its model
    server is warm), to the Draw page's canvas visible in Chromium, and to the page idle. Chromium is
    already running; every load gets a fresh server.
(b) From releasing the mouse at the end of a stroke to the Prediction metric appearing, timed inside the
    page, over strokes of different digits with the canvas cleared between them.
(c) The resident memory of the server's processes (Streamlit and its model server, added up) once the
    first page has loaded, and after the strokes.

    python bench/browser.py [--loads N] [--strokes N]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import ROOT, print_table, served_app_env, summary, write_result
from servers import app_server, tree_rss_mb

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
    timed_milliseconds,
    wait_for_idle,
)

READY_TEXT = "Draw a digit (0–9)"


def first_page_load(browser, log_path, env):
    """Milliseconds from server start to healthy, to the canvas visible, and to the model loaded (idle)."""
    started = time.perf_counter()
    with app_server("digitlab", log_path, env) as server:
        healthy = time.perf_counter()
        page = browser.new_page()
        page.goto(server.url, timeout=120_000)
        page.locator(CANVAS).wait_for(state="visible", timeout=120_000)
        usable = time.perf_counter()
        page.get_by_text(READY_TEXT).first.wait_for(timeout=120_000)
        wait_for_idle(page)
        loaded = time.perf_counter()
        memory = tree_rss_mb(server.pid) * 1e6 / 2**20
        page.context.close()
    return [(moment - started) * 1000 for moment in (healthy, usable, loaded)], memory


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

    env = served_app_env()
    digits = [list(DIGITS)[index % len(DIGITS)] for index in range(args.strokes)]
    log_dir = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    loads, memory = [], {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for index in range(args.loads):
            moments, memory["after the first page load"] = first_page_load(browser, log_dir / f"load-{index}.log", env)
            loads.append(moments)
        with app_server("digitlab", log_dir / "strokes.log", env) as server:
            page = open_page(browser, server.url, ready_text=READY_TEXT)
            mouse_up_to_prediction(page, ["1"])  # an untimed warm-up stroke
            stroke_ms = mouse_up_to_prediction(page, digits)
            memory[f"after {args.strokes + 1} strokes"] = tree_rss_mb(server.pid) * 1e6 / 2**20
            page.context.close()
        browser.close()
    problems = [line for log in sorted(log_dir.glob("*.log")) for line in problems_in_log(log)]
    if problems:
        raise SystemExit("the server logged errors:\n" + "\n".join(problems))

    healthy_ms, usable_ms, loaded_ms = zip(*loads)
    rows = {
        "server start → healthy": healthy_ms,
        "server start → canvas visible (first page usable)": usable_ms,
        "server start → model loaded, page idle": loaded_ms,
        "mouse-up → prediction shown": stroke_ms,
    }
    results = {name: {"n": len(samples), **summary(samples)} for name, samples in rows.items()}
    print_table(
        ["measurement", "n", "p50 ms", "p95 ms"],
        [[name, r["n"], f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}"] for name, r in results.items()],
    )
    for moment, mib in memory.items():
        print(f"server memory (RSS of Streamlit and its model server) {moment}: {mib:.0f} MiB (goal ≤ 1.2 GB)")
    write_result(
        "browser",
        {
            "model_dir": os.environ.get("DIGITLAB_MODEL_DIR") or str(ROOT / "model"),
            "digits": digits,
            **results,
            "server_rss_mib": {moment: round(mib) for moment, mib in memory.items()},
        },
    )


if __name__ == "__main__":
    main()
