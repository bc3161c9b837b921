"""Discord interactions: slash commands and button presses, answered within Discord's window.

Discord drops an interaction that is not acknowledged within 3 seconds. Each handler starts the
core call, waits for it up to `ack_deadline_s`, and defers the response if it is not done by
then; the answer follows once the core has finished (for a press: once it is stored).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import discord

from adapters.base import CoreService
from adapters.callbacks import ActionPress, CallbackCodec, FeedbackPress
from adapters.discord_buttons import feedback_interaction_id, reply_view
from adapters.discord_render import NO_MENTIONS, render_reply
from bot.events import FeedbackEvent, IncomingMessage, Platform, Reply

log = logging.getLogger(__name__)

T = TypeVar("T")

NOT_YOURS = "These buttons belong to someone else's conversation with me, so I can't take that."
ADMINS_ONLY = "Sorry, that command is only for the bot's operators."


class InteractionHandler:
    def __init__(
        self,
        core: CoreService,
        codec: CallbackCodec,
        is_admin: Callable[[str], bool],
        ack_deadline_s: float,
    ) -> None:
        self._core = core
        self._codec = codec
        self._is_admin = is_admin
        self._ack_deadline_s = ack_deadline_s

    async def on_admin_slash(self, interaction: discord.Interaction[Any], text: str) -> None:
        """An /admin subcommand: refused here already unless the user is a configured admin."""
        if not self._is_admin(str(interaction.user.id)):
            log.warning("refused an admin slash command from a non-admin")
            await interaction.response.send_message(ADMINS_ONLY, ephemeral=True)
            return
        await self.on_slash(interaction, text)

    async def on_slash(self, interaction: discord.Interaction[Any], text: str) -> None:
        """A slash command, already turned into its text form. In guilds, a deferred answer is
        ephemeral: Discord fixes the visibility when deferring, before the reply is known."""
        in_guild = interaction.guild_id is not None
        message = self._incoming(interaction, text, str(interaction.id))
        reply, deferred = await self._acknowledged(
            self._core.handle_message(message),
            lambda: interaction.response.defer(ephemeral=in_guild, thinking=True),
        )
        ephemeral = in_guild and (reply.personal or deferred)
        await self._send(interaction, reply, ephemeral)

    async def on_button(self, interaction: discord.Interaction[Any], payload: str) -> None:
        """A press on one of our signed buttons; refused unless it was made for the presser."""
        user_id = str(interaction.user.id)
        press = self._codec.decode(payload, user_id)
        if isinstance(press, FeedbackPress):
            await self._feedback(interaction, press)
        elif isinstance(press, ActionPress):
            await self._action(interaction, press)
        else:
            log.info("refused a button press not made for its presser")
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)

    async def _feedback(self, interaction: discord.Interaction[Any], press: FeedbackPress) -> None:
        user_id = str(interaction.user.id)
        event = FeedbackEvent(Platform.DISCORD, user_id, press.interaction_id, press.value)
        outcome, deferred = await self._acknowledged(
            self._core.handle_feedback(event), interaction.response.defer
        )
        if not outcome.stored:
            await self._say(interaction, outcome.message, deferred)
            return
        chosen = outcome.value or press.value
        view = reply_view(self._codec, user_id, press.interaction_id, chosen=chosen)
        if deferred:
            await interaction.edit_original_response(view=view)
        else:
            await interaction.response.edit_message(view=view)

    async def _action(self, interaction: discord.Interaction[Any], press: ActionPress) -> None:
        """A confirmation button: run its command, then drop the confirmation buttons."""
        user_id = str(interaction.user.id)
        origin = interaction.message
        message = self._incoming(interaction, press.command, str(interaction.id))
        reply, deferred = await self._acknowledged(
            self._core.handle_message(message), interaction.response.defer
        )
        rows = origin.components if origin is not None else []
        kept = reply_view(
            self._codec, user_id, feedback_interaction_id(self._codec, user_id, rows)
        )
        if deferred:
            await interaction.edit_original_response(view=kept)
        else:
            await interaction.response.edit_message(view=kept)
        await self._send(interaction, reply, interaction.guild_id is not None and reply.personal)

    def _incoming(
        self, interaction: discord.Interaction[Any], text: str, message_id: str
    ) -> IncomingMessage:
        return IncomingMessage(
            platform=Platform.DISCORD,
            chat_id=str(interaction.channel_id),
            user_id=str(interaction.user.id),
            display_name=interaction.user.display_name,
            text=text,
            message_id=message_id,
            is_private=interaction.guild_id is None,
            mentions_bot=True,
        )

    async def _acknowledged(
        self, work: Coroutine[Any, Any, T], defer: Callable[[], Awaitable[Any]]
    ) -> tuple[T, bool]:
        """`work`'s result, and whether the interaction had to be deferred to wait for it."""
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=self._ack_deadline_s)
        if done:
            return task.result(), False
        await defer()
        return await task, True

    async def _send(
        self, interaction: discord.Interaction[Any], reply: Reply, ephemeral: bool
    ) -> None:
        for part in render_reply(reply, self._codec, str(interaction.user.id)):
            extra = part.extras()
            if interaction.response.is_done():
                await interaction.followup.send(
                    part.content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, **extra
                )
            else:
                await interaction.response.send_message(
                    part.content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, **extra
                )

    async def _say(self, interaction: discord.Interaction[Any], text: str, deferred: bool) -> None:
        if deferred:
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
