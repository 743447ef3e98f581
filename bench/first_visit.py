"""The first visitor: how soon a fresh server shows the Draw page's canvas and reads a digit, against the bare app.

Each load starts a fresh server (the bare app and Digit Lab in turn, three each by default) and opens
the page in Chromium (already running) as soon as `/_stcore/health` answers (Digit Lab's answers once
its model server is warm, so the time to health is printed too). Timed inside the page, from the start
of the navigation: the canvas appearing, and the first Prediction metric for a 1 drawn as soon as the
canvas shows (after the toolbar hover every stroke starts with). Medians over the loads.

    python bench/first_visit.py [--loads N]
"""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import print_goal, print_table, served_app_env, write_result
from servers import APPS, app_server, assert_clean_logs

from tests.browser import CANVAS, DIGITS, METRIC_VALUE, VIEWPORT, draw_stroke, launch_chromium, read_prediction

FIRST_DIGIT = "1"
CANVAS_GOAL = 1.1
READING_GOAL = 1.25
FIRST_APPEARANCES = {"canvas": CANVAS, "metric": METRIC_VALUE}
# Installed in the page before any of its scripts: notes when each of FIRST_APPEARANCES first appears, in
# milliseconds since the navigation started, looking every animation frame, into shadow roots too (the
# canvas component isolates its styles in one).
NOTE_FIRST_APPEARANCES = """
const selectors = SELECTORS;
const seen = window.__firstVisit = {};
const found = (root, selector) => root.querySelector(selector) || [...root.querySelectorAll("*")].some(
    (element) => element.shadowRoot && found(element.shadowRoot, selector));
const look = () => {
    for (const [name, selector] of Object.entries(selectors)) {
        if (seen[name] === undefined && found(document, selector)) seen[name] = performance.now();
    }
    if (Object.keys(seen).length < Object.keys(selectors).length) requestAnimationFrame(look);
};
requestAnimationFrame(look);
""".replace("SELECTORS", json.dumps(FIRST_APPEARANCES))


def first_visit(browser, app, log_path, timeout=120_000):
    """Milliseconds from starting a server to its health answering, and from opening its page to the canvas
    shown and to the first digit read."""
    started = time.perf_counter()
    with app_server(app, log_path, served_app_env()) as server:
        healthy = (time.perf_counter() - started) * 1000
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(NOTE_FIRST_APPEARANCES)
        page = context.new_page()
        page.goto(server.url, timeout=timeout)
        page.locator(CANVAS).wait_for(state="visible", timeout=timeout)
        (stroke,) = DIGITS[FIRST_DIGIT]
        draw_stroke(page, stroke)
        page.locator(METRIC_VALUE).wait_for(timeout=timeout)
        reading = read_prediction(page)
        moments = page.evaluate("() => window.__firstVisit")
        context.close()
    if app == "digitlab" and reading != FIRST_DIGIT:
        raise AssertionError(f"drew {FIRST_DIGIT}, Digit Lab read {reading}")
    return moments["canvas"], moments["metric"], healthy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=3, help="fresh servers of each app")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    log_dir = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    loads = {app: [] for app in APPS}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        # The apps take turns, so that whatever else the machine does weighs on both alike.
        for index in range(args.loads):
            for app in APPS:
                loads[app].append(first_visit(browser, app, log_dir / f"{app}-{index}.log"))
        browser.close()
    assert_clean_logs(log_dir)

    medians = {app: [round(statistics.median(column)) for column in zip(*loads[app])] for app in APPS}
    (bare_canvas, bare_metric, bare_health), (canvas, metric, health) = medians["bare"], medians["digitlab"]
    print_table(
        [f"median of {args.loads} fresh servers (ms)", "bare app", "Digit Lab", "Digit Lab / bare"],
        [
            ["server started → health answers (no goal)", bare_health, health, f"{health / bare_health:.2f}"],
            ["page opened → canvas shown", bare_canvas, canvas, f"{canvas / bare_canvas:.2f}"],
            ["page opened → first Prediction shown", bare_metric, metric, f"{metric / bare_metric:.2f}"],
        ],
    )
    print()
    goals = {
        f"canvas ≤ {CANVAS_GOAL}× the bare app's": canvas <= CANVAS_GOAL * bare_canvas,
        f"first reading ≤ {READING_GOAL}× the bare app's first metric": metric <= READING_GOAL * bare_metric,
    }
    for goal, met in goals.items():
        print_goal(goal, met)
    write_result(
        "first_visit",
        {
            "loads_ms": {app: [{"canvas": c, "metric": m, "healthy": h} for c, m, h in loads[app]] for app in APPS},
            "medians_ms": {app: {"canvas": c, "metric": m, "healthy": h} for app, (c, m, h) in medians.items()},
            "goals_met": goals,
        },
    )


if __name__ == "__main__":
    main()
