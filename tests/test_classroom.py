"""A short lesson at the protocol level: eight simulated students on one server, every digit read right."""

import asyncio

import pytest

from tests.browser import served_app
from tests.streamlit_client import close_class, open_class, recorded_strokes, run_lesson

pytestmark = pytest.mark.slow

STUDENTS = 8
SECONDS = 30


async def lesson(url):
    sessions = await open_class(url, STUDENTS)
    try:
        return await run_lesson(sessions, recorded_strokes(), SECONDS)
    finally:
        await close_class(sessions)


def test_every_digit_of_a_short_lesson_is_answered_right(tmp_path, mnist_file):
    with served_app(tmp_path / "server.log", env={"MNIST_NPZ": str(mnist_file)}) as url:
        result = asyncio.run(lesson(url))
    # Each student draws its first digit within the first ten seconds, then one every ten: two or three in all.
    assert result.sent >= 2 * STUDENTS
    assert (result.answered, result.right) == (result.sent, result.sent)
    assert result.failed_fetches == []
