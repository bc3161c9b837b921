"""The Telegram adapter on python-telegram-bot's `Application`.

One update's path: `_on_message` (routing in `telegram_routing`) → the core, with a typing
indicator while it works → `_send_reply` (split at 4096, plain text, keyboard on the last
part). Button presses: `_on_callback` → the core stores the 👍/👎 → only then
answerCallbackQuery and the keyboard edit; confirmation buttons come back as the command text.
Every outgoing request passes `ChatFloodLimiter` (429 per chat, network/5xx backoff).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageLimit, UpdateType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.base import CoreService
from adapters.callbacks import ActionPress, CallbackCodec
from adapters.telegram_keyboards import reply_keyboard, with_choice
from adapters.telegram_retry import ChatFloodLimiter, RetryPolicy, Sleep
from adapters.telegram_routing import NON_TEXT_NOTE, BotIdentity, Skip, route_message
from adapters.text import split_message
from bot.config import TelegramSection
from bot.events import FeedbackEvent, IncomingMessage, Platform, Reply

logger = logging.getLogger(__name__)

NOT_YOURS = "Sorry, this button isn't for you."
TYPING_EVERY_S = 4.0
"""Telegram shows "typing…" for 5 s; renew it a little earlier while the core works."""
_ALLOWED_UPDATES = [UpdateType.MESSAGE, UpdateType.CALLBACK_QUERY]
_ANSWER_LIMIT = 200  # characters of an answerCallbackQuery notification


class TelegramAdapter:
    name = "telegram"

    def __init__(
        self,
        core: CoreService,
        settings: TelegramSection,
        token: str,
        codec: CallbackCodec,
        commands: Sequence[tuple[str, str]],
        admin_commands: Sequence[tuple[str, str]] = (),
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        environ: Mapping[str, str] | None = None,
        poll_timeout_s: int = 10,
    ) -> None:
        if settings.mode not in ("polling", "webhook"):
            raise ValueError(
                f"telegram.mode must be 'polling' or 'webhook', not {settings.mode!r}"
            )
        self._core = core
        self._settings = settings
        self._codec = codec
        self._commands = [BotCommand(c.lstrip("/"), d) for c, d in commands]
        self._admin_commands = [BotCommand(c.lstrip("/"), d) for c, d in admin_commands]
        self._poll_timeout_s = poll_timeout_s
        self._webhook_secret = self._read_secret(
            settings, os.environ if environ is None else environ
        )
        self._identity: BotIdentity | None = None
        limiter = ChatFloodLimiter(retry, sleep=sleep, rng=rng)
        builder = ApplicationBuilder().token(token).rate_limiter(limiter).concurrent_updates(True)
        if settings.base_url:
            builder = builder.base_url(settings.base_url).base_file_url(
                _file_url(settings.base_url)
            )
        self._app = builder.build()
        self._app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self._app.add_handler(CallbackQueryHandler(self._on_callback))
        self._app.add_error_handler(self._on_error)

    @staticmethod
    def _read_secret(settings: TelegramSection, environ: Mapping[str, str]) -> str:
        if settings.mode != "webhook":
            return ""
        secret = environ.get(settings.webhook_secret_env, "")
        if not secret or not settings.webhook_url:
            raise ValueError(
                "telegram.mode = 'webhook' needs telegram.webhook_url and a secret token in "
                f"${settings.webhook_secret_env} (telegram.webhook_secret_env)"
            )
        return secret

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        await self._app.initialize()
        bot = self._app.bot
        self._identity = BotIdentity(bot.id, bot.username)
        await self._register_commands()
        await self._app.start()
        updater = self._app.updater
        if updater is None:  # pragma: no cover - ApplicationBuilder always builds one
            raise RuntimeError("the Telegram application has no updater")
        if self._settings.mode == "webhook":
            await updater.start_webhook(
                listen=self._settings.webhook_listen,
                port=self._settings.webhook_port,
                url_path=urlparse(self._settings.webhook_url).path.lstrip("/"),
                webhook_url=self._settings.webhook_url,
                secret_token=self._webhook_secret,
                allowed_updates=_ALLOWED_UPDATES,
            )
        else:
            await updater.start_polling(
                timeout=self._poll_timeout_s,
                allowed_updates=_ALLOWED_UPDATES,
                error_callback=self._on_poll_error,
            )
        logger.info("Telegram adapter receiving (%s) as @%s", self._settings.mode, bot.username)

    async def stop(self) -> None:
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()

    async def _register_commands(self) -> None:
        bot = self._app.bot
        await bot.set_my_commands(self._commands)
        if not self._admin_commands:
            return
        for admin in self._settings.admins:
            if not admin.lstrip("-").isdigit():
                logger.warning("telegram.admins entry %r is not a numeric user id", admin)
                continue
            scope = BotCommandScopeChat(int(admin))
            await bot.set_my_commands(self._commands + self._admin_commands, scope=scope)

    # ---- incoming ---------------------------------------------------------------------
    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or self._identity is None:
            return
        route = route_message(message, self._identity)
        if route is Skip.IGNORE:
            return
        reply_to = None if message.chat.type == ChatType.PRIVATE else message.message_id
        if route is Skip.NOTE:
            await self._app.bot.send_message(
                message.chat.id, NON_TEXT_NOTE, reply_parameters=_quote(reply_to)
            )
            return
        reply = await self._generate(route)
        await self._send_reply(message.chat.id, route.user_id, reply, reply_to)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        user_id = str(query.from_user.id)
        press = self._codec.decode(query.data or "", user_id)
        if press is None:
            await query.answer(NOT_YOURS)
            return
        if isinstance(press, ActionPress):
            await self._on_action(query, press.command, user_id)
            return
        event = FeedbackEvent(Platform.TELEGRAM, user_id, press.interaction_id, press.value)
        outcome = await self._core.handle_feedback(event)
        await query.answer(outcome.message[:_ANSWER_LIMIT] or None)
        if not outcome.stored or not isinstance(query.message, Message):
            return
        markup = with_choice(
            query.message.reply_markup,
            self._codec,
            press.interaction_id,
            user_id,
            outcome.value or press.value,
        )
        await _edit_markup(query, markup)

    async def _on_action(self, query: CallbackQuery, command: str, user_id: str) -> None:
        """A confirmation button: acknowledge, take the buttons away so it cannot be pressed
        twice, and hand the command to the core as if the user had typed it."""
        await query.answer()
        message = query.message
        if not isinstance(message, Message):
            return
        await _edit_markup(query, None)
        incoming = IncomingMessage(
            platform=Platform.TELEGRAM,
            chat_id=str(message.chat.id),
            user_id=user_id,
            display_name=query.from_user.full_name,
            text=command,
            is_private=message.chat.type == ChatType.PRIVATE,
            mentions_bot=True,
        )
        reply = await self._generate(incoming)
        await self._send_reply(message.chat.id, user_id, reply, None)

    async def _generate(self, message: IncomingMessage) -> Reply:
        typing = asyncio.create_task(self._keep_typing(int(message.chat_id)))
        try:
            return await self._core.handle_message(message)
        finally:
            typing.cancel()
            await asyncio.gather(typing, return_exceptions=True)

    async def _keep_typing(self, chat_id: int) -> None:
        while True:
            try:
                await self._app.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as exc:
                logger.debug("typing indicator failed: %s", type(exc).__name__)
            await asyncio.sleep(TYPING_EVERY_S)

    # ---- outgoing ---------------------------------------------------------------------
    async def _send_reply(
        self, chat_id: int, user_id: str, reply: Reply, reply_to: int | None
    ) -> None:
        """Text parts first, then attachments; only the last message carries the keyboard."""
        bot = self._app.bot
        parts = split_message(reply.text, MessageLimit.MAX_TEXT_LENGTH) if reply.text else []
        markup = reply_keyboard(self._codec, reply, user_id)
        last = len(parts) + len(reply.attachments) - 1
        quote = _quote(reply_to)
        for index, part in enumerate(parts):
            await bot.send_message(
                chat_id,
                part,
                reply_markup=markup if index == last else None,
                reply_parameters=quote if index == 0 else None,
            )
        for index, attachment in enumerate(reply.attachments, start=len(parts)):
            kwargs: dict[str, Any] = {"reply_markup": markup if index == last else None}
            upload = InputFile(attachment.data, filename=attachment.filename)
            if attachment.kind == "photo":
                await bot.send_photo(chat_id, upload, **kwargs)
            else:
                await bot.send_document(chat_id, upload, **kwargs)

    # ---- errors -----------------------------------------------------------------------
    def _on_poll_error(self, error: TelegramError) -> None:
        logger.warning("Telegram polling failed (%s); retrying", type(error).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        logger.error("Telegram update %s failed", update_id, exc_info=context.error)


async def _edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def _quote(message_id: int | None) -> ReplyParameters | None:
    """Reply to the user's message (groups), still sending if it was deleted meanwhile."""
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


def _file_url(base_url: str) -> str:
    """The file endpoint of a local Bot API server: ".../bot" → ".../file/bot"."""
    root, sep, _ = base_url.rpartition("/bot")
    return f"{root}/file/bot" if sep else base_url
