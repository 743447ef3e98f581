"""Teaching it your handwriting in the real app: ✓ and ✗ "it was …" on the Draw page, then My handwriting."""

import io

import numpy as np
import pytest
from PIL import Image

from digitlab.feedback import FEEDBACK_DB_ENV, FeedbackStore
from digitlab.store import MODEL_DIR_ENV
from tests.browser import (
    DIGITS,
    clear_canvas,
    draw_digit,
    give_name,
    open_page,
    served_app,
    wait_for_rerun,
)
from tests.conftest import copy_shipped_models

pytestmark = pytest.mark.browser

MODELS = ("cnn", "mlp-small")


@pytest.fixture(scope="module")
def served(tmp_path_factory, mnist_file):
    """The app with two shipped models and an empty feedback database, both in temporary folders."""
    folder = tmp_path_factory.mktemp("feedback-app")
    models = copy_shipped_models(folder / "models", MODELS)
    db_path = folder / "data" / "feedback.sqlite3"
    env = {MODEL_DIR_ENV: str(models), FEEDBACK_DB_ENV: str(db_path), "MNIST_NPZ": str(mnist_file)}
    log_path = folder / "server.log"
    with served_app(log_path, env=env) as url:
        yield url, db_path


def button(page, label):
    return page.get_by_role("button", name=label, exact=True)


def test_right_and_wrong_answers_are_saved_and_shown_on_my_handwriting(browser, served, tmp_path):
    url, db_path = served
    page = open_page(browser, url, ready_text="Draw a digit (0–9)")

    assert draw_digit(page, DIGITS["7"]) == "7"
    give_name(page, "Ann")
    button(page, "Right").click()
    wait_for_rerun(page, page.get_by_text("Saved as a 7."))

    clear_canvas(page)
    assert draw_digit(page, DIGITS["1"]) == "1"
    assert page.get_by_text("Saving as").is_visible(), "the name is asked only once"
    button(page, "Wrong").click()
    wait_for_rerun(page, page.get_by_text("It was…"))
    page.get_by_role("radiogroup", name="It was…").get_by_role("radio", name="4", exact=True).click()
    wait_for_rerun(page, page.get_by_text("Saved as a 4."))

    samples = FeedbackStore(db_path).samples()
    assert [(s.user, s.true_label, s.predicted_label, s.model) for s in samples] == [
        ("Ann", 7, 7, "cnn"),
        ("Ann", 4, 1, "cnn"),
    ]
    drawing = Image.open(io.BytesIO(FeedbackStore(db_path).drawing_png(samples[0].id)))
    assert drawing.size == (280, 280) and np.asarray(drawing.convert("L")).min() < 50, "the raw canvas, with its ink"

    page.get_by_role("link", name="My handwriting").click()
    wait_for_rerun(page, page.get_by_text("2 drawings in all."))
    assert page.get_by_text("7 · Ann · read right").is_visible()
    assert page.get_by_text("4 · Ann · read as 1").is_visible()
    assert page.get_by_text("Confusion matrix of cnn").is_visible()

    with page.expect_download() as download:
        button(page, "Download as .npz (MNIST layout)").click()
    path = tmp_path / "mine.npz"
    download.value.save_as(path)
    with np.load(path, allow_pickle=False) as exported:
        assert exported["x_train"].shape == (2, 28, 28) and exported["x_train"].dtype == np.uint8
        assert exported["y_train"].tolist() == [7, 4]
    page.close()
