"""Router overhead over calling the `openai` client directly, against the same local fake.

Run: .venv/bin/python bench/llm_router_bench.py [--requests N]
The fake server runs in its own process (`--serve`), so client and server don't share a loop.
Prints one JSON object: per-request latency of the direct client and of the router (calls
interleaved, so both see the same machine load), the added p50/p99, requests/s at 1 and 16
concurrent requests (rounds alternate between the two; medians), the added latency once a dead
leading provider's breaker is open, and the router's own cost around in-process providers (no
HTTP at all), which is what the noise of a shared machine cannot blur.
`--rps-only URL` prints the router's requests/s against a running fake (for litellm_compare).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import openai  # noqa: E402  (after the path set-up above)

from bot.config import LLMSection, ProviderSection  # noqa: E402
from bot.llm.outcomes import ProviderFailure, ProviderReply  # noqa: E402
from bot.llm.provider import OpenAIProvider  # noqa: E402
from bot.llm.router import ProviderRouter  # noqa: E402
from bot.llm.stats import percentile  # noqa: E402
from bot.llm.types import ChatMessage, GenerationRequest, Usage  # noqa: E402
from tests.fakes_openai import FakeOpenAI  # noqa: E402

REQUEST = GenerationRequest(
    messages=(ChatMessage("system", "be brief"), ChatMessage("user", "hello there")),
    persona_name="companion",
    persona_traits={},
    max_tokens=50,
)
MESSAGES: Any = [{"role": m.role, "content": m.content} for m in REQUEST.messages]
SETTINGS = LLMSection(exploration=0.0)
ROUNDS = 6

Call = Callable[[], Awaitable[object]]


def ms(values: list[float], fraction: float) -> float:
    return round(percentile(values, fraction) * 1000.0, 4)


async def timed(call: Call) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def paired(direct: Call, routed: Call, n: int) -> dict[str, Any]:
    """Interleaved calls; the added latency is taken per pair, then summarised."""
    d_times, r_times, added = [], [], []
    for _ in range(n):
        d = await timed(direct)
        r = await timed(routed)
        d_times.append(d)
        r_times.append(r)
        added.append(r - d)
    return {
        "direct_p50_ms": ms(d_times, 0.5),
        "direct_p99_ms": ms(d_times, 0.99),
        "router_p50_ms": ms(r_times, 0.5),
        "router_p99_ms": ms(r_times, 0.99),
        "added_p50_ms": round((percentile(r_times, 0.5) - percentile(d_times, 0.5)) * 1000, 4),
        "added_p99_ms": round((percentile(r_times, 0.99) - percentile(d_times, 0.99)) * 1000, 4),
        "paired_added_median_ms": round(statistics.median(added) * 1000, 4),
    }


async def throughput(call: Call, concurrency: int, n: int) -> float:
    queue = iter(range(n))

    async def worker() -> None:
        for _ in queue:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started)


async def alternating_rps(calls: dict[str, Call], concurrency: int, n: int) -> dict[str, float]:
    """Median requests/s over ROUNDS rounds; each call gets a turn per round, in an order
    that flips every round so neither side always runs after the other."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls.items())
    for _ in range(ROUNDS):
        for name, call in order:
            samples[name].append(await throughput(call, concurrency, n // ROUNDS))
        order.reverse()
    return {name: round(statistics.median(values), 1) for name, values in samples.items()}


class InstantProvider:
    """A provider that answers at once, to time the router's own work."""

    name = "instant"
    weight = 1.0
    reply = ProviderReply("hi", Usage(10, 5))

    async def complete(self, request: GenerationRequest, timeout_s: float) -> ProviderReply:
        return self.reply

    async def aclose(self) -> None:
        return None


class DeadProvider(InstantProvider):
    name = "dead"
    weight = 10.0
    """Far ahead on score, so only its open breaker keeps the router away from it."""

    async def complete(self, request: GenerationRequest, timeout_s: float) -> ProviderReply:
        raise ProviderFailure("retryable", "connection error")


async def router_only(n: int) -> dict[str, Any]:
    provider = InstantProvider()
    router = ProviderRouter([InstantProvider()], SETTINGS)
    dead_first = ProviderRouter([DeadProvider(), InstantProvider()], SETTINGS)
    while dead_first.snapshot()[0].breaker != "open":
        await dead_first.generate(REQUEST)
    base = [await timed(lambda: provider.complete(REQUEST, 1.0)) for _ in range(n)]
    routed = [await timed(lambda: router.generate(REQUEST)) for _ in range(n)]
    skipped = [await timed(lambda: dead_first.generate(REQUEST)) for _ in range(n)]
    return {
        "router_own_p50_ms": round((percentile(routed, 0.5) - percentile(base, 0.5)) * 1000, 4),
        "router_own_p99_ms": round((percentile(routed, 0.99) - percentile(base, 0.99)) * 1000, 4),
        "leader_dead_breaker": dead_first.snapshot()[0].breaker,
        "leader_dead_own_p50_ms": round(
            (percentile(skipped, 0.5) - percentile(base, 0.5)) * 1000, 4
        ),
        "leader_dead_own_p99_ms": round(
            (percentile(skipped, 0.99) - percentile(base, 0.99)) * 1000, 4
        ),
    }


def start_fake_process(name: str) -> tuple[subprocess.Popen[str], str]:
    """The fake server in a child process; it stops when its stdin closes."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


async def serve(name: str) -> None:
    fake = await FakeOpenAI(name=name).start()
    print(fake.base_url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await fake.stop()


def make_router(*urls: str, settings: LLMSection = SETTINGS) -> ProviderRouter:
    providers = [
        OpenAIProvider(ProviderSection(name=f"p{i}", base_url=url, model="m"), None)
        for i, url in enumerate(urls)
    ]
    return ProviderRouter(providers, settings)


async def rps_only(url: str, n: int) -> dict[str, float]:
    router = make_router(url)

    async def routed() -> object:
        return await router.generate(REQUEST)

    for _ in range(50):
        await routed()
    result = {f"c{c}": round(await throughput(routed, c, n), 1) for c in (1, 16)}
    await router.aclose()
    return result


async def main(n: int) -> dict[str, Any]:
    child, live_url = start_fake_process("live")
    dead = FakeOpenAI(name="dead")  # never started: its port refuses connections
    client = openai.AsyncOpenAI(
        api_key="k",
        base_url=live_url,
        max_retries=0,
        http_client=openai.DefaultAioHttpClient(timeout=20.0),
    )
    router = make_router(live_url)
    # Exploration keeps trying the dead leader until its breaker opens; then it is skipped.
    dead_first = make_router(dead.base_url, live_url, settings=LLMSection(exploration=0.2))

    async def direct() -> object:
        return await client.chat.completions.create(model="m", messages=MESSAGES, max_tokens=50)

    async def routed() -> object:
        return await router.generate(REQUEST)

    async def routed_dead_first() -> object:
        return await dead_first.generate(REQUEST)

    for call in (direct, routed):
        for _ in range(50):
            await call()
    while dead_first.snapshot()[0].breaker != "open":
        await routed_dead_first()
    result: dict[str, Any] = {"requests": n}
    result["single_provider"] = await paired(direct, routed, n)
    result["leader_dead_breaker_open"] = await paired(direct, routed_dead_first, n)
    result["leader_dead_breaker_open"]["breaker_after"] = dead_first.snapshot()[0].breaker
    for concurrency in (1, 16):
        rps = await alternating_rps({"direct": direct, "router": routed}, concurrency, n)
        result[f"rps_c{concurrency}"] = {**rps, "ratio": round(rps["router"] / rps["direct"], 3)}
    result["in_process"] = await router_only(n)
    await router.aclose()
    await dead_first.aclose()
    await client.close()
    assert child.stdin is not None
    child.stdin.close()
    child.wait()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--serve", metavar="NAME", help="run the fake server only")
    parser.add_argument("--rps-only", metavar="URL", help="router requests/s against URL")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
    elif args.rps_only:
        print(json.dumps(asyncio.run(rps_only(args.rps_only, args.requests))))
    else:
        print(json.dumps(asyncio.run(main(args.requests)), indent=2))
