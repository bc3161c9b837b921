"""Messages through the real discord.py client against the fake gateway and REST API."""

from __future__ import annotations

from bot.events import Platform
from tests.discord_support import (
    ALICE,
    BOB,
    CHANNEL_ID,
    GUILD_ID,
    SEND,
    RecordingCore,
    dm_message,
    guild_message,
    person,
    requires_spec,
    running_adapter,
    running_fake,
)
from tests.fakes_discord import bot_user, message_object

pytestmark = requires_spec


async def test_dm_conversation_answers_every_text_message_with_feedback_buttons() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "hello there"))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "how are you?"))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 2)

    assert [m.text for m in core.messages] == ["hello there", "how are you?"]
    first = core.messages[0]
    assert (first.platform, first.user_id, first.is_private) == (
        Platform.DISCORD,
        str(ALICE),
        True,
    )
    bodies = [r.body for r in fake.sent(*SEND)]
    assert bodies[0]["content"] == "You said: hello there"
    buttons = bodies[0]["components"][0]["components"]
    assert [b["emoji"]["name"] for b in buttons] == ["👍", "👎"]
    assert all(len(b["custom_id"]) <= 100 for b in buttons)
    assert fake.sent("POST", "/channels/{channel_id}/typing")
    assert fake.rejected == []


async def test_guild_channel_answers_only_mentions_and_replies_and_never_bots() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        alice = person(ALICE)
        await fake.dispatch("MESSAGE_CREATE", guild_message(fake, alice, "chatter"))
        await fake.dispatch(
            "MESSAGE_CREATE", guild_message(fake, person(BOB, bot=True), "hi", mention_bot=True)
        )
        await fake.dispatch("MESSAGE_CREATE", guild_message(fake, alice, "hi", mention_bot=True))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)
        earlier = message_object(fake.new_id(), CHANNEL_ID, bot_user(), "an earlier answer")
        reference = {"message_id": earlier["id"], "channel_id": str(CHANNEL_ID)}
        reply = guild_message(
            fake, alice, "a reply", message_reference=reference, referenced_message=earlier
        )
        await fake.dispatch("MESSAGE_CREATE", {**reply, "type": 19})
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 2)

    assert [m.text for m in core.messages] == ["hi", "a reply"]
    assert core.messages[0].mentions_bot and not core.messages[0].is_private
    assert core.messages[1].reply_to == earlier["id"]
    first = fake.sent(*SEND)[0].body
    assert first["message_reference"]["message_id"] is not None


async def test_one_profile_per_person_across_guild_and_dm() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        alice = person(ALICE)
        await fake.dispatch("MESSAGE_CREATE", guild_message(fake, alice, "hi", mention_bot=True))
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "hello"))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 2)

    assert {m.user_key for m in core.messages} == {f"discord:{ALICE}"}
    assert {m.chat_id for m in core.messages} == {str(CHANNEL_ID), core.messages[1].chat_id}
    assert str(GUILD_ID) not in core.messages[0].user_key


async def test_attachments_only_message_gets_a_polite_note() -> None:
    core = RecordingCore()
    attachment = {
        "id": "1",
        "filename": "cat.png",
        "size": 3,
        "url": "http://127.0.0.1/cat.png",
        "proxy_url": "http://127.0.0.1/cat.png",
    }
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.dispatch(
            "MESSAGE_CREATE", dm_message(fake, ALICE, "", attachments=[attachment])
        )
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)

    assert core.messages == []
    assert "text" in fake.sent(*SEND)[0].body["content"]


async def test_long_reply_is_split_within_the_2000_character_limit() -> None:
    core = RecordingCore()
    sentence = "This sentence is part of a very long answer. "
    core.reply_text = lambda _: sentence * 67  # about 3,000 characters
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "tell me everything"))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 2)

    parts = [r.body["content"] for r in fake.sent(*SEND)]
    assert all(len(p) <= 2000 for p in parts)
    assert parts[0].endswith("answer.")
    assert " ".join(parts).split() == (sentence * 67).split()
    assert not fake.sent(*SEND)[0].body.get("components")
    assert fake.sent(*SEND)[1].body["components"]


async def test_generated_everyone_mention_never_pings() -> None:
    core = RecordingCore()
    core.reply_text = lambda _: "Hey @everyone and <@&123> and <@800000000000000002>!"
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.dispatch(
            "MESSAGE_CREATE", guild_message(fake, person(ALICE), "ping all", mention_bot=True)
        )
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)

    body = fake.sent(*SEND)[0].body
    assert "@everyone" in body["content"]
    assert body["allowed_mentions"]["parse"] == []
    assert not body["allowed_mentions"].get("replied_user")
