"""Slash commands: published once, mapped to the text commands the core already knows."""

from __future__ import annotations

import asyncio

from tests.discord_support import (
    ADMIN,
    ALICE,
    CALLBACK,
    CHANNEL_ID,
    FOLLOWUP,
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
    slash,
)
from tests.fakes_discord import FakeDiscord, Recorded

pytestmark = requires_spec

SYNC = ("PUT", "/applications/{application_id}/commands")


def callbacks(fake: FakeDiscord) -> list[Recorded]:
    return fake.sent(*CALLBACK)


async def test_commands_are_published_with_an_admin_only_group() -> None:
    async with running_fake() as fake, running_adapter(fake, RecordingCore()):
        pass

    (sync,) = fake.sent(*SYNC)
    by_name = {c["name"]: c for c in sync.body}
    assert set(by_name) == {"profile", "forget", "remember", "help", "admin"}
    assert str(by_name["admin"]["default_member_permissions"]) == "8"  # administrator
    assert [o["name"] for o in by_name["admin"]["options"]] == ["stats"]
    assert by_name["remember"]["options"][0]["name"] == "text"


async def test_guild_commands_are_synced_to_the_configured_guilds_only() -> None:
    async with running_fake() as fake, running_adapter(fake, RecordingCore(), guild_ids=(5,)):
        pass

    assert fake.sent(*SYNC) == []
    (sync,) = fake.sent("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    assert sync.path.endswith("/guilds/5/commands")


async def test_profile_in_a_guild_is_an_ephemeral_reply_with_the_chart_file() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.interact(slash(fake, ALICE, "profile"))
        await fake.wait_for(lambda: len(callbacks(fake)) == 1)

    assert [m.text for m in core.messages] == ["/profile"]
    call = callbacks(fake)[0]
    assert call.body["type"] == 4
    assert call.body["data"]["flags"] & 64
    assert call.files == ["profile.png"]
    assert call.body["data"]["allowed_mentions"]["parse"] == []


async def test_remember_option_becomes_command_text() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.interact(slash(fake, ALICE, "remember", "I like tea", in_guild=False))
        await fake.wait_for(lambda: len(callbacks(fake)) == 1)

    assert core.messages[0].text == "/remember I like tea"
    assert core.messages[0].is_private
    assert not callbacks(fake)[0].body["data"].get("flags", 0) & 64  # DMs: not ephemeral


async def test_forget_asks_for_confirmation_and_the_button_runs_it() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.interact(slash(fake, ALICE, "forget"))
        await fake.wait_for(lambda: len(callbacks(fake)) == 1)
        question = fake.messages[max(fake.messages)]
        (confirm,) = custom_ids(question)
        await fake.interact(press(fake, ALICE, question, confirm, in_guild=True))
        await fake.wait_for(lambda: len(fake.sent(*FOLLOWUP)) == 1)

    assert [m.text for m in core.messages] == ["/forget", "/forget confirm"]
    ask, done = callbacks(fake)
    assert ask.body["data"]["components"][0]["components"][0]["label"] == "Yes, forget me"
    assert done.body["type"] == 7 and done.body["data"]["components"] == []
    followup = fake.sent(*FOLLOWUP)[0].body
    assert followup["content"] == "Done: I have forgotten you."
    assert followup["flags"] & 64


async def test_admin_commands_are_refused_to_non_admins() -> None:
    core = RecordingCore(is_admin=lambda user_id: user_id == str(ADMIN))
    async with running_fake() as fake, running_adapter(fake, core):
        await fake.interact(slash(fake, ALICE, "admin stats"))
        await fake.wait_for(lambda: len(callbacks(fake)) == 1)
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "/admin stats"))
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)
        await fake.interact(slash(fake, ADMIN, "admin stats"))
        await fake.wait_for(lambda: len(callbacks(fake)) == 2)

    refusal = callbacks(fake)[0].body["data"]
    assert "only" in refusal["content"] and refusal["flags"] & 64
    assert "admin commands are for operators only" in fake.sent(*SEND)[0].body["content"]
    assert [(m.user_id, m.text) for m in core.messages] == [
        (str(ALICE), "/admin stats"),  # typed: the core's command service refuses
        (str(ADMIN), "/admin stats"),
    ]


async def test_slow_command_is_deferred_then_answered_by_a_followup() -> None:
    core = RecordingCore()
    core.gate = asyncio.Event()
    async with running_fake() as fake, running_adapter(fake, core, ack_deadline_s=0.0):
        await fake.interact(slash(fake, ALICE, "remember", "my cat is Tom"))
        await fake.wait_for(lambda: len(callbacks(fake)) == 1)
        assert fake.sent(*FOLLOWUP) == []
        core.gate.set()
        await fake.wait_for(lambda: len(fake.sent(*FOLLOWUP)) == 1)

    deferred = callbacks(fake)[0].body
    assert deferred["type"] == 5 and deferred["data"]["flags"] & 64  # "thinking", ephemeral
    assert fake.sent(*FOLLOWUP)[0].body["content"] == "You said: /remember my cat is Tom"


async def test_personal_answer_to_a_guild_message_goes_to_direct_messages() -> None:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        mention = guild_message(fake, person(ALICE), "/profile", mention_bot=True)
        await fake.dispatch("MESSAGE_CREATE", mention)
        await fake.wait_for(lambda: len(fake.sent(*SEND)) == 2)

    (dm,) = fake.sent("POST", "/users/@me/channels")
    assert dm.body["recipient_id"] in (ALICE, str(ALICE))
    private, note = fake.sent(*SEND)
    assert private.files == ["profile.png"] and not private.path.endswith(
        f"/{CHANNEL_ID}/messages"
    )
    assert (
        note.path.endswith(f"/{CHANNEL_ID}/messages") and "direct message" in note.body["content"]
    )
