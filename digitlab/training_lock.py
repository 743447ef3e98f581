"""One training at a time across every replica of the app: a PostgreSQL advisory lock held by the training process.

On one server (the embedded SQLite default) the Train page's in-process slot (jobs.JobSlot) is
enough. With a shared PostgreSQL database the process that actually trains takes a session-level
advisory lock before it starts and holds it to its end: PostgreSQL frees it when that process's
connection closes, however the process ends, so a replica that dies mid-training frees it too,
and a training process orphaned by a dead replica keeps it until it stops, so no second training
can run beside it. This module never imports Streamlit.
"""

from contextlib import contextmanager

from sqlalchemy import exc, text

from digitlab.database import database_url, engine_for, store_error, transaction

TRAINING_LOCK = 0x747261696E  # The advisory lock's id ("train").
BUSY_MESSAGE = "A training is already running on another replica of this app; one training runs at a time."


class TrainingBusy(RuntimeError):
    """Another process holds the training lock, or the database that holds it cannot be reached."""


def _shared_engine():
    """The engine of the shared PostgreSQL database, or None for the embedded SQLite default."""
    engine = engine_for(database_url())
    return engine if engine.dialect.name == "postgresql" else None


@contextmanager
def training_lock():
    """Hold the cluster-wide training lock for the block; TrainingBusy when another process holds it."""
    engine = _shared_engine()
    if engine is None:
        yield
        return
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": TRAINING_LOCK}).scalar()
    except exc.DBAPIError as error:
        raise TrainingBusy(f"Trainings cannot be coordinated: {store_error(engine, error)}") from None
    with connection:
        if not taken:
            raise TrainingBusy(BUSY_MESSAGE)
        try:
            yield  # Should this process die, PostgreSQL frees the lock with its connection.
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": TRAINING_LOCK})


def running_elsewhere():
    """True when some process holds the training lock (always False on the embedded default)."""
    engine = _shared_engine()
    if engine is None:
        return False
    # pg_locks shows a 64-bit advisory lock id as two 32-bit halves.
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :high AND objid = :low"
        " AND objsubid = 1 AND granted"
    )
    with transaction(engine) as connection:
        return bool(
            connection.execute(query, {"high": TRAINING_LOCK >> 32, "low": TRAINING_LOCK & 0xFFFFFFFF}).scalar()
        )
