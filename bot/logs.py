"""Logging helpers: user ids appear in logs only as short salted hashes."""

from __future__ import annotations

import hashlib
import logging
import sys

_SALT = b"attune-log"


def user_tag(user_key: str) -> str:
    """A stable short tag for a user, so log lines can be correlated without the id."""
    return hashlib.blake2s(user_key.encode(), key=_SALT, digest_size=5).hexdigest()


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "openai", "aiosqlite", "apscheduler", "discord"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
