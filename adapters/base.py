"""The adapter protocol: what a transport offers the process, and what the core offers it.

An adapter turns platform updates into `IncomingMessage` / `FeedbackEvent`, filters what the
bot should not answer (edits, other bots, group chatter not addressed to it), hands the rest
to the core and renders the `Reply`. It holds no business logic: commands live in
`bot/commands.py`, decisions in the core.
"""

from __future__ import annotations

from typing import Protocol

from bot.events import FeedbackEvent, FeedbackOutcome, IncomingMessage, Reply


class CoreService(Protocol):
    """The core as an adapter sees it."""

    async def handle_message(self, message: IncomingMessage) -> Reply:
        """Answer one message or command; never raises for bad input or provider faults."""
        ...

    async def handle_feedback(self, event: FeedbackEvent) -> FeedbackOutcome:
        """Store a 👍/👎 press durably, then say how to acknowledge it."""
        ...


class Adapter(Protocol):
    """A transport the process runs. `start` returns once the adapter is receiving;
    `stop` is idempotent and returns once nothing more will reach the core."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
