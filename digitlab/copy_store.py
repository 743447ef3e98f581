"""`python -m digitlab copy-store --to URL [--from PATH_OR_URL]`: copy saved drawings and classes to another database.

The way from the embedded default to a shared PostgreSQL: every sample, class and wall entry of
the source is added to the target in one transaction (all or nothing), with new ids in the target,
so that a target holding drawings already keeps them. The source is only read.
"""

import sys

from sqlalchemy import insert, select

from digitlab.database import (
    DEFAULT_DB_PATH,
    StoreError,
    class_entries,
    classes,
    open_database,
    samples,
    transaction,
    url_of,
)


def add_arguments(parser):
    parser.add_argument(
        "--from",
        dest="source",
        default=str(DEFAULT_DB_PATH),
        help="a SQLite file or a database URL (default: %(default)s)",
    )
    parser.add_argument("--to", dest="target", required=True, help="the database URL to copy into, e.g. postgresql://…")


def copy_rows(source, target, table, new_ids=None):
    """Insert `table`'s rows from `source` into `target`; `new_ids` maps a column to the ids its values became."""
    added = {}
    for row in source.execute(select(table).order_by(table.c.id)).mappings():
        values = {key: value for key, value in row.items() if key != "id"}
        for column, mapping in (new_ids or {}).items():
            values[column] = mapping[values[column]]
        added[row["id"]] = target.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
    return added


def copy_store(source_location, target_location):
    """Copy every sample, class and class entry; returns how many of each were copied."""
    source_engine, target_engine = open_database(url_of(source_location)), open_database(url_of(target_location))
    if source_engine.url == target_engine.url:
        raise StoreError("The source and the target are the same database.")
    with transaction(source_engine) as source, transaction(target_engine) as target:
        sample_ids = copy_rows(source, target, samples)
        class_ids = copy_rows(source, target, classes)
        entries = copy_rows(source, target, class_entries, {"sample_id": sample_ids, "class_id": class_ids})
    return len(sample_ids), len(class_ids), len(entries)


def run(args):
    try:
        counts = copy_store(args.source, args.target)
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("Copied {} drawings, {} classes and {} wall entries.".format(*counts))
    return 0
