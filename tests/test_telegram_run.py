"""Telegram scenarios through the whole bot (`attune run` in-process: App + serve) against
the fake Bot API and, for generated replies, the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import App, serve
from bot.config import load_config
from tests.conftest import ConfigWriter
from tests.fakes_openai import FakeOpenAI, Fault
from tests.fakes_telegram import BOT_USERNAME, TOKEN, FakeBotApi, group_chat, user
from tests.telegram_support import fake_api, markup_of

__all__ = ["fake_api"]

ALICE, BOB = user(101, "Alice"), user(202, "Bob")
LONG_REPLY = " ".join(f"Sentence number {i} of a long and thoughtful answer." for i in range(100))


@pytest.fixture
async def bot(
    fake_api: FakeBotApi,
    provider: FakeOpenAI,
    write_config: ConfigWriter,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[App]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = load_config(
        write_config(
            f'[telegram]\nenabled = true\nbase_url = "{fake_api.base_url}"\n'
            "[limits]\nrate_capacity = 1000\n"
            f'[[llm.providers]]\nname = "model"\nbase_url = "{provider.base_url}"\n'
            'model = "m"\ntimeout_s = 5\n'
        )
    )
    app = await App.create(config, env={})
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(serve(app, stop, ready))
    await ready.wait()
    yield app
    stop.set()
    await running
    await app.aclose()


def buttons(call_params: dict[str, Any]) -> list[str]:
    return [button["callback_data"] for button in markup_of(call_params)[-1]]


async def test_group_answers_only_the_mention(bot: App, fake_api: FakeBotApi) -> None:
    group = group_chat(-700)
    await fake_api.push_text(ALICE, "chatting among friends", chat=group)
    mention = f"@{BOT_USERNAME} what do you think?"
    entity = {"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}
    await fake_api.push_text(BOB, mention, chat=group, entities=[entity])
    (answer,) = await fake_api.wait_calls("sendMessage", chat_id=-700)
    await bot.pipeline.drain()
    rows = await bot.db.fetchall("SELECT text FROM messages WHERE role = 'user'")
    assert [row[0] for row in rows] == ["what do you think?"]  # only the mention reached it
    assert answer.params["text"] == "reply from model"


async def test_up_then_down_is_stored_acknowledged_and_shown(
    bot: App, fake_api: FakeBotApi
) -> None:
    await fake_api.push_text(ALICE, "tell me something nice")
    (answer,) = await fake_api.wait_calls("sendMessage", chat_id=101)
    up, down = buttons(answer.params)
    await fake_api.push_callback(ALICE, answer.result, up)
    await fake_api.wait_calls("answerCallbackQuery", 1)
    await fake_api.push_callback(ALICE, answer.result, down)
    acks = await fake_api.wait_calls("answerCallbackQuery", 2)
    edits = await fake_api.wait_calls("editMessageReplyMarkup", 2)
    row = await bot.db.fetchone("SELECT value FROM feedback")
    assert row is not None and row[0] == "down"
    assert all(ack.params.get("text") for ack in acks)
    assert len(edits) == 2


async def test_a_forged_press_stores_nothing(bot: App, fake_api: FakeBotApi) -> None:
    await fake_api.push_text(ALICE, "hello")
    (answer,) = await fake_api.wait_calls("sendMessage", chat_id=101)
    up, _ = buttons(answer.params)
    await fake_api.push_callback(BOB, answer.result, up)  # Bob presses Alice's button
    (ack,) = await fake_api.wait_calls("answerCallbackQuery")
    await fake_api.push_callback(ALICE, answer.result, up[:-1] + ("A" if up[-1] != "A" else "B"))
    await fake_api.wait_calls("answerCallbackQuery", 2)
    assert await bot.db.fetchall("SELECT * FROM feedback") == []
    assert ack.params.get("show_alert") or ack.params.get("text")


async def test_a_5000_character_reply_is_split(
    bot: App, fake_api: FakeBotApi, provider: FakeOpenAI
) -> None:
    assert len(LONG_REPLY) > 5000
    provider.push(Fault(text=LONG_REPLY))
    await fake_api.push_text(ALICE, "tell me everything")
    first, second = await fake_api.wait_calls("sendMessage", 2, chat_id=101)
    assert all(len(call.params["text"]) <= 4096 for call in (first, second))
    assert (first.params["text"] + " " + second.params["text"]) == LONG_REPLY
    assert "reply_markup" not in first.params and buttons(second.params)


async def test_200_users_at_once_all_get_their_answer(bot: App, fake_api: FakeBotApi) -> None:
    users = [user(1000 + i, f"U{i}") for i in range(200)]
    for person in users:
        await fake_api.push_text(person, f"hi from {person['id']}")
    await fake_api.wait_calls("sendMessage", 200)
    answered = {str(call.params["chat_id"]) for call in fake_api.of("sendMessage")}
    assert answered == {str(person["id"]) for person in users}
    await bot.pipeline.drain()
    row = await bot.db.fetchone("SELECT COUNT(*) FROM interactions")
    assert row is not None and row[0] == 200
