"""End to end: the real composition root (`attune run` in-process) against the fake Bot API."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import App, serve
from bot.config import load_config
from tests.conftest import ConfigWriter
from tests.fakes_telegram import TOKEN, FakeBotApi, user
from tests.telegram_support import fake_api, markup_of

__all__ = ["fake_api"]


async def test_attune_run_answers_a_private_conversation(
    fake_api: FakeBotApi, write_config: ConfigWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    path = write_config(
        f'[bot]\ndata_dir = "data"\n[storage]\npath = "data/attune.db"\n'
        f'[telegram]\nenabled = true\nbase_url = "{fake_api.base_url}"\n'
    )
    app = await App.create(load_config(path), env={})
    stop = asyncio.Event()
    running = asyncio.create_task(serve(app, stop))
    alice = user(101, "Alice")
    try:
        await fake_api.wait_calls("setMyCommands")
        await fake_api.push_text(alice, "/start")
        (greeting,) = await fake_api.wait_calls("sendMessage", chat_id=101)
        await fake_api.push_text(alice, "I had a lovely walk by the sea today")
        answer = (await fake_api.wait_calls("sendMessage", 2, chat_id=101))[1]
        up = markup_of(answer.params)[-1][0]["callback_data"]
        await fake_api.push_callback(alice, answer.result, up)
        (ack,) = await fake_api.wait_calls("answerCallbackQuery")
        await fake_api.wait_calls("editMessageReplyMarkup")
    finally:
        stop.set()
        await running
        await app.aclose()

    assert greeting.params["text"] and answer.params["text"]
    assert ack.params.get("text")
    assert fake_api.of("getUpdates"), "the app did not poll the fake"
