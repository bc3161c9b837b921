"""Telegram adapter throughput and added latency against the fake Bot API, with a trivial core.

Run: .venv/bin/python bench/telegram_bench.py [--updates N] [--pings N]
Prints one JSON object. The baseline, measured in the same run on the same fake, is a minimal
hand-written loop on httpx (long-poll getUpdates, then sendMessage per update, concurrently):
the least any Telegram bot must do. The adapter adds python-telegram-bot's Application,
routing, the flood limiter, the typing indicator and the inline keyboard. Latency is from the
moment the update is queued at the fake to the moment the fake accepts the reply, one update
at a time; throughput is a burst of updates from 200 users.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402  (after the path set-up above)

from adapters.callbacks import CallbackCodec  # noqa: E402
from adapters.telegram import TelegramAdapter  # noqa: E402
from bot.config import TelegramSection  # noqa: E402
from bot.events import FeedbackEvent, FeedbackOutcome, IncomingMessage, Reply  # noqa: E402
from tests.fakes_telegram import TOKEN, BotApiSpec, FakeBotApi, user  # noqa: E402

USERS = 200


class EchoCore:
    """The trivial fast core: the figures are the transport's, not the pipeline's."""

    def __init__(self) -> None:
        self._next = 0

    async def handle_message(self, message: IncomingMessage) -> Reply:
        self._next += 1
        return Reply(text=f"echo: {message.text}", interaction_id=self._next)

    async def handle_feedback(self, event: FeedbackEvent) -> FeedbackOutcome:
        return FeedbackOutcome(True, "thanks", event.value)


@asynccontextmanager
async def adapter_running(api: FakeBotApi) -> AsyncIterator[None]:
    settings = TelegramSection(enabled=True, base_url=api.base_url)
    codec = CallbackCodec(b"bench-signing-key-0123456789")
    adapter = TelegramAdapter(EchoCore(), settings, TOKEN, codec, [("start", "Say hello")])
    await adapter.start()
    try:
        yield
    finally:
        await adapter.stop()


@asynccontextmanager
async def baseline_running(api: FakeBotApi) -> AsyncIterator[None]:
    """Two clients, as PTB has: one connection for the long poll, a pool for the sends."""
    url = f"{api.base_url}{TOKEN}"

    async def poll(poller: httpx.AsyncClient, sender: httpx.AsyncClient) -> None:
        offset = 0
        pending: set[asyncio.Task[httpx.Response]] = set()
        while True:
            response = await poller.post(
                f"{url}/getUpdates", data={"offset": offset, "timeout": 5}
            )
            for update in response.json()["result"]:
                offset = update["update_id"] + 1
                message = update["message"]
                form = {"chat_id": message["chat"]["id"], "text": f"echo: {message['text']}"}
                task = asyncio.create_task(sender.post(f"{url}/sendMessage", data=form))
                pending.add(task)
                task.add_done_callback(pending.discard)

    async with (
        httpx.AsyncClient(timeout=30) as poller,
        httpx.AsyncClient(limits=httpx.Limits(max_connections=256), timeout=30) as sender,
    ):
        task = asyncio.create_task(poll(poller, sender))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _replies_reach(api: FakeBotApi, count: int) -> None:
    await api.wait_for(lambda a: a.counts["sendMessage"] >= count)


async def measure(api: FakeBotApi, pings: int, updates: int) -> dict[str, Any]:
    latencies: list[float] = []
    for n in range(pings):
        done = api.counts["sendMessage"] + 1
        queued = time.perf_counter()
        await api.push_text(user(1 + n % USERS), f"ping {n}")
        await _replies_reach(api, done)
        reply = next(c for c in reversed(api.calls) if c.method == "sendMessage")
        latencies.append((reply.at - queued) * 1000)
    done = api.counts["sendMessage"] + updates
    started = time.perf_counter()
    for n in range(updates):
        await api.push_text(user(1 + n % USERS), f"burst {n}")
    await _replies_reach(api, done)
    elapsed = time.perf_counter() - started
    return {
        "latency_ms": {
            "p50": round(statistics.median(latencies), 3),
            "p99": round(_percentile(latencies, 0.99), 3),
        },
        "updates_per_s": round(updates / elapsed, 1),
    }


async def run(pings: int, updates: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    runners: dict[str, Callable[[FakeBotApi], Any]] = {
        "baseline_httpx_loop": baseline_running,
        "adapter": adapter_running,
    }
    for name, runner in runners.items():
        api = FakeBotApi(BotApiSpec(), wait_s=600)
        await api.start()
        try:
            async with runner(api):
                await measure(api, 20, 100)  # warm-up: connections, caches
                results[name] = await measure(api, pings, updates)
            assert not api.rejected, api.rejected
        finally:
            await api.stop()
    base, ours = results["baseline_httpx_loop"], results["adapter"]
    return {
        "bench": "telegram_adapter",
        "pings": pings,
        "updates": updates,
        "users": USERS,
        **results,
        "added_latency_ms_p50": round(ours["latency_ms"]["p50"] - base["latency_ms"]["p50"], 3),
        "added_latency_ms_p99": round(ours["latency_ms"]["p99"] - base["latency_ms"]["p99"], 3),
        "latency_ratio_p50": round(ours["latency_ms"]["p50"] / base["latency_ms"]["p50"], 2),
        "throughput_ratio": round(ours["updates_per_s"] / base["updates_per_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=200, help="sequential updates for latency")
    parser.add_argument("--updates", type=int, default=2000, help="burst size for throughput")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.pings, args.updates)), indent=2))


if __name__ == "__main__":
    main()
