"""Fixtures for the Telegram adapter tests: the fake Bot API and a test double of the core.

`RecordingCore` is a stand-in for bot/core.py that records what the adapter hands it; the
adapter is what is under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.callbacks import CallbackCodec
from adapters.telegram import TelegramAdapter
from adapters.telegram_retry import RetryPolicy, Sleep
from bot.config import TelegramSection
from bot.events import FeedbackEvent, FeedbackOutcome, FeedbackValue, IncomingMessage, Reply
from tests.fakes_telegram import SPEC_PATH, TOKEN, BotApiSpec, FakeBotApi

CODEC = CallbackCodec(b"telegram-test-signing-key")
COMMANDS = (("start", "Say hello"), ("help", "What I can do"), ("forget", "Erase my data"))
ADMIN_COMMANDS = (("stats", "Usage figures"),)
ADMIN_ID = 4242
FAST_RETRY = RetryPolicy(attempts=6, base_delay_s=0.01, max_delay_s=0.05)


class RecordingCore:
    """Echoes every message with a fresh interaction id and stores presses like the real
    core: only for the user the reply was for, and a known interaction."""

    def __init__(self, answer: Callable[[IncomingMessage], Reply] | None = None) -> None:
        self.messages: list[IncomingMessage] = []
        self.presses: list[FeedbackEvent] = []
        self.stored: dict[int, FeedbackValue] = {}
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self._answer = answer
        self._ids = itertools.count(1)
        self._owners: dict[int, str] = {}

    async def handle_message(self, message: IncomingMessage) -> Reply:
        self.messages.append(message)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self._answer is not None:
            return self._answer(message)
        interaction_id = next(self._ids)
        self._owners[interaction_id] = message.user_key
        return Reply(text=f"echo: {message.text}", interaction_id=interaction_id)

    async def handle_feedback(self, event: FeedbackEvent) -> FeedbackOutcome:
        self.presses.append(event)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self._owners.get(event.interaction_id) != event.user_key:
            return FeedbackOutcome(False, "I no longer have that reply, sorry.")
        previous = self.stored.get(event.interaction_id)
        self.stored[event.interaction_id] = event.value
        changed = previous is not None and previous is not event.value
        return FeedbackOutcome(True, "Thanks for the feedback!", event.value, changed)


@contextlib.asynccontextmanager
async def running_api() -> AsyncIterator[FakeBotApi]:
    """A started fake Bot API; skips the test when the spec in ../shared/data is absent."""
    if not SPEC_PATH.exists():
        pytest.skip(f"the Bot API spec is absent: {SPEC_PATH} (needs ../shared/data)")
    api = FakeBotApi(BotApiSpec())
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    async with running_api() as api:
        yield api
    assert api.rejected == [], "the adapter sent requests the Bot API spec refuses"


def make_adapter(
    api: FakeBotApi,
    core: RecordingCore,
    *,
    sleep: Sleep = asyncio.sleep,
    **settings: Any,
) -> TelegramAdapter:
    section = TelegramSection(
        enabled=True, base_url=api.base_url, admins=(str(ADMIN_ID),), **settings
    )
    return TelegramAdapter(
        core,
        section,
        TOKEN,
        CODEC,
        COMMANDS,
        ADMIN_COMMANDS,
        retry=FAST_RETRY,
        sleep=sleep,
        rng=random.Random(7),
        environ={"TELEGRAM_WEBHOOK_SECRET": "s3cret-token"},
        poll_timeout_s=5,
    )


@contextlib.asynccontextmanager
async def running(adapter: TelegramAdapter) -> AsyncIterator[TelegramAdapter]:
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


def markup_of(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The inline keyboard rows a request carried."""
    raw = params.get("reply_markup")
    return [] if raw is None else list(json.loads(raw)["inline_keyboard"])
