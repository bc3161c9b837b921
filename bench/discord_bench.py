"""Discord adapter throughput and added latency against the fake Discord (JSON on stdout).

Baseline, measured in the same run: a minimal bot written directly on aiohttp that answers
each MESSAGE_CREATE with one POST. The adapter run uses real discord.py with a core that
answers at once, so the difference is what the adapter and discord.py add per message
(parsing, filtering, typing indicator, rendering the reply with its buttons).

    .venv/bin/python bench/discord_bench.py [--messages 300] [--latency-samples 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.discord_support import (
    ALICE,
    TOKEN,
    RecordingCore,
    dm_message,
    running_adapter,
    running_fake,
)
from tests.fakes_discord import FakeDiscord

SEND = ("POST", "/channels/{channel_id}/messages")


async def baseline_bot(fake: FakeDiscord, connected: asyncio.Event) -> None:
    """Identify, then answer every MESSAGE_CREATE with one POST: the floor to compare with."""
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.ws_connect(fake.gateway_url) as socket,
    ):
        await socket.receive_json()  # HELLO
        properties = {"os": "linux", "browser": "bench", "device": "bench"}
        identify = {"token": TOKEN, "properties": properties, "intents": 1 << 12}
        await socket.send_json({"op": 2, "d": identify})
        async for frame in socket:
            payload = json.loads(frame.data)
            if payload.get("t") == "READY":
                connected.set()
            if payload.get("t") == "MESSAGE_CREATE":
                channel = payload["d"]["channel_id"]
                url = f"{fake.api_url}/channels/{channel}/messages"
                async with http.post(url, json={"content": "ok"}) as response:
                    await response.read()


def _sends_reached(fake: FakeDiscord, count: int) -> Callable[[], bool]:
    return lambda: len(fake.sent(*SEND)) >= count


async def measure(fake: FakeDiscord, messages: int, samples: int) -> dict[str, float]:
    latencies = []
    for _ in range(samples):
        expected = len(fake.sent(*SEND)) + 1
        started = time.perf_counter()
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "hello"))
        await fake.wait_for(_sends_reached(fake, expected))
        latencies.append((time.perf_counter() - started) * 1000)
    sent = len(fake.sent(*SEND))
    started = time.perf_counter()
    for _ in range(messages):
        await fake.dispatch("MESSAGE_CREATE", dm_message(fake, ALICE, "hello"))
    await fake.wait_for(_sends_reached(fake, sent + messages), limit_s=120)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "events_per_s": messages / elapsed,
        "latency_p50_ms": statistics.median(latencies),
        "latency_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


async def run_baseline(messages: int, samples: int) -> dict[str, float]:
    async with running_fake() as fake:
        connected = asyncio.Event()
        bot = asyncio.create_task(baseline_bot(fake, connected))
        await connected.wait()
        try:
            return await measure(fake, messages, samples)
        finally:
            bot.cancel()
            await asyncio.gather(bot, return_exceptions=True)


async def run_adapter(messages: int, samples: int) -> dict[str, float]:
    core = RecordingCore()
    async with running_fake() as fake, running_adapter(fake, core):
        return await measure(fake, messages, samples)


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--latency-samples", type=int, default=100)
    args = parser.parse_args(argv)
    runs: dict[str, Callable[[int, int], Awaitable[dict[str, float]]]] = {
        "baseline_raw_aiohttp_bot": run_baseline,
        "discord_adapter": run_adapter,
    }
    results: dict[str, Any] = {}
    for name, run in runs.items():
        results[name] = await run(args.messages, args.latency_samples)
    base, adapter = results["baseline_raw_aiohttp_bot"], results["discord_adapter"]
    results["added_latency_p50_ms"] = adapter["latency_p50_ms"] - base["latency_p50_ms"]
    results["latency_p50_ratio"] = adapter["latency_p50_ms"] / base["latency_p50_ms"]
    results["throughput_ratio"] = adapter["events_per_s"] / base["events_per_s"]
    results["messages"] = args.messages
    results["latency_samples"] = args.latency_samples
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
