"""The Discord adapter on discord.py: messages, slash commands and buttons to and from the core.

What is answered: every text DM; in guild channels and threads only messages that mention the
bot or reply to it (and slash commands); never other bots. One profile per person across
guilds: the user id is the Discord user id, whatever the guild.

discord.py keeps the REST base and the gateway URL as class attributes
(`discord.http.Route.BASE`, `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`), so a
configured `api_base_url` / `gateway_url` applies to the whole process.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.backoff import ExponentialBackoff

from adapters.base import CoreService
from adapters.callbacks import CallbackCodec
from adapters.discord_buttons import SignedButton
from adapters.discord_commands import build_commands
from adapters.discord_interactions import InteractionHandler
from adapters.discord_render import NO_MENTIONS, render_reply
from bot.config import DiscordSection
from bot.events import IncomingMessage, Platform, Reply

log = logging.getLogger(__name__)

ATTACHMENTS_ONLY = "I can only read text for now. Could you tell me in words what you sent?"
SENT_PRIVATELY = "That one is about you, so I've sent it to you in a direct message."
DMS_CLOSED = "That one is about you; please use the slash command or open your DMs to me."

_CONNECTION_ERRORS = (
    OSError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    discord.HTTPException,
    discord.GatewayNotFound,
    discord.ConnectionClosed,
)


def intents() -> discord.Intents:
    """Guilds, guild messages, DMs and the privileged message-content intent."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True
    return wanted


class AttuneClient(discord.AutoShardedClient):
    """discord.py client that hands events to the adapter; owns the command tree."""

    def __init__(
        self, adapter: DiscordAdapter, settings: DiscordSection, guild_ready_timeout_s: float
    ) -> None:
        sharding: dict[str, int | list[int]] = {}
        if settings.shard_count:
            sharding["shard_count"] = settings.shard_count
        if settings.shard_ids:
            sharding["shard_ids"] = list(settings.shard_ids)
        super().__init__(
            intents=intents(),
            allowed_mentions=NO_MENTIONS,
            chunk_guilds_at_startup=False,
            guild_ready_timeout=guild_ready_timeout_s,
            member_cache_flags=discord.MemberCacheFlags.none(),
            **sharding,  # type: ignore[arg-type]  # discord.py types these as non-optional
        )
        self.adapter = adapter
        self.button_handler = adapter.interactions
        self.tree: app_commands.CommandTree[AttuneClient] = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(SignedButton)
        handler = self.adapter.interactions
        commands = build_commands(
            self.adapter.commands,
            self.adapter.admin_commands,
            handler.on_slash,
            handler.on_admin_slash,
        )
        for command in commands:
            self.tree.add_command(command)
        await self.adapter.sync_commands(self.tree)

    async def on_ready(self) -> None:
        self.adapter.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)


class DiscordAdapter:
    name = "discord"

    def __init__(
        self,
        core: CoreService,
        settings: DiscordSection,
        token: str,
        codec: CallbackCodec,
        commands: Sequence[tuple[str, str]],
        is_admin: Callable[[str], bool],
        *,
        admin_commands: Sequence[tuple[str, str]] = (),
        ack_deadline_s: float = 2.0,
        guild_ready_timeout_s: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`admin_commands`: (name, description) pairs offered as /admin subcommands.
        `ack_deadline_s`: how long an interaction waits for the core before it is deferred
        (Discord allows 3 s). `guild_ready_timeout_s`: how long discord.py waits for more
        guilds after READY before it reports ready. `sleep`: waits between connection
        attempts (injectable for tests)."""
        self.core = core
        self.settings = settings
        self.codec = codec
        self.commands = tuple(commands)
        self.admin_commands = tuple(admin_commands)
        self.interactions = InteractionHandler(core, codec, is_admin, ack_deadline_s)
        self.ready = asyncio.Event()
        self._token = token
        self._sleep = sleep
        self._guild_ready_timeout_s = guild_ready_timeout_s
        self._client: AttuneClient | None = None
        self._runner: asyncio.Task[None] | None = None
        self._attempted = asyncio.Event()
        self._stopping = False

    async def start(self) -> None:
        """Connect in the background; returns once connected or once the first attempt failed
        (the adapter then keeps retrying, so the process runs while Discord is unreachable)."""
        if self._runner is not None:
            return
        self._stopping = False
        configure_endpoints(self.settings)
        self._runner = asyncio.create_task(self._run(), name="discord-adapter")
        ready = asyncio.ensure_future(self.ready.wait())
        attempted = asyncio.ensure_future(self._attempted.wait())
        await asyncio.wait({ready, attempted}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        attempted.cancel()

    async def stop(self) -> None:
        self._stopping = True
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        self.ready.clear()

    async def _run(self) -> None:
        backoff: ExponentialBackoff[bool] = ExponentialBackoff()
        while not self._stopping:
            self.ready.clear()
            self._client = AttuneClient(self, self.settings, self._guild_ready_timeout_s)
            try:
                await self._client.start(self._token)
            except (discord.LoginFailure, discord.PrivilegedIntentsRequired):
                log.exception("Discord refused the bot; not retrying (check the token/intents)")
                return
            except _CONNECTION_ERRORS as exc:
                log.warning("Discord is unreachable (%s); retrying", type(exc).__name__)
            except Exception:
                # The process must keep running: log the fault and connect afresh.
                log.exception("the Discord client failed; reconnecting")
            finally:
                await self._client.close()
                self._attempted.set()
            if not self._stopping:
                await self._sleep(backoff.delay())

    async def sync_commands(self, tree: app_commands.CommandTree[AttuneClient]) -> None:
        """Publish slash commands: to the configured guilds at once, else globally."""
        try:
            if not self.settings.guild_ids:
                await tree.sync()
            for guild_id in self.settings.guild_ids:
                guild = discord.Object(id=guild_id)
                tree.copy_global_to(guild=guild)
                await tree.sync(guild=guild)
        except discord.HTTPException:
            log.exception("could not sync slash commands; the old ones stay in place")

    async def on_message(self, message: discord.Message) -> None:
        client = self._client
        if client is None or client.user is None or message.author.bot:
            return
        me = client.user
        in_guild = message.guild is not None
        mentioned = any(user.id == me.id for user in message.mentions)
        if in_guild and not (mentioned or _replies_to(message, me.id)):
            return
        text = _strip_mention(message.content, me.id)
        if not text:
            if message.attachments:
                await message.reply(ATTACHMENTS_ONLY, allowed_mentions=NO_MENTIONS)
            return
        incoming = IncomingMessage(
            platform=Platform.DISCORD,
            chat_id=str(message.channel.id),
            user_id=str(message.author.id),
            display_name=message.author.display_name,
            text=text,
            message_id=str(message.id),
            reply_to=str(message.reference.message_id) if message.reference else None,
            is_private=not in_guild,
            mentions_bot=mentioned,
        )
        async with message.channel.typing():
            reply = await self.core.handle_message(incoming)
        await self._deliver(message, reply)

    async def _deliver(self, message: discord.Message, reply: Reply) -> None:
        """Reply in the channel; personal answers to guild messages go to the user's DMs."""
        destination: discord.abc.Messageable = message.channel
        if message.guild is not None and reply.personal:
            try:
                destination = await message.author.create_dm()
                await self._send_parts(destination, reply, message.author.id, None)
            except discord.Forbidden:
                await message.reply(DMS_CLOSED, allowed_mentions=NO_MENTIONS)
                return
            await message.reply(SENT_PRIVATELY, allowed_mentions=NO_MENTIONS)
            return
        reference = message if message.guild is not None else None
        await self._send_parts(destination, reply, message.author.id, reference)

    async def _send_parts(
        self,
        destination: discord.abc.Messageable,
        reply: Reply,
        user_id: int,
        reference: discord.Message | None,
    ) -> None:
        for part in render_reply(reply, self.codec, str(user_id)):
            extra = part.extras()
            if reference is not None:
                extra["reference"] = reference
            await destination.send(part.content, allowed_mentions=NO_MENTIONS, **extra)
            reference = None


def configure_endpoints(settings: DiscordSection) -> None:
    """Point discord.py at a Discord-compatible server when the settings name one."""
    if settings.api_base_url:
        discord.http.Route.BASE = settings.api_base_url.rstrip("/")
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def _replies_to(message: discord.Message, bot_id: int) -> bool:
    resolved = message.reference.resolved if message.reference else None
    return isinstance(resolved, discord.Message) and resolved.author.id == bot_id


def _strip_mention(content: str, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>", " ", content).strip()
