"""A clock the tests move by hand."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A clock (a callable returning seconds) that moves only when told to; `sleep` advances
    it instead of waiting."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)  # yield to the loop as a real sleep would
