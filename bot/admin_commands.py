"""`/admin ...`: the operators' commands, for admins only (the command service checks).

Each area registers its subcommands here (`providers`, `task`, `experiment`), so `/admin`
stays one entry in the platform menus and one place that decides who may run it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.commands import CommandContext, CommandService
from bot.events import Reply
from bot.llm.router import ProviderRouter
from bot.llm.status import format_status
from scheduler.jobs import TASK_NAMES, TaskService, UnknownTaskError

SubHandler = Callable[[CommandContext, str], Awaitable[Reply]]


class AdminCommands:
    def __init__(self) -> None:
        self._subcommands: dict[str, tuple[str, SubHandler]] = {}

    def register(self, commands: CommandService) -> None:
        commands.register("admin", "operator commands (/admin help)", self.run, admin=True)

    def add(self, name: str, usage: str, handler: SubHandler) -> None:
        self._subcommands[name] = (usage, handler)

    def subcommands(self) -> list[tuple[str, str]]:
        """(name, usage) of each subcommand, for platforms that list them (Discord)."""
        return [(name, usage) for name, (usage, _) in self._subcommands.items()]

    def usage(self) -> str:
        return "Admin commands:\n" + "\n".join(
            f"/admin {usage}" for usage, _ in self._subcommands.values()
        )

    async def run(self, ctx: CommandContext) -> Reply:
        name, _, rest = ctx.args.partition(" ")
        entry = self._subcommands.get(name.lower())
        if entry is None:
            return Reply(self.usage())
        return await entry[1](ctx, rest.strip())


def provider_commands(router: ProviderRouter) -> SubHandler:
    async def providers(ctx: CommandContext, args: str) -> Reply:
        return Reply(format_status(router.snapshot()))

    return providers


def task_commands(tasks: TaskService) -> SubHandler:
    async def task(ctx: CommandContext, args: str) -> Reply:
        verb, _, name = args.partition(" ")
        if verb == "run" and name.strip():
            try:
                run = await tasks.run_task(name.strip())
            except UnknownTaskError:
                return Reply(
                    f"Unknown task {name.strip()[:40]!r}. Tasks: {', '.join(TASK_NAMES)}."
                )
            return Reply(run.summary())
        if verb == "history":
            runs = await tasks.task_history()
            if not runs:
                return Reply("No task has run yet.")
            return Reply("\n".join(run.summary() for run in runs))
        return Reply(
            f"Usage: /admin task run NAME ({', '.join(TASK_NAMES)}) or /admin task history"
        )

    return task
