"""Drawings people labelled themselves ("Right?" ✓ / ✗), kept in the app's database (digitlab.database).

Every save is one transaction: a process killed in the middle of a save leaves either the whole
sample or nothing, and many sessions, processes and replicas can save at once. The store is
shared by threads (SQLAlchemy keeps a pool of connections). This module never imports Streamlit.
"""

import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from sqlalchemy import delete, func, insert, select

from digitlab.database import (
    DEFAULT_DB_PATH,
    FEEDBACK_DB_ENV,
    MAX_MODEL_LENGTH,
    MAX_NAME_LENGTH,
    StoreError,
    database_url,
    open_database,
    samples,
    transaction,
    url_of,
)
from digitlab.preprocess import FRAME, as_picture

MAX_USER_LENGTH = MAX_NAME_LENGTH
MAX_DRAWING_SIDE = 2000
DIGITS = range(10)
INPUT_DTYPE = np.dtype("<f4")
SAMPLE_COLUMNS = [
    samples.c.id,
    samples.c.user,
    samples.c.true_label,
    samples.c.predicted_label,
    samples.c.model,
    samples.c.created,
    samples.c.model_input,
]
FeedbackError = StoreError  # What the pages catch: the store cannot be used, or a sample is invalid.
__all__ = ["DEFAULT_DB_PATH", "FEEDBACK_DB_ENV", "FeedbackError", "FeedbackStore", "Sample", "default_db_path"]


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
    """The embedded default's SQLite file: $DIGITLAB_FEEDBACK_DB, else the project's data/feedback.sqlite3."""
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
    """The saved drawings in the database at `location` (a SQLite path or a URL; default: `database_url()`)."""

    def __init__(self, location=None):
        self.url = url_of(location) if location is not None else database_url()
        self.engine = open_database(self.url)
        self.path = Path(self.engine.url.database) if self.engine.dialect.name == "sqlite" else None

    def _connection(self):
        return transaction(self.engine)

    def save(self, *, user, drawing, model_input, true_label, predicted_label, model) -> int:
        """Store one labelled drawing in one transaction; returns its id."""
        row = sample_row(user, drawing, model_input, true_label, predicted_label, model)
        with self._connection() as connection:
            return insert_sample(connection, row)

    def samples(self, user=None) -> list[Sample]:
        """Every sample (of `user`, when given), oldest first, without the drawings."""
        with self._connection() as connection:
            rows = connection.execute(_where_user(select(*SAMPLE_COLUMNS), user).order_by(samples.c.id)).all()
        return [_sample(row) for row in rows]

    def drawing_png(self, sample_id) -> bytes:
        """The drawing of a sample as PNG bytes; FeedbackError when there is no such sample."""
        with self._connection() as connection:
            png = connection.execute(select(samples.c.drawing_png).where(samples.c.id == int(sample_id))).scalar()
        if png is None:
            raise FeedbackError(f"There is no sample #{sample_id} (it may have been deleted).")
        return bytes(png)

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
        with self._connection() as connection:
            deleted = connection.execute(delete(samples).where(samples.c.id == int(sample_id))).rowcount
        if not deleted:
            raise FeedbackError(f"There is no sample #{sample_id} (it may have been deleted already).")

    def users(self) -> list[str]:
        """The names of everyone who saved a sample, sorted."""
        with self._connection() as connection:
            return list(connection.execute(select(samples.c.user).distinct().order_by(samples.c.user)).scalars())

    def counts(self, user=None) -> dict[int, int]:
        """How many samples there are of each true digit, 0 to 9 (zeros included)."""
        query = _where_user(select(samples.c.true_label, func.count()), user).group_by(samples.c.true_label)
        with self._connection() as connection:
            rows = connection.execute(query).all()
        return {digit: 0 for digit in DIGITS} | {int(label): int(count) for label, count in rows}

    def arrays(self, user=None) -> tuple[np.ndarray, np.ndarray]:
        """Images and labels in MNIST's layout: x uint8 (N, 28, 28), white ink (255) on black (0); y uint8 (N,)."""
        found = self.samples(user)
        x = np.zeros((len(found), FRAME, FRAME), dtype=np.uint8)
        for index, sample in enumerate(found):
            x[index] = np.rint(sample.model_input * 255.0).astype(np.uint8)
        y = np.array([sample.true_label for sample in found], dtype=np.uint8)
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


def sample_row(user, drawing, model_input, true_label, predicted_label, model):
    """One labelled drawing, checked, as a row of the samples table; FeedbackError when a field is invalid."""
    return {
        "user": clean_user_name(user),
        "true_label": checked_label(true_label, "true label"),
        "predicted_label": checked_label(predicted_label, "predicted label", allow_none=True),
        "model": checked_model_name(model),
        "created": now_iso(),
        "model_input": checked_model_input(model_input).astype(INPUT_DTYPE).tobytes(),
        "drawing_png": drawing_to_png(drawing),
    }


def insert_sample(connection, row):
    """Insert a checked sample row within the caller's transaction; returns its id."""
    return connection.execute(insert(samples).values(row).returning(samples.c.id)).scalar_one()


def _where_user(query, user):
    return query if user is None else query.where(samples.c.user == clean_user_name(user))


def _sample(row) -> Sample:
    sample_id, user, true_label, predicted_label, model, created, model_input = row
    pixels = np.frombuffer(model_input, dtype=INPUT_DTYPE).astype(np.float32).reshape(FRAME, FRAME)
    return Sample(sample_id, user, true_label, predicted_label, model, created, pixels)
