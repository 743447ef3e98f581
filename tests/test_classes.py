"""Class sessions in the store: join by code, the wall's entries, clearing, ending, expiry, and classes kept apart."""

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import update

from digitlab.classes import ClassError, ClassStore, clean_code
from digitlab.database import classes
from digitlab.feedback import FeedbackStore
from tests.conftest import run_script


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").fresh_url()
    return tmp_path / "feedback.sqlite3"


@pytest.fixture
def store(location):
    return ClassStore(location)


def confirm(store, code, student, true_label, predicted_label, confidence=0.9, key=0):
    """A student confirms a reading: a small random drawing and input, labelled."""
    rng = np.random.default_rng(key)
    return store.save_reading(
        code,
        student=student,
        drawing=rng.integers(0, 256, (56, 56, 4), dtype=np.uint8),
        model_input=rng.random((28, 28), dtype=np.float32),
        true_label=true_label,
        predicted_label=predicted_label,
        confidence=confidence,
        model="cnn",
    )


def test_a_student_joins_by_code_typed_any_way(store):
    info, token = store.start_class()
    assert len(info.code) == 6 and len(token) >= 30
    typed = info.code[:3].lower() + " - " + info.code[3:]
    assert store.joinable(typed).id == info.id
    assert clean_code(typed) == info.code


def test_a_wrong_or_empty_code_says_so(store):
    with pytest.raises(ClassError, match="No class has the code ZZZZZZ"):
        store.joinable("zzzzzz")
    with pytest.raises(ClassError, match="Type the class code"):
        store.joinable("  ")


def test_confirmed_readings_fill_the_wall_and_the_students_handwriting(store, location):
    info, _ = store.start_class()
    confirm(store, info.code, "Ana", 7, 7, 0.99, key=1)
    confirm(store, info.code, "Ben", 9, 3, 0.80, key=2)
    confirm(store, info.code, "Ben", 4, 6, 0.95, key=3)
    summary = store.summary(info.id)
    assert (summary.right, summary.total, summary.students) == (1, 3, 2)
    assert [m.true_label for m in summary.mistakes] == [4, 9]  # The surest mistake first.
    assert summary.per_digit[7] == 1.0 and summary.per_digit[9] == 0.0 and summary.per_digit[0] is None
    assert summary.confusion[9, 3] == 1 and summary.confusion.sum() == 3
    assert [e.student for e in summary.latest] == ["Ben", "Ben", "Ana"]
    assert [s.user for s in FeedbackStore(location).samples()] == ["Ana", "Ben", "Ben"]


def test_two_classes_are_kept_apart(store):
    first, _ = store.start_class()
    second, _ = store.start_class()
    assert first.code != second.code
    sample = confirm(store, first.code, "Ana", 1, 1)
    confirm(store, second.code, "Cy", 2, 2)
    assert [e.student for e in store.entries(first.id)] == ["Ana"]
    assert [e.student for e in store.entries(second.id)] == ["Cy"]
    assert store.drawing_png(first.id, sample)[:4] == b"\x89PNG"
    with pytest.raises(ClassError, match="not on this class's wall"):
        store.drawing_png(second.id, sample)


def test_clearing_empties_the_wall_but_keeps_the_saved_drawings(store, location):
    info, token = store.start_class()
    confirm(store, info.code, "Ana", 3, 3)
    store.clear(token)
    assert store.entries(info.id) == [] and store.summary(info.id).total == 0
    assert len(FeedbackStore(location).samples()) == 1


def test_deleting_a_drawing_from_my_handwriting_takes_it_off_the_wall(store, location):
    info, _ = store.start_class()
    sample = confirm(store, info.code, "Ana", 3, 3)
    FeedbackStore(location).delete(sample)
    assert store.entries(info.id) == []


def test_an_ended_class_cannot_be_joined_or_added_to_but_the_teacher_keeps_it(store):
    info, token = store.start_class()
    confirm(store, info.code, "Ana", 5, 5)
    assert store.end(token).ended
    with pytest.raises(ClassError, match="has ended"):
        store.joinable(info.code)
    with pytest.raises(ClassError, match="has ended"):
        confirm(store, info.code, "Ana", 5, 5)
    assert store.teaching(token).id == info.id and store.summary(info.id).total == 1


def test_a_class_quiet_for_twelve_hours_expires(store):
    info, token = store.start_class()
    long_ago = (datetime.now(UTC) - timedelta(hours=12, minutes=1)).isoformat(timespec="milliseconds")
    with store.engine.begin() as connection:
        connection.execute(update(classes).where(classes.c.id == info.id).values(last_activity=long_ago))
    with pytest.raises(ClassError, match="expired"):
        store.joinable(info.code)
    with pytest.raises(ClassError, match="expired"):
        store.teaching(token)


def test_only_the_teacher_token_controls_the_class(store):
    info, token = store.start_class()
    with pytest.raises(ClassError, match="teacher link"):
        store.teaching("not-the-token")
    assert store.hide_names(token, True).hide_names
    switched = store.switch_model(token, "cnn-sgd.keras")
    assert (switched.model, switched.model_changed) == ("cnn-sgd.keras", 1)
    assert store.joinable(info.code).model == "cnn-sgd.keras"


def test_names_are_cleaned_and_limited(store):
    info, _ = store.start_class()
    confirm(store, info.code, "  <b>Zoë</b>  ", 1, 1)
    assert store.entries(info.id)[0].student == "<b>Zoë</b>"  # Kept as typed; the wall shows it as text.
    with pytest.raises(ClassError, match="at most 20"):
        confirm(store, info.code, "A" * 21, 1, 1)


def test_students_saving_at_once_all_land_on_the_wall(store):
    info, _ = store.start_class()

    def student(number):
        for n in range(15):
            confirm(store, info.code, f"S{number}", n % 10, n % 10, key=number * 100 + n)

    threads = [threading.Thread(target=student, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = store.summary(info.id)
    assert (summary.total, summary.right, summary.students) == (90, 90, 6)


def test_the_revision_changes_with_every_entry(store):
    info, token = store.start_class()
    before = store.revision(info.id)
    confirm(store, info.code, "Ana", 1, 1)
    after = store.revision(info.id)
    store.clear(token)
    assert before != after and store.revision(info.id) != after


def test_an_empty_summary(store):
    info, _ = store.start_class()
    summary = store.summary(info.id)
    assert (summary.right, summary.total, summary.wrong, summary.mistakes, summary.latest) == (0, 0, 0, [], [])


def test_the_summary_reads_only_what_the_wall_shows(store):
    info, _ = store.start_class()
    for n in range(8):
        confirm(store, info.code, f"S{n % 3}", n % 10, (n + n % 2) % 10, confidence=n / 10, key=n)
    summary = store.summary(info.id, latest=3, mistakes=2)
    assert (summary.total, summary.right, summary.wrong, summary.students) == (8, 4, 4, 3)
    assert [e.true_label for e in summary.latest] == [7, 6, 5]
    assert [e.true_label for e in summary.mistakes] == [7, 5]  # Surest first: confidence 0.7, then 0.5.


def test_copy_store_moves_drawings_and_classes_from_sqlite_into_postgresql(tmp_path, postgres):
    source = ClassStore(tmp_path / "feedback.sqlite3")
    info, _ = source.start_class()
    confirm(source, info.code, "Ana", 7, 7, key=1)
    confirm(source, info.code, "Ben", 9, 3, key=2)
    FeedbackStore(tmp_path / "feedback.sqlite3").save(
        user="Solo",
        drawing=np.zeros((28, 28, 4), np.uint8),
        model_input=np.zeros((28, 28)),
        true_label=1,
        predicted_label=1,
        model="cnn",
    )
    target = postgres.fresh_url()
    done = run_script("-m", "digitlab", "copy-store", "--from", tmp_path / "feedback.sqlite3", "--to", target)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Copied 3 drawings, 1 classes and 2 wall entries."
    copied = ClassStore(target)
    moved = copied.joinable(info.code)
    assert [(e.student, e.true_label, e.predicted_label) for e in copied.entries(moved.id)] == [
        ("Ana", 7, 7),
        ("Ben", 9, 3),
    ]
    originals = FeedbackStore(tmp_path / "feedback.sqlite3")
    assert [s.user for s in FeedbackStore(target).samples()] == ["Ana", "Ben", "Solo"]
    for before, after in zip(originals.samples(), FeedbackStore(target).samples()):
        assert originals.drawing_png(before.id) == FeedbackStore(target).drawing_png(after.id)


def test_copy_store_to_a_database_that_is_down_says_so_and_copies_nothing(tmp_path):
    from tests.browser import free_port

    FeedbackStore(tmp_path / "feedback.sqlite3")
    url = f"postgresql://digitlab@127.0.0.1:{free_port()}/digitlab"
    done = run_script("-m", "digitlab", "copy-store", "--from", tmp_path / "feedback.sqlite3", "--to", url)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "unavailable" in done.stderr and len(done.stderr.strip().splitlines()) == 1
