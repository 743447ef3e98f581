"""Drawings people labelled themselves ("Right?" ✓ / ✗), kept in a local SQLite database.

Every save is one SQLite transaction in WAL mode: a process killed in the middle of a save
leaves either the whole sample or nothing, and many sessions and processes can save at once
(each waits up to BUSY_TIMEOUT_MS for the others). Each thread gets its own connection, kept
open (closing the last connection to a WAL database checkpoints it, which would cost every
save ~10 ms), so one store can be shared by threads. This module never imports Streamlit.
"""

import io
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from digitlab.preprocess import FRAME, as_picture

FEEDBACK_DB_ENV = "DIGITLAB_FEEDBACK_DB"
DEFAULT_DB_PATH = Path(__file__).resolve().parent.parent / "data" / "feedback.sqlite3"
BUSY_TIMEOUT_MS = 15_000
MAX_USER_LENGTH = 40
MAX_MODEL_LENGTH = 100
MAX_DRAWING_SIDE = 2000
DIGITS = range(10)
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL CHECK (length(user) BETWEEN 1 AND 40),
    true_label INTEGER NOT NULL CHECK (true_label BETWEEN 0 AND 9),
    predicted_label INTEGER CHECK (predicted_label BETWEEN 0 AND 9),
    model TEXT NOT NULL,
    created TEXT NOT NULL,
    model_input BLOB NOT NULL CHECK (length(model_input) = 3136),
    drawing_png BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_user ON samples (user);
"""
SAMPLE_COLUMNS = "id, user, true_label, predicted_label, model, created, model_input"
INPUT_DTYPE = np.dtype("<f4")


class FeedbackError(Exception):
    """The feedback database cannot be used, or a sample is invalid; the message is one readable line."""


@dataclass(frozen=True, eq=False)
class Sample:
    """One labelled drawing: who drew it, the true and predicted digits, and the 28×28 input the model read.

    `model_input` is float32 in [0, 1], white ink on black; the drawing itself is read on demand (`drawing_png`).
    """

    id: int
    user: str
    true_label: int
    predicted_label: int | None
    model: str
    created: str
    model_input: np.ndarray = field(repr=False)


def default_db_path() -> Path:
    """$DIGITLAB_FEEDBACK_DB, else the project's data/feedback.sqlite3."""
    return Path(os.environ.get(FEEDBACK_DB_ENV) or DEFAULT_DB_PATH)


def clean_user_name(user) -> str:
    """The name with surrounding and repeated whitespace removed; FeedbackError when empty or too long."""
    name = " ".join(str(user or "").split())
    if not name:
        raise FeedbackError("Type your name first (it labels your drawings).")
    if len(name) > MAX_USER_LENGTH:
        raise FeedbackError(f"A name can be at most {MAX_USER_LENGTH} characters long.")
    return name


def checked_label(value, what, allow_none=False):
    """`value` as an int digit 0-9; FeedbackError otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) not in DIGITS:
        raise FeedbackError(f"The {what} must be a digit from 0 to 9, not {value!r}.")
    return int(value)


def checked_model_input(model_input):
    """`model_input` as a (28, 28) float32 array in [0, 1]; FeedbackError otherwise."""
    array = np.asarray(model_input)
    if array.shape != (FRAME, FRAME) or array.dtype.kind not in "fiu":
        raise FeedbackError(f"The model input must be a {FRAME}×{FRAME} array of numbers, got shape {array.shape}.")
    array = array.astype(np.float32)
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise FeedbackError("The model input's values must lie between 0 and 1.")
    return array


def checked_model_name(model):
    name = str(model or "").strip()
    if not name or len(name) > MAX_MODEL_LENGTH:
        raise FeedbackError(f"The model name must be 1 to {MAX_MODEL_LENGTH} characters long.")
    return name


def drawing_to_png(drawing) -> bytes:
    """A drawing (PIL image, or an (H, W), (H, W, 3) or (H, W, 4) array) as PNG bytes; FeedbackError otherwise."""
    try:
        picture = as_picture(drawing)
    except (ValueError, TypeError) as error:
        raise FeedbackError(f"The drawing is not an image: {error}.") from None
    if max(picture.size) > MAX_DRAWING_SIDE:
        raise FeedbackError(f"The drawing is larger than {MAX_DRAWING_SIDE} pixels on a side.")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class FeedbackStore:
    """The feedback database at `path` (default: `default_db_path()`); created with its folder when missing."""

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else default_db_path()
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise FeedbackError(f"Cannot create the folder {self.path.parent}: {error.strerror}.") from None
        self._create_schema()

    def _open(self) -> sqlite3.Connection:
        """A connection in autocommit mode (transactions are explicit) that waits for other writers."""
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection; sqlite errors become FeedbackError (and the connection is reopened next time)."""
        try:
            if getattr(self._local, "connection", None) is None:
                self._local.connection = self._open()
            yield self._local.connection
        except sqlite3.Error as error:
            self._close_thread_connection()
            raise self._error(error) from None

    def _close_thread_connection(self):
        connection, self._local.connection = getattr(self._local, "connection", None), None
        if connection is not None:
            connection.close()

    def _error(self, error) -> FeedbackError:
        """A one-line FeedbackError for an sqlite3 error."""
        if isinstance(error, sqlite3.OperationalError):
            if "locked" in str(error) or "busy" in str(error):
                return FeedbackError(
                    f"The feedback database {self.path} stayed busy for over {BUSY_TIMEOUT_MS // 1000} s; try again."
                )
            return FeedbackError(f"The feedback database {self.path} cannot be used: {error}.")
        return FeedbackError(f"{self.path} is not a readable feedback database: {error}.")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (BEGIN IMMEDIATE) so that writers queue instead of deadlocking."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _create_schema(self):
        with self._connection() as connection:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
        with self._transaction() as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise FeedbackError(f"{self.path} was written by a newer Digit Lab (schema {version}).")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def save(self, *, user, drawing, model_input, true_label, predicted_label, model) -> int:
        """Store one labelled drawing in one transaction; returns its id."""
        row = (
            clean_user_name(user),
            checked_label(true_label, "true label"),
            checked_label(predicted_label, "predicted label", allow_none=True),
            checked_model_name(model),
            now_iso(),
            checked_model_input(model_input).astype(INPUT_DTYPE).tobytes(),
            drawing_to_png(drawing),
        )
        with self._transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO samples (user, true_label, predicted_label, model, created, model_input, drawing_png)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return cursor.lastrowid

    def samples(self, user=None) -> list[Sample]:
        """Every sample (of `user`, when given), oldest first, without the drawings."""
        query, parameters = _where_user(f"SELECT {SAMPLE_COLUMNS} FROM samples", user)
        with self._connection() as connection:
            rows = connection.execute(query + " ORDER BY id", parameters).fetchall()
        return [_sample(row) for row in rows]

    def drawing_png(self, sample_id) -> bytes:
        """The drawing of a sample as PNG bytes; FeedbackError when there is no such sample."""
        with self._connection() as connection:
            row = connection.execute("SELECT drawing_png FROM samples WHERE id = ?", (int(sample_id),)).fetchone()
        if row is None:
            raise FeedbackError(f"There is no sample #{sample_id} (it may have been deleted).")
        return bytes(row[0])

    def drawing(self, sample_id) -> Image.Image:
        """The drawing of a sample as a PIL image."""
        try:
            picture = Image.open(io.BytesIO(self.drawing_png(sample_id)))
            picture.load()
        except (OSError, UnidentifiedImageError) as error:
            raise FeedbackError(f"The drawing of sample #{sample_id} is damaged: {error}.") from None
        return picture

    def delete(self, sample_id) -> None:
        """Remove a sample; FeedbackError when there is no such sample."""
        with self._transaction() as connection:
            deleted = connection.execute("DELETE FROM samples WHERE id = ?", (int(sample_id),)).rowcount
        if not deleted:
            raise FeedbackError(f"There is no sample #{sample_id} (it may have been deleted already).")

    def users(self) -> list[str]:
        """The names of everyone who saved a sample, sorted."""
        with self._connection() as connection:
            rows = connection.execute("SELECT DISTINCT user FROM samples ORDER BY user").fetchall()
        return [name for (name,) in rows]

    def counts(self, user=None) -> dict[int, int]:
        """How many samples there are of each true digit, 0 to 9 (zeros included)."""
        query, parameters = _where_user("SELECT true_label, COUNT(*) FROM samples", user)
        with self._connection() as connection:
            rows = connection.execute(query + " GROUP BY true_label", parameters).fetchall()
        return {digit: 0 for digit in DIGITS} | {int(label): int(count) for label, count in rows}

    def arrays(self, user=None) -> tuple[np.ndarray, np.ndarray]:
        """Images and labels in MNIST's layout: x uint8 (N, 28, 28), white ink (255) on black (0); y uint8 (N,)."""
        samples = self.samples(user)
        x = np.zeros((len(samples), FRAME, FRAME), dtype=np.uint8)
        for index, sample in enumerate(samples):
            x[index] = np.rint(sample.model_input * 255.0).astype(np.uint8)
        y = np.array([sample.true_label for sample in samples], dtype=np.uint8)
        return x, y

    def export_npz(self, destination, user=None) -> None:
        """Write the samples as an npz with MNIST's keys and layout, `x_train` and `y_train`, to a path or file."""
        x, y = self.arrays(user)
        if isinstance(destination, str | os.PathLike):
            try:
                with open(destination, "wb") as file:
                    np.savez_compressed(file, x_train=x, y_train=y)
            except OSError as error:
                raise FeedbackError(f"Cannot write {destination}: {error.strerror}.") from None
        else:
            np.savez_compressed(destination, x_train=x, y_train=y)


def _where_user(query, user):
    if user is None:
        return query, ()
    return query + " WHERE user = ?", (clean_user_name(user),)


def _sample(row) -> Sample:
    sample_id, user, true_label, predicted_label, model, created, model_input = row
    pixels = np.frombuffer(model_input, dtype=INPUT_DTYPE).astype(np.float32).reshape(FRAME, FRAME)
    return Sample(sample_id, user, true_label, predicted_label, model, created, pixels)
