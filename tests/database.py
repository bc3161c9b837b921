"""A migrated database for tests."""

from __future__ import annotations

from pathlib import Path

from bot.storage.db import Database
from bot.storage.migrations import apply_migrations


async def open_database(path: Path) -> Database:
    db = await Database.open(path)
    await apply_migrations(db)
    return db
