"""Rendering a `Reply` as Discord messages: text parts, files and buttons."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import discord

from adapters.callbacks import CallbackCodec
from adapters.discord_buttons import reply_view
from adapters.text import split_message
from bot.events import Reply

MESSAGE_LIMIT = 2000
NO_MENTIONS = discord.AllowedMentions.none()


@dataclass(frozen=True)
class OutgoingPart:
    """One Discord message. Files and buttons ride on the last part of a reply."""

    content: str
    files: tuple[discord.File, ...] = ()
    view: discord.ui.View | None = None

    def extras(self) -> dict[str, Any]:
        """`files` and `view` as keyword arguments, only when present (discord.py's send
        methods take "missing", not None, for "no view")."""
        extras: dict[str, Any] = {}
        if self.files:
            extras["files"] = list(self.files)
        if self.view is not None:
            extras["view"] = self.view
        return extras


def render_reply(reply: Reply, codec: CallbackCodec, user_id: str) -> list[OutgoingPart]:
    """The messages that carry `reply`, each within Discord's 2,000-character limit."""
    texts = split_message(reply.text, MESSAGE_LIMIT) or [""]
    files = tuple(discord.File(io.BytesIO(a.data), filename=a.filename) for a in reply.attachments)
    view = reply_view(codec, user_id, reply.interaction_id, reply.actions)
    parts = [OutgoingPart(text) for text in texts[:-1]]
    parts.append(OutgoingPart(texts[-1], files, view))
    return parts
