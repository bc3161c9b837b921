"""Every chat command through the pipeline, as a user and as an admin would use it."""

from __future__ import annotations

import json

from bot.app import App
from bot.core import TurnResult
from bot.events import IncomingMessage, Platform


async def say(
    app: App, text: str, user: str = "ann", platform: Platform = Platform.CONSOLE
) -> TurnResult:
    return await app.pipeline.process(
        IncomingMessage(
            platform, chat_id=f"chat-{user}", user_id=user, display_name="Ann", text=text
        )
    )


async def test_help_lists_commands_and_unknown_command_is_explained(app: App) -> None:
    reply = (await say(app, "/help")).reply.text
    for name in ("/start", "/profile", "/persona", "/why", "/export", "/forget"):
        assert name in reply
    assert "/admin" in reply  # the console operator is an admin
    assert "don't know /nope" in (await say(app, "/nope")).reply.text


async def test_persona_controls(app: App) -> None:
    shown = (await say(app, "/persona")).reply.text
    assert "companion" in shown
    assert "Fit for you" in shown
    assert "Strategy set to mirror" in (await say(app, "/persona mirror")).reply.text
    assert (await say(app, "hello there")).strategy == "mirror"
    assert "no persona called" in (await say(app, "/persona use nobody")).reply.text
    assert "Locked" in (await say(app, "/persona lock")).reply.text
    before = (await say(app, "I am SO sad and lonely today")).persona
    after = (await say(app, "everything is awful, I keep crying")).persona
    assert before == after  # locked: nothing moves
    assert "Reset" in (await say(app, "/persona reset")).reply.text
    # Back to the configured "auto": the bandit chooses, and its propensity is recorded.
    auto = await say(app, "hi again")
    assert auto.strategy in ("mirror", "complement", "balance")
    row = await app.db.fetchone(
        "SELECT propensity FROM interactions WHERE id = ?", (auto.reply.interaction_id,)
    )
    assert row is not None and 0.0 < row[0] <= 1.0
    assert "/persona" in (await say(app, "/persona dance")).reply.text


async def test_profile_sends_text_and_a_radar_chart(app: App) -> None:
    await say(app, "Good morning. Could you kindly help me plan my week? Thank you.")
    reply = (await say(app, "/profile")).reply
    assert "confidence" in reply.text
    (chart,) = reply.attachments
    assert chart.kind == "photo" and chart.data.startswith(b"\x89PNG")
    assert reply.personal


async def test_why_explains_the_last_reply(app: App) -> None:
    assert "haven't replied" in (await say(app, "/why")).reply.text
    await say(app, "I'm worried about my exam tomorrow")
    why = (await say(app, "/why")).reply.text
    assert "strategy" in why and "offline" in why


async def test_export_and_forget(app: App) -> None:
    await say(app, "remember me")
    export = (await say(app, "/export")).reply
    (document,) = export.attachments
    data = json.loads(document.data)
    assert [m["text"] for m in data["messages"] if m["role"] == "user"] == ["remember me"]
    ask = (await say(app, "/forget")).reply
    assert ask.actions and ask.actions[0].command == "/forget confirm"
    assert "erased" in (await say(app, "/forget confirm")).reply.text
    rows = await app.db.fetchall("SELECT COUNT(*) FROM messages")
    assert rows[0][0] == 0


async def test_admin_commands_for_admins_only(app: App) -> None:
    refused = await say(app, "/admin providers", user="7", platform=Platform.TELEGRAM)
    assert "admins only" in refused.reply.text
    providers = (await say(app, "/admin providers")).reply.text
    assert "offline" in providers
    await say(app, "hello")
    run = (await say(app, "/admin task run daily_profile_update")).reply.text
    assert "daily_profile_update" in run
    history = (await say(app, "/admin task history")).reply.text
    assert "daily_profile_update" in history
    assert "Unknown task" in (await say(app, "/admin task run nonsense")).reply.text
    assert "/admin providers" in (await say(app, "/admin")).reply.text
