"""Rate limits, gateway drops, sharding settings and an unreachable Discord."""

from __future__ import annotations

import asyncio

from tests.discord_support import (
    ALICE,
    SEND,
    RecordingCore,
    dm_message,
    make_adapter,
    requires_spec,
    running_adapter,
    running_fake,
)

pytestmark = requires_spec


async def test_rest_429_is_honoured_and_the_reply_still_arrives() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        fake.rate_limit_once(*SEND, retry_after=0.01)
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "hello"))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)

    assert fake.limited == ["POST /channels/{channel_id}/messages"]
    assert len(fake.sent(*SEND)) == 1


async def test_dropped_gateway_resumes_and_replays_missed_events() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.drop_connection()
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "sent while away"))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)

    resumes = [op for op in fake.gateway_ops if op["op"] == 6]
    assert len(resumes) == 1 and resumes[0]["d"]["session_id"] == "session-1"
    assert fake.sessions == 1  # resumed, not identified again
    assert [m.text for m in core.messages] == ["sent while away"]


async def test_reconnect_request_is_followed() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.request_reconnect()
        await fake.wait_for(lambda: any(op["op"] == 6 for op in fake.gateway_ops))
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "still there?"))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)

    assert fake.sessions == 1
    assert fake.rejected == []


async def test_configured_shards_identify_with_their_shard_ids() -> None:
    async with (
        running_fake() as fake,
        running_adapter(fake, RecordingCore(), shard_count=2, shard_ids=(1,)),
    ):
        pass

    identify = next(op for op in fake.gateway_ops if op["op"] == 2)
    assert identify["d"]["shard"] == [1, 2]
    assert identify["d"]["intents"] & (1 << 15)  # message content
    assert fake.sent("GET", "/gateway/bot") == []  # URL from the settings


async def test_unreachable_discord_does_not_stop_the_adapter_and_it_connects_later() -> None:
    async with running_fake() as fake:
        port = fake.port
    waits: list[float] = []
    retry = asyncio.Event()

    async def sleep(delay: float) -> None:
        waits.append(delay)
        await retry.wait()

    core = RecordingCore()
    adapter = make_adapter(fake, core, sleep=sleep)
    await adapter.start()  # returns although nothing listens on the port
    try:
        assert waits and not adapter.ready.is_set()
        async with running_fake(port) as revived:
            retry.set()
            async with asyncio.timeout(10):
                await adapter.ready.wait()
            await revived.dispatch("MESSAGE_CREATE", dm_message(revived, ALICE, "back?"))
            await revived.wait_for(lambda: len(revived.sent(*SEND)) == 1)
    finally:
        await adapter.stop()
    assert [m.text for m in core.messages] == ["back?"]
