"""The adapter against the fake Bot API over real HTTP: conversations, groups, buttons."""

from __future__ import annotations

import asyncio

from bot.events import Action, Attachment, FeedbackValue, IncomingMessage, Platform, Reply
from tests.fakes_telegram import BOT_ID, BOT_USERNAME, FakeBotApi, group_chat, user
from tests.telegram_support import (
    ADMIN_ID,
    CODEC,
    RecordingCore,
    fake_api,
    make_adapter,
    markup_of,
    running,
)

__all__ = ["fake_api"]

ALICE = user(101, "Alice")
BOB = user(202, "Bob")


async def test_private_conversation_is_answered_with_feedback_buttons(
    fake_api: FakeBotApi,
) -> None:
    core = RecordingCore()
    adapter = make_adapter(fake_api, core)
    async with running(adapter):
        default, admin = await fake_api.wait_calls("setMyCommands", 2)
        await fake_api.push_text(ALICE, "hello <b>there</b> *friend*")
        (sent,) = await fake_api.wait_calls("sendMessage", chat_id=101)
    await adapter.stop()  # stopping twice is harmless

    assert '"start"' in default.params["commands"] and "scope" not in default.params
    assert '"stats"' in admin.params["commands"] and str(ADMIN_ID) in admin.params["scope"]
    (message,) = core.messages
    assert message.platform is Platform.TELEGRAM
    assert (message.user_id, message.chat_id, message.is_private) == ("101", "101", True)
    assert message.text == "hello <b>there</b> *friend*"
    assert sent.params["text"] == "echo: hello <b>there</b> *friend*"
    assert "parse_mode" not in sent.params
    (row,) = markup_of(sent.params)
    assert [b["text"] for b in row] == ["👍", "👎"]
    assert CODEC.decode(row[0]["callback_data"], "101") is not None


async def test_typing_is_shown_while_the_core_works(fake_api: FakeBotApi) -> None:
    core = RecordingCore()
    core.gate = asyncio.Event()
    async with running(make_adapter(fake_api, core)):
        await fake_api.push_text(ALICE, "think hard")
        (typing,) = await fake_api.wait_calls("sendChatAction", chat_id=101)
        assert fake_api.of("sendMessage") == []
        core.gate.set()
        await fake_api.wait_calls("sendMessage", chat_id=101)
    assert typing.params["action"] == "typing"


async def test_group_answers_only_mentions_replies_and_commands(fake_api: FakeBotApi) -> None:
    core = RecordingCore()
    group = group_chat(-500)
    mention = f"@{BOT_USERNAME} how are you?"
    async with running(make_adapter(fake_api, core)):
        await fake_api.push_text(ALICE, "just chatting with friends", chat=group)
        await fake_api.push_text(BOB, "/help@other_bot", chat=group)
        await fake_api.push_text(
            ALICE,
            mention,
            chat=group,
            entities=[{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}],
        )
        bot_message = {
            "message_id": 1,
            "date": 0,
            "chat": group,
            "from": user(BOT_ID, "Attune", is_bot=True),
            "text": "earlier reply",
        }
        await fake_api.push_text(BOB, "replying to you", chat=group, reply_to=bot_message)
        await fake_api.push_text(BOB, f"/help@{BOT_USERNAME}", chat=group)
        await fake_api.wait_calls("sendMessage", 3, chat_id=-500)

    texts = sorted(m.text for m in core.messages)
    assert texts == ["/help", "how are you?", "replying to you"]
    assert {m.user_id for m in core.messages} == {"101", "202"}
    assert all(not m.is_private for m in core.messages)
    assert all(m.mentions_bot for m in core.messages if not m.text.startswith("/"))


async def test_edits_bots_and_non_text(fake_api: FakeBotApi) -> None:
    core = RecordingCore()
    async with running(make_adapter(fake_api, core)):
        await fake_api.push_text(ALICE, "edited text", kind="edited_message")
        await fake_api.push_text(user(303, "Other bot", is_bot=True), "I am a bot")
        sticker = {
            "message_id": 5,
            "date": 0,
            "chat": {"id": 101, "type": "private"},
            "from": ALICE,
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        }
        await fake_api.push({"message": sticker})
        (note,) = await fake_api.wait_calls("sendMessage", chat_id=101)
    assert core.messages == []
    assert "text" in note.params["text"] and "reply_markup" not in note.params
    assert fake_api.of("sendMessage", chat_id=303) == []


async def test_thumbs_up_then_down_is_stored_acknowledged_and_shown(fake_api: FakeBotApi) -> None:
    core = RecordingCore()
    async with running(make_adapter(fake_api, core)):
        await fake_api.push_text(ALICE, "rate me")
        (sent,) = await fake_api.wait_calls("sendMessage", chat_id=101)
        message = sent.result
        up, down = (b["callback_data"] for b in markup_of(sent.params)[0])

        core.gate = asyncio.Event()
        core.entered.clear()
        await fake_api.push_callback(ALICE, message, up)
        await core.entered.wait()
        assert fake_api.of("answerCallbackQuery") == []  # not before it is stored
        core.gate.set()
        await fake_api.wait_calls("editMessageReplyMarkup", 1)
        assert _labels(fake_api.message(101, message["message_id"])) == ["👍 ✓", "👎"]

        await fake_api.push_callback(ALICE, fake_api.message(101, message["message_id"]), down)
        await fake_api.wait_calls("editMessageReplyMarkup", 2)
        assert _labels(fake_api.message(101, message["message_id"])) == ["👍", "👎 ✓"]

    assert [p.value for p in core.presses] == [FeedbackValue.UP, FeedbackValue.DOWN]
    assert core.stored == {1: FeedbackValue.DOWN}
    answers = fake_api.of("answerCallbackQuery")
    assert len(answers) == 2 and all(a.params["text"] for a in answers)


async def test_forged_and_unknown_presses_are_refused_politely(fake_api: FakeBotApi) -> None:
    core = RecordingCore()
    async with running(make_adapter(fake_api, core)):
        await fake_api.push_text(ALICE, "mine")
        (sent,) = await fake_api.wait_calls("sendMessage", chat_id=101)
        message = sent.result
        up = markup_of(sent.params)[0][0]["callback_data"]
        await fake_api.push_callback(BOB, message, up)  # Bob presses Alice's button
        await fake_api.push_callback(ALICE, message, up[:-1] + ("A" if up[-1] != "A" else "B"))
        gone = CODEC.feedback(99, FeedbackValue.UP, "101")  # signed, but the core forgot it
        await fake_api.push_callback(ALICE, message, gone)
        answers = await fake_api.wait_calls("answerCallbackQuery", 3)

    assert [p.interaction_id for p in core.presses] == [99]
    assert core.stored == {}
    assert all(a.params.get("text") for a in answers)
    assert fake_api.of("editMessageReplyMarkup") == []


async def test_long_reply_is_split_with_keyboard_on_last_part(fake_api: FakeBotApi) -> None:
    sentence = "This is a sentence of a long and thoughtful answer. "
    text = (sentence * 100)[:5000]
    core = RecordingCore(lambda m: Reply(text=text, interaction_id=7))
    async with running(make_adapter(fake_api, core)):
        await fake_api.push_text(ALICE, "tell me everything")
        first, second = await fake_api.wait_calls("sendMessage", 2, chat_id=101)

    assert len(first.params["text"]) <= 4096 and first.params["text"].endswith(".")
    assert "reply_markup" not in first.params
    assert len(markup_of(second.params)[0]) == 2
    assert first.params["text"] + " " + second.params["text"] == text.strip()


async def test_confirmation_button_sends_the_command_back(fake_api: FakeBotApi) -> None:
    def answer(message: IncomingMessage) -> Reply:
        if message.text == "/forget":
            return Reply("Erase everything?", actions=(Action("Yes, erase", "/forget confirm"),))
        return Reply("Done, I erased everything about you.")

    core = RecordingCore(answer)
    async with running(make_adapter(fake_api, core)):
        await fake_api.push_text(ALICE, "/forget")
        (ask,) = await fake_api.wait_calls("sendMessage", chat_id=101)
        (row,) = markup_of(ask.params)
        message = ask.result
        await fake_api.push_callback(ALICE, message, row[0]["callback_data"])
        await fake_api.wait_calls("sendMessage", 2, chat_id=101)

    assert [m.text for m in core.messages] == ["/forget", "/forget confirm"]
    assert fake_api.message(101, message["message_id"]).get("reply_markup") is None
    assert len(fake_api.of("answerCallbackQuery")) == 1


async def test_attachments_are_sent_as_photo_and_document(fake_api: FakeBotApi) -> None:
    reply = Reply(
        "Your data:",
        attachments=(
            Attachment("radar.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png", "photo"),
            Attachment("export.json", b'{"user": "101"}', "application/json"),
        ),
        actions=(Action("OK", "/help"),),
    )
    core = RecordingCore(lambda m: reply)
    async with running(make_adapter(fake_api, core)):
        await fake_api.push_text(ALICE, "/export")
        (document,) = await fake_api.wait_calls("sendDocument", chat_id=101)
    (text,) = fake_api.of("sendMessage", chat_id=101)
    (photo,) = fake_api.of("sendPhoto", chat_id=101)
    assert "reply_markup" not in text.params and "reply_markup" not in photo.params
    assert document.files["document"] == b'{"user": "101"}'
    assert markup_of(document.params)[0][0]["text"] == "OK"


def _labels(message: dict[str, object]) -> list[str]:
    markup = message["reply_markup"]
    assert isinstance(markup, dict)
    return [b["text"] for b in markup["inline_keyboard"][-1]]
