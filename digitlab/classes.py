"""Class sessions: a teacher starts a class, students join it by code, and the readings they confirm fill its wall.

A class lives in the app's database (digitlab.database) beside the saved drawings, so it works
on one server with SQLite and across replicas with PostgreSQL. The teacher controls it with a
secret token (only its SHA-256 is stored); students need only the short join code. A reading a
student confirms is saved once, as a sample (their My handwriting) and as an entry of the class
(its wall), in one transaction. Clearing the wall deletes the class's entries, never the samples.
This module never imports Streamlit.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, insert, or_, select, update

from digitlab.database import (
    MAX_MODEL_LENGTH,
    StoreError,
    class_entries,
    classes,
    database_url,
    open_database,
    samples,
    transaction,
    url_of,
)
from digitlab.feedback import INPUT_DTYPE, clean_user_name, insert_sample, now_iso, sample_row

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # No 0/O or 1/I: a code read off a projector is typed right.
CODE_LENGTH = 6
EXPIRES_AFTER = timedelta(hours=12)
MAX_STUDENT_NAME = 20
LATEST_TILES = 30
MISTAKES_LISTED = 12
DIGITS = range(10)


class ClassError(StoreError):
    """A class cannot be joined or controlled (wrong code, ended, expired, wrong token); one readable line."""


@dataclass(frozen=True)
class ClassInfo:
    """One class as its wall and its students see it."""

    id: int
    code: str
    created: str
    ended: bool
    hide_names: bool
    model: str | None
    model_changed: int


@dataclass(frozen=True)
class Entry:
    """One confirmed reading on a class's wall; `model_input` is the 28×28 input the model read."""

    id: int
    sample_id: int
    student: str
    true_label: int
    predicted_label: int | None
    confidence: float | None
    model: str
    model_input: np.ndarray

    @property
    def right(self):
        return self.predicted_label == self.true_label


@dataclass(frozen=True)
class Summary:
    """What a wall shows: the score, per-digit accuracy, the confusion matrix, the latest tiles and the surest mistakes.

    `latest` holds the newest entries, newest first; `mistakes` the wrong readings the model was
    surest of, surest first; `wrong` counts all of them.
    """

    right: int
    total: int
    per_digit: dict
    confusion: np.ndarray
    latest: list
    mistakes: list
    wrong: int
    students: int


def token_digest(token):
    return hashlib.sha256(str(token).encode()).hexdigest()


def clean_code(code):
    """A join code as typed (any case, spaces or dashes) in its stored form."""
    return "".join(str(code or "").split()).replace("-", "").upper()


def student_name(name):
    """A student's name for the wall: cleaned like a saver's name, and at most MAX_STUDENT_NAME characters."""
    cleaned = clean_user_name(name)
    if len(cleaned) > MAX_STUDENT_NAME:
        raise ClassError(f"A name on the class wall can be at most {MAX_STUDENT_NAME} characters long.")
    return cleaned


def _expired(info_row, now):
    return datetime.fromisoformat(info_row.last_activity) < now - EXPIRES_AFTER


class ClassStore:
    """Classes in the database at `location` (a SQLite path or a URL; default: `database_url()`)."""

    def __init__(self, location=None):
        self.url = url_of(location) if location is not None else database_url()
        self.engine = open_database(self.url)

    def _transaction(self):
        return transaction(self.engine)

    def start_class(self):
        """A new class: returns `(ClassInfo, teacher_token)`; the token is shown once and never stored."""
        token = secrets.token_urlsafe(24)
        now = now_iso()
        with self._transaction() as connection:
            for _ in range(20):
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                taken = connection.execute(select(classes.c.id).where(classes.c.code == code)).first()
                if taken is None:
                    break
            row = {"code": code, "teacher_token_sha256": token_digest(token), "created": now, "last_activity": now}
            connection.execute(insert(classes).values(**row, ended=False, hide_names=False, model_changed=0))
        return self.joinable(code), token

    def _row(self, connection, condition):
        return connection.execute(select(classes).where(condition)).first()

    def joinable(self, code):
        """The open class with this code; ClassError saying why when there is none."""
        shown = clean_code(code)
        if not shown:
            raise ClassError("Type the class code your teacher shows.")
        with self._transaction() as connection:
            row = self._row(connection, classes.c.code == shown)
        return _open_class(row, f"No class has the code {shown}: check it with your teacher.")

    def teaching(self, token):
        """The class this teacher token controls (ended or not); ClassError when the token is unknown or expired."""
        with self._transaction() as connection:
            row = self._row(connection, classes.c.teacher_token_sha256 == token_digest(token))
        if row is None:
            raise ClassError("This teacher link does not belong to any class: start a new class.")
        if _expired(row, datetime.now(UTC)):
            raise ClassError(f"Class {row.code} expired after 12 hours without a drawing: start a new class.")
        return _info(row)

    def save_reading(self, code, *, student, drawing, model_input, true_label, predicted_label, confidence, model):
        """Save a confirmed reading as the student's sample and on the class's wall, in one transaction."""
        name = student_name(student)
        row = sample_row(name, drawing, model_input, true_label, predicted_label, model)
        with self._transaction() as connection:
            info = _open_class(
                self._row(connection, classes.c.code == clean_code(code)), "This class no longer exists."
            )
            sample_id = insert_sample(connection, row)
            entry = {
                "class_id": info.id,
                "sample_id": sample_id,
                "student": name,
                "true_label": row["true_label"],
                "predicted_label": row["predicted_label"],
                "confidence": None if confidence is None else float(confidence),
                "created": row["created"],
            }
            connection.execute(insert(class_entries).values(entry))
            connection.execute(update(classes).where(classes.c.id == info.id).values(last_activity=row["created"]))
        return sample_id

    def _control(self, token, **values):
        info = self.teaching(token)
        with self._transaction() as connection:
            connection.execute(update(classes).where(classes.c.id == info.id).values(**values))
        return self.teaching(token)

    def end(self, token):
        """End the class: nobody can join or add to it; its wall stays readable for the teacher."""
        return self._control(token, ended=True)

    def hide_names(self, token, hidden):
        """Show or hide the students' names on the wall (for projecting)."""
        return self._control(token, hide_names=bool(hidden))

    def switch_model(self, token, model):
        """Ask every student's page to read with `model` (its file name) from their next stroke on."""
        name = str(model)[:MAX_MODEL_LENGTH]
        info = self.teaching(token)
        return self._control(token, model=name, model_changed=info.model_changed + 1)

    def clear(self, token):
        """Empty the wall; the students' own saved drawings stay in their My handwriting."""
        info = self.teaching(token)
        with self._transaction() as connection:
            connection.execute(delete(class_entries).where(class_entries.c.class_id == info.id))

    def revision(self, class_id):
        """A value that changes whenever the class's entries change, to key cached summaries on."""
        query = select(func.count(), func.max(class_entries.c.id)).where(class_entries.c.class_id == class_id)
        with self._transaction() as connection:
            return tuple(connection.execute(query).one())

    def _entry_query(self, class_id):
        """Entries of the class with the model inputs their readings were made on (a query to narrow down)."""
        return (
            select(
                class_entries.c.id,
                class_entries.c.sample_id,
                class_entries.c.student,
                class_entries.c.true_label,
                class_entries.c.predicted_label,
                class_entries.c.confidence,
                samples.c.model,
                samples.c.model_input,
            )
            .join(samples, samples.c.id == class_entries.c.sample_id)
            .where(class_entries.c.class_id == class_id)
        )

    def entries(self, class_id):
        """Every entry on the class's wall, oldest first (to score models on the class's drawings)."""
        with self._transaction() as connection:
            rows = connection.execute(self._entry_query(class_id).order_by(class_entries.c.id)).all()
        return [_entry(row) for row in rows]

    def summary(self, class_id, latest=LATEST_TILES, mistakes=MISTAKES_LISTED):
        """The wall's figures: counts aggregated by the database, and only the drawings the wall shows.

        A wall refreshes every two seconds while a class draws: it reads the confusion matrix, the
        number of students, the `latest` drawings and the `mistakes` the model was surest of, never
        every drawing of the class.
        """
        by_reading = (
            select(class_entries.c.true_label, class_entries.c.predicted_label, func.count())
            .where(class_entries.c.class_id == class_id)
            .group_by(class_entries.c.true_label, class_entries.c.predicted_label)
        )
        students = select(func.count(func.distinct(class_entries.c.student))).where(
            class_entries.c.class_id == class_id
        )
        wrong = or_(
            class_entries.c.predicted_label.is_(None), class_entries.c.predicted_label != class_entries.c.true_label
        )
        surest_first = class_entries.c.confidence.desc().nulls_last()
        with self._transaction() as connection:
            readings = connection.execute(by_reading).all()
            student_count = connection.execute(students).scalar_one()
            newest = connection.execute(self._entry_query(class_id).order_by(class_entries.c.id.desc()).limit(latest))
            newest = [_entry(row) for row in newest]
            missed = connection.execute(self._entry_query(class_id).where(wrong).order_by(surest_first).limit(mistakes))
            missed = [_entry(row) for row in missed]
        return summarise(readings, student_count, newest, missed)

    def drawing_png(self, class_id, sample_id):
        """The drawing of one of this class's entries; ClassError when the sample is not on this class's wall."""
        query = (
            select(samples.c.drawing_png)
            .join(class_entries, class_entries.c.sample_id == samples.c.id)
            .where(class_entries.c.class_id == class_id, samples.c.id == int(sample_id))
        )
        with self._transaction() as connection:
            png = connection.execute(query).scalar()
        if png is None:
            raise ClassError(f"Drawing #{sample_id} is not on this class's wall.")
        return bytes(png)


def _info(row):
    return ClassInfo(row.id, row.code, row.created, row.ended, row.hide_names, row.model, row.model_changed)


def _open_class(row, missing):
    """The row as a ClassInfo when the class can be joined; ClassError naming why not."""
    if row is None:
        raise ClassError(missing)
    if row.ended:
        raise ClassError(f"Class {row.code} has ended.")
    if _expired(row, datetime.now(UTC)):
        raise ClassError(f"Class {row.code} expired after 12 hours without a drawing.")
    return _info(row)


def _entry(row):
    pixels = np.frombuffer(row.model_input, dtype=INPUT_DTYPE).astype(np.float32).reshape(28, 28)
    return Entry(
        row.id, row.sample_id, row.student, row.true_label, row.predicted_label, row.confidence, row.model, pixels
    )


def summarise(readings, students, latest, mistakes):
    """A Summary from `(true, predicted, count)` rows, the number of students and the entries to show."""
    confusion = np.zeros((10, 10), dtype=int)
    unread = 0
    for true_label, predicted_label, count in readings:
        if predicted_label is None:
            unread += count
        else:
            confusion[true_label, predicted_label] += count
    drawn = confusion.sum(axis=1)
    per_digit = {digit: (float(confusion[digit, digit] / drawn[digit]) if drawn[digit] else None) for digit in DIGITS}
    right = int(np.trace(confusion))
    total = int(confusion.sum()) + unread
    return Summary(right, total, per_digit, confusion, latest, mistakes, total - right, students)
