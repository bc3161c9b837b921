"""Test doubles and payload builders for the Discord adapter tests.

`RecordingCore` stands in for the core (the adapter is what is under test); the builders make
gateway payloads shaped like Discord's; `running_fake` and `running_adapter` start the fake
server and a real `DiscordAdapter` against it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from adapters.callbacks import CallbackCodec
from adapters.discord_adapter import DiscordAdapter
from bot.config import DiscordSection
from bot.events import (
    Action,
    Attachment,
    FeedbackEvent,
    FeedbackOutcome,
    FeedbackValue,
    IncomingMessage,
    Reply,
)
from tests.fakes_discord import (
    BOT_ID,
    DATA_DIR,
    FakeDiscord,
    bot_user,
    message_object,
    user_object,
)

Json = dict[str, Any]

TOKEN = "fake-bot-token"
KEY = b"k" * 32
GUILD_ID = 700000000000000001
CHANNEL_ID = 700000000000000002
DM_CHANNEL_ID = 700000000000000003
ALICE = 800000000000000001
BOB = 800000000000000002
ADMIN = 800000000000000009
# The fake REST routes the tests wait on, as (method, path template).
SEND = ("POST", "/channels/{channel_id}/messages")
CALLBACK = ("POST", "/interactions/{interaction_id}/{interaction_token}/callback")
FOLLOWUP = ("POST", "/webhooks/{webhook_id}/{webhook_token}")
PNG = b"\x89PNG\r\n\x1a\nchart"
COMMANDS = (
    ("profile", "Your personality profile"),
    ("forget", "Forget everything about you"),
    ("remember", "Remember something"),
    ("help", "What I can do"),
)
ADMIN_COMMANDS = (("stats", "Usage figures"),)

requires_spec = pytest.mark.skipif(
    not DATA_DIR.exists(), reason=f"Discord specs not found at {DATA_DIR} (../shared/data)"
)


class RecordingCore:
    """A CoreService double: records calls and answers like the command service would."""

    def __init__(self, is_admin: Callable[[str], bool] = lambda _: False) -> None:
        self.messages: list[IncomingMessage] = []
        self.feedback: list[FeedbackEvent] = []
        self.reply_text: Callable[[IncomingMessage], str] = lambda m: f"You said: {m.text}"
        self.gate: asyncio.Event | None = None
        self._is_admin = is_admin
        self._ids = itertools.count(41)
        self._votes: dict[tuple[str, int], FeedbackValue] = {}

    async def handle_message(self, message: IncomingMessage) -> Reply:
        self.messages.append(message)
        if self.gate is not None:
            await self.gate.wait()
        text = message.text
        if text.startswith("/admin") and not self._is_admin(message.user_id):
            return Reply("Sorry, admin commands are for operators only.")
        if text == "/profile":
            chart = Attachment("profile.png", PNG, "image/png", kind="photo")
            return Reply("Here is your profile.", attachments=(chart,), personal=True)
        if text == "/forget":
            confirm = Action("Yes, forget me", "/forget confirm")
            return Reply("Forget everything I know about you?", actions=(confirm,), personal=True)
        if text == "/forget confirm":
            return Reply("Done: I have forgotten you.", personal=True)
        return Reply(self.reply_text(message), interaction_id=next(self._ids))

    async def handle_feedback(self, event: FeedbackEvent) -> FeedbackOutcome:
        self.feedback.append(event)
        if self.gate is not None:
            await self.gate.wait()
        key = (event.user_id, event.interaction_id)
        changed = self._votes.get(key) not in (None, event.value)
        self._votes[key] = event.value
        return FeedbackOutcome(True, "Thanks!", value=event.value, changed=changed)


@asynccontextmanager
async def running_fake(port: int = 0) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(TOKEN, guilds=[guild_payload()])
    await fake.start(port)
    try:
        yield fake
    finally:
        await fake.close()


def make_adapter(
    fake: FakeDiscord,
    core: RecordingCore,
    *,
    ack_deadline_s: float = 2.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    **settings: Any,
) -> DiscordAdapter:
    section = DiscordSection(
        enabled=True,
        admins=(str(ADMIN),),
        api_base_url=fake.api_url,
        gateway_url=fake.gateway_url,
        **settings,
    )
    return DiscordAdapter(
        core,
        section,
        TOKEN,
        CallbackCodec(KEY),
        COMMANDS,
        lambda user_id: user_id in section.admins,
        admin_commands=ADMIN_COMMANDS,
        ack_deadline_s=ack_deadline_s,
        guild_ready_timeout_s=0.01,
        sleep=sleep,
    )


@asynccontextmanager
async def running_adapter(
    fake: FakeDiscord, core: RecordingCore, **options: Any
) -> AsyncIterator[DiscordAdapter]:
    adapter = make_adapter(fake, core, **options)
    await adapter.start()
    try:
        async with asyncio.timeout(10):
            await adapter.ready.wait()
        yield adapter
    finally:
        await adapter.stop()


# -- payload builders ----------------------------------------------------------------------
def guild_payload() -> Json:
    channel = {
        "id": str(CHANNEL_ID),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": "general",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
    }
    everyone = {"id": str(GUILD_ID), "name": "@everyone", "permissions": "68608", "position": 0}
    return {
        "id": str(GUILD_ID),
        "name": "Test guild",
        "owner_id": str(ADMIN),
        "roles": [
            {**everyone, "color": 0, "hoist": False, "managed": False, "mentionable": False}
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "large": False,
        "unavailable": False,
        "member_count": 3,
        "voice_states": [],
        "members": [member(bot_user())],
        "channels": [channel],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def member(user: Json) -> Json:
    return {
        "user": user,
        "roles": [],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def person(user_id: int, bot: bool = False) -> Json:
    return user_object(user_id, {ALICE: "alice", BOB: "bob", ADMIN: "ada"}.get(user_id, "x"), bot)


def dm_message(fake: FakeDiscord, author: int, content: str, **extra: Any) -> Json:
    return message_object(fake.new_id(), DM_CHANNEL_ID, person(author), content, **extra)


def guild_message(
    fake: FakeDiscord, author: Json, content: str, *, mention_bot: bool = False, **extra: Any
) -> Json:
    mentions = [bot_user()] if mention_bot else []
    text = f"<@{BOT_ID}> {content}" if mention_bot else content
    return message_object(
        fake.new_id(),
        CHANNEL_ID,
        author,
        text,
        guild_id=str(GUILD_ID),
        member={"roles": [], "joined_at": "2026-01-01T00:00:00+00:00"},
        mentions=mentions,
        **extra,
    )


def _interaction(fake: FakeDiscord, kind: int, user: int, in_guild: bool, data: Json) -> Json:
    interaction_id = fake.new_id()
    base: Json = {
        "id": str(interaction_id),
        "application_id": str(BOT_ID),
        "type": kind,
        "data": data,
        "token": f"token-{interaction_id}",
        "version": 1,
        "app_permissions": "2147483647",
        "locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID) if in_guild else str(user)},
        "context": 0 if in_guild else 1,
        "attachment_size_limit": 10485760,
    }
    if in_guild:
        perms = "8" if user == ADMIN else "0"
        return {
            **base,
            "guild_id": str(GUILD_ID),
            "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID)},
            "guild_locale": "en-US",
            "member": {**member(person(user)), "permissions": perms},
        }
    channel = {"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [person(user)]}
    return {**base, "channel_id": str(DM_CHANNEL_ID), "channel": channel, "user": person(user)}


def slash(
    fake: FakeDiscord, user: int, name: str, text: str | None = None, in_guild: bool = True
) -> Json:
    """A chat-input command; "admin stats" is a subcommand of the /admin group."""
    options = [{"name": "text", "type": 3, "value": text}] if text is not None else []
    head, _, sub = name.partition(" ")
    if sub:
        options = [{"name": sub, "type": 1, "options": options}]
    data = {"id": str(fake.new_id()), "name": head, "type": 1, "options": options}
    return _interaction(fake, 2, user, in_guild, data)


def press(fake: FakeDiscord, user: int, message: Json, custom_id: str, in_guild: bool) -> Json:
    """A click on the button `custom_id` of `message` (a message the bot sent)."""
    data = {"custom_id": custom_id, "component_type": 2}
    return {**_interaction(fake, 3, user, in_guild, data), "message": message}


def custom_ids(message: Json) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]
