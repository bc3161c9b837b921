"""Where the router's provider state lives between restarts, and the task that saves it.

`StateStore` is the seam: `FileStateStore` (a JSON file, written atomically) for a single
process, `RedisStateStore` when `[cache] backend = "redis"` so every process starts from the
state the others saved. Sharing is snapshot-based: the last process to save wins, and each
process reads the shared state at start-up (`StatePersister.restore`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from bot.llm.router import ProviderRouter

try:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - redis is a core dependency
    raise ImportError("the Redis state store needs the 'redis' package") from exc

log = logging.getLogger(__name__)


class StateStore(Protocol):
    async def load(self) -> dict[str, Any] | None: ...

    async def save(self, state: dict[str, Any]) -> None: ...


class FileStateStore:
    def __init__(self, path: Path) -> None:
        self._path = path

    async def load(self) -> dict[str, Any] | None:
        try:
            text = await asyncio.to_thread(self._path.read_text, encoding="utf-8")
        except FileNotFoundError:
            return None
        return _decode(text)

    async def save(self, state: dict[str, Any]) -> None:
        await asyncio.to_thread(self._write, json.dumps(state))

    def _write(self, text: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(self._path.suffix + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self._path)


class RedisStateStore:
    def __init__(self, redis: Redis, key: str = "attune:llm:router-state") -> None:
        self._redis = redis
        self._key = key

    @classmethod
    def from_url(cls, url: str, key: str = "attune:llm:router-state") -> RedisStateStore:
        return cls(Redis.from_url(url), key)

    async def load(self) -> dict[str, Any] | None:
        raw = await self._redis.get(self._key)
        if raw is None:
            return None
        return _decode(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw))

    async def save(self, state: dict[str, Any]) -> None:
        await self._redis.set(self._key, json.dumps(state))

    async def aclose(self) -> None:
        await self._redis.aclose()


def _decode(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        log.warning("saved provider state is not valid JSON; starting fresh")
        return None
    return value if isinstance(value, dict) else None


def build_state_store(backend: str, redis_url: str, file_path: Path) -> StateStore:
    """Redis when `[cache] backend = "redis"`, else a JSON file (e.g. in `bot.data_dir`)."""
    if backend == "redis":
        return RedisStateStore.from_url(redis_url)
    return FileStateStore(file_path)


class StatePersister:
    """Restores the router's state at start, saves it every `interval_s`, and once at stop."""

    def __init__(self, router: ProviderRouter, store: StateStore, interval_s: float) -> None:
        self._router = router
        self._store = store
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def restore(self) -> bool:
        try:
            state = await self._store.load()
        except (OSError, RedisError) as exc:
            log.warning("could not load provider state: %s", exc)
            return False
        if state is None:
            return False
        self._router.import_state(state)
        return True

    async def save(self) -> None:
        try:
            await self._store.save(self._router.export_state())
        except (OSError, RedisError) as exc:
            log.warning("could not save provider state: %s", exc)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="llm-state-persister")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.save()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.save()
