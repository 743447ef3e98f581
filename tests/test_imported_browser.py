"""The real app in Chromium: an uploaded model compared with a zoo model on one stroke; a bad one refused."""

import re

import pytest

from tests import foreign_models
from tests.browser import METRIC_VALUE, draw_stroke, open_page, served_app, wait_for_rerun
from tests.conftest import copy_shipped_models

pytestmark = pytest.mark.browser

ONE = [(140, 40), (140, 240)]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, mnist_file):
    folder = copy_shipped_models(tmp_path_factory.mktemp("models"), ["cnn", "mlp-small"])
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    with served_app(log_path, env={"DIGITLAB_MODEL_DIR": str(folder), "MNIST_NPZ": str(mnist_file)}) as url:
        yield url


def upload_model(page, path, expected_text):
    """Open the sidebar's "Upload a model", choose the file and wait for the verdict."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    if not sidebar.locator('input[type="file"]').count():
        sidebar.get_by_text("Upload a model").click()
    sidebar.locator('input[type="file"]').set_input_files(str(path))
    wait_for_rerun(page, sidebar.get_by_text(expected_text), timeout=120_000)


def test_an_uploaded_model_is_compared_on_one_stroke(browser, app_url, tmp_path):
    page = open_page(browser, app_url, ready_text="Draw a digit (0–9)")
    upload_model(page, foreign_models.pytorch_style_onnx(tmp_path / "torch-mlp.onnx"), "for this session only")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').nth(1).click()
    page.get_by_role("option", name=re.compile(r"^cnn ")).click()
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    draw_stroke(page, ONE)
    wait_for_rerun(page, page.get_by_text(re.compile(r"Both read|They disagree")))
    readings = [page.locator(f".st-key-reading-{which}") for which in ("first", "second")]
    assert [reading.locator(METRIC_VALUE).inner_text() for reading in readings] == ["1", "1"]
    assert "torch-mlp" in readings[0].inner_text() and "cnn" in readings[1].inner_text()
    assert page.get_by_text("Both read 1").count()
    page.close()


def test_an_uploaded_lambda_model_is_refused_with_the_reason(browser, app_url, tmp_path):
    page = open_page(browser, app_url, ready_text="Draw a digit (0–9)")
    upload_model(page, foreign_models.lambda_keras(tmp_path / "sneaky.h5"), "Lambda layer")
    assert page.get_by_text("cannot be used").count()
    page.close()
