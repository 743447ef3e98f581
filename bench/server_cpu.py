"""Server CPU per digit drawn in Chromium, Digit Lab against the bare app, and how soon the page answers.

Each app (bench/bare_app.py first, then Digit Lab with its default model) gets a fresh server. Chromium
opens its Draw page, draws one untimed digit, then N single-stroke digits of tests.browser.DIGITS, each
followed by Clear. Per digit drawn (its stroke, its Clear and what the page fetched for them):

- server CPU, two ways: directly, as the CPU time of the server's process tree (the server and every
  process it started); and as the whole machine's busy time less this benchmark's own processes (this
  Python process, Playwright's driver and Chromium), which also counts anything else the machine ran;
- mouse-up → Prediction shown, timed inside the page;
- mouse-up → page idle: the Prediction shown, for Digit Lab the "How it sees" section too, every image
  loaded, and the script no longer running; timed inside the page, checked every animation frame.

The goals use the direct figure. First visits are measured by bench/first_visit.py.

    python bench/server_cpu.py [--digits N]
"""

import argparse
import os
import tempfile
from dataclasses import astuple, dataclass
from pathlib import Path

from common import print_goal, print_table, served_app_env, summary, write_result
from servers import APPS, app_server, assert_clean_logs, cpu_seconds, machine_busy_seconds, process_table, process_tree

from tests.browser import (
    APP_IDLE,
    DIGITS,
    METRIC_VALUE,
    clear_canvas,
    draw_stroke,
    launch_chromium,
    open_page,
    read_prediction,
    start_timing,
    timed_milliseconds,
)

READY_TEXT = "Draw a digit (0–9)"
# The text that shows the whole page has arrived, beyond the Prediction: none on the bare app.
LAST_SECTION = {"bare": None, "digitlab": "How it sees"}
CPU_FIGURES = {
    "server_cpu_ms_per_digit": "server CPU per digit, server's processes (ms)",
    "machine_less_benchmark_cpu_ms_per_digit": "server CPU per digit, machine − benchmark (ms)",
}
TIMINGS = {"prediction_shown": "mouse-up → Prediction shown", "page_idle": "mouse-up → page idle"}
CPU_RATIO_GOAL = 1.5
SHOWN_GOAL_MS = 350
IDLE_GOAL_MS = 500
# Run in the page every animation frame after a stroke (start_timing noted the mouse-up): notes the first
# moment the page is idle with everything the run shows, and returns milliseconds from the mouse-up to it.
PAGE_IDLE_SINCE_MOUSE_UP = """([metric, idle, text]) => {
    const timing = window.__digitlab;
    if (timing.idle === undefined) {
        const complete = document.querySelector(metric) && document.querySelector(idle)
            && (text === null || document.body.textContent.includes(text))
            && [...document.images].every((image) => image.complete);
        if (!complete) return false;
        timing.idle = performance.now();
    }
    return timing.idle - timing.up;
}"""


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds so far: the server's process tree, the whole machine, this benchmark's own processes."""

    server: float
    machine: float
    benchmark: float

    def __sub__(self, earlier):
        return CpuSample(*(now - then for now, then in zip(astuple(self), astuple(earlier))))


def cpu_sample(server_pid):
    """The CPU spent so far by the server's processes, the machine and this benchmark (itself, Playwright, Chromium)."""
    table = process_table()
    server = process_tree(server_pid, table)
    benchmark = process_tree(os.getpid(), table) - server
    return CpuSample(cpu_seconds(server, table), machine_busy_seconds(), cpu_seconds(benchmark, table))


def idle_milliseconds(page, app, timeout=60_000):
    """Milliseconds from the mouse-up noted by `start_timing` to the page idle with the whole new run shown."""
    arguments = [METRIC_VALUE, APP_IDLE, LAST_SECTION[app]]
    return page.wait_for_function(PAGE_IDLE_SINCE_MOUSE_UP, arg=arguments, timeout=timeout).json_value()


def draw_and_clear(page, app, digit):
    """Draw `digit`, wait for the page to settle, then Clear; returns mouse-up → shown and → idle, in ms.

    Digit Lab must read the digit right; the bare app always shows 0.
    """
    (stroke,) = DIGITS[digit]
    start_timing(page)
    draw_stroke(page, stroke)
    shown_ms = timed_milliseconds(page)
    idle_ms = idle_milliseconds(page, app)
    reading = read_prediction(page)
    if app == "digitlab" and reading != digit:
        raise AssertionError(f"drew {digit}, Digit Lab read {reading}")
    clear_canvas(page)
    return shown_ms, idle_ms


def measure(browser, app, digits, log_path):
    """Server CPU per digit both ways (ms) and the page's timings, drawing `digits` on `app`'s Draw page."""
    with app_server(app, log_path, served_app_env()) as server:
        page = open_page(browser, server.url, ready_text=READY_TEXT)
        draw_and_clear(page, app, "1")  # An untimed warm-up digit: the model loads and warms up.
        before = cpu_sample(server.pid)
        shown_ms, idle_ms = zip(*(draw_and_clear(page, app, digit) for digit in digits))
        spent = cpu_sample(server.pid) - before
        page.context.close()
    return {
        "server_cpu_ms_per_digit": round(spent.server * 1000 / len(digits), 1),
        "machine_less_benchmark_cpu_ms_per_digit": round((spent.machine - spent.benchmark) * 1000 / len(digits), 1),
        "prediction_shown": summary(shown_ms),
        "page_idle": summary(idle_ms),
    }


def digitlab_over_bare(results):
    """Every figure of Digit Lab divided by the bare app's."""
    bare, digitlab = results["bare"], results["digitlab"]
    ratios = {key: round(digitlab[key] / bare[key], 3) for key in CPU_FIGURES}
    for key in TIMINGS:
        ratios[key] = {name: round(digitlab[key][name] / bare[key][name], 3) for name in bare[key]}
    return ratios


def print_results(results, ratios):
    """The two apps side by side, and Digit Lab's figures over the bare app's."""
    bare, digitlab = results["bare"], results["digitlab"]
    rows = [[label, bare[key], digitlab[key], f"{ratios[key]:.2f}"] for key, label in CPU_FIGURES.items()]
    for key, label in TIMINGS.items():
        for percentile in ("p50_ms", "p95_ms"):
            figures = [f"{results[app][key][percentile]:.0f}" for app in APPS]
            rows.append([f"{label}, {percentile[:3]} (ms)", *figures, f"{ratios[key][percentile]:.2f}"])
    print_table(["per digit", "bare app", "Digit Lab", "Digit Lab / bare"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=12, help="digits drawn and cleared on each app")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    digits = [list(DIGITS)[index % len(DIGITS)] for index in range(args.digits)]
    log_dir = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        results = {app: measure(browser, app, digits, log_dir / f"{app}.log") for app in APPS}
        browser.close()
    assert_clean_logs(log_dir)

    ratios = digitlab_over_bare(results)
    print_results(results, ratios)
    digitlab = results["digitlab"]
    print()
    goals = {
        f"server CPU per digit ≤ {CPU_RATIO_GOAL}× the bare app's": ratios["server_cpu_ms_per_digit"] <= CPU_RATIO_GOAL,
        f"Prediction shown ≤ {SHOWN_GOAL_MS} ms p50": digitlab["prediction_shown"]["p50_ms"] <= SHOWN_GOAL_MS,
        f"page idle ≤ {IDLE_GOAL_MS} ms p50": digitlab["page_idle"]["p50_ms"] <= IDLE_GOAL_MS,
    }
    for goal, met in goals.items():
        print_goal(goal, met)
    write_result("server_cpu", {"digits": digits, "apps": results, "digitlab_over_bare": ratios, "goals_met": goals})


if __name__ == "__main__":
    main()
