"""Apply `migrations/NNNN_name.sql` in order, once each, and refuse edited ones.

Each applied file is recorded in `schema_migrations` with the SHA-256 of its text. A file
whose text no longer matches its recorded checksum stops start-up: silently running a
changed schema against a database built by the old one is how data gets corrupted.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.storage.db import Database

import sqlite3

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """The migrations cannot be applied; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


def discover(directory: Path = DEFAULT_DIR) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files must be named NNNN_name.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: two migrations share a version number")
    return migrations


async def apply_migrations(db: Database, directory: Path = DEFAULT_DIR) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; returns those applied."""
    migrations = discover(directory)
    return await db.run_write(lambda conn: _apply_pending(conn, migrations))


def _apply_pending(conn: sqlite3.Connection, migrations: list[Migration]) -> list[Migration]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
        " applied_at REAL NOT NULL)"
    )
    rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
    applied = {row[0]: (row[1], row[2]) for row in rows}
    pending: list[Migration] = []
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is None:
            pending.append(migration)
        elif recorded[1] != migration.checksum:
            raise MigrationError(
                f"{migration.filename} was edited after it was applied (checksum "
                f"{migration.checksum[:12]} != recorded {recorded[1][:12]}); add a new "
                "migration instead of changing an applied one"
            )
    for migration in pending:
        _apply(conn, migration)
    return pending


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    # executescript commits any open transaction first, so the whole file and its record
    # are wrapped in one explicit transaction inside the script itself.
    record = (
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
        f"VALUES ({migration.version}, '{migration.name}', '{migration.checksum}', {time.time()});"
    )
    try:
        conn.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}\n;{record}\nCOMMIT;")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise MigrationError(f"{migration.filename} failed: {exc}") from exc
