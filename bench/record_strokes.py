"""Record what Chromium sends for one stroke of each digit, for the protocol-level benchmarks: bench/strokes.json.

Chromium draws every single-stroke digit of tests.browser.DIGITS on Digit Lab's Draw page, each
followed by Clear. The canvas widget's value is taken, byte for byte, from the `rerun_script` BackMsg
the stroke sent over the websocket (the fabric.js drawing and the PNG of the whole canvas), and every
stroke must be read right. The script also prints what the browser fetched over HTTP after each stroke
and each Clear: tests/streamlit_client.py's Session fetches the same.

    python bench/record_strokes.py [--output PATH]
"""

import argparse
import datetime
import json
import re
import tempfile
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from common import print_table, served_app_env
from streamlit.proto.BackMsg_pb2 import BackMsg

from tests.browser import (
    DIGITS,
    VIEWPORT,
    assert_clean_log,
    clear_canvas,
    draw_digit,
    launch_chromium,
    streamlit_server,
    wait_for_idle,
)
from tests.streamlit_client import STROKES

READY_TEXT = "Draw a digit (0–9)"
# Fetches the page starts just after a run has ended (a new canvas's stylesheet) get this long to begin.
SETTLE_MS = 500
IMAGES_LOADED = "() => [...document.images].every((image) => image.complete)"


def canvas_value(frames):
    """The canvas widget's JSON value in the last `rerun_script` among the BackMsg `frames` that carries one."""
    for frame in reversed(frames):
        message = BackMsg.FromString(frame)
        values = [widget.json_value for widget in message.rerun_script.widget_states.widgets if widget.json_value]
        if values:
            (value,) = values
            return value
    raise AssertionError("the stroke sent no canvas value")


def described(urls, base):
    """The server's paths among `urls`, counted, media files as /media/* and the page's own code as /static/*."""
    paths = [urlsplit(url).path for url in urls if url.startswith(base)]
    counts = Counter(re.sub(r"^/(media|static)/.*", r"/\1/*", path) for path in paths)
    return ", ".join(f"{count} × {path}" for path, count in sorted(counts.items())) or "nothing"


def record(page, url, digit, stroke, frames, requests):
    """Draw `digit`, then Clear; returns the canvas value it sent and what the page fetched after each."""
    frames.clear()
    requests.clear()
    reading = draw_digit(page, [stroke])
    if reading != digit:
        raise SystemExit(f"drew {digit}, Digit Lab read {reading}: the recording would not be read right")
    page.wait_for_function(IMAGES_LOADED)
    value = canvas_value(frames)
    after_stroke = described(requests, url)
    requests.clear()
    clear_canvas(page)
    page.wait_for_timeout(SETTLE_MS)
    return value, after_stroke, described(requests, url)


def listened_page(browser, url, frames, requests):
    """The Draw page in a new tab whose websocket frames sent and HTTP requests are appended to the lists."""
    page = browser.new_page(viewport=VIEWPORT)
    page.on("websocket", lambda websocket: websocket.on("framesent", lambda frame: frames.append(frame)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url, timeout=120_000)
    page.get_by_text(READY_TEXT).first.wait_for(timeout=120_000)
    wait_for_idle(page)
    return page


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=STROKES)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    log_path = Path(tempfile.mkdtemp(prefix="digitlab-record-")) / "server.log"
    frames, requests, strokes, rows = [], [], [], []
    with streamlit_server(log_path, env=served_app_env()) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = listened_page(browser, url, frames, requests)
        for digit, drawing in DIGITS.items():
            if len(drawing) != 1:
                continue  # Only single-stroke digits: a recording holds one stroke's value.
            value, after_stroke, after_clear = record(page, url, digit, drawing[0], frames, requests)
            strokes.append({"label": digit, "canvas_value": value})
            rows.append([digit, f"{len(value) / 1000:.1f}", after_stroke, after_clear])
        chromium = browser.version
        browser.close()
    assert_clean_log(log_path)

    print_table(["digit", "value kB", "the browser fetched after the stroke", "after Clear"], rows)
    recording = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "recorded_with": {
            "streamlit": version("streamlit"),
            "streamlit-drawable-canvas": version("streamlit-drawable-canvas"),
            "chromium": chromium,
        },
        "strokes": strokes,
    }
    args.output.write_text(json.dumps(recording, indent=1) + "\n")
    print(f"\nwritten {args.output}")


if __name__ == "__main__":
    main()
