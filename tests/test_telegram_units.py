"""Pure parts of the Telegram adapter: routing, keyboards, backoff."""

from __future__ import annotations

import datetime as dtm
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import RetryAfter

from adapters.telegram import _file_url
from adapters.telegram_keyboards import reply_keyboard, with_choice
from adapters.telegram_retry import RetryPolicy, backoff_delay, retry_after_seconds
from adapters.telegram_routing import BotIdentity, Skip, route_message
from bot.events import Action, FeedbackValue, IncomingMessage, Reply
from tests.telegram_support import CODEC

BOT = BotIdentity(777, "attune_bot")
GROUP = {"id": -1, "type": "group", "title": "G"}


def _message(text: str | None, *, chat: dict[str, Any] | None = None, **extra: Any) -> Any:
    data: dict[str, Any] = {
        "message_id": 3,
        "date": 0,
        "chat": chat or {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "Ann", "last_name": "Lee"},
        **extra,
    }
    if text is not None:
        data["text"] = text
    message = Update.de_json({"update_id": 1, "message": data}, None).message
    assert message is not None
    return message


def test_private_text_becomes_an_incoming_message() -> None:
    routed = route_message(_message("hi there"), BOT)
    assert isinstance(routed, IncomingMessage)
    assert (routed.text, routed.display_name, routed.is_private) == ("hi there", "Ann Lee", True)


@pytest.mark.parametrize(
    ("text", "extra", "expected"),
    [
        ("talking among ourselves", {}, Skip.IGNORE),
        ("/help@someone_else", {}, Skip.IGNORE),
        ("/profile@Attune_Bot now", {}, "/profile now"),
        (
            "hey @attune_bot, you there?",
            {"entities": [{"type": "mention", "offset": 4, "length": 11}]},
            "hey, you there?",
        ),
        (
            "you",
            {
                "entities": [
                    {
                        "type": "text_mention",
                        "offset": 0,
                        "length": 3,
                        "user": {"id": 777, "is_bot": True, "first_name": "A"},
                    }
                ]
            },
            "you",
        ),
    ],
)
def test_group_routing(text: str, extra: dict[str, Any], expected: Skip | str) -> None:
    routed = route_message(_message(text, chat=GROUP, **extra), BOT)
    if isinstance(expected, Skip):
        assert routed is expected
    else:
        assert isinstance(routed, IncomingMessage) and routed.text == expected


def test_bots_channels_and_attachments() -> None:
    bot_sender = {"id": 9, "is_bot": True, "first_name": "B"}
    assert route_message(_message("hi", **{"from": bot_sender}), BOT) is Skip.IGNORE
    voice = {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}}
    assert route_message(_message(None, **voice), BOT) is Skip.NOTE
    assert route_message(_message(None, chat=GROUP, **voice), BOT) is Skip.IGNORE
    assert route_message(_message(None), BOT) is Skip.IGNORE  # a service message


def test_reply_keyboard_and_choice_keep_action_rows() -> None:
    reply = Reply("ok", interaction_id=12, actions=(Action("Yes", "/forget confirm"),))
    markup = reply_keyboard(CODEC, reply, "5")
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["Yes"], ["👍", "👎"]]
    chosen = with_choice(markup, CODEC, 12, "5", FeedbackValue.DOWN)
    assert [[b.text for b in row] for row in chosen.inline_keyboard] == [["Yes"], ["👍", "👎 ✓"]]
    assert reply_keyboard(CODEC, Reply("plain"), "5") is None
    stray = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="other")]])
    assert len(with_choice(stray, CODEC, 12, "5", FeedbackValue.UP).inline_keyboard) == 2


@given(
    failures=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0.001, max_value=5.0),
    cap=st.floats(min_value=5.0, max_value=120.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_backoff_grows_is_capped_and_jittered(
    failures: int, base: float, cap: float, seed: int
) -> None:
    policy = RetryPolicy(base_delay_s=base, max_delay_s=cap)
    delay = backoff_delay(policy, failures, random.Random(seed))
    ceiling = min(cap, base * 2.0 ** (failures - 1))
    assert ceiling / 2 <= delay <= ceiling


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_retry_policy_and_retry_after() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay_s=10, max_delay_s=1)
    assert retry_after_seconds(RetryAfter(dtm.timedelta(seconds=7))) == 7.0


def test_file_url_follows_a_local_server() -> None:
    assert _file_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
