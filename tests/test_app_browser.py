"""The real app in Chromium: drawing with the mouse, clearing, uploading, the dataset browser and the model page."""

import io
import math
import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.browser import (
    METRIC_VALUE,
    ROOT,
    clear_canvas,
    draw_digit,
    open_page,
    read_prediction,
    served_app,
    wait_for_rerun,
)

pytestmark = pytest.mark.browser

ONE = [[(140, 40), (140, 240)]]
SEVEN = [[(70, 50), (210, 50), (120, 240)]]


def small_zero_in_corner():
    """A 0 about 50×70 canvas pixels, drawn near the top-left corner."""
    centre_x, centre_y, radius_x, radius_y = 50, 55, 24, 35
    return [
        [
            (
                centre_x + radius_x * math.sin(2 * math.pi * step / 24),
                centre_y - radius_y * math.cos(2 * math.pi * step / 24),
            )
            for step in range(25)
        ]
    ]


def model_folder():
    """The models the app under test reads: $DIGITLAB_MODEL_DIR, else the shipped model/."""
    folder = Path(os.environ.get("DIGITLAB_MODEL_DIR") or ROOT / "model")
    if not (folder / "cnn.keras").is_file():
        pytest.fail(f"{folder}/cnn.keras is missing: train the models first (make train-all)")
    return folder


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, mnist_file):
    """The app served by Streamlit for this module; its log must stay free of errors."""
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {"DIGITLAB_MODEL_DIR": str(model_folder()), "MNIST_NPZ": str(mnist_file)}
    with served_app(log_path, env=env) as url:
        yield url


@pytest.fixture(scope="module")
def draw_page(browser, app_url):
    """The Draw page, kept open across the drawing tests."""
    page = open_page(browser, app_url, ready_text="Draw a digit (0–9)")
    yield page
    page.close()


@pytest.mark.parametrize(
    ("strokes", "expected"),
    [(ONE, "1"), (SEVEN, "7"), (small_zero_in_corner(), "0")],
    ids=["vertical-one", "seven", "small-zero-in-corner"],
)
def test_a_drawn_digit_is_read(draw_page, strokes, expected):
    clear_canvas(draw_page)
    assert draw_digit(draw_page, strokes) == expected


def test_clear_removes_the_prediction(draw_page):
    clear_canvas(draw_page)
    assert draw_digit(draw_page, ONE) == "1"
    clear_canvas(draw_page)
    assert draw_page.locator(METRIC_VALUE).count() == 0
    assert draw_page.get_by_text("Draw a digit (0–9)").is_visible()


def png_of_a_one():
    """A photo-like PNG: a dark vertical bar on light paper."""
    image = Image.new("RGB", (120, 160), (235, 230, 220))
    ImageDraw.Draw(image).line([(60, 20), (62, 140)], fill=(30, 30, 40), width=12)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploads_are_read_and_broken_files_reported(browser, app_url):
    page = open_page(browser, app_url, ready_text="Draw a digit (0–9)")
    page.get_by_test_id("stMain").get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        [
            {"name": "one.png", "mimeType": "image/png", "buffer": png_of_a_one()},
            {"name": "truncated.png", "mimeType": "image/png", "buffer": png_of_a_one()[:100]},
            {"name": "notes.png", "mimeType": "image/png", "buffer": b"shopping list: milk, eggs"},
        ]
    )
    wait_for_rerun(page, page.get_by_text("notes.png: not an image"))
    assert page.get_by_text("truncated.png: corrupt or truncated").is_visible()
    page.locator(METRIC_VALUE).first.wait_for()
    assert read_prediction(page) == "1"
    page.close()


def test_dataset_filtered_to_three_shows_only_threes(browser, app_url):
    page = open_page(browser, app_url, "dataset", ready_text="Label 7")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Digit").click()
    page.get_by_role("option", name="3", exact=True).click()
    wait_for_rerun(page, page.get_by_text("1,010 samples of the test split match."))
    tiles = page.locator('[class*="st-key-tile-"]').all_inner_texts()
    labels = [re.search(r"Label (\d)", tile).group(1) for tile in tiles]
    assert len(labels) == 24
    assert set(labels) == {"3"}, tiles
    page.close()


def test_model_page_shows_curves_and_confusion_matrix(browser, app_url):
    page = open_page(browser, app_url, "model", ready_text="Confusion matrix")
    for heading in ["Layers", "Recipe", "Training curves", "Confusion matrix", "Per-class scores", "The model zoo"]:
        assert page.get_by_role("heading", name=heading).is_visible(), heading
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(2).locator("canvas, svg").first.wait_for()
    assert charts.count() == 3
    assert page.get_by_text("Test accuracy").first.is_visible()
    page.close()
