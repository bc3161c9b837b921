"""A circuit breaker per provider, driven by an injected clock.

closed ──(N consecutive failures, or failure rate ≥ threshold over the last `window` calls
          once the window is full, or `trip()` on a 401)──► open
open ──(cool-down elapsed; the next caller gets the single probe)──► half-open
half-open ──probe succeeds──► closed      half-open ──probe fails──► open (a new cool-down)
A probe that is abandoned (cancelled) frees the slot so another caller may probe.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failures: int = 5
    failure_rate: float = 0.5
    window: int = 20
    cooldown_s: float = 30.0


class CircuitBreaker:
    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self._policy = policy
        self._clock = clock
        self._state: BreakerState = "closed"
        self._consecutive = 0
        self._recent: deque[bool] = deque(maxlen=policy.window)
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """The state as of now: an open breaker whose cool-down is over reads as half-open."""
        if self._state == "open" and self._clock() >= self.next_probe_at:
            return "half_open"
        return self._state

    @property
    def next_probe_at(self) -> float:
        return self._opened_at + self._policy.cooldown_s

    def available(self) -> bool:
        """Whether a call could be let through now (without claiming the probe)."""
        state = self.state
        return state == "closed" or (state == "half_open" and not self._probing)

    def acquire(self) -> bool:
        """Claim permission for one call; in half-open only one caller (the probe) gets it."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._state = "half_open"
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        if self._state != "closed":
            self._close()
            return
        self._consecutive = 0
        self._recent.append(True)

    def record_failure(self) -> None:
        if self._state != "closed":
            self._open()
            return
        self._consecutive += 1
        self._recent.append(False)
        if self._consecutive >= self._policy.failures or self._rate_tripped():
            self._open()

    def release(self) -> None:
        """A call ended without an outcome (cancelled): free the probe slot."""
        self._probing = False

    def trip(self) -> None:
        """Open at once (the provider rejected its key)."""
        self._open()

    def _rate_tripped(self) -> bool:
        recent = self._recent
        if len(recent) < self._policy.window:
            return False
        return recent.count(False) / len(recent) >= self._policy.failure_rate

    def _open(self) -> None:
        self._state = "open"
        self._opened_at = self._clock()
        self._probing = False
        self._consecutive = 0
        self._recent.clear()

    def _close(self) -> None:
        self._state = "closed"
        self._probing = False
        self._consecutive = 0
        self._recent.clear()

    def export(self) -> dict[str, Any]:
        """JSON-able state; times relative to now so they survive a restart."""
        now = self._clock()
        return {
            "state": "open" if self._state != "closed" else "closed",
            "open_for_s": max(0.0, now - self._opened_at) if self._state != "closed" else 0.0,
            "consecutive": self._consecutive,
            "recent": list(self._recent),
        }

    def restore(self, data: dict[str, Any], elapsed_s: float) -> None:
        """Load `export()` output; `elapsed_s` is the time since it was taken."""
        self._consecutive = int(data.get("consecutive", 0))
        self._recent.clear()
        self._recent.extend(bool(x) for x in data.get("recent", []))
        self._probing = False
        if data.get("state") == "open":
            self._state = "open"
            self._opened_at = self._clock() - float(data.get("open_for_s", 0.0)) - elapsed_s
        else:
            self._state = "closed"
