"""The command service: every `/command`, free of any transport.

Adapters only map platform input to text and render the `Reply`; what a command does and who
may run it is decided here, once, for every platform (Red-DiscordBot's CoreLogic split).
Other modules add their commands with `register`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.events import Action, Attachment, Platform, Reply
from bot.logs import user_tag
from bot.stages import Turn
from bot.storage.conversations import ConversationStore

log = logging.getLogger(__name__)

Handler = Callable[["CommandContext"], Awaitable[Reply]]
FORGET_CONFIRM = "/forget confirm"


@dataclass(frozen=True, slots=True)
class CommandContext:
    turn: Turn
    name: str
    args: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str
    handler: Handler
    admin: bool = False


class AdminPolicy:
    """Who is an admin: `[telegram] admins`, `[discord] admins`, and the console operator."""

    def __init__(self, admins: Mapping[Platform, frozenset[str]], console_admin: bool) -> None:
        self._admins = admins
        self._console_admin = console_admin

    def is_admin(self, platform: Platform, user_id: str) -> bool:
        if platform is Platform.CONSOLE:
            return self._console_admin
        return user_id in self._admins.get(platform, frozenset())


class CommandService:
    def __init__(self, bot_name: str, store: ConversationStore, admins: AdminPolicy) -> None:
        self._bot_name = bot_name
        self._store = store
        self._admins = admins
        self._commands: dict[str, Command] = {}
        self._forget_hooks: list[Callable[[int], Awaitable[None]]] = []
        self.register("start", "say hello and see what I can do", self._start)
        self.register("help", "list the commands", self._help)
        self.register("export", "get everything I store about you as a JSON file", self._export)
        self.register("forget", "erase everything I store about you", self._forget)

    def register(
        self, name: str, description: str, handler: Handler, *, admin: bool = False
    ) -> None:
        if name in self._commands:
            raise ValueError(f"command /{name} is already registered")
        self._commands[name] = Command(name, description, handler, admin)

    def on_forget(self, hook: Callable[[int], Awaitable[None]]) -> None:
        """Call `hook(user_row_id)` after /forget erased a user (to drop their caches)."""
        self._forget_hooks.append(hook)

    def public_commands(self) -> list[tuple[str, str]]:
        """(name, description) of the commands everyone may use, for platform menus."""
        return [(c.name, c.description) for c in self._commands.values() if not c.admin]

    def admin_commands(self) -> list[tuple[str, str]]:
        return [(c.name, c.description) for c in self._commands.values() if c.admin]

    async def execute(self, turn: Turn) -> Reply:
        head, _, args = turn.text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()  # Telegram appends @botname in groups
        command = self._commands.get(name)
        if command is None:
            return Reply(f"I don't know /{name[:32]}. Send /help to see what I can do.")
        admin = self._admins.is_admin(turn.message.platform, turn.message.user_id)
        if command.admin and not admin:
            log.warning("refused admin command /%s user=%s", name, user_tag(turn.message.user_key))
            return Reply("That command is for the bot's admins only.")
        return await command.handler(CommandContext(turn, name, args.strip(), admin))

    async def _start(self, ctx: CommandContext) -> Reply:
        name = ctx.turn.message.display_name or "there"
        return Reply(
            f"Hi {name}, I'm {self._bot_name}. Just talk to me: I learn how you like to "
            "talk and adapt to you. Rate my replies with 👍/👎 so I get better. "
            "Send /help for the commands."
        )

    async def _help(self, ctx: CommandContext) -> Reply:
        lines = [f"/{c.name} - {c.description}" for c in self._commands.values() if not c.admin]
        if ctx.is_admin:
            lines += [
                f"/{c.name} - {c.description} (admin)" for c in self._commands.values() if c.admin
            ]
        return Reply("Commands:\n" + "\n".join(lines))

    async def _export(self, ctx: CommandContext) -> Reply:
        data = await self._store.export_user(ctx.turn.user.id)
        payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        return Reply(
            "Here is everything I store about you.",
            attachments=(Attachment("attune-export.json", payload, "application/json"),),
            personal=True,
        )

    async def _forget(self, ctx: CommandContext) -> Reply:
        if ctx.args != "confirm":
            return Reply(
                "This erases everything I store about you: messages, profile, memories and "
                "ratings. It cannot be undone. Are you sure?",
                actions=(Action("Yes, erase everything", FORGET_CONFIRM),),
                personal=True,
            )
        await self._store.forget_user(ctx.turn.user.id)
        for hook in self._forget_hooks:
            await hook(ctx.turn.user.id)
        log.info("erased user=%s", user_tag(ctx.turn.message.user_key))
        return Reply("Done: I have erased everything I stored about you.", personal=True)
