"""👍/👎 buttons: stored, acknowledged, shown; refused for anyone else; alive after a restart."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.events import FeedbackValue
from tests.discord_support import (
    ALICE,
    BOB,
    CALLBACK,
    SEND,
    RecordingCore,
    custom_ids,
    dm_message,
    guild_message,
    person,
    press,
    requires_spec,
    running_adapter,
    running_fake,
)
from tests.fakes_discord import FakeDiscord, Recorded

pytestmark = requires_spec


def callbacks(fake: FakeDiscord) -> list[Recorded]:
    return fake.sent(*CALLBACK)


async def _bot_reply(fake: FakeDiscord, in_guild: bool) -> dict[str, Any]:
    """Alice talks to the bot; the bot's stored answer (with its buttons)."""
    if in_guild:
        message = guild_message(fake, person(ALICE), "hi", mention_bot=True)
    else:
        message = dm_message(fake, ALICE, "hi")
    await fake.dispatch("MESSAGE_CREATE", message)
    await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)
    return fake.messages[max(fake.messages)]


async def test_up_then_down_on_the_same_reply_is_stored_and_shown() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        reply = await _bot_reply(fake, in_guild=True)
        up, down = custom_ids(reply)
        await fake.interact(press(fake, ALICE, reply, up, in_guild=True))
        await fake.wait_for(lambda: len(callbacks(fake)) == 1)
        await fake.interact(press(fake, ALICE, fake.messages[int(reply["id"])], down, True))
        await fake.wait_for(lambda: len(callbacks(fake)) == 2)

    assert [(e.user_id, e.value) for e in core.feedback] == [
        (str(ALICE), FeedbackValue.UP),
        (str(ALICE), FeedbackValue.DOWN),
    ]
    assert core.feedback[0].interaction_id == core.feedback[1].interaction_id
    first, second = (c.body for c in callbacks(fake))
    assert first["type"] == second["type"] == 7  # update the message in place
    styles = [
        [b["style"] for b in body["data"]["components"][0]["components"]]
        for body in (first, second)
    ]
    assert styles == [[3, 2], [2, 4]]  # the chosen button lights up: success / danger
    assert fake.rejected == []


async def test_forged_or_foreign_press_is_refused_politely_and_not_stored() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        reply = await _bot_reply(fake, in_guild=True)
        up, _ = custom_ids(reply)
        await fake.interact(press(fake, BOB, reply, up, in_guild=True))
        await fake.wait_for(lambda: len(callbacks(fake)) == 1)
        signature = up.rpartition(".")[2]
        forged = f"fu{'ff' * 3}.{signature}"  # another interaction id, same signature
        button = {"type": 2, "style": 2, "custom_id": forged, "emoji": {"name": "👍"}}
        tampered = {**reply, "components": [{"type": 1, "components": [button]}]}
        await fake.interact(press(fake, ALICE, tampered, forged, in_guild=True))
        await fake.wait_for(lambda: len(callbacks(fake)) == 2)

    assert core.feedback == []
    for call in callbacks(fake):
        assert call.body["type"] == 4
        assert call.body["data"]["flags"] & 64  # ephemeral: only the presser sees it


async def test_buttons_still_work_after_a_restart() -> None:
    core = RecordingCore()
    async with running_fake() as fake:
        async with running_adapter(fake, core):
            reply = await _bot_reply(fake, in_guild=False)
        async with running_adapter(fake, RecordingCore()) as restarted:
            up, _ = custom_ids(reply)
            await fake.interact(press(fake, ALICE, reply, up, in_guild=False))
            await fake.wait_for(lambda: len(callbacks(fake)) == 1)
            restarted_core = restarted.core

    assert fake.sessions == 2
    assert isinstance(restarted_core, RecordingCore)
    assert [e.value for e in restarted_core.feedback] == [FeedbackValue.UP]
    assert callbacks(fake)[0].body["type"] == 7


async def test_slow_store_defers_first_and_edits_once_stored() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core, ack_deadline_s=0.0):
        core.reply_text = lambda _: "ok"
        reply = await _bot_reply(fake, in_guild=False)
        core.gate = asyncio.Event()
        up, _ = custom_ids(reply)
        await fake.interact(press(fake, ALICE, reply, up, in_guild=False))
        await fake.wait_for(lambda: len(callbacks(fake)) == 1)
        assert core.feedback and callbacks(fake)[0].body["type"] == 6  # deferred update
        edits = ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
        assert fake.sent(*edits) == []
        core.gate.set()
        await fake.wait_for(lambda: len(fake.sent(*edits)) == 1)

    assert fake.sent(*edits)[0].body["components"][0]["components"][0]["style"] == 3
