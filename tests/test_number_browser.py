"""The Number page in the real app: write a number on the wide canvas with the mouse and read it off the page."""

import re

import pytest
from playwright.sync_api import expect

from digitlab.feedback import FEEDBACK_DB_ENV
from digitlab.store import MODEL_DIR_ENV
from digitlab.views.number import CANVAS_WIDTH, NUMBER_PROMPT
from tests.browser import (
    CANVAS,
    METRIC_VALUE,
    open_page,
    served_app,
    wait_for_idle,
    wait_for_rerun,
    write_number,
)
from tests.conftest import copy_shipped_models

pytestmark = pytest.mark.browser

TILE_CAPTION = re.compile(r"^(\d) · \d{1,3}\.\d%$")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, mnist_file):
    """The app on a copy of the shipped cnn; its log must stay free of errors."""
    folder = tmp_path_factory.mktemp("number-app")
    env = {
        MODEL_DIR_ENV: str(copy_shipped_models(folder / "models", ["cnn"])),
        FEEDBACK_DB_ENV: str(folder / "feedback.sqlite3"),
        "MNIST_NPZ": str(mnist_file),
    }
    log_path = folder / "server.log"
    with served_app(log_path, env=env) as url:
        yield url


@pytest.fixture(scope="module")
def number_page(browser, app_url):
    """The Number page, kept open across the tests."""
    page = open_page(browser, app_url, "number", ready_text=NUMBER_PROMPT)
    yield page
    page.close()


def clear(page):
    """Press Clear and wait for the fresh canvas and the prompt."""
    old_canvas = page.locator(CANVAS).element_handle()
    page.get_by_role("button", name="Clear").click()
    page.wait_for_function("(canvas) => !canvas.isConnected", arg=old_canvas)
    wait_for_rerun(page, page.get_by_text(NUMBER_PROMPT))


def digit_captions(page):
    """The captions under the digit tiles, left to right."""
    captions = page.locator('[data-testid="stImageCaption"]').all_inner_texts()
    return [caption.strip() for caption in captions if TILE_CAPTION.match(caption.strip())]


@pytest.mark.parametrize("number", ["2026", "4719"])
def test_a_written_number_is_read(number_page, number):
    clear(number_page)
    write_number(number_page, number, CANVAS_WIDTH)
    expect(number_page.locator(METRIC_VALUE).first).to_have_text(number, timeout=60_000)
    wait_for_idle(number_page)
    assert [TILE_CAPTION.match(caption).group(1) for caption in digit_captions(number_page)] == list(number)
    assert number_page.get_by_text("sure of the whole number").is_visible()
    assert number_page.get_by_text("Where the digits were found").is_visible()


def test_clear_removes_the_number(number_page):
    clear(number_page)
    write_number(number_page, "38", CANVAS_WIDTH)
    expect(number_page.locator(METRIC_VALUE).first).to_have_text("38", timeout=60_000)
    wait_for_idle(number_page)
    clear(number_page)
    assert number_page.locator(METRIC_VALUE).count() == 0
    assert digit_captions(number_page) == []
