from __future__ import annotations

import io
import json

from adapters.console import ConsoleAdapter
from bot.app import App

SCRIPT = "\n".join(
    [
        "# a comment",
        '{"user": "alice", "text": "I feel sad today", "feedback": "up"}',
        "this is not json",
        '{"user": "bob"}',
        '{"user": "bob", "text": 42}',
        "",
        '{"user": "bob", "text": "Good morning. Thank you.", "feedback": "sideways"}',
        '{"user": "bob", "text": "Good morning. Thank you."}',
        '{"user": "alice", "text": "/help"}',
    ]
)

EXPECTED_KEYS = {
    "user",
    "text",
    "reply",
    "signals",
    "persona",
    "strategy",
    "variant",
    "provider",
    "memories",
    "latency_ms",
}


async def test_script_json_output_and_bad_lines(app: App) -> None:
    out, errors = io.StringIO(), io.StringIO()
    answered = await ConsoleAdapter(app.pipeline, out).run_script(
        lambda: io.StringIO(SCRIPT), as_json=True, errors=errors
    )
    assert answered == 3
    turns = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [t["user"] for t in turns] == ["alice", "bob", "alice"]
    assert all(set(t) >= EXPECTED_KEYS for t in turns)
    first = turns[0]
    assert first["provider"] == "offline"
    assert set(first["signals"]["emotions"]) == {
        "anger",
        "disgust",
        "fear",
        "joy",
        "neutral",
        "sadness",
        "surprise",
    }
    assert -1 <= first["signals"]["sentiment"] <= 1
    assert all(0 <= v <= 1 for v in first["persona"].values())
    assert first["feedback"] == {
        "value": "up",
        "stored": True,
        "message": "Thanks for the feedback!",
    }
    assert "total" in first["latency_ms"]
    assert turns[2]["kind"] == "command"
    reported = errors.getvalue().splitlines()
    assert [line.split(":")[0] for line in reported] == ["line 3", "line 4", "line 5", "line 7"]


async def test_readable_output_shows_reply_signals_and_persona(app: App) -> None:
    out = io.StringIO()
    await ConsoleAdapter(app.pipeline, out).run_script(
        lambda: io.StringIO('{"user": "ann", "text": "hello"}'),
        as_json=False,
        errors=io.StringIO(),
    )
    text = out.getvalue()
    assert "ann › hello" in text
    assert "bot ‹" in text
    assert "signals:" in text and "persona:" in text


async def test_interactive_chat_and_rating(app: App) -> None:
    out = io.StringIO()
    await ConsoleAdapter(app.pipeline, out).run_interactive(
        "me", lambda: io.StringIO("-\nhello\n+\n")
    )
    text = out.getvalue()
    assert "nothing to rate yet" in text
    assert "Thanks for the feedback!" in text
    row = await app.db.fetchone("SELECT value FROM feedback")
    assert row is not None and row[0] == "up"
