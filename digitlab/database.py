"""The database behind saved drawings and class walls: SQLite by default, PostgreSQL when told so.

One code path for both, in SQLAlchemy Core. `DIGITLAB_DATABASE_URL` (e.g.
`postgresql://digitlab:secret@db/digitlab`) selects a server that every replica shares; without
it the embedded default is the SQLite file `data/feedback.sqlite3` (or `$DIGITLAB_FEEDBACK_DB`).

Every write is one transaction. SQLite runs in WAL mode with `synchronous = FULL`, and each
transaction takes the write lock up front (`BEGIN IMMEDIATE`), so that writers queue (each
waits up to BUSY_TIMEOUT_MS) instead of deadlocking; PostgreSQL needs nothing of the kind.

The schema is versioned: the `schema_version` table holds the version this code wrote, and
`open_database` creates or upgrades the schema on start, in one transaction (serialised between
replicas by a PostgreSQL advisory lock), never dropping anything. A SQLite file from before the
version table (version 1: only `samples`) is upgraded the same way. This module never imports Streamlit.
"""

import functools
import os
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    exc,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url

DATABASE_URL_ENV = "DIGITLAB_DATABASE_URL"
FEEDBACK_DB_ENV = "DIGITLAB_FEEDBACK_DB"
DEFAULT_DB_PATH = Path(__file__).resolve().parent.parent / "data" / "feedback.sqlite3"
BUSY_TIMEOUT_MS = 15_000
CONNECT_TIMEOUT_SECONDS = 5
SCHEMA_VERSION = 2
MIGRATION_LOCK = 0x6469676974  # PostgreSQL advisory lock id held while a replica creates or upgrades the schema.
MAX_NAME_LENGTH = 40
MAX_MODEL_LENGTH = 100
INPUT_BYTES = 28 * 28 * 4

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

samples = Table(
    "samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String(MAX_NAME_LENGTH), nullable=False),
    Column("true_label", Integer, nullable=False),
    Column("predicted_label", Integer),
    Column("model", String(MAX_MODEL_LENGTH), nullable=False),
    Column("created", String(32), nullable=False),
    Column("model_input", LargeBinary, nullable=False),
    Column("drawing_png", LargeBinary, nullable=False),
    CheckConstraint(f'length("user") BETWEEN 1 AND {MAX_NAME_LENGTH}', name="samples_user_length"),
    CheckConstraint("true_label BETWEEN 0 AND 9", name="samples_true_label_digit"),
    CheckConstraint("predicted_label BETWEEN 0 AND 9", name="samples_predicted_label_digit"),
    CheckConstraint(f"length(model_input) = {INPUT_BYTES}", name="samples_model_input_size"),
    Index("samples_by_user", "user"),
    sqlite_autoincrement=True,
)

classes = Table(
    "classes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("teacher_token_sha256", String(64), nullable=False),
    Column("created", String(32), nullable=False),
    Column("last_activity", String(32), nullable=False),
    Column("ended", Boolean, nullable=False, default=False),
    Column("hide_names", Boolean, nullable=False, default=False),
    Column("model", String(MAX_MODEL_LENGTH)),
    Column("model_changed", Integer, nullable=False, default=0),
    sqlite_autoincrement=True,
)

class_entries = Table(
    "class_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("sample_id", Integer, ForeignKey("samples.id", ondelete="CASCADE"), nullable=False),
    Column("student", String(MAX_NAME_LENGTH), nullable=False),
    Column("true_label", Integer, nullable=False),
    Column("predicted_label", Integer),
    Column("confidence", Float),
    Column("created", String(32), nullable=False),
    Index("class_entries_by_class", "class_id", "id"),
    sqlite_autoincrement=True,
)


class StoreError(Exception):
    """The database cannot be used, or what was asked of it is invalid; the message is one readable line."""


def database_url():
    """$DIGITLAB_DATABASE_URL, else the SQLite file at $DIGITLAB_FEEDBACK_DB or data/feedback.sqlite3."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{Path(os.environ.get(FEEDBACK_DB_ENV) or DEFAULT_DB_PATH)}"


def url_of(location):
    """A database URL for a SQLite file path or a URL (`sqlite:///…`, `postgresql://…`)."""
    text_location = str(location)
    return text_location if "://" in text_location else f"sqlite:///{Path(text_location)}"


def shown(engine):
    """The database's URL as configured (no driver name) without its password, for messages."""
    return engine.url.set(drivername=engine.url.get_backend_name()).render_as_string(hide_password=True)


@functools.cache
def engine_for(url):
    """One engine (and its pool of connections) per database URL, for the life of the process."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed.set(drivername="postgresql+psycopg"),
            pool_pre_ping=True,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
        )
    raise StoreError(f"{DATABASE_URL_ENV} must name a sqlite:// or postgresql:// database, not {parsed.drivername}.")


def _sqlite_engine(url):
    """A SQLite engine whose connections wait for each other and whose transactions take the write lock at once."""
    if url.database:
        try:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"Cannot create the folder {Path(url.database).parent}: {error.strerror}.") from None
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # Transactions begin below, not in the driver.
        for pragma in (
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            "journal_mode = WAL",
            "synchronous = FULL",
            "foreign_keys = ON",
        ):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def begin_immediately(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def store_error(engine, error):
    """A one-line StoreError for a database error."""
    where = shown(engine)
    if engine.dialect.name == "sqlite":
        if "locked" in str(error) or "busy" in str(error):
            return StoreError(f"The database {where} stayed busy for over {BUSY_TIMEOUT_MS // 1000} s; try again.")
        if isinstance(error, exc.OperationalError):
            return StoreError(f"The database {where} cannot be used: {error.orig}.")
        return StoreError(f"{engine.url.database} is not a readable feedback database: {error.orig}.")
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        first_line = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
        return StoreError(f"The database {where} is unavailable: {first_line}.")
    return StoreError(f"The database {where} refused the request: {type(error.orig).__name__}.")


@contextmanager
def transaction(engine):
    """A connection in one transaction, committed at the end; database errors become one-line StoreErrors."""
    try:
        with engine.begin() as connection:
            yield connection
    except exc.DBAPIError as error:
        raise store_error(engine, error) from None


@functools.cache
def open_database(url):
    """The engine for `url`, its schema created or upgraded to SCHEMA_VERSION; StoreError when it cannot be used."""
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": MIGRATION_LOCK})
            upgrade(connection)
    except exc.DBAPIError as error:
        raise store_error(engine, error) from None
    return engine


def stored_version(connection):
    """The schema version the database holds: 0 when empty, 1 for a SQLite file from before the version table."""
    tables = set(inspect(connection).get_table_names())
    if schema_version.name in tables:
        return connection.execute(select(schema_version.c.version)).scalar_one()
    return 1 if samples.name in tables else 0


def upgrade(connection):
    """Create what the schema lacks and record its version; refuse a database from a newer Digit Lab."""
    version = stored_version(connection)
    if version > SCHEMA_VERSION:
        raise StoreError(f"The database was written by a newer Digit Lab (schema {version}); upgrade Digit Lab.")
    if version == SCHEMA_VERSION:
        return
    metadata.create_all(connection, checkfirst=True)
    connection.execute(schema_version.delete())
    connection.execute(schema_version.insert().values(version=SCHEMA_VERSION))
