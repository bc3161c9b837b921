"""The fake Bot API refuses what the real one would, so adapter tests prove spec conformance."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes_telegram import TOKEN, FakeBotApi
from tests.telegram_support import running_api


@pytest.fixture
async def strict_api() -> AsyncIterator[FakeBotApi]:
    """The fake on its own: these tests send requests it must refuse."""
    async with running_api() as api:
        yield api


async def _post(api: FakeBotApi, method: str, token: str = TOKEN, **form: Any) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{api.port}/bot{token}/{method}"
    async with aiohttp.ClientSession() as http, http.post(url, data=form) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("method", "form", "reason"),
    [
        ("sendMesage", {"chat_id": "1", "text": "x"}, "is not in"),
        ("sendMessage", {"text": "x"}, "chat_id is required"),
        ("sendMessage", {"chat_id": "1", "text": "x", "message_thread_id": "a"}, "wrong type"),
        ("sendMessage", {"chat_id": "1", "text": "x" * 4097}, "too long"),
        ("sendMessage", {"chat_id": "1", "text": "x", "colour": "red"}, "no parameter"),
        (
            "sendMessage",
            {
                "chat_id": "1",
                "text": "x",
                "reply_markup": json.dumps(
                    {"inline_keyboard": [[{"text": "b", "callback_data": "d" * 65}]]}
                ),
            },
            "BUTTON_DATA_INVALID",
        ),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "reply_markup": json.dumps({"inline_keyboard": [[{}]]})},
            "wrong type",
        ),
        (
            "setMyCommands",
            {"commands": json.dumps([{"command": "Bad-Name", "description": "d"}])},
            "BOT_COMMAND_INVALID",
        ),
        ("answerCallbackQuery", {"callback_query_id": "1", "show_alert": "maybe"}, "wrong type"),
    ],
)
async def test_requests_the_spec_refuses(
    strict_api: FakeBotApi, method: str, form: dict[str, str], reason: str
) -> None:
    status, body = await _post(strict_api, method, **form)
    assert status == 400 and body["ok"] is False and body["error_code"] == 400
    assert reason in body["description"]
    assert strict_api.calls == [] and len(strict_api.rejected) == 1


async def test_valid_requests_are_recorded_and_wrong_tokens_refused(
    strict_api: FakeBotApi,
) -> None:
    status, body = await _post(strict_api, "sendMessage", chat_id="1", text="hello")
    assert status == 200 and body["result"]["text"] == "hello"
    assert [c.method for c in strict_api.calls] == ["sendMessage"]
    status, _ = await _post(strict_api, "getMe", token="1:nope")
    assert status == 401


async def test_faults_are_served_once(strict_api: FakeBotApi) -> None:
    strict_api.fail("sendMessage", 429, retry_after=5)
    status, body = await _post(strict_api, "sendMessage", chat_id="1", text="a")
    assert status == 429 and body["parameters"] == {"retry_after": 5}
    status, _ = await _post(strict_api, "sendMessage", chat_id="1", text="a")
    assert status == 200
