"""Per-user ordered processing: one user's messages run one at a time, in arrival order;
different users run concurrently.

`asyncio.Lock` wakes its waiters first-in first-out, so arrival order is kept. A user with
more than `max_waiting` messages queued is refused instead of growing memory without bound.
A slot is acquired and released explicitly so that it can be held past the reply, while the
work that follows a reply (memory extraction, reward bookkeeping) finishes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


class QueueFullError(Exception):
    """Too many messages of one user are already waiting."""


@dataclass(slots=True)
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class UserSlots:
    def __init__(self, max_waiting: int) -> None:
        self._max_waiting = max_waiting
        self._slots: dict[str, _Slot] = {}

    async def acquire(self, key: str) -> None:
        """Wait for `key`'s turn; every successful acquire needs exactly one `release`."""
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        if slot.users > self._max_waiting:
            raise QueueFullError(key)
        slot.users += 1
        try:
            await slot.lock.acquire()
        except BaseException:
            self._leave(key, slot)
            raise

    def release(self, key: str) -> None:
        slot = self._slots[key]
        slot.lock.release()
        self._leave(key, slot)

    def _leave(self, key: str, slot: _Slot) -> None:
        slot.users -= 1
        if slot.users == 0:
            del self._slots[key]

    def __len__(self) -> int:
        return len(self._slots)
