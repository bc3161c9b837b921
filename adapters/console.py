"""The console adapter: an interactive terminal chat, or a scripted conversation.

Scripted input is JSON lines `{"user": "alice", "text": "...", "feedback": "up"|"down"|null}`;
each line is answered in input order and printed either as one JSON object (`--json`, the
format of DESIGN.md) or readably for a person watching the demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from bot.core import TurnResult
from bot.events import FeedbackEvent, FeedbackOutcome, FeedbackValue, IncomingMessage, Platform
from personality.signals import TRAITS

log = logging.getLogger(__name__)
Opener = Callable[[], AbstractContextManager[TextIO]]


def _unclosed(stream: TextIO) -> AbstractContextManager[TextIO]:
    """A stream the reader may use but must not close (standard input)."""
    return contextlib.nullcontext(stream)


class ScriptableCore(Protocol):
    async def process(self, message: IncomingMessage) -> TurnResult: ...

    async def handle_feedback(self, event: FeedbackEvent) -> FeedbackOutcome: ...


@dataclass(frozen=True, slots=True)
class ScriptLine:
    number: int
    user: str
    text: str
    feedback: FeedbackValue | None


class ScriptError(ValueError):
    pass


class LineReader:
    """Lines read by a daemon thread, so a blocked read (a terminal, a FIFO) never holds up
    the event loop, its signal handlers or the process's exit.

    The thread opens, reads and closes the source itself: closing a file from another thread
    while a read is blocked on it would wait for that read forever.
    """

    def __init__(self, open_source: Opener) -> None:
        self._open_source = open_source
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, name="console-reader", daemon=True).start()

    def _pump(self) -> None:
        try:
            with self._open_source() as source:
                for line in source:
                    self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            self._loop.call_soon_threadsafe(log.error, "cannot read input: %s", exc)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                self._loop.call_soon_threadsafe(self._queue.put_nowait, "")

    async def readline(self) -> str:
        """The next line with its newline, or "" at end of input."""
        return await self._queue.get()


async def parse_script(lines: LineReader, errors: TextIO) -> AsyncIterator[ScriptLine]:
    """The usable lines of a script; each unusable one is reported on `errors` and skipped."""
    number = 0
    while raw := await lines.readline():
        number += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            yield _parse_line(number, stripped)
        except ScriptError as exc:
            print(f"line {number}: {exc}; skipped", file=errors, flush=True)


def _parse_line(number: int, raw: str) -> ScriptLine:
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ScriptError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(item, dict):
        raise ScriptError("expected a JSON object")
    text = item.get("text")
    if not isinstance(text, str):
        raise ScriptError('missing "text" (a string)')
    user = item.get("user", "console")
    if not isinstance(user, str | int) or isinstance(user, bool) or not str(user).strip():
        raise ScriptError('"user" must be a non-empty string')
    feedback = item.get("feedback")
    if feedback not in (None, "up", "down"):
        raise ScriptError('"feedback" must be "up", "down" or null')
    return ScriptLine(number, str(user), text, FeedbackValue(feedback) if feedback else None)


def console_message(user: str, text: str, number: int) -> IncomingMessage:
    return IncomingMessage(
        platform=Platform.CONSOLE,
        chat_id=f"console:{user}",
        user_id=user,
        display_name=user,
        text=text,
        message_id=str(number),
    )


class ConsoleAdapter:
    name = "console"

    def __init__(self, core: ScriptableCore, out: TextIO = sys.stdout) -> None:
        self._core = core
        self._out = out

    async def run_script(self, open_script: Opener, *, as_json: bool, errors: TextIO) -> int:
        """Answer every usable line of the script; returns how many were answered."""
        answered = 0
        async for line in parse_script(LineReader(open_script), errors):
            result = await self._core.process(console_message(line.user, line.text, line.number))
            feedback = await self._press(line.user, result, line.feedback)
            if as_json:
                print(
                    json.dumps(
                        turn_json(line.user, line.text, result, feedback), ensure_ascii=False
                    ),
                    file=self._out,
                    flush=True,
                )
            else:
                print(
                    render_turn(line.user, line.text, result, feedback), file=self._out, flush=True
                )
            answered += 1
        return answered

    async def run_interactive(
        self, user: str, open_source: Opener = lambda: _unclosed(sys.stdin)
    ) -> None:
        """Chat at the terminal. `+` / `-` rate the last reply; end of input (Ctrl-D) ends."""
        print(
            f"Chatting as {user!r}. Type a message; + or - rates the last reply; Ctrl-D to leave.",
            file=self._out,
            flush=True,
        )
        last: TurnResult | None = None
        number = 0
        reader = LineReader(open_source)
        while True:
            print("you › ", end="", file=self._out, flush=True)
            raw = await reader.readline()
            if not raw:
                print(file=self._out)
                return
            text = raw.rstrip("\n")
            if text.strip() in ("+", "-"):
                value = FeedbackValue.UP if text.strip() == "+" else FeedbackValue.DOWN
                outcome = await self._press(user, last, value)
                print(
                    f"   ({outcome['message'] if outcome else 'nothing to rate yet'})",
                    file=self._out,
                    flush=True,
                )
                continue
            number += 1
            last = await self._core.process(console_message(user, text, number))
            print(
                render_turn(user, text, last, None, show_input=False), file=self._out, flush=True
            )

    async def _press(
        self, user: str, result: TurnResult | None, value: FeedbackValue | None
    ) -> dict[str, Any] | None:
        if value is None or result is None or result.reply.interaction_id is None:
            return None
        outcome = await self._core.handle_feedback(
            FeedbackEvent(Platform.CONSOLE, user, result.reply.interaction_id, value)
        )
        return {"value": value.value, "stored": outcome.stored, "message": outcome.message}


def turn_json(
    user: str, text: str, result: TurnResult, feedback: dict[str, Any] | None
) -> dict[str, Any]:
    reply = result.reply
    return {
        "user": user,
        "text": text,
        "reply": reply.text,
        "kind": result.kind,
        "signals": result.signals.to_json(),
        "persona": {
            name: round(result.persona[name], 4) for name in TRAITS if name in result.persona
        },
        "strategy": result.strategy,
        "variant": result.variant,
        "provider": result.provider,
        "memories": list(result.memories),
        "latency_ms": {stage: round(ms, 3) for stage, ms in result.latency_ms.items()},
        "interaction_id": reply.interaction_id,
        "attachments": [a.filename for a in reply.attachments],
        "feedback": feedback,
    }


def render_turn(
    user: str,
    text: str,
    result: TurnResult,
    feedback: dict[str, Any] | None,
    *,
    show_input: bool = True,
) -> str:
    lines = [f"{user} › {text}"] if show_input else []
    lines.append(f"  bot ‹ {result.reply.text}")
    for attachment in result.reply.attachments:
        lines.append(f"        [attachment {attachment.filename}, {len(attachment.data)} bytes]")
    for action in result.reply.actions:
        lines.append(f"        [button: {action.label} → {action.command}]")
    if result.kind == "reply":
        s = result.signals
        lines.append(
            f"  signals: sentiment {s.sentiment:+.2f} · {s.emotion} "
            f"{s.emotions.get(s.emotion, 0.0):.2f} · formality {s.formality:.2f} · politeness "
            f"{s.politeness:.2f} · urgency {s.urgency:.2f}"
            + (" · CRISIS" if s.crisis else "")
            + f"  ({s.source})"
        )
        persona = " ".join(
            f"{name[:5]} {result.persona[name]:.2f}" for name in TRAITS if name in result.persona
        )
        lines.append(f"  persona: {persona}")
        memories = f" · recalled {len(result.memories)}" if result.memories else ""
        lines.append(
            f"  strategy {result.strategy} · provider {result.provider}{memories} · "
            f"{result.latency_ms.get('total', 0.0):.1f} ms"
        )
    if feedback:
        lines.append(f"  feedback {feedback['value']}: {feedback['message']}")
    return "\n".join(lines)
