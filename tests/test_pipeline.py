"""The pipeline end to end on embedded defaults, with hostile input and floods."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import sqlite3
from collections.abc import Sequence

from bot.app import App
from bot.clock import ManualClock
from bot.config import load_config
from bot.core import EMPTY_TEXT_REPLY, ERROR_REPLY, SLOW_DOWN_REPLY
from bot.events import FeedbackEvent, FeedbackValue, IncomingMessage, Platform
from bot.stages import Turn
from personality.signals import MessageSignals
from tests.conftest import ConfigWriter


def message(
    text: str, user: str = "u1", platform: Platform = Platform.TELEGRAM
) -> IncomingMessage:
    return IncomingMessage(
        platform, chat_id=f"c-{user}", user_id=user, display_name="Sam", text=text
    )


async def stored_texts(app: App, role: str = "user") -> list[str]:
    rows = await app.db.fetchall("SELECT text FROM messages WHERE role = ? ORDER BY id", (role,))
    return [row[0] for row in rows]


async def test_a_message_is_answered_and_recorded(app: App) -> None:
    result = await app.pipeline.process(message("Hello there, how are you?"))
    assert result.kind == "reply"
    assert result.provider == "offline"
    assert result.reply.text
    assert result.reply.interaction_id is not None
    assert set(result.persona) == set(app.config.persona.traits)
    assert {"analysis", "generation", "record", "total"} <= set(result.latency_ms)
    assert await stored_texts(app) == ["Hello there, how are you?"]
    assert await stored_texts(app, "bot") == [result.reply.text]


async def test_empty_and_whitespace_get_a_clear_answer(app: App) -> None:
    for text in ("", "   \n\t  ", "\x00\x01"):
        result = await app.pipeline.process(message(text))
        assert result.reply.text == EMPTY_TEXT_REPLY
    assert await stored_texts(app) == []


async def test_a_huge_message_is_cut_and_answered(app: App) -> None:
    result = await app.pipeline.process(message("word " * 20_000))
    assert result.kind == "reply"
    (stored,) = await stored_texts(app)
    assert len(stored) <= app.config.limits.max_message_chars


async def test_control_characters_surrogates_rtl_and_zalgo(app: App) -> None:
    zalgo = "h" + "\u0301\u0302\u0303\u0304\u0305\u0306" * 20 + "i"
    texts = ["nul\x00byte\x07bell", "bad \ud800 surrogate", "שלום عليكم hello", zalgo]
    for text in texts:
        result = await app.pipeline.process(message(text))
        assert result.kind == "reply"
    stored = await stored_texts(app)
    assert stored[0] == "nulbytebell"
    assert "\ud800" not in stored[1]
    assert stored[2] == "שלום عليكم hello"
    assert len(stored[3]) < 10  # runaway combining marks were dropped


async def test_a_flood_from_one_user_is_slowed_politely_and_kept_in_order(app: App) -> None:
    results = await asyncio.gather(*(app.pipeline.process(message(f"m{i}")) for i in range(200)))
    answered = [i for i, r in enumerate(results) if r.kind == "reply"]
    limited = [r for r in results if r.kind == "rate_limited"]
    assert len(answered) == int(app.config.limits.rate_capacity)
    assert all(r.reply.text == SLOW_DOWN_REPLY for r in limited)
    assert len(answered) + len(limited) == 200
    assert await stored_texts(app) == [f"m{i}" for i in answered]


async def test_the_console_operator_is_not_rate_limited_and_order_holds(app: App) -> None:
    texts = [f"line {i}" for i in range(200)]
    results = await asyncio.gather(
        *(app.pipeline.process(message(t, "op", Platform.CONSOLE)) for t in texts)
    )
    assert all(r.kind == "reply" for r in results)
    assert await stored_texts(app) == texts


async def test_many_users_concurrently_lose_nothing(app: App, clock: ManualClock) -> None:
    users = [f"user{i}" for i in range(300)]
    rounds = 3
    for r in range(rounds):
        results = await asyncio.gather(
            *(app.pipeline.process(message(f"{u}:{r}", u)) for u in users)
        )
        assert all(res.kind == "reply" for res in results)
        clock.advance(10)
    rows = await app.db.fetchall(
        "SELECT u.platform_user_id, m.text FROM messages m JOIN users u ON u.id = m.user_id"
        " WHERE m.role = 'user' ORDER BY m.id"
    )
    per_user: dict[str, list[str]] = {}
    for user, text in rows:
        per_user.setdefault(user, []).append(text)
    assert len(per_user) == len(users)
    assert all(texts == [f"{u}:{r}" for r in range(rounds)] for u, texts in per_user.items())


class ExplodingRecall:
    async def recall(self, turn: Turn, signals: MessageSignals) -> Sequence[str]:
        raise RuntimeError("the memory store caught fire")


async def test_a_failing_stage_gets_a_polite_reply_and_the_next_message_works(app: App) -> None:
    healthy = app.pipeline._stages
    app.pipeline._stages = dataclasses.replace(healthy, recall=ExplodingRecall())
    failed = await app.pipeline.process(message("hello"))
    assert failed.kind == "error"
    assert failed.reply.text == ERROR_REPLY
    app.pipeline._stages = healthy
    assert (await app.pipeline.process(message("hello again"))).kind == "reply"


async def test_feedback_is_stored_changed_and_guarded(app: App) -> None:
    result = await app.pipeline.process(message("rate me"))
    interaction = result.reply.interaction_id
    assert interaction is not None
    up = await app.pipeline.handle_feedback(
        FeedbackEvent(Platform.TELEGRAM, "u1", interaction, FeedbackValue.UP)
    )
    assert up.stored and not up.changed
    down = await app.pipeline.handle_feedback(
        FeedbackEvent(Platform.TELEGRAM, "u1", interaction, FeedbackValue.DOWN)
    )
    assert down.stored and down.changed
    row = await app.db.fetchone(
        "SELECT value, reward FROM feedback WHERE interaction_id = ?", (interaction,)
    )
    assert row is not None and tuple(row) == ("down", 0.0)
    forged = await app.pipeline.handle_feedback(
        FeedbackEvent(Platform.TELEGRAM, "intruder", interaction, FeedbackValue.UP)
    )
    assert not forged.stored
    unknown = await app.pipeline.handle_feedback(
        FeedbackEvent(Platform.TELEGRAM, "u1", 999_999, FeedbackValue.UP)
    )
    assert not unknown.stored and "no longer" in unknown.message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_provider_still_gets_the_user_an_answer(
    write_config: ConfigWriter, clock: ManualClock
) -> None:
    config = load_config(
        write_config(
            f'[[llm.providers]]\nname = "down"\nbase_url = "http://127.0.0.1:{closed_port()}/v1"\n'
            'model = "m"\ntimeout_s = 2\n'
        )
    )
    app = await App.create(config, clock=clock, env={})
    try:
        result = await app.pipeline.process(message("is anyone there?"))
        assert result.kind == "reply"
        assert result.provider == "offline"
        assert "reduced mode" in result.reply.text
    finally:
        await app.aclose()


async def test_a_locked_database_gets_a_polite_answer_and_nothing_is_acknowledged(
    write_config: ConfigWriter, clock: ManualClock
) -> None:
    config = load_config(write_config("[storage]\nbusy_timeout_ms = 50"))
    app = await App.create(config, clock=clock, env={})
    other = sqlite3.connect(app.db.path, isolation_level=None)
    try:
        await app.pipeline.process(message("first, to create the user"))
        other.execute("BEGIN EXCLUSIVE")
        locked = await app.pipeline.process(message("while locked"))
        assert locked.kind == "error"
        assert locked.reply.interaction_id is None  # no 👍/👎 for a reply that was not stored
        other.execute("ROLLBACK")
        assert (await app.pipeline.process(message("after"))).kind == "reply"
        assert await stored_texts(app) == ["first, to create the user", "after"]
    finally:
        other.close()
        await app.aclose()


async def test_follow_up_work_runs_after_the_reply_but_before_the_users_next_message(
    app: App,
) -> None:
    release = asyncio.Event()
    seen: list[str] = []

    async def slow_listener(turn: Turn, signals: MessageSignals, interaction_id: int) -> None:
        await release.wait()
        seen.append(turn.text)

    app.pipeline.on_turn(slow_listener)
    first = await app.pipeline.process(message("first"))
    assert first.kind == "reply" and seen == []  # the reply did not wait for the listener
    second = asyncio.ensure_future(app.pipeline.process(message("second")))
    other = await app.pipeline.process(message("someone else", user="u2"))
    assert other.kind == "reply"  # other users are not held up
    assert not second.done()  # the same user's next message waits for the follow-up
    release.set()
    assert (await second).kind == "reply"
    await app.pipeline.drain()
    assert sorted(seen) == ["first", "second", "someone else"]
    assert seen.index("first") < seen.index("second")  # per-user order holds
