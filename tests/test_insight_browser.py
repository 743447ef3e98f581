"""How it sees, in the real app: the five normalisation steps, the saliency and the feature maps after drawing."""

import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from digitlab.feedback import FEEDBACK_DB_ENV
from digitlab.store import MODEL_DIR_ENV
from tests.browser import DIGITS, draw_digit, open_page, served_app, wait_for_idle
from tests.conftest import copy_shipped_models

pytestmark = pytest.mark.browser

MODELS = ("cnn", "cnn-sgd", "mlp-small")
STEP_CAPTIONS = [
    "1. The drawing",
    "2. Ink inverted",
    "3. Cropped to its box",
    "4. Fitted into 20×20",
    "5. Centred by centre of mass in 28×28",
]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, mnist_file):
    """The app on copies of three shipped models (two CNNs, one MLP), its feedback database in a temporary folder."""
    folder = tmp_path_factory.mktemp("insight-app")
    models = copy_shipped_models(folder / "models", MODELS)
    env = {
        MODEL_DIR_ENV: str(models),
        FEEDBACK_DB_ENV: str(folder / "feedback.sqlite3"),
        "MNIST_NPZ": str(mnist_file),
    }
    log_path = folder / "server.log"
    with served_app(log_path, env=env) as url:
        yield url


def select_model(page, name):
    """Choose a model in the sidebar and wait for the page's run with it to end."""
    page.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name=re.compile(f"^{re.escape(name)} ·")).click()
    expect(page.get_by_role("combobox", name="Model")).to_have_value(re.compile(f"^{re.escape(name)} ·"))
    wait_for_idle(page)


def image_with_caption(page, caption):
    """The picture that `caption` stands under, once the browser has loaded it."""
    figure = page.locator('[data-testid="stImage"]').filter(has_text=caption)
    expect(figure).to_have_count(1)
    image = figure.locator("img")
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return image


def pixels_of(image):
    """The picture as shown on screen, as an RGB array."""
    return np.asarray(Image.open(io.BytesIO(image.screenshot())).convert("RGB")).astype(int)


def hot_share(pixels):
    """The share of pixels painted in the heat map's reds and yellows."""
    red, blue = pixels[..., 0], pixels[..., 2]
    return float(np.mean((red > 150) & (red > blue + 80)))


@pytest.mark.parametrize(
    ("model", "filters", "digit"),
    [("cnn", (32, 64), "7"), ("cnn-sgd", (64, 32), "4"), ("mlp-small", None, "0")],
)
def test_after_drawing_the_page_shows_how_the_model_sees(browser, app_url, model, filters, digit):
    page = open_page(browser, app_url, ready_text="Draw a digit (0–9)")
    if model != "cnn":
        select_model(page, model)
    assert draw_digit(page, DIGITS[digit]) == digit
    assert page.get_by_role("heading", name="How it sees").is_visible()

    steps = [image_with_caption(page, caption) for caption in STEP_CAPTIONS]
    assert all(step.is_visible() for step in steps)
    drawing, centred = pixels_of(steps[0]), pixels_of(steps[-1])
    assert drawing.mean() > 200  # black ink on the white canvas
    assert centred.mean() < 100  # white ink on black, as MNIST

    saliency = image_with_caption(page, f"Red pixels pushed the answer towards {digit}")
    assert saliency.is_visible()
    assert hot_share(pixels_of(saliency)) > 0.01  # Painted (the model view has none); how much depends on the model.
    assert hot_share(pixels_of(steps[-1])) == 0.0

    if filters is None:
        assert page.get_by_text("This model has no convolutions").is_visible()
        assert page.get_by_text("First convolution").count() == 0
    else:
        for caption, count in zip(["First convolution", "Second convolution"], filters):
            grid = image_with_caption(page, f"{caption}: {count} filters")
            assert grid.is_visible()
            assert pixels_of(grid).max() > 200  # some filter lit up
    page.close()
