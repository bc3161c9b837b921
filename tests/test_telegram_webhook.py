"""Webhook mode: setWebhook with a secret, and a real local HTTP delivery with and without it."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from adapters.telegram import TelegramAdapter
from bot.config import TelegramSection
from tests.fakes_telegram import FakeBotApi, user
from tests.telegram_support import CODEC, RecordingCore, fake_api, make_adapter, running

__all__ = ["fake_api"]

SECRET = "s3cret-token"  # what make_adapter puts in $TELEGRAM_WEBHOOK_SECRET
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_webhook_accepts_only_requests_with_the_secret(fake_api: FakeBotApi) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    core = RecordingCore()
    update = {
        "update_id": 1,
        "message": {
            "message_id": 9,
            "date": 0,
            "chat": {"id": 101, "type": "private"},
            "from": user(101, "Alice"),
            "text": "via webhook",
        },
    }
    adapter = make_adapter(fake_api, core, mode="webhook", webhook_url=url, webhook_port=port)
    async with running(adapter), aiohttp.ClientSession() as http:
        (hook,) = fake_api.of("setWebhook")
        async with http.post(url, json=update) as missing:
            assert missing.status == 403
        async with http.post(url, json=update, headers={HEADER: "wrong"}) as wrong:
            assert wrong.status == 403
        async with http.post(url, json=update, headers={HEADER: SECRET}) as right:
            assert right.status == 200
        (sent,) = await fake_api.wait_calls("sendMessage", chat_id=101)

    assert (hook.params["url"], hook.params["secret_token"]) == (url, SECRET)
    assert [m.text for m in core.messages] == ["via webhook"]
    assert sent.params["text"] == "echo: via webhook"
    assert fake_api.of("getUpdates") == []


def test_webhook_mode_needs_a_secret_and_url() -> None:
    settings = TelegramSection(enabled=True, mode="webhook", webhook_url="https://x.test/hook")
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        TelegramAdapter(RecordingCore(), settings, "1:t", CODEC, (), environ={})
    with pytest.raises(ValueError, match=r"telegram\.mode"):
        TelegramAdapter(RecordingCore(), TelegramSection(mode="push"), "1:t", CODEC, ())
