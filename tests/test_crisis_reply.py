"""A message in crisis, answered by a real provider over HTTP: the help-line text is always
in the reply, and the prompt told the model about the crisis."""

from __future__ import annotations

from bot.app import App
from bot.clock import ManualClock
from bot.config import load_config
from bot.events import IncomingMessage, Platform
from tests.conftest import ConfigWriter
from tests.fakes_openai import FakeOpenAI, Fault

HELPLINE = "Call the test helpline on 000 now."


async def test_crisis_reply_carries_the_helpline_even_if_the_model_forgot(
    provider: FakeOpenAI, write_config: ConfigWriter
) -> None:
    config = load_config(
        write_config(
            f'[safety]\ncrisis_text = "{HELPLINE}"\n'
            f'[[llm.providers]]\nname = "model"\nbase_url = "{provider.base_url}"\n'
            'model = "m"\ntimeout_s = 5\n'
        )
    )
    app = await App.create(config, clock=ManualClock(), env={})
    try:
        provider.push(Fault(text="I'm here with you."), Fault(text="Glad you're feeling better."))
        crisis = await app.pipeline.process(
            IncomingMessage(Platform.CONSOLE, "c", "u", "U", "I want to kill myself tonight")
        )
        calm = await app.pipeline.process(
            IncomingMessage(Platform.CONSOLE, "c", "u", "U", "thanks, I feel a bit better")
        )
    finally:
        await app.aclose()
    assert crisis.provider == "model" and crisis.signals.crisis
    assert crisis.reply.text.startswith("I'm here with you.")
    assert HELPLINE in crisis.reply.text
    system_prompt = provider.requests[0]["messages"][0]["content"]
    assert "crisis" in system_prompt.lower()
    assert HELPLINE not in calm.reply.text
