"""The ops endpoint of `attune run`, over real HTTP."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.app import App, serve
from bot.events import IncomingMessage, Platform


async def test_health_and_status_while_serving(app: App) -> None:
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(serve(app, stop, ready))
    try:
        await ready.wait()
        assert app.ops is not None
        await app.pipeline.process(
            IncomingMessage(Platform.CONSOLE, "c", "op", "Op", "hello there")
        )
        base = f"http://127.0.0.1:{app.ops.bound_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as health:
                assert health.status == 200
                assert await health.json() == {"status": "ok"}
            async with http.get(f"{base}/status") as response:
                status = await response.json()
        assert status["adapters"] == []
        assert status["providers"] == []  # no provider configured: offline only
        assert status["storage"]["units"] >= 1
        assert any("daily_profile_update" in line for line in status["tasks"])  # caught up
    finally:
        stop.set()
        await running
