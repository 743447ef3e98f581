"""A class in the real app: a teacher starts it, three students join by code or link, their readings fill the wall."""

import re
import time

import pytest

from digitlab.feedback import FEEDBACK_DB_ENV
from digitlab.store import MODEL_DIR_ENV
from tests.browser import DIGITS, draw_digit, open_page, served_app, wait_for_rerun
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


def button(page, label):
    return page.get_by_role("button", name=label, exact=True)


def start_class(browser, url):
    """The teacher's page after starting a class: returns the page and the join code."""
    teacher = open_page(browser, url, path="class")
    button(teacher, "Start a class").click()
    wait_for_rerun(teacher, teacher.get_by_text("teacher link"))
    code = teacher.get_by_test_id("stMetricValue").first.inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code), code
    return teacher, code


def join(browser, url, name, code=None, link_code=None):
    """A student's Draw page joined to the class, by typing the code or through the join link."""
    page = open_page(browser, url, path=f"?join={link_code}" if link_code else "", ready_text="Draw a digit")
    if code is not None:
        page.get_by_text("Join a class").click()
        page.get_by_label("Class code").fill(code)
    page.get_by_label("Your first name or a nickname").fill(name)
    button(page, "Join").click()
    wait_for_rerun(page, page.get_by_text("your confirmed drawings go to its wall"))
    return page


def confirm(page, digit, answer, it_was=None):
    """Draw a digit, then answer Right, or Wrong and the digit it was."""
    assert draw_digit(page, DIGITS[digit]) == digit
    if answer == "Right":
        button(page, "Right").click()
    else:
        button(page, "Wrong").click()
        wait_for_rerun(page, page.get_by_text("It was…"))
        page.get_by_role("radiogroup", name="It was…").get_by_role("radio", name=str(it_was), exact=True).click()
    wait_for_rerun(page, page.get_by_text("Saved as a"))


def test_three_students_draw_and_the_wall_shows_their_drawings_score_and_mistake(browser, served):
    teacher, code = start_class(browser, served)
    assert teacher.get_by_text("No drawings yet").is_visible()
    ana = join(browser, served, "Ana", code=code.lower())
    ben = join(browser, served, "Ben", link_code=code)
    cy = join(browser, served, "<i>Cy</i>", code=code)

    confirm(ana, "7", "Right")
    confirm(ben, "1", "Right")
    confirm(cy, "4", "Wrong", it_was=9)
    done = time.monotonic()

    teacher.get_by_text("2 / 3").wait_for(timeout=WALL_SECONDS * 1000)
    assert time.monotonic() - done <= WALL_SECONDS + 1
    assert teacher.get_by_text("✓ 7 · Ana").is_visible()
    assert teacher.get_by_text("✓ 1 · Ben").is_visible()
    assert teacher.get_by_text("✗ 9 read 4 · <i>Cy</i>").first.is_visible(), "names are shown as typed, not as HTML"
    assert teacher.get_by_text("The model's mistakes (1)").is_visible()

    button(teacher, "Explain").click()
    teacher.get_by_text("Why the model read this 9 as 4").wait_for(timeout=30_000)
    teacher.get_by_text("How it sees").wait_for(timeout=30_000)
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
    confirm(student, "7", "Right")
    time.sleep(WALL_SECONDS)
    assert second.get_by_text("No drawings yet").is_visible(), "one class's drawings never reach another's wall"
    student.close()
    second.close()
