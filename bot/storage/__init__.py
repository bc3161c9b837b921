"""SQLite storage through aiosqlite: connection set-up, migrations and the group-commit writer."""
