"""Short lessons at the protocol level: simulated students on one server, every digit read right.

The second lesson is a class: its wall is open in Chromium on the teacher link, the students join it
with the Draw page's form and confirm each reading with Right, and each confirmed reading reaches the wall.
"""

import asyncio

import pytest

from digitlab.classes import ClassStore
from digitlab.database import DATABASE_URL_ENV, FEEDBACK_DB_ENV
from digitlab.views.class_page import TEACHER_PARAMETER
from tests.browser import page_left_open, served_app
from tests.streamlit_client import close_class, join_class, open_class, recorded_strokes, run_lesson

pytestmark = pytest.mark.slow

STUDENTS = 8
CLASS_STUDENTS = 6
SECONDS = 30
WALL_REFRESH_SECONDS = 2


async def lesson(url, students=STUDENTS, class_code=None):
    """A lesson of SECONDS; with `class_code`, every student joins that class first and confirms its readings."""
    sessions = await open_class(url, students)
    try:
        if class_code is not None:
            await join_class(sessions, class_code)
        return await run_lesson(sessions, recorded_strokes(), SECONDS, confirm=class_code is not None)
    finally:
        await close_class(sessions)


async def lesson_beside_wall(url, store):
    """Start a class, open its wall in Chromium, run a lesson in it: the Lesson, the wall's entries and refreshes."""
    info, token = store.start_class()
    async with page_left_open(url, f"class?{TEACHER_PARAMETER}={token}", ready_text="No drawings yet") as wall:
        result = await lesson(url, CLASS_STUDENTS, info.code)
        refreshes = wall.reruns
    return result, len(store.entries(info.id)), refreshes


def test_every_digit_of_a_short_lesson_is_answered_right(tmp_path, mnist_file):
    with served_app(tmp_path / "server.log", env={"MNIST_NPZ": str(mnist_file)}) as url:
        result = asyncio.run(lesson(url))
    # Each student draws its first digit within the first ten seconds, then one every ten: two or three in all.
    assert result.sent >= 2 * STUDENTS
    assert (result.answered, result.right) == (result.sent, result.sent)
    assert result.failed_fetches == []


@pytest.mark.browser
def test_students_in_a_class_confirm_every_digit_and_each_reaches_the_wall_open_in_chromium(tmp_path, mnist_file):
    database = tmp_path / "feedback.sqlite3"
    # The server's database is this SQLite file, also when the environment names a PostgreSQL one.
    env = {"MNIST_NPZ": str(mnist_file), FEEDBACK_DB_ENV: str(database), DATABASE_URL_ENV: ""}
    with served_app(tmp_path / "server.log", env=env) as url:
        result, on_wall, refreshes = asyncio.run(lesson_beside_wall(url, ClassStore(database)))
    assert result.sent >= 2 * CLASS_STUDENTS
    assert (result.answered, result.right, result.confirmed) == (result.sent, result.sent, result.sent)
    assert on_wall == result.confirmed
    # The wall asks for a refresh every two seconds while it is open: at least half of them, on a busy machine.
    assert refreshes >= SECONDS / WALL_REFRESH_SECONDS / 2
    assert result.failed_fetches == []
