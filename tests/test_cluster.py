"""The replicated setup (`make cluster`) for real: PostgreSQL, two replicas and nginx on loopback, driven in Chromium.

Every page goes through nginx; the `X-Digitlab-Replica` header of a page's first response says
which replica its session lives on, and a fresh browser context gets a fresh sticky cookie.
"""

import re
import socket
import tempfile
from pathlib import Path

import pytest

from deploy.cluster import down, stop_process_group, up
from deploy.local import stop_postgres
from tests.browser import (
    DIGITS,
    VIEWPORT,
    button,
    confirm_reading,
    draw_digit,
    free_port,
    give_name,
    join_class,
    wait_for_idle,
    wait_for_rerun,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPLICA_HEADER = "x-digitlab-replica"
JOB_TIMEOUT = 240_000


def free_pair():
    """A port p such that p and p + 1 are both free, for the two replicas."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port


@pytest.fixture(scope="module")
def cluster():
    """The cluster, started for this module and stopped after it: yields nginx's URL, the replicas' ports, state.

    The state folder is made in /tmp itself: PostgreSQL runs as its own user and must reach it.
    """
    state = Path(tempfile.mkdtemp(prefix="digitlab-cluster-")) / "state"
    state.parent.chmod(0o755)
    first_replica = free_pair()
    url = up(state, 2, ports=(free_port(), first_replica, free_port()))
    yield url, (first_replica, first_replica + 1), state
    down(state)
    state.parent.rmdir()


def page_on(browser, url, port, path="", ready_text=None):
    """A page whose session lives on the replica at `port`: fresh contexts until nginx's hash sends one there."""
    for _ in range(40):
        page = browser.new_page(viewport=VIEWPORT)
        response = page.goto(f"{url}/{path}")
        if response.headers[REPLICA_HEADER].endswith(f":{port}"):
            page.wait_for_selector('[data-testid="stApp"]')
            if ready_text is not None:
                page.get_by_text(ready_text).first.wait_for(timeout=120_000)
            wait_for_idle(page, 120_000)
            return page
        page.close()
    raise AssertionError(f"nginx never sent a fresh browser to the replica on port {port}")


def save_as_right(page, digit, name):
    """Draw `digit`, give a name and answer Right; the drawing is saved."""
    assert draw_digit(page, DIGITS[digit]) == digit
    give_name(page, name)
    button(page, "Right").click()
    wait_for_rerun(page, page.get_by_text(f"Saved as a {digit}."))


def test_a_drawing_saved_on_one_replica_shows_on_the_other(browser, cluster):
    url, (first, second), _ = cluster
    drawer = page_on(browser, url, first, ready_text="Draw a digit")
    save_as_right(drawer, "7", "Ana")
    other = page_on(browser, url, second, "handwriting", ready_text="drawings in all")
    assert other.get_by_text("7 · Ana · read right").is_visible()
    drawer.close()
    other.close()


def test_one_class_wall_gathers_students_on_both_replicas(browser, cluster):
    url, (first, second), _ = cluster
    teacher = page_on(browser, url, first, "class", ready_text="Start a class")
    button(teacher, "Start a class").click()
    wait_for_rerun(teacher, teacher.get_by_text("teacher link"))
    code = teacher.get_by_test_id("stMetricValue").first.inner_text().strip()
    students = []
    for port, name, digit in ((first, "Cy", "4"), (second, "Dee", "7")):
        student = join_class(page_on(browser, url, port, f"?join={code}", ready_text="Draw a digit"), name)
        confirm_reading(student, digit)
        students.append(student)
    for shown in ("2 / 2", "✓ 4 · Cy", "✓ 7 · Dee"):  # One refresh may show the count before the drawings.
        teacher.get_by_text(shown).wait_for(timeout=10_000)
    for page in (teacher, *students):
        page.close()


def model_menu_labels(page):
    """The labels of the sidebar's model menu (its first select box), read by opening it."""
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
    options = page.get_by_role("option")
    options.first.wait_for()
    labels = options.all_inner_texts()
    page.keyboard.press("Escape")
    return labels


def test_a_model_trained_through_one_replica_is_selectable_on_the_other(browser, cluster):
    from tests.test_training_browser import choose_settings

    url, (first, second), _ = cluster
    trainer = page_on(browser, url, first, "train", ready_text="Start training")
    choose_settings(trainer, epochs=1, images=1_000)
    button(trainer, "Start training").click()
    done = trainer.get_by_text(re.compile(r"mlp-small-live-\d{8}-\d{6} reads \d+\.\d\d% of the 10,000"))
    wait_for_rerun(trainer, done, timeout=JOB_TIMEOUT)
    name = re.search(r"mlp-small-live-\d{8}-\d{6}", done.inner_text()).group()
    other = page_on(browser, url, second, ready_text="Draw a digit")
    assert any(label.startswith(f"{name} · ") for label in model_menu_labels(other))
    trainer.close()
    other.close()


def test_two_trainings_started_on_both_replicas_at_once_run_one_at_a_time(browser, cluster):
    from tests.test_training_browser import choose_settings

    url, (first, second), _ = cluster
    pages = [page_on(browser, url, port, "train", ready_text="Start training") for port in (first, second)]
    for page in pages:
        choose_settings(page, epochs=5, images=60_000)
    for page in pages:
        button(page, "Start training").click()
    running = re.compile(r"Epoch \d/5 · batch \d+/")
    busy = re.compile("already running on another replica")
    outcomes = []
    for page in pages:
        either = page.get_by_text(running).or_(page.get_by_text(busy))
        either.first.wait_for(timeout=JOB_TIMEOUT)
        outcomes.append("busy" if page.get_by_text(busy).count() else "running")
    assert sorted(outcomes) == ["busy", "running"], outcomes
    runner = pages[outcomes.index("running")]
    button(runner, "Cancel").click()
    wait_for_rerun(runner, runner.get_by_text("nothing was saved"), timeout=JOB_TIMEOUT)
    for page in pages:
        page.close()


def test_killing_the_replica_of_a_session_moves_it_to_the_other_with_every_drawing(browser, cluster):
    url, (first, second), state = cluster
    page = page_on(browser, url, second, ready_text="Draw a digit")
    save_as_right(page, "1", "Ben")
    stop_process_group(state / "replica-2.pid")
    page.get_by_role("link", name="My handwriting").click(timeout=120_000)
    wait_for_rerun(page, page.get_by_text("1 · Ben · read right"), timeout=120_000)
    response = page.request.get(url)
    assert response.headers[REPLICA_HEADER].endswith(f":{first}"), "the session now lives on the replica left"
    page.close()


def test_with_postgresql_down_digits_are_still_read_and_saving_says_why(browser, cluster):
    url, (first, _), state = cluster
    stop_postgres(state / "postgres", mode="immediate")
    page = page_on(browser, url, first, ready_text="Draw a digit")
    assert draw_digit(page, DIGITS["3"]) == "3"
    give_name(page, "Eve")
    button(page, "Right").click()
    message = page.get_by_text(
        re.compile(r"The database postgresql://postgres@127\.0\.0\.1:\d+/digitlab is unavailable")
    )
    wait_for_rerun(page, message)
    assert "\n" not in message.inner_text() and page.get_by_test_id("stException").count() == 0
    page.get_by_role("link", name="My handwriting").click()
    wait_for_rerun(page, page.get_by_text(re.compile(r"The database postgresql://\S+ is unavailable")))
    assert page.get_by_test_id("stException").count() == 0
    page.close()
