"""The key that signs button payloads: from the environment, or created once on disk so
buttons keep working across restarts."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from bot.config import secret

KEY_FILE = "button-signing.key"


def load_signing_key(env_name: str, data_dir: Path) -> bytes:
    configured = secret(env_name)
    if configured is not None:
        return configured.encode("utf-8")
    path = data_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex())
    return key
