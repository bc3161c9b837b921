"""The provider router: scored failover, circuit breakers, retries, hedging, one deadline.

For each request the providers are ranked by their live score (see `scoring.py`); with
probability `exploration` one of the others is moved to the front so a recovered provider is
noticed. Attempts go down the ranking, skipping open breakers and providers still inside a
Retry-After. A retryable failure (connect error, timeout, 429, 5xx) lets the provider be tried
once more later in the same request, after a short backoff or its Retry-After when that fits
the deadline; fatal and invalid answers never retry on that provider. With `hedge_after_s`
> 0 the next provider is also asked when the current one is slow; the first good answer wins
and the other call is cancelled. When the deadline passes or nobody is left, the offline
responder answers, so the caller always gets a reply.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.config import LLMSection
from bot.llm.breaker import BreakerPolicy, CircuitBreaker
from bot.llm.offline import OfflineResponder
from bot.llm.outcomes import ChatProvider, ProviderFailure, ProviderReply
from bot.llm.scoring import DecayingScore
from bot.llm.stats import ProviderStats
from bot.llm.status import ProviderStatus
from bot.llm.types import Generation, GenerationRequest

log = logging.getLogger(__name__)

MAX_ATTEMPTS_PER_PROVIDER = 2
RETRY_BACKOFF_S = 0.1
STATE_VERSION = 1
REQUEST_SPECIFIC_STATUSES = frozenset({400, 413})
"""Fatal for this request but no sign of an unhealthy provider: no breaker or score hit."""


@dataclass(eq=False)
class _Slot:
    """A provider plus everything the router knows about it."""

    provider: ChatProvider
    breaker: CircuitBreaker
    score: DecayingScore
    stats: ProviderStats
    blocked_until: float = 0.0


@dataclass
class _Attempts:
    """The bookkeeping of one request: what was tried and what may still be tried."""

    deadline: float
    counts: dict[str, int] = field(default_factory=dict)
    ready_at: dict[str, float] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)


_Outcome = tuple[ProviderReply | ProviderFailure, float]


class ProviderRouter:
    """Implements `Generator` over any number of `ChatProvider`s."""

    def __init__(
        self,
        providers: Sequence[ChatProvider],
        settings: LLMSection,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        offline: OfflineResponder | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()
        self._offline = offline or OfflineResponder()
        self._sleep = sleep
        self._wall_clock = wall_clock
        policy = BreakerPolicy(
            failures=settings.breaker_failures,
            failure_rate=settings.breaker_failure_rate,
            window=settings.breaker_window,
            cooldown_s=settings.breaker_cooldown_s,
        )
        self._slots = [
            _Slot(
                provider=p,
                breaker=CircuitBreaker(policy, clock),
                score=DecayingScore(settings.score_half_life_s, clock),
                stats=ProviderStats(clock),
            )
            for p in providers
        ]

    @property
    def provider_names(self) -> list[str]:
        return [slot.provider.name for slot in self._slots]

    async def generate(self, request: GenerationRequest) -> Generation:
        started = self._clock()
        generation = await self._from_providers(request, started)
        if generation is None:
            generation = await self._offline.generate(request)
        return replace(generation, latency_ms=(self._clock() - started) * 1000.0)

    async def aclose(self) -> None:
        for slot in self._slots:
            await slot.provider.aclose()

    def ranking(self) -> list[str]:
        """Provider names in the order the next request would try them (without exploration)."""
        return [slot.provider.name for slot in self._ranked(explore=False)]

    def _ranked(self, explore: bool = True) -> list[_Slot]:
        slots = sorted(self._slots, key=lambda s: -s.score.score(s.provider.weight))
        exploration = self._settings.exploration
        if explore and len(slots) > 1 and exploration > 0 and self._rng.random() < exploration:
            chosen = slots.pop(self._rng.randrange(1, len(slots)))
            slots.insert(0, chosen)
        return slots

    async def _from_providers(
        self, request: GenerationRequest, started: float
    ) -> Generation | None:
        if not self._slots:
            return None
        attempts = _Attempts(deadline=started + self._settings.deadline_s)
        ranked = self._ranked()
        running: dict[asyncio.Task[_Outcome], _Slot] = {}
        hedge_after = self._settings.hedge_after_s
        want_more = True
        try:
            while True:
                remaining = attempts.deadline - self._clock()
                if remaining <= 0:
                    return None
                if want_more and len(running) < (2 if hedge_after > 0 else 1):
                    picked = self._pick(ranked, attempts, running.values())
                    if isinstance(picked, _Slot):
                        task = asyncio.ensure_future(self._attempt(picked, request, remaining))
                        running[task] = picked
                    elif not running:
                        if picked is None:
                            return None
                        await self._sleep(min(picked, remaining))
                        continue
                    want_more = False
                hedging = hedge_after > 0 and len(running) == 1
                timeout = min(remaining, hedge_after) if hedging else remaining
                done, _ = await asyncio.wait(
                    running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    if not hedging or timeout >= remaining:
                        return None  # the whole remaining time passed: deadline reached
                    want_more = True
                    continue
                winner = self._settle({task: running.pop(task) for task in done}, attempts)
                if winner is not None:
                    return winner
                want_more = True
        finally:
            await self._cancel(running, attempts)

    def _pick(
        self, ranked: list[_Slot], attempts: _Attempts, busy: Collection[_Slot]
    ) -> _Slot | float | None:
        """The next provider to call, else seconds to wait for one, else None (nobody left)."""
        now = self._clock()
        best: _Slot | None = None
        best_count = MAX_ATTEMPTS_PER_PROVIDER
        wait: float | None = None
        for slot in ranked:
            name = slot.provider.name
            count = attempts.counts.get(name, 0)
            if name in attempts.excluded or count >= best_count or slot in busy:
                continue
            if not slot.breaker.available():
                continue
            ready = max(slot.blocked_until, attempts.ready_at.get(name, 0.0))
            if ready > now:
                if ready < attempts.deadline:
                    wait = ready - now if wait is None else min(wait, ready - now)
                continue
            best, best_count = slot, count
            if count == 0:
                break
        if best is not None and best.breaker.acquire():
            attempts.counts[best.provider.name] = best_count + 1
            return best
        return wait

    async def _attempt(
        self, slot: _Slot, request: GenerationRequest, timeout_s: float
    ) -> _Outcome:
        started = self._clock()
        try:
            async with asyncio.timeout(timeout_s):
                reply: ProviderReply | ProviderFailure = await slot.provider.complete(
                    request, timeout_s
                )
        except ProviderFailure as failure:
            reply = failure
        except TimeoutError:
            reply = ProviderFailure("retryable", "timeout")
        except asyncio.CancelledError:
            slot.breaker.release()
            raise
        except Exception as exc:  # a provider must never break the reply; log and move on
            log.warning("provider %s raised unexpectedly", slot.provider.name, exc_info=exc)
            reply = ProviderFailure("invalid", f"unexpected {type(exc).__name__}")
        return reply, self._clock() - started

    def _record_success(self, slot: _Slot, reply: ProviderReply, latency_s: float) -> None:
        was = slot.breaker.state
        slot.breaker.record_success()
        slot.score.record(True, latency_s)
        slot.stats.record(True, latency_s, reply.usage)
        if was != "closed":
            log.info("provider %s recovered: breaker closed", slot.provider.name)

    def _record_failure(
        self, slot: _Slot, failure: ProviderFailure, latency_s: float, attempts: _Attempts
    ) -> None:
        name = slot.provider.name
        now = self._clock()
        log.debug("provider %s failed: %s", name, failure.reason)
        slot.stats.record(False, latency_s)
        if failure.status in REQUEST_SPECIFIC_STATUSES:
            slot.breaker.release()
            attempts.excluded.add(name)
            return
        was = slot.breaker.state
        slot.score.record(False)
        if failure.auth_failed:
            slot.breaker.trip()
        else:
            slot.breaker.record_failure()
        if was != "open" and slot.breaker.state == "open":
            log.warning(
                "provider %s breaker opened (%s); next probe in %.0fs",
                name,
                failure.reason,
                slot.breaker.next_probe_at - now,
            )
        if failure.kind != "retryable":
            attempts.excluded.add(name)
        elif failure.retry_after_s is not None:
            slot.blocked_until = max(slot.blocked_until, now + failure.retry_after_s)
        else:
            jitter = 0.5 + self._rng.random()
            attempts.ready_at[name] = now + RETRY_BACKOFF_S * jitter

    def _settle(
        self, finished: dict[asyncio.Task[_Outcome], _Slot], attempts: _Attempts
    ) -> Generation | None:
        """Record every finished call (a half-open probe must always report back); the first
        good answer, if any."""
        winner: Generation | None = None
        for task, slot in finished.items():
            if task.cancelled():
                continue
            result, latency_s = task.result()
            if isinstance(result, ProviderFailure):
                self._record_failure(slot, result, latency_s, attempts)
                continue
            self._record_success(slot, result, latency_s)
            if winner is None:
                winner = Generation(
                    text=result.text, provider=slot.provider.name, usage=result.usage
                )
        return winner

    async def _cancel(
        self, running: dict[asyncio.Task[_Outcome], _Slot], attempts: _Attempts
    ) -> None:
        """Cancel calls still out; one that finished in the meantime is recorded, not lost."""
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
            self._settle(running, attempts)

    def snapshot(self) -> list[ProviderStatus]:
        now = self._clock()
        statuses = []
        for slot in self._slots:
            hour = slot.stats.last_hour()
            state = slot.breaker.state
            statuses.append(
                ProviderStatus(
                    name=slot.provider.name,
                    score=slot.score.score(slot.provider.weight),
                    success_rate=slot.score.success_rate,
                    p50_ms=slot.stats.latency_ms(0.5),
                    p95_ms=slot.stats.latency_ms(0.95),
                    breaker=state,
                    next_probe_in_s=(
                        max(0.0, slot.breaker.next_probe_at - now) if state == "open" else None
                    ),
                    rate_limited_for_s=max(0.0, slot.blocked_until - now),
                    requests_last_hour=hour["requests"],
                    failures_last_hour=hour["failures"],
                    tokens_last_hour=hour["prompt_tokens"] + hour["completion_tokens"],
                )
            )
        return statuses

    def export_state(self) -> dict[str, Any]:
        """JSON-able provider state, for periodic persistence and restore after a restart."""
        now = self._clock()
        return {
            "version": STATE_VERSION,
            "saved_at": self._wall_clock(),
            "providers": {
                slot.provider.name: {
                    "score": slot.score.export(),
                    "breaker": slot.breaker.export(),
                    "stats": slot.stats.export(),
                    "rate_limited_for_s": max(0.0, slot.blocked_until - now),
                }
                for slot in self._slots
            },
        }

    def import_state(self, state: dict[str, Any]) -> None:
        """Restore `export_state()` output; unknown providers and other versions are ignored."""
        if state.get("version") != STATE_VERSION:
            log.warning("ignoring provider state of version %r", state.get("version"))
            return
        elapsed = max(0.0, self._wall_clock() - float(state.get("saved_at", 0.0)))
        saved = state.get("providers", {})
        now = self._clock()
        for slot in self._slots:
            data = saved.get(slot.provider.name)
            if not isinstance(data, dict):
                continue
            slot.score.restore(data.get("score", {}), elapsed)
            slot.breaker.restore(data.get("breaker", {}), elapsed)
            slot.stats.restore(data.get("stats", {}), elapsed)
            slot.blocked_until = now + max(0.0, float(data.get("rate_limited_for_s", 0)) - elapsed)
