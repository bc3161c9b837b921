"""Which Telegram messages the bot answers, and what the core receives for them.

Private chats: every text. Groups: only text that mentions the bot, replies to it or is a
command (a command addressed to another bot with `/cmd@otherbot` is not ours). Edits never
reach this module (the adapter only subscribes to new messages); messages from bots and from
channels are ignored; non-text content addressed to the bot gets a short note instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from telegram import Message, MessageEntity
from telegram.constants import ChatType

from bot.events import IncomingMessage, Platform

NON_TEXT_NOTE = "I can only read text for now. Could you tell me in words?"


@dataclass(frozen=True, slots=True)
class BotIdentity:
    id: int
    username: str


class Skip(Enum):
    IGNORE = "ignore"
    NOTE = "note"
    """Addressed to the bot but not text: answer with `NON_TEXT_NOTE`."""


def route_message(message: Message, bot: BotIdentity) -> IncomingMessage | Skip:
    sender = message.from_user
    if sender is None or sender.is_bot or message.sender_chat is not None:
        return Skip.IGNORE
    private = message.chat.type == ChatType.PRIVATE
    mentioned = _mentions(message, bot) or _replies_to(message, bot)
    text = message.text
    if text is None:
        has_content = message.effective_attachment is not None
        return Skip.NOTE if has_content and (private or mentioned) else Skip.IGNORE
    command = _command_text(text, bot)
    if command is None:
        return Skip.IGNORE
    if not (private or mentioned or command):
        return Skip.IGNORE
    reply = message.reply_to_message
    return IncomingMessage(
        platform=Platform.TELEGRAM,
        chat_id=str(message.chat.id),
        user_id=str(sender.id),
        display_name=sender.full_name,
        text=command or _without_mention(text, bot),
        message_id=str(message.message_id),
        reply_to=None if reply is None else str(reply.message_id),
        is_private=private,
        mentions_bot=mentioned,
    )


def _mentions(message: Message, bot: BotIdentity) -> bool:
    handle = "@" + bot.username.lower()
    entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    entities.update(
        message.parse_caption_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    )
    for entity, text in entities.items():
        if entity.type == MessageEntity.TEXT_MENTION:
            if entity.user is not None and entity.user.id == bot.id:
                return True
        elif text.lower() == handle:
            return True
    return False


def _replies_to(message: Message, bot: BotIdentity) -> bool:
    original = message.reply_to_message
    return (
        original is not None and original.from_user is not None and original.from_user.id == bot.id
    )


def _command_text(text: str, bot: BotIdentity) -> str | None:
    """The command with any `@ourbot` suffix removed; "" when `text` is not a command;
    None when it is a command addressed to another bot."""
    if not text.startswith("/"):
        return ""
    head, sep, rest = text.partition(" ")
    name, _, target = head.partition("@")
    if target and target.lower() != bot.username.lower():
        return None
    return name + sep + rest


def _without_mention(text: str, bot: BotIdentity) -> str:
    cleaned = re.sub(rf"[ \t]*@{re.escape(bot.username)}\b", "", text, flags=re.IGNORECASE)
    return cleaned.strip() or text
