"""`attune` (also `python -m bot`): run, chat, analyze, migrate, train-emotion.

Exit codes: 0 ok, 2 usage or configuration error (one line naming the key), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.logs import configure_logging
from bot.storage.db import Database, StorageError
from bot.storage.migrations import MigrationError, apply_migrations

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attune", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.add_argument(
            "--config",
            type=Path,
            default=None,
            help="config file (default: $ATTUNE_CONFIG, then ./config.toml)",
        )
        return command

    with_config("run", "run the bot: every enabled adapter, until SIGINT/SIGTERM")
    chat = with_config("chat", "chat in the terminal, or run a scripted conversation")
    chat.add_argument("--user", default="console", help="your user id (default: console)")
    chat.add_argument("--script", type=Path, help="JSON lines to play instead of typing")
    chat.add_argument("--json", action="store_true", help="print one JSON object per turn")
    with_config("analyze", "print the signals of each stdin line as JSON")
    with_config("migrate", "apply pending database migrations")
    train = sub.add_parser(
        "train-emotion", help="train the emotion layers (fine-tuned MiniLM top) on GoEmotions"
    )
    train.add_argument("--data", type=Path, default=None, help="the goemotions folder")
    train.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write them (default: the committed file; a .json path trains the "
        "fallback head instead)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    configure_logging(args.log_level.upper())
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"attune: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (MigrationError, StorageError) as exc:
        print(f"attune: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "train-emotion":
        from bot.analysis_cli import run_train_emotion

        return run_train_emotion(args.data, args.out)
    config = load_config(args.config)
    if args.command == "migrate":
        return asyncio.run(_migrate(config))
    if args.command == "chat":
        return asyncio.run(_chat(config, args.user, args.script, args.json))
    if args.command == "run":
        return asyncio.run(_run(config))
    if args.command == "analyze":
        from bot.analysis_cli import load_analysis, run_analyze

        analyzer, embedder = load_analysis(with_model=config.analysis.embeddings)
        return run_analyze(analyzer, sys.stdin, sys.stdout, embedder)
    raise AssertionError(f"unhandled command {args.command}")  # pragma: no cover


async def _migrate(config: Config) -> int:
    db = await Database.open(
        config.resolve(config.storage.path), busy_timeout_ms=config.storage.busy_timeout_ms
    )
    try:
        applied = await apply_migrations(db)
    finally:
        await db.close()
    if applied:
        for migration in applied:
            print(f"applied {migration.filename}")
    else:
        print("nothing to apply: the database is up to date")
    return EXIT_OK


async def _chat(config: Config, user: str, script: Path | None, as_json: bool) -> int:
    from adapters.console import ConsoleAdapter
    from bot.app import App

    app = await App.create(config)
    console = ConsoleAdapter(app.pipeline)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    # SIGTERM/SIGINT end the conversation; what was answered is already committed.
    for signum in (signal.SIGINT, signal.SIGTERM):
        if task is not None:
            loop.add_signal_handler(signum, task.cancel)
    try:
        if script is None:
            await console.run_interactive(user)
        else:
            await console.run_script(
                lambda: script.open(encoding="utf-8", errors="replace"),
                as_json=as_json,
                errors=sys.stderr,
            )
    except asyncio.CancelledError:
        log.info("chat interrupted by a signal")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        await app.aclose()
    return EXIT_OK


async def _run(config: Config) -> int:
    from bot.app import App, serve

    app = await App.create(config)
    try:
        await serve(app)
    finally:
        await app.aclose()
    return EXIT_OK
