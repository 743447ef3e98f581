"""Driving the real app in Chromium: start the server, open pages, draw with the mouse, read the result."""

import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
CANVAS = "canvas.upper-canvas"
METRIC_VALUE = '[data-testid="stMetricValue"]'
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TOOLBAR_HOVER_MS = 300
NUMBER_SLOT = 190  # Canvas pixels between the digits' 280-pixel drawing slots; each digit is about 150 wide.
FIRST_NUMBER_SLOT = -40


def arc(centre_x, centre_y, radius_x, radius_y, start, end, steps=16):
    """Points along an ellipse from angle `start` to `end` in degrees (0 = top, growing clockwise)."""
    angles = [math.radians(start + (end - start) * step / steps) for step in range(steps + 1)]
    return [(centre_x + radius_x * math.sin(a), centre_y - radius_y * math.cos(a)) for a in angles]


# One single-stroke drawing per digit, in canvas coordinates (0-280); each is read correctly on its own.
DIGITS = {
    "0": [arc(140, 140, 60, 95, 0, 360, 24)],
    "1": [[(140, 40), (140, 240)]],
    "2": [arc(140, 95, 55, 50, -70, 120, 10) + [(85, 235), (210, 235)]],
    "3": [arc(135, 90, 55, 45, -70, 160, 10) + arc(135, 185, 60, 50, -20, 220, 12)],
    "4": [[(170, 240), (170, 40), (70, 170), (220, 170)]],
    "5": [[(200, 45), (95, 45), (88, 125)] + arc(135, 170, 62, 55, -60, 220, 14)],
    "6": [[(180, 40), (120, 90), (90, 160)] + arc(140, 185, 52, 50, -90, 270, 18)],
    "7": [[(70, 50), (210, 50), (120, 240)]],
    "8": [arc(140, 90, 45, 45, 180, -180, 16) + arc(140, 185, 55, 50, 0, 360, 18)[1:]],
    "9": [arc(140, 95, 50, 50, 90, 450, 18) + [(190, 95), (185, 240)]],
}


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url, process, timeout=60):
    """Poll Streamlit's health endpoint until it answers ok; fail early if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Streamlit server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not become healthy within {timeout} s")


def server_command(port, app=None):
    """The command that serves Digit Lab (`python -m digitlab serve`, as `make run` does), or `streamlit run APP`."""
    flags = ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    if app is None:
        return [sys.executable, "-m", "digitlab", "serve", *flags]
    return [sys.executable, "-m", "streamlit", "run", str(app), *flags]


@contextmanager
def server_process(log_path, env=None, app=None, cwd=ROOT):
    """Serve Digit Lab (or the Streamlit script `app`) from `cwd` on a free port, its output in `log_path`.

    Yields the base URL and the server's process (the root of its process tree), once it is healthy.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            server_command(port, app), cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_until_healthy(url, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def streamlit_server(log_path, env=None, app=None):
    """Serve Digit Lab (or the Streamlit script `app`) on a free port, its output in `log_path`; yields the base URL."""
    with server_process(log_path, env, app) as (url, _):
        yield url


def problems_in_log(log_path):
    """The server log's lines that mention a traceback or an error."""
    return [line for line in Path(log_path).read_text().splitlines() if "Traceback" in line or "Error" in line]


def assert_clean_log(log_path):
    """Fail, quoting the lines, when the server logged a traceback or an error."""
    problems = problems_in_log(log_path)
    assert not problems, "\n".join(problems)


@contextmanager
def served_app(log_path, env=None, app=None):
    """`streamlit_server`, then, once the server has stopped, a check that its log stayed clean."""
    with streamlit_server(log_path, env=env, app=app) as url:
        yield url
    assert_clean_log(log_path)


def launch_chromium(playwright):
    """Debian's Chromium, headless, with background chatter switched off."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def wait_for_idle(page, timeout=60_000):
    """Wait until the app's script is not running."""
    page.wait_for_selector(APP_IDLE, timeout=timeout)


def wait_for_rerun(page, locator, state="visible", timeout=60_000):
    """Wait for content only the new run produces (`locator` reaching `state`), then for the run to end."""
    locator.first.wait_for(state=state, timeout=timeout)
    wait_for_idle(page, timeout)


def open_page(browser, url, path="", ready_text=None, timeout=120_000):
    """A new browser page on the app (`path` e.g. "dataset"), once it has rendered and gone idle."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{url}/{path}", timeout=timeout)
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    if ready_text is not None:
        page.get_by_text(ready_text).first.wait_for(timeout=timeout)
    wait_for_idle(page, timeout)
    return page


@dataclass
class PageLeftOpen:
    """A page left open in Chromium, and how many reruns it has asked for since it was ready."""

    page: object
    reruns: int = 0


@asynccontextmanager
async def page_left_open(url, path="", ready_text=None, timeout=120_000):
    """A Chromium page on the app, through Playwright's async API, open until the block ends; yields a PageLeftOpen.

    For a page that lives beside protocol-level sessions (tests/streamlit_client.py) driven in the same
    asyncio loop: Playwright's sync API cannot run inside one. `reruns` counts the `rerun_script`
    messages the page sends once it is ready, e.g. the refreshes a fragment's `run_every` makes it ask for.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        try:
            page = await chromium.new_page(viewport=VIEWPORT)
            left_open = PageLeftOpen(page)

            def count_reruns(payload):
                if isinstance(payload, bytes) and BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
                    left_open.reruns += 1

            page.on("websocket", lambda websocket: websocket.on("framesent", count_reruns))
            await page.goto(f"{url}/{path}", timeout=timeout)
            if ready_text is not None:
                await page.get_by_text(ready_text).first.wait_for(timeout=timeout)
            await page.wait_for_selector(APP_IDLE, timeout=timeout)
            left_open.reruns = 0
            yield left_open
        finally:
            await chromium.close()


def to_page_points(page, points, canvas_width=280):
    """`points` in canvas coordinates (0 to `canvas_width`) as page coordinates, and the canvas's centre."""
    canvas = page.locator(CANVAS)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / canvas_width
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    return [(box["x"] + x * scale, box["y"] + y * scale) for x, y in points], centre


def draw_stroke(page, points, steps=4, release=True, canvas_width=280):
    """Draw one stroke through `points`, given in canvas coordinates (0 to `canvas_width`), with the mouse."""
    to_page, centre = to_page_points(page, points, canvas_width)
    page.mouse.move(*centre)
    page.wait_for_timeout(TOOLBAR_HOVER_MS)
    page.mouse.move(*to_page[0])
    page.mouse.down()
    for point in to_page[1:]:
        page.mouse.move(*point, steps=steps)
    if release:
        page.mouse.up()


def write_number(page, text, canvas_width):
    """Write `text` on the Number page's wide canvas with the mouse, each digit's drawing in its own slot."""
    for position, character in enumerate(text):
        for stroke in DIGITS[character]:
            slot = [(x + FIRST_NUMBER_SLOT + NUMBER_SLOT * position, y) for x, y in stroke]
            draw_stroke(page, slot, canvas_width=canvas_width)


def read_prediction(page):
    """The Prediction metric's value as shown, or None when there is none."""
    metric = page.locator(METRIC_VALUE)
    return metric.first.inner_text().strip() if metric.count() else None


def draw_digit(page, strokes):
    """Draw each stroke and wait for the model's verdict; returns the predicted digit as text."""
    for stroke in strokes:
        draw_stroke(page, stroke)
    wait_for_rerun(page, page.locator(METRIC_VALUE))
    return read_prediction(page)


def clear_canvas(page, timeout=60_000):
    """Press Clear and wait until a fresh canvas has replaced the old one and the prompt is back."""
    old_canvas = page.locator(CANVAS).element_handle()
    page.get_by_role("button", name="Clear").click()
    page.wait_for_function("(canvas) => !canvas.isConnected", arg=old_canvas, timeout=timeout)
    page.locator(CANVAS).wait_for(timeout=timeout)
    wait_for_rerun(page, page.get_by_text("Draw a digit (0–9)"), timeout=timeout)


def start_timing(page):
    """Note in the page when the mouse is next released and when a Prediction metric first shows after it."""
    page.evaluate(
        """(selector) => {
            window.__digitlab = {};
            document.addEventListener("mouseup", () => {
                window.__digitlab.up = performance.now();
                const seen = () => {
                    if (document.querySelector(selector)) { window.__digitlab.shown = performance.now(); return true; }
                    return false;
                };
                if (seen()) return;
                const observer = new MutationObserver(() => { if (seen()) observer.disconnect(); });
                observer.observe(document.body, {childList: true, subtree: true, characterData: true});
            }, {capture: true, once: true});
        }""",
        METRIC_VALUE,
    )


def timed_milliseconds(page, timeout=60_000):
    """Milliseconds from the mouse-up noted by `start_timing` to the Prediction metric appearing."""
    page.wait_for_function("() => window.__digitlab && window.__digitlab.shown !== undefined", timeout=timeout)
    return page.evaluate("() => window.__digitlab.shown - window.__digitlab.up")


def button(page, label):
    """The button with exactly this label."""
    return page.get_by_role("button", name=label, exact=True)


def give_name(page, name):
    """Type the name drawings are saved under, as the Draw page asks the first time."""
    box = page.get_by_label("Your name, to save your drawings under (press Enter)")
    box.fill(name)
    box.press("Enter")
    wait_for_rerun(page, page.get_by_text("Saving as"))


def start_class(browser, url):
    """A teacher's Class page after starting a class: returns the page and the join code."""
    teacher = open_page(browser, url, path="class")
    button(teacher, "Start a class").click()
    wait_for_rerun(teacher, teacher.get_by_text("teacher link"))
    return teacher, teacher.locator(METRIC_VALUE).first.inner_text().strip()


def join_class(page, name, code=None):
    """Join a class from an open Draw page: type the code (unless a join link filled it in) and the name."""
    if code is not None:
        page.get_by_text("Join a class").click()
        page.get_by_label("Class code").fill(code)
    page.get_by_label("Your first name or a nickname").fill(name)
    button(page, "Join").click()
    # Generous: on a very slow machine this confirmation once took longer than 60 s.
    wait_for_rerun(page, page.get_by_text("your confirmed drawings go to its wall"), timeout=120_000)
    return page


def confirm_reading(page, digit, it_was=None):
    """Draw `digit`, then answer Right, or Wrong and the digit it really was; waits until it is saved."""
    assert draw_digit(page, DIGITS[digit]) == digit
    if it_was is None:
        button(page, "Right").click()
    else:
        button(page, "Wrong").click()
        wait_for_rerun(page, page.get_by_text("It was…"))
        page.get_by_role("radiogroup", name="It was…").get_by_role("radio", name=str(it_was), exact=True).click()
    wait_for_rerun(page, page.get_by_text("Saved as a"))
