"""Slash commands: every user command of the command service, and an /admin group.

A slash command is turned back into the text command the core already understands
(`/remember text:tea` -> "/remember tea", `/admin task text:history` -> "/admin task
history"), so commands are
implemented once, in the command service, for every platform. The /admin group is shown by
Discord only to members with the administrator permission; the adapter and the command service
check the admin list as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord import app_commands

SlashHandler = Callable[[discord.Interaction[Any], str], Awaitable[None]]
"""Receives the interaction and the command as text, e.g. "/remember tea"."""

_ARG_HELP = "what to pass to the command (optional)"

AnyCommand = app_commands.Command[Any, Any, None] | app_commands.Group


def as_text(name: str, text: str | None) -> str:
    return f"/{name} {text.strip()}" if text and text.strip() else f"/{name}"


def build_commands(
    commands: Sequence[tuple[str, str]],
    admin_commands: Sequence[tuple[str, str]],
    handle: SlashHandler,
    handle_admin: SlashHandler,
) -> list[AnyCommand]:
    """App commands for (name, description) pairs: user commands at the top level, admin
    commands under /admin, each with an optional `text` argument."""
    built: list[AnyCommand] = [_command(n, d, handle) for n, d in commands]
    if admin_commands:
        group = app_commands.Group(
            name="admin",
            description="Operator commands",
            default_permissions=discord.Permissions(administrator=True),
        )
        for name, description in admin_commands:
            group.add_command(_command(name, description, handle_admin, prefix="admin "))
        built.append(group)
    return built


def _command(
    raw_name: str, description: str, handle: SlashHandler, *, prefix: str = ""
) -> app_commands.Command[Any, Any, None]:
    """`prefix` is the text command a subcommand belongs to: the /admin group's `task`
    becomes "/admin task ..." for the command service."""
    name = raw_name.lstrip("/").lower()

    @app_commands.describe(text=_ARG_HELP)
    async def callback(interaction: discord.Interaction[Any], text: str | None = None) -> None:
        await handle(interaction, as_text(prefix + name, text))

    return app_commands.Command(
        name=name, description=(description or name)[:100], callback=callback
    )
