"""End to end: the real composition root (`attune run` in-process) against the fake Discord."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import App, serve
from bot.config import load_config
from tests.conftest import ConfigWriter
from tests.discord_support import (
    ALICE,
    CALLBACK,
    SEND,
    TOKEN,
    custom_ids,
    dm_message,
    press,
    requires_spec,
    running_fake,
)

pytestmark = requires_spec


async def test_attune_run_answers_a_dm_and_stores_a_thumbs_up(
    write_config: ConfigWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_BOT_TOKEN", TOKEN)
    async with running_fake() as fake:
        path = write_config(
            '[bot]\ndata_dir = "data"\n[storage]\npath = "data/attune.db"\n'
            f'[discord]\nenabled = true\napi_base_url = "{fake.api_url}"\n'
            f'gateway_url = "{fake.gateway_url}"\n'
        )
        app = await App.create(load_config(path), env={})
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop))
        try:
            await fake.wait_for(lambda: fake.sessions == 1)
            await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "I walked by the sea"))
            await fake.wait_for(lambda: len(fake.sent(*SEND)) == 1)
            answer = fake.messages[max(fake.messages)]
            up, _ = custom_ids(answer)
            await fake.interact(press(fake, ALICE, answer, up, in_guild=False))
            await fake.wait_for(lambda: len(fake.sent(*CALLBACK)) == 1)
        finally:
            stop.set()
            await running
            await app.aclose()

    assert answer["content"]
    assert fake.sent(*CALLBACK)[0].body["type"] in (4, 7)
    assert fake.rejected == []
