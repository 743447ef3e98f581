"""The Train page in Chromium: a short live training run that becomes selectable, and a run cancelled midway."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import open_page, served_app, wait_for_idle, wait_for_rerun
from tests.conftest import copy_shipped_models

pytestmark = pytest.mark.browser

PROGRESS = '[data-testid="stProgress"]'
CHART = '[data-testid="stVegaLiteChart"]'
# The sidebar's first select box: the model (Compare with comes next).
MODEL_MENU = '[data-testid="stSidebar"] [data-testid="stSelectbox"] >> nth=0'
JOB_TIMEOUT = 240_000


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """The app's model folder: copies of the shipped mlp-small and cnn."""
    return copy_shipped_models(tmp_path_factory.mktemp("models"), ["mlp-small", "cnn"])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, model_folder, mnist_file):
    """The app served for this module, saving models into the temporary folder; its log must stay clean."""
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {
        "DIGITLAB_MODEL_DIR": str(model_folder),
        "MNIST_NPZ": str(mnist_file),
        "DIGITLAB_FEEDBACK_DB": str(tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"),
    }
    with served_app(log_path, env=env) as url:
        yield url


def new_models(folder):
    return sorted(p.name for p in folder.iterdir() if p.name not in {"mlp-small.keras", "mlp-small.json"})


def choose_settings(page, epochs, images):
    """Epochs typed into their box; the images slider moved with the keyboard to its first or last stop."""
    epochs_box = page.get_by_role("spinbutton", name="Epochs")
    epochs_box.fill(str(epochs))
    epochs_box.press("Enter")
    page.get_by_role("slider", name="MNIST training images").press({1_000: "Home", 60_000: "End"}[images])
    wait_for_rerun(page, page.get_by_text(f"An epoch of {images:,} images takes roughly"))


def record_progress_texts(page):
    """Collect in the page every text the progress bar shows from now on."""
    page.evaluate(
        """(selector) => {
            window.__progress = [];
            const note = () => document.querySelectorAll(selector).forEach((bar) => {
                const text = bar.innerText.trim();
                if (text && window.__progress[window.__progress.length - 1] !== text) window.__progress.push(text);
            });
            new MutationObserver(note).observe(document.body, {childList: true, subtree: true, characterData: true});
        }""",
        PROGRESS,
    )


def model_menu_options(page):
    """The labels of the sidebar's model menu, read by opening it."""
    page.locator(MODEL_MENU).click()
    options = page.get_by_role("option")
    options.first.wait_for()
    labels = options.all_inner_texts()
    page.keyboard.press("Escape")
    return labels


def test_a_short_live_training_shows_progress_and_curves_and_becomes_selectable(browser, app_url, model_folder):
    page = open_page(browser, app_url, "train", ready_text="Start training")
    assert page.get_by_text("Training runs on the server's CPU").is_visible()
    choose_settings(page, epochs=1, images=1_000)
    record_progress_texts(page)
    page.get_by_role("button", name="Start training").click()
    page.locator(PROGRESS).wait_for(timeout=JOB_TIMEOUT)
    assert page.get_by_role("button", name="Start training").is_disabled()
    assert page.get_by_role("button", name="Cancel").is_visible()
    done = page.get_by_text(re.compile(r"mlp-small-live-\d{8}-\d{6} reads \d+\.\d\d% of the 10,000 MNIST test digits"))
    wait_for_rerun(page, done, timeout=JOB_TIMEOUT)
    seen = page.evaluate("() => window.__progress")
    assert any(text.startswith("Training mlp-small") for text in seen), seen
    page.locator(CHART).nth(1).locator("canvas, svg").first.wait_for()
    assert page.locator(CHART).count() == 2
    name = re.search(r"mlp-small-live-\d{8}-\d{6}", done.inner_text()).group()
    assert new_models(model_folder) == sorted(["cnn.json", "cnn.keras", f"{name}.json", f"{name}.keras"])
    assert any(label.startswith(f"{name} · ") for label in model_menu_options(page))
    page.get_by_role("button", name="Use it now").click()
    expect(page.locator(MODEL_MENU).get_by_role("combobox")).to_have_value(re.compile(f"^{name} · "))
    page.close()


def test_cancel_stops_a_long_training_and_saves_nothing(browser, app_url, model_folder):
    before = new_models(model_folder)
    page = open_page(browser, app_url, "train", ready_text="Start training")
    choose_settings(page, epochs=5, images=60_000)
    page.get_by_role("spinbutton", name="Batch size").fill("8")
    page.get_by_role("spinbutton", name="Batch size").press("Enter")
    wait_for_idle(page)
    record_progress_texts(page)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text(re.compile(r"Epoch 1/5 · batch [1-9]\d*/7500")).first.wait_for(timeout=JOB_TIMEOUT)
    someone_else = open_page(browser, app_url, "train", ready_text="The server is busy with someone else's training")
    assert someone_else.get_by_role("button", name="Start training").is_disabled()
    assert someone_else.get_by_text("only they can cancel it").is_visible()
    assert someone_else.get_by_role("button", name="Cancel").count() == 0
    someone_else.close()
    page.get_by_role("button", name="Cancel").click()
    cancelled = page.get_by_text(re.compile(r"mlp-small was cancelled during epoch [1-5] of 5: nothing was saved"))
    wait_for_rerun(page, cancelled, timeout=JOB_TIMEOUT)
    seen = page.evaluate("() => window.__progress")
    steps = [int(match.group(1)) for match in map(re.compile(r"batch (\d+)/").search, seen) if match]
    assert len(steps) >= 2 and len(set(steps)) > 1 and steps[-1] < 7500, steps
    assert page.get_by_role("button", name="Start training").is_enabled()
    assert new_models(model_folder) == before
    page.close()
