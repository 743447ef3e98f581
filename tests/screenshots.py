"""`python -m tests.screenshots`: save pictures of the app's pages into docs/screenshots/ (make screenshots)."""

import os
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from digitlab.feedback import FEEDBACK_DB_ENV
from digitlab.views.class_page import PUBLIC_URL_ENV
from digitlab.views.number import CANVAS_WIDTH, NUMBER_PROMPT
from tests.browser import (
    METRIC_VALUE,
    ROOT,
    button,
    confirm_reading,
    draw_stroke,
    join_class,
    launch_chromium,
    open_page,
    problems_in_log,
    start_class,
    streamlit_server,
    wait_for_idle,
    wait_for_rerun,
    write_number,
)

OUT_DIR = ROOT / "docs" / "screenshots"
FOUR = [[(95, 45), (70, 175), (205, 175)], [(175, 70), (175, 245)]]
MAIN_CONTENT = '[data-testid="stMain"]'


def save_full_page(page, path):
    """Grow the viewport to the whole height of the app's scrolling content, then take the picture."""
    page.wait_for_function("() => [...document.images].every((image) => image.complete)")
    page.wait_for_timeout(500)
    height = page.evaluate(f"() => document.querySelector('{MAIN_CONTENT}').scrollHeight")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": height})
    page.wait_for_timeout(1000)
    wait_for_idle(page)
    page.screenshot(path=path)


def draw_page(browser, url):
    """The Draw page with a 4 drawn and read, down to how the model sees it."""
    page = open_page(browser, url, ready_text="Draw a digit (0–9)")
    for stroke in FOUR:
        draw_stroke(page, stroke)
    wait_for_rerun(page, page.locator(METRIC_VALUE))
    page.mouse.move(5, 5)
    save_full_page(page, OUT_DIR / "draw.png")
    page.close()


def number_page(browser, url):
    """The Number page with 2026 written and read."""
    page = open_page(browser, url, "number", ready_text=NUMBER_PROMPT)
    write_number(page, "2026", CANVAS_WIDTH)
    wait_for_rerun(page, page.locator(METRIC_VALUE))
    page.mouse.move(5, 5)
    save_full_page(page, OUT_DIR / "number.png")
    page.close()


def training_page(browser, url):
    """The Train page as it opens."""
    page = open_page(browser, url, "train", ready_text="Start training")
    save_full_page(page, OUT_DIR / "train.png")
    page.close()


def dataset_page(browser, url):
    """The Dataset page on the test split, as it first opens."""
    page = open_page(browser, url, "dataset", ready_text="Label 7")
    save_full_page(page, OUT_DIR / "dataset.png")
    page.close()


def model_page(browser, url):
    """The Model page of the default model."""
    page = open_page(browser, url, "model", ready_text="Confusion matrix")
    page.locator('[data-testid="stVegaLiteChart"]').nth(2).locator("canvas, svg").first.wait_for()
    save_full_page(page, OUT_DIR / "model.png")
    page.close()


WALL_DRAWINGS = [("Ana", "7", None), ("Ben", "1", None), ("Cy", "4", 9), ("Dee", "0", None), ("Eli", "3", None)]
EXAMPLE_PUBLIC_URL = "http://digitlab.school.example:8501"


def class_wall(browser, url):
    """The Class page's wall after five students joined by link and confirmed a reading, one mistake explained."""
    teacher, code = start_class(browser, url)
    for name, digit, it_was in WALL_DRAWINGS:
        student = join_class(open_page(browser, url, f"?join={code}", ready_text="Draw a digit"), name)
        confirm_reading(student, digit, it_was)
        student.close()
    teacher.get_by_text(f"{len(WALL_DRAWINGS) - 1} / {len(WALL_DRAWINGS)}").wait_for(timeout=30_000)
    button(teacher, "Explain").click()
    teacher.get_by_text("How it sees").wait_for(timeout=30_000)
    button(teacher, "Score every model on our drawings").click()
    teacher.get_by_text("Scored on the").wait_for(timeout=60_000)
    teacher.mouse.move(5, 5)
    save_full_page(teacher, OUT_DIR / "class.png")
    teacher.close()


def main():
    """Start the app on the shipped models (or $DIGITLAB_MODEL_DIR) and photograph each page."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    model_dir = os.environ.get("DIGITLAB_MODEL_DIR") or str(ROOT / "model")
    log_path = Path(tempfile.mkdtemp()) / "streamlit.log"
    env = {
        "DIGITLAB_MODEL_DIR": model_dir,
        FEEDBACK_DB_ENV: str(log_path.parent / "feedback.sqlite3"),
        # The address a school would set, so that the join link and QR code are ones a student device can open.
        PUBLIC_URL_ENV: EXAMPLE_PUBLIC_URL,
    }
    with streamlit_server(log_path, env=env) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for photograph in (draw_page, number_page, training_page, dataset_page, model_page, class_wall):
            photograph(browser, url)
        browser.close()
    for problem in problems_in_log(log_path):
        print(f"server log: {problem}", file=sys.stderr)
    print(f"Screenshots of the app on {model_dir} saved in {OUT_DIR.relative_to(ROOT)}/")
    return 1 if problems_in_log(log_path) else 0


if __name__ == "__main__":
    sys.exit(main())
