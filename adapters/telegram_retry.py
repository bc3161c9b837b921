"""Flood control and retries for every request the bot sends (not getUpdates: the updater
retries polling itself).

A 429 with `retry_after` pauses only the chat it was about: later requests for that chat wait
out the same pause, other chats go on. Network errors and 5xx (python-telegram-bot raises
`NetworkError` for both) are retried with exponential backoff and jitter; 400s are not. This
is the one seam all outgoing calls pass through, so retries live here rather than around
each call (PTB's `BaseRateLimiter` documents retrying `RetryAfter`; the network retries are
our addition).
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import random
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
_Result = bool | dict[str, Any] | list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    attempts: int = 6
    """Tries per request when the network or Telegram (5xx) fails."""
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    flood_waits: int = 5
    """How many 429s one request honours before giving up."""

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.flood_waits < 0:
            raise ValueError("attempts must be >= 1 and flood_waits >= 0")
        if not 0 < self.base_delay_s <= self.max_delay_s:
            raise ValueError("need 0 < base_delay_s <= max_delay_s")


def backoff_delay(policy: RetryPolicy, failures: int, rng: random.Random) -> float:
    """The pause after the `failures`-th consecutive failure: doubling, capped, jittered to
    between half and all of it so that many chats do not retry in lockstep."""
    exponent = min(failures - 1, 32)
    ceiling = min(policy.max_delay_s, policy.base_delay_s * 2.0**exponent)
    return ceiling * (0.5 + 0.5 * rng.random())


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


class ChatFloodLimiter(BaseRateLimiter[None]):
    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._resume_at: dict[str, float] = {}

    async def initialize(self) -> None:
        self._resume_at.clear()

    async def shutdown(self) -> None:
        self._resume_at.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> _Result:
        chat = str(data.get("chat_id", ""))
        failures = 0
        flood_waits = 0
        while True:
            await self._wait_for_chat(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                flood_waits += 1
                if flood_waits > self._policy.flood_waits:
                    raise
                pause = retry_after_seconds(exc)
                logger.warning(
                    "Telegram flood control on %s: pausing one chat %.1fs", endpoint, pause
                )
                self._resume_at[chat] = max(self._resume_at.get(chat, 0.0), self._clock() + pause)
            except BadRequest:
                raise
            except NetworkError as exc:
                failures += 1
                if failures >= self._policy.attempts:
                    raise
                delay = backoff_delay(self._policy, failures, self._rng)
                logger.warning(
                    "Telegram %s failed (%s), retry %d in %.2fs",
                    endpoint,
                    type(exc).__name__,
                    failures,
                    delay,
                )
                await self._sleep(delay)

    async def _wait_for_chat(self, chat: str) -> None:
        resume_at = self._resume_at.get(chat)
        if resume_at is None:
            return
        pause = resume_at - self._clock()
        if pause > 0:
            await self._sleep(pause)
        if self._resume_at.get(chat) == resume_at:
            del self._resume_at[chat]
