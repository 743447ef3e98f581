"""Ten browser sessions on one Streamlit server, drawing ten different digits at the same time."""

import numpy as np
import pytest

from tests.browser import (
    DIGITS,
    METRIC_VALUE,
    TOOLBAR_HOVER_MS,
    assert_clean_log,
    clear_canvas,
    draw_digit,
    open_page,
    read_prediction,
    served_app,
    start_timing,
    timed_milliseconds,
    to_page_points,
    wait_for_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READY_TEXT = "Draw a digit (0–9)"
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_file):
    """One Streamlit server for the module: yields its URL and log path; the log must stay free of errors."""
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    with served_app(log_path, env={"MNIST_NPZ": str(mnist_file)}) as url:
        yield url, log_path


@pytest.fixture(scope="module")
def single_page(browser, server):
    page = open_page(browser, server[0], ready_text=READY_TEXT)
    yield page
    page.close()


@pytest.mark.parametrize("digit", list(DIGITS))
def test_each_digit_is_read_alone(single_page, digit):
    """The stroke sets the many-session test relies on, each in a session of its own."""
    clear_canvas(single_page)
    assert draw_digit(single_page, DIGITS[digit]) == digit


def test_ten_sessions_drawing_at_once_each_read_their_own_digit(browser, server, capsys):
    url, log_path = server
    # open_page gives every page its own browser context, so its own cookies and Streamlit session.
    pages = {digit: open_page(browser, url, ready_text=READY_TEXT, timeout=TIMEOUT_MS) for digit in DIGITS}
    try:
        strokes = {}
        for digit, page in pages.items():
            (stroke,) = DIGITS[digit]
            strokes[digit], centre = to_page_points(page, stroke)
            page.mouse.move(*centre)  # hover so the toolbar is out of the way, on every page first
        next(iter(pages.values())).wait_for_timeout(TOOLBAR_HOVER_MS)

        # Draw the ten strokes interleaved: all pens down, one segment per page in turn, all pens up.
        for digit, page in pages.items():
            start_timing(page)
            page.mouse.move(*strokes[digit][0])
            page.mouse.down()
        for index in range(1, max(len(points) for points in strokes.values())):
            for digit, page in pages.items():
                if index < len(strokes[digit]):
                    page.mouse.move(*strokes[digit][index], steps=4)
        for page in pages.values():
            page.mouse.up()

        timings = {digit: timed_milliseconds(page, timeout=TIMEOUT_MS) for digit, page in pages.items()}
        for page in pages.values():
            wait_for_idle(page, TIMEOUT_MS)
        readings = {digit: read_prediction(page) for digit, page in pages.items()}
        metric_counts = {digit: page.locator(METRIC_VALUE).count() for digit, page in pages.items()}
    finally:
        for page in pages.values():
            page.context.close()

    with capsys.disabled():
        values = list(timings.values())
        print(
            f"\nten sessions, mouse-up → prediction shown: p50 {np.percentile(values, 50):.0f} ms, "
            f"p95 {np.percentile(values, 95):.0f} ms, max {max(values):.0f} ms "
            f"({', '.join(f'{digit}: {ms:.0f}' for digit, ms in timings.items())})"
        )
    assert readings == {digit: digit for digit in DIGITS}
    assert set(metric_counts.values()) == {1}, metric_counts
    assert_clean_log(log_path)
