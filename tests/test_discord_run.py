"""Discord scenarios through the whole bot (`attune run` in-process: App + serve) against
the fake gateway and REST API and, for generated replies, the fake OpenAI server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.app import App, serve
from bot.config import load_config
from tests.conftest import ConfigWriter
from tests.discord_support import (
    ADMIN,
    ALICE,
    BOB,
    CALLBACK,
    SEND,
    TOKEN,
    custom_ids,
    dm_message,
    guild_message,
    person,
    press,
    requires_spec,
    running_fake,
    slash,
)
from tests.fakes_discord import FakeDiscord
from tests.fakes_openai import FakeOpenAI, Fault

pytestmark = requires_spec

LONG_REPLY = " ".join(
    f"Sentence {i} of a long answer, @everyone should not be pinged." for i in range(50)
)


@pytest.fixture
async def discord_bot(
    provider: FakeOpenAI, write_config: ConfigWriter, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[App, FakeDiscord]]:
    monkeypatch.setenv("DISCORD_BOT_TOKEN", TOKEN)
    async with running_fake() as fake:
        config = load_config(
            write_config(
                f'[discord]\nenabled = true\nadmins = ["{ADMIN}"]\n'
                f'api_base_url = "{fake.api_url}"\n'
                f'gateway_url = "{fake.gateway_url}"\n'
                f'[[llm.providers]]\nname = "model"\nbase_url = "{provider.base_url}"\n'
                'model = "m"\ntimeout_s = 5\n'
            )
        )
        app = await App.create(config, env={})
        stop, ready = asyncio.Event(), asyncio.Event()
        running = asyncio.create_task(serve(app, stop, ready))
        await ready.wait()
        await fake.wait_for(lambda: fake.sessions == 1)
        try:
            yield app, fake
        finally:
            stop.set()
            await running
            await app.aclose()
        assert fake.rejected == []


async def test_guild_answers_only_the_mention(discord_bot: tuple[App, FakeDiscord]) -> None:
    app, fake = discord_bot
    await fake.dispatch("MESSAGE_CREATE", guild_message(fake, person(ALICE), "just chatting"))
    await fake.dispatch(
        "MESSAGE_CREATE", guild_message(fake, person(BOB), "what do you think?", mention_bot=True)
    )
    await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)
    await app.pipeline.drain()
    rows = await app.db.fetchall("SELECT text FROM messages WHERE role = 'user'")
    assert [row[0] for row in rows] == ["what do you think?"]


async def test_up_then_down_then_a_forged_press(discord_bot: tuple[App, FakeDiscord]) -> None:
    app, fake = discord_bot
    await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "tell me something nice"))
    await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)
    answer = fake.messages[max(fake.messages)]
    up, down = custom_ids(answer)
    await fake.interact(press(fake, ALICE, answer, up, in_guild=False))
    await fake.wait_for(lambda: len(fake.sent(*CALLBACK)) == 1)
    await fake.interact(press(fake, ALICE, fake.messages[max(fake.messages)], down, False))
    await fake.wait_for(lambda: len(fake.sent(*CALLBACK)) == 2)
    await fake.interact(press(fake, BOB, answer, up, in_guild=False))  # not Bob's reply
    await fake.wait_for(lambda: len(fake.sent(*CALLBACK)) == 3)
    rows = await app.db.fetchall("SELECT value FROM feedback")
    assert [row[0] for row in rows] == ["down"]
    assert fake.sent(*CALLBACK)[2].body["data"]["flags"] & 64  # the refusal is ephemeral


async def test_admin_command_by_a_non_admin_is_refused(
    discord_bot: tuple[App, FakeDiscord],
) -> None:
    _, fake = discord_bot
    await fake.interact(slash(fake, ALICE, "admin providers"))
    await fake.wait_for(lambda: len(fake.sent(*CALLBACK)) >= 1)
    (refusal,) = (call.body["data"] for call in fake.sent(*CALLBACK))
    assert "only" in refusal["content"] and refusal["flags"] & 64  # refused, privately


async def test_a_long_reply_is_split_and_never_pings(
    discord_bot: tuple[App, FakeDiscord], provider: FakeOpenAI
) -> None:
    _, fake = discord_bot
    assert len(LONG_REPLY) > 3000
    provider.push(Fault(text=LONG_REPLY))
    await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "tell me everything"))
    await fake.wait_for(lambda: len(fake.sent(*SEND)) == 2)
    first, second = (call.body for call in fake.sent(*SEND))
    assert all(len(body["content"]) <= 2000 for body in (first, second))
    assert first["content"] + " " + second["content"] == LONG_REPLY
    assert all(body["allowed_mentions"]["parse"] == [] for body in (first, second))


async def test_an_admin_reaches_the_command_service(
    discord_bot: tuple[App, FakeDiscord],
) -> None:
    _, fake = discord_bot
    await fake.interact(slash(fake, ADMIN, "admin providers"))
    await fake.wait_for(lambda: len(fake.sent(*CALLBACK)) >= 1)
    answers = [str(call.body) for call in fake.sent(*CALLBACK)]
    answers += [
        str(call.body)
        for call in fake.sent("POST", "/webhooks/{application_id}/{interaction_token}")
    ]
    assert any("model" in answer and "score" in answer.lower() for answer in answers)
