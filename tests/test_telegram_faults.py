"""Flood control, Telegram errors, the server going away, and many users at once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from telegram.error import NetworkError

from tests.fakes_telegram import FakeBotApi, user
from tests.telegram_support import FAST_RETRY, RecordingCore, fake_api, make_adapter, running

__all__ = ["fake_api"]

ALICE = user(101, "Alice")
BOB = user(202, "Bob")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own
async def test_429_pauses_only_that_chat_for_retry_after(fake_api: FakeBotApi) -> None:
    pauses: list[float] = []
    paused = asyncio.Event()
    release = asyncio.Event()

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        paused.set()
        await release.wait()

    fake_api.fail("sendMessage", 429, chat_id=101, retry_after=3)
    async with running(make_adapter(fake_api, RecordingCore(), sleep=sleep)):
        await fake_api.push_text(ALICE, "first")
        await paused.wait()
        await fake_api.push_text(BOB, "meanwhile")
        await fake_api.wait_calls("sendMessage", chat_id=202)
        assert fake_api.of("sendMessage", chat_id=101) == []
        release.set()
        (sent,) = await fake_api.wait_calls("sendMessage", chat_id=101)

    assert sent.params["text"] == "echo: first"
    assert len(pauses) == 1 and 2.5 < pauses[0] <= 3.0


async def test_502_is_retried_with_backoff(fake_api: FakeBotApi) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    fake_api.fail("sendMessage", 502, times=2)
    async with running(make_adapter(fake_api, RecordingCore(), sleep=sleep)):
        await fake_api.push_text(ALICE, "are you there?")
        (sent,) = await fake_api.wait_calls("sendMessage", chat_id=101)
    assert sent.params["text"] == "echo: are you there?"
    assert len(delays) == 2 and delays[0] <= 0.01 <= delays[1] <= 0.02


async def test_bot_survives_the_server_going_away_and_resumes(
    fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    """The reply in flight when Telegram vanishes is retried until it is back; polling
    resumes on its own afterwards."""
    restarted: list[float] = []

    async def sleep(seconds: float) -> None:
        if not restarted:
            restarted.append(seconds)
            await fake_api.start()

    core = RecordingCore()
    core.gate = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="adapters")
    async with running(make_adapter(fake_api, core, sleep=sleep)):
        await fake_api.push_text(ALICE, "before the outage")
        await core.entered.wait()
        await fake_api.stop()
        core.gate.set()
        await fake_api.wait_calls("sendMessage", chat_id=101)
        await fake_api.push_text(BOB, "after the outage")
        (late,) = await fake_api.wait_calls("sendMessage", chat_id=202)

    assert restarted, "the send was never retried"
    assert late.params["text"] == "echo: after the outage"
    assert any("failed" in r.getMessage() for r in caplog.records)


async def test_two_hundred_users_at_once(fake_api: FakeBotApi) -> None:
    core = RecordingCore()
    core.gate = asyncio.Event()
    users = [user(10_000 + n, f"User {n}") for n in range(200)]
    async with running(make_adapter(fake_api, core)):
        for person in users:
            await fake_api.push_text(person, f"hi from {person['id']}")
        # every update is inside the core at the same time: they are handled concurrently
        await fake_api.wait_for(lambda api: len(api.of("sendChatAction")) >= 200)
        core.gate.set()
        await fake_api.wait_calls("sendMessage", 200)

    replies = {int(c.params["chat_id"]): c.params["text"] for c in fake_api.of("sendMessage")}
    assert replies == {p["id"]: f"echo: hi from {p['id']}" for p in users}


async def test_start_gives_up_cleanly_when_telegram_is_unreachable(fake_api: FakeBotApi) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    adapter = make_adapter(fake_api, RecordingCore(), sleep=sleep)
    await fake_api.stop()
    with pytest.raises(NetworkError):
        await adapter.start()
    assert len(delays) == FAST_RETRY.attempts - 1
    await adapter.stop()
