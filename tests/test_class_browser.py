"""A class in the real app: a teacher starts it, three students join by code or link, their readings fill the wall."""

import re
import time

import pytest
from playwright.sync_api import expect

from digitlab.feedback import FEEDBACK_DB_ENV
from digitlab.store import MODEL_DIR_ENV
from tests.browser import (
    button,
    clear_canvas,
    confirm_reading,
    join_class,
    open_page,
    served_app,
    start_class,
    wait_for_rerun,
)
from tests.conftest import copy_shipped_models

pytestmark = pytest.mark.browser

WALL_SECONDS = 5


@pytest.fixture(scope="module")
def served(tmp_path_factory, mnist_file):
    folder = tmp_path_factory.mktemp("class-app")
    models = copy_shipped_models(folder / "models", ("cnn", "mlp-small"))
    env = {MODEL_DIR_ENV: str(models), FEEDBACK_DB_ENV: str(folder / "feedback.sqlite3"), "MNIST_NPZ": str(mnist_file)}
    with served_app(folder / "server.log", env=env) as url:
        yield url


def join(browser, url, name, code=None, link_code=None):
    """A student's Draw page joined to the class, by typing the code or through the join link."""
    page = open_page(browser, url, path=f"?join={link_code}" if link_code else "", ready_text="Draw a digit")
    return join_class(page, name, code)


def test_three_students_draw_and_the_wall_shows_their_drawings_score_and_mistake(browser, served):
    teacher, code = start_class(browser, served)
    assert re.fullmatch(r"[A-Z2-9]{6}", code), code
    assert teacher.get_by_text("No drawings yet").is_visible()
    ana = join(browser, served, "Ana", code=code.lower())
    ben = join(browser, served, "Ben", link_code=code)
    cy = join(browser, served, "<i>Cy</i>", code=code)

    confirm_reading(ana, "7")
    confirm_reading(ben, "1")
    confirm_reading(cy, "4", it_was=9)
    done = time.monotonic()

    teacher.get_by_text("2 / 3").wait_for(timeout=WALL_SECONDS * 1000)
    assert time.monotonic() - done <= WALL_SECONDS + 1
    expect(teacher.get_by_text("✓ 7 · Ana")).to_be_visible()
    expect(teacher.get_by_text("✓ 1 · Ben")).to_be_visible()
    expect(teacher.get_by_text("✗ 9 read 4 · <i>Cy</i>").first).to_be_visible()  # Shown as typed, not as HTML.
    expect(teacher.get_by_text("The model's mistakes (1)")).to_be_visible()

    button(teacher, "Explain").click()
    teacher.get_by_text("Why the model read this 9 as 4").wait_for(timeout=30_000)
    teacher.get_by_text("How it sees").wait_for(timeout=30_000)

    button(teacher, "Score every model on our drawings").click()
    wait_for_rerun(teacher, teacher.get_by_text("Scored on the 3 drawings"))
    teacher.get_by_role("radiogroup", name="Model for everyone").get_by_role("radio", name="mlp-small").click()
    wait_for_rerun(teacher, button(teacher, "Switch every student to it").and_(teacher.locator(":enabled")))
    button(teacher, "Switch every student to it").click()
    teacher.get_by_text("Every student reads with mlp-small").wait_for(timeout=30_000)
    time.sleep(WALL_SECONDS / 2)  # A student's page looks for the class's model at most every 2 s.
    clear_canvas(ana)
    ana.get_by_text("Your teacher switched everyone to mlp-small").wait_for(timeout=30_000)
    expect(ana.get_by_test_id("stSidebar").get_by_role("combobox").first).to_have_value(re.compile("^mlp-small"))
    late = join(browser, served, "Dee", code=code)  # Joins after the switch: reads with mlp-small too.
    expect(late.get_by_test_id("stSidebar").get_by_role("combobox").first).to_have_value(re.compile("^mlp-small"))
    late.close()
    for page in (ana, ben, cy):
        page.close()
    teacher.close()


def test_a_wrong_code_says_so_and_another_class_stays_apart(browser, served):
    _, first_code = start_class(browser, served)
    second, _ = start_class(browser, served)
    page = open_page(browser, served, ready_text="Draw a digit")
    page.get_by_text("Join a class").click()
    page.get_by_label("Class code").fill("ZZZZZZ")
    page.get_by_label("Your first name or a nickname").fill("Dee")
    button(page, "Join").click()
    wait_for_rerun(page, page.get_by_text("No class has the code ZZZZZZ"))
    page.close()

    student = join(browser, served, "Eve", code=first_code)
    confirm_reading(student, "7")
    time.sleep(WALL_SECONDS)
    assert second.get_by_text("No drawings yet").is_visible(), "one class's drawings never reach another's wall"
    student.close()
    second.close()
