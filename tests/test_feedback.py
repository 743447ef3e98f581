"""The feedback store: labelled drawings in SQLite, saved whole even by many writers or a killed one."""

import io
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import types

import numpy as np
import pytest
from PIL import Image

from digitlab import database, feedback
from digitlab.feedback import FEEDBACK_DB_ENV, FeedbackError, FeedbackStore, default_db_path
from digitlab.preprocess import to_mnist
from digitlab.synthetic import render_on_canvas
from tests.conftest import ROOT

WRITERS = 4
SAVES_PER_WRITER = 150


def canvas_drawing(mnist, index):
    """A white 280×280 RGBA canvas with MNIST training digit `index` drawn on it, its input and its label."""
    (images, labels), _ = mnist
    drawing = render_on_canvas(images[index], np.random.default_rng(index))
    return drawing, to_mnist(drawing), int(labels[index])


def pattern(key, side=280):
    """A model input and a noisy side×side RGBA drawing that only `key` produces (noise makes a big PNG)."""
    rng = np.random.default_rng(key)
    return rng.random((28, 28), dtype=np.float32), rng.integers(0, 256, (side, side, 4), dtype=np.uint8)


def save_pattern(store, key, user, side=280):
    """Save the sample of `key`: its label, model name and pictures all derived from the key."""
    model_input, drawing = pattern(key, side)
    return store.save(
        user=user, drawing=drawing, model_input=model_input, true_label=key % 10, predicted_label=None, model=f"k{key}"
    )


def assert_whole(store, sample):
    """The sample's every field, drawing included, is the one its key produced."""
    key = int(sample.model[1:])
    stored_drawing = np.asarray(Image.open(io.BytesIO(store.drawing_png(sample.id))))
    model_input, drawing = pattern(key, side=len(stored_drawing))
    assert sample.true_label == key % 10
    np.testing.assert_array_equal(sample.model_input, model_input)
    np.testing.assert_array_equal(stored_drawing, drawing)


def write_many(path, writer, start):
    """One writer process: wait for the others, then save SAVES_PER_WRITER samples as fast as it can."""
    store = FeedbackStore(path)
    start.wait(timeout=60)
    for n in range(SAVES_PER_WRITER):
        save_pattern(store, writer * 1000 + n, f"writer {writer}", side=56)


KILLED_WRITER = """
import sys
from digitlab.feedback import FeedbackStore
from tests.test_feedback import save_pattern

store = FeedbackStore(sys.argv[1])
key = int(sys.argv[2])
while True:
    save_pattern(store, key, "killed")
    print(key, flush=True)
    key += 1
"""

# Saves three samples, then kills itself with SIGKILL at SQLite VM instruction number argv[3] of the fourth save.
SELF_KILLING_WRITER = """
import os, signal, sqlite3, sqlite3.dbapi2, sys
from digitlab.feedback import FeedbackStore
from tests.test_feedback import save_pattern

path, first_key, kill_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
instructions = None

def count_and_die():
    global instructions
    if instructions is not None:
        instructions += 1
        if instructions == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    return 0

connect = sqlite3.connect

def counting_connect(*args, **kwargs):
    connection = connect(*args, **kwargs)
    connection.set_progress_handler(count_and_die, 1)
    return connection

sqlite3.connect = sqlite3.dbapi2.connect = counting_connect  # SQLAlchemy's driver calls the latter.
store = FeedbackStore(path)
for key in range(first_key, first_key + 4):
    instructions = 0 if key == first_key + 3 else None
    save_pattern(store, key, "killed")
    print(key, flush=True)
"""


def run_and_kill(path, first_key, kill_at=None, saves_before_kill=None):
    """Run a writer until it is killed; the number of saves it reported and its exit status."""
    script = KILLED_WRITER if kill_at is None else SELF_KILLING_WRITER
    arguments = [str(path), str(first_key)] + ([] if kill_at is None else [str(kill_at)])
    writer = subprocess.Popen(
        [sys.executable, "-c", script, *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    reported = 0
    if saves_before_kill is not None:
        for _ in range(saves_before_kill):
            assert writer.stdout.readline(), writer.stderr.read()
        writer.send_signal(signal.SIGKILL)
        reported = saves_before_kill
    reported += len(writer.stdout.read().split())
    errors = writer.stderr.read()
    writer.wait(timeout=60)
    assert "Traceback" not in errors, errors
    return reported, writer.returncode


def assert_only_whole_samples(location, kept, reported):
    """The database is intact, holds every reported save (and at most one unreported), each one whole."""
    if "://" not in str(location):
        with sqlite3.connect(location) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = FeedbackStore(location)
    samples = store.samples()
    assert kept + reported <= len(samples) <= kept + reported + 1, "a save was lost or duplicated"
    for sample in samples:
        assert_whole(store, sample)
    return len(samples)


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    """Where an empty store lives: the embedded SQLite file, or a database on a PostgreSQL server."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").fresh_url()
    return tmp_path / "data" / "feedback.sqlite3"


@pytest.fixture
def store(location):
    return FeedbackStore(location)


def test_default_path_is_in_data_unless_the_environment_says_otherwise(monkeypatch, tmp_path):
    monkeypatch.delenv(FEEDBACK_DB_ENV, raising=False)
    assert default_db_path() == ROOT / "data" / "feedback.sqlite3"
    monkeypatch.setenv(FEEDBACK_DB_ENV, str(tmp_path / "elsewhere.sqlite3"))
    assert default_db_path() == tmp_path / "elsewhere.sqlite3"
    assert FeedbackStore().path == tmp_path / "elsewhere.sqlite3"


def test_a_new_store_is_a_wal_database_in_a_new_folder(tmp_path):
    path = tmp_path / "new" / "folder" / "feedback.sqlite3"
    FeedbackStore(path)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 0


def test_a_saved_drawing_comes_back_whole(store, mnist):
    drawing, model_input, label = canvas_drawing(mnist, 0)
    sample_id = store.save(
        user="  Ada  Lovelace ",
        drawing=drawing,
        model_input=model_input,
        true_label=label,
        predicted_label=3,
        model="cnn",
    )
    [sample] = store.samples()
    assert (sample.id, sample.user, sample.true_label, sample.predicted_label, sample.model) == (
        sample_id,
        "Ada Lovelace",
        label,
        3,
        "cnn",
    )
    assert sample.created.endswith("+00:00")
    assert sample.model_input.dtype == np.float32 and sample.model_input.shape == (28, 28)
    np.testing.assert_array_equal(sample.model_input, model_input)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(store.drawing_png(sample_id)))), drawing)
    assert FeedbackStore(store.url).samples()[0].user == "Ada Lovelace"


def test_a_pil_drawing_and_an_unknown_prediction_are_accepted(store):
    model_input, _ = pattern(1)
    picture = Image.new("RGBA", (280, 280), "white")
    store.save(user="Bo", drawing=picture, model_input=model_input, true_label=7, predicted_label=None, model="cnn")
    assert store.samples()[0].predicted_label is None
    assert store.drawing(store.samples()[0].id).size == (280, 280)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"true_label": 10}, "true label must be a digit from 0 to 9"),
        ({"true_label": -1}, "true label must be a digit from 0 to 9"),
        ({"true_label": "7"}, "true label must be a digit from 0 to 9"),
        ({"true_label": True}, "true label must be a digit from 0 to 9"),
        ({"predicted_label": 12}, "predicted label must be a digit from 0 to 9"),
        ({"model_input": np.zeros((28, 27))}, "28×28 array"),
        ({"model_input": np.full((28, 28), 255.0)}, "between 0 and 1"),
        ({"model_input": np.full((28, 28), np.nan)}, "between 0 and 1"),
        ({"user": "   "}, "Type your name"),
        ({"user": None}, "Type your name"),
        ({"user": "x" * 41}, "at most 40 characters"),
        ({"model": ""}, "model name"),
        ({"drawing": np.zeros((10, 10, 5))}, "not an image"),
        ({"drawing": np.zeros((3000, 10))}, "larger than"),
    ],
)
def test_invalid_samples_are_refused_with_a_clear_message(store, change, message):
    model_input, drawing = pattern(2)
    sample = dict(user="Cy", drawing=drawing, model_input=model_input, true_label=2, predicted_label=2, model="cnn")
    with pytest.raises(FeedbackError, match=message):
        store.save(**(sample | change))
    assert store.samples() == []


def test_users_counts_and_filters(store):
    for key, user in [(3, "Ann"), (13, "Ann"), (4, "Ben"), (5, "Ann")]:
        save_pattern(store, key, user)
    assert store.users() == ["Ann", "Ben"]
    assert store.counts() == {0: 0, 1: 0, 2: 0, 3: 2, 4: 1, 5: 1, 6: 0, 7: 0, 8: 0, 9: 0}
    assert store.counts("Ben") == {**dict.fromkeys(range(10), 0), 4: 1}
    assert [sample.model for sample in store.samples(" Ann ")] == ["k3", "k13", "k5"]
    assert store.samples("Nobody") == []


def test_delete_removes_exactly_one_sample(store):
    ids = [save_pattern(store, key, "Di") for key in range(3)]
    store.delete(ids[1])
    assert [sample.id for sample in store.samples()] == [ids[0], ids[2]]
    with pytest.raises(FeedbackError, match="no sample"):
        store.delete(ids[1])
    with pytest.raises(FeedbackError, match="no sample"):
        store.drawing_png(ids[1])


def test_arrays_and_export_have_mnists_layout(store, mnist, tmp_path):
    (mnist_x, mnist_y), _ = mnist
    inputs = []
    for index in range(5):
        drawing, model_input, label = canvas_drawing(mnist, index)
        store.save(user="Ed", drawing=drawing, model_input=model_input, true_label=label, predicted_label=0, model="m")
        inputs.append(model_input)
    save_pattern(store, 9, "Flo")

    x, y = store.arrays("Ed")
    assert x.dtype == mnist_x.dtype == np.uint8 and x.shape[1:] == mnist_x.shape[1:] and x.shape[0] == 5
    assert y.dtype == mnist_y.dtype == np.uint8 and y.tolist() == mnist_y[:5].tolist()
    np.testing.assert_array_equal(x, np.rint(np.stack(inputs) * 255).astype(np.uint8))
    for digits in (x, mnist_x[:5]):  # Ink bright on a black background, like MNIST.
        assert digits[:, 0, :].max() == 0 and digits[:, :, 0].max() == 0 and digits.max() >= 250

    path = tmp_path / "mine.npz"
    store.export_npz(path)
    buffer = io.BytesIO()
    store.export_npz(buffer, user="Flo")
    buffer.seek(0)
    with np.load(path, allow_pickle=False) as everything, np.load(buffer, allow_pickle=False) as flo:
        assert sorted(everything.files) == ["x_train", "y_train"]
        assert everything["x_train"].shape == (6, 28, 28) and everything["y_train"].tolist()[:5] == y.tolist()
        assert flo["x_train"].shape == (1, 28, 28) and flo["y_train"].tolist() == [9]


def test_an_empty_store_gives_empty_arrays_in_mnists_layout(store):
    x, y = store.arrays()
    assert (x.shape, x.dtype, y.shape, y.dtype) == ((0, 28, 28), np.uint8, (0,), np.uint8)
    assert store.users() == [] and sum(store.counts().values()) == 0


def test_a_file_that_is_not_a_database_is_named_in_one_line(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"this is not SQLite " * 100)
    with pytest.raises(FeedbackError, match="not a readable feedback database") as error:
        FeedbackStore(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_a_folder_that_cannot_be_made_is_named(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(FeedbackError, match="Cannot create the folder"):
        FeedbackStore(tmp_path / "a-file" / "feedback.sqlite3")


def test_a_database_locked_too_long_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 300)
    store = FeedbackStore(tmp_path / "locked.sqlite3")
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(FeedbackError, match="busy"):
            save_pattern(store, 1, "Gil")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    save_pattern(store, 1, "Gil")
    assert len(store.samples()) == 1


def test_threads_sharing_one_store_all_save(store):
    def save_some(thread):
        for n in range(40):
            save_pattern(store, thread * 100 + n, f"thread {thread}", side=56)

    threads = [threading.Thread(target=save_some, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sample.model for sample in store.samples()) == sorted(
        f"k{thread * 100 + n}" for thread in range(4) for n in range(40)
    )


@pytest.mark.slow
def test_concurrent_writer_processes_all_land(location, monkeypatch):
    # Streamlit's AppTest leaves the last script it ran as __main__, and spawn re-runs __main__ in
    # every child; a bare module keeps the children to this file's `write_many`.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    path = location
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WRITERS)
    writers = [context.Process(target=write_many, args=(path, writer, start)) for writer in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    assert [writer.exitcode for writer in writers] == [0] * WRITERS

    store = FeedbackStore(location)
    samples = store.samples()
    assert len(samples) == WRITERS * SAVES_PER_WRITER
    assert len({sample.id for sample in samples}) == len(samples)
    assert store.users() == [f"writer {writer}" for writer in range(WRITERS)]
    for writer in range(WRITERS):
        mine = [sample.model for sample in store.samples(f"writer {writer}")]
        assert mine == [f"k{writer * 1000 + n}" for n in range(SAVES_PER_WRITER)]  # Each writer's own order.
    for sample in samples[::25]:
        assert_whole(store, sample)


@pytest.mark.slow
def test_a_writer_killed_at_random_moments_leaves_only_whole_samples(location):
    """SIGKILL a process saving as fast as it can, three times over: no reported save lost, no half sample."""
    path = location
    kept = 0
    for round_number, saves_before_kill in enumerate((20, 35, 50)):
        reported, status = run_and_kill(path, round_number * 1000, saves_before_kill=saves_before_kill)
        assert status == -signal.SIGKILL
        kept = assert_only_whole_samples(path, kept, reported)


@pytest.mark.slow
def test_a_writer_killed_at_every_step_of_a_save_leaves_only_whole_samples(tmp_path):
    """Kill a writer at SQLite instruction 1, 8, 15… of a save, until a save runs to its end."""
    path = tmp_path / "feedback.sqlite3"
    kept, kills = 0, 0
    for kill_at in range(1, 1000, 7):
        reported, status = run_and_kill(path, kill_at * 10, kill_at=kill_at)
        kept = assert_only_whole_samples(path, kept, reported)
        if status == 0:
            break
        assert status == -signal.SIGKILL and reported == 3
        kills += 1
    assert status == 0 and kills >= 10, f"the save ended after {kills} kill points"


V1_SCHEMA = """
CREATE TABLE samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL CHECK (length(user) BETWEEN 1 AND 40),
    true_label INTEGER NOT NULL CHECK (true_label BETWEEN 0 AND 9),
    predicted_label INTEGER CHECK (predicted_label BETWEEN 0 AND 9),
    model TEXT NOT NULL,
    created TEXT NOT NULL,
    model_input BLOB NOT NULL CHECK (length(model_input) = 3136),
    drawing_png BLOB NOT NULL
);
CREATE INDEX samples_by_user ON samples (user);
PRAGMA user_version = 1;
"""


def test_a_database_from_the_first_version_is_upgraded_and_keeps_its_drawings(tmp_path):
    path = tmp_path / "old.sqlite3"
    model_input, drawing = pattern(7)
    with sqlite3.connect(path) as connection:
        connection.executescript(V1_SCHEMA)
        connection.execute(
            "INSERT INTO samples (user, true_label, predicted_label, model, created, model_input, drawing_png)"
            " VALUES ('Old', 7, 1, 'k7', '2026-01-01T00:00:00.000+00:00', ?, ?)",
            (model_input.astype("<f4").tobytes(), feedback.drawing_to_png(drawing)),
        )
    store = FeedbackStore(path)
    [sample] = store.samples()
    assert_whole(store, sample)
    with sqlite3.connect(path) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [(database.SCHEMA_VERSION,)]
    assert {"samples", "classes", "class_entries", "schema_version"} <= tables
    save_pattern(store, 8, "New")
    assert [s.user for s in store.samples()] == ["Old", "New"]


def test_a_database_from_a_newer_digit_lab_is_refused_untouched(tmp_path):
    path = tmp_path / "newer.sqlite3"
    FeedbackStore(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    database.open_database.cache_clear()
    with pytest.raises(FeedbackError, match="newer Digit Lab"):
        FeedbackStore(path)


def test_a_postgresql_server_that_is_down_is_named_in_one_line():
    from tests.browser import free_port

    url = f"postgresql://digitlab:secret@127.0.0.1:{free_port()}/digitlab"
    with pytest.raises(FeedbackError, match="unavailable") as error:
        FeedbackStore(url)
    assert "\n" not in str(error.value) and "secret" not in str(error.value) and "127.0.0.1" in str(error.value)


def test_a_database_url_of_another_kind_is_refused(monkeypatch):
    monkeypatch.setenv(database.DATABASE_URL_ENV, "mysql://somewhere/db")
    with pytest.raises(FeedbackError, match="sqlite:// or postgresql://"):
        FeedbackStore()
