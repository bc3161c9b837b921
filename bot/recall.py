"""The memory stage: recall the user's own memories for a message, and keep what is worth
remembering from it once the reply is recorded."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.memory_service import MemoryService, RecalledMemory
from bot.stages import Turn
from personality.signals import MessageSignals

log = logging.getLogger(__name__)


class MemoryRecall:
    def __init__(self, service: MemoryService) -> None:
        self._service = service
        self._recalled: dict[int, list[RecalledMemory]] = {}
        """What each user's turn in flight recalled; the core runs one turn per user at a
        time, so one entry per user is enough."""

    async def recall(self, turn: Turn, signals: MessageSignals) -> Sequence[str]:
        memories = await self._service.recall(turn.user.id, signals.embedding)
        if memories:
            self._recalled[turn.user.id] = memories
        return [memory.text for memory in memories]

    async def remember_from(
        self, turn: Turn, signals: MessageSignals, interaction_id: int
    ) -> None:
        """After the turn is recorded (off the reply's critical path): note what was
        recalled, and store the statements the cues find memorable."""
        recalled = self._recalled.pop(turn.user.id, None)
        if recalled:
            await self._service.mark_recalled(turn.user.id, recalled)
        await self._service.observe(turn.user.id, turn.text, signals.embedding)


class NoRecall:
    """Without the sentence model there are no embeddings to recall by."""

    async def recall(self, turn: Turn, signals: MessageSignals) -> Sequence[str]:
        return ()
