"""The per-provider view behind `/admin providers`: a snapshot value and its text form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.llm.breaker import BreakerState


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    name: str
    score: float
    success_rate: float
    p50_ms: float
    p95_ms: float
    breaker: BreakerState
    next_probe_in_s: float | None
    """Seconds until an open breaker lets a probe through (None when not open)."""
    rate_limited_for_s: float
    """Seconds left of a provider's Retry-After (0 when none)."""
    requests_last_hour: int
    failures_last_hour: int
    tokens_last_hour: int


_BREAKER_LABEL = {"closed": "closed", "open": "OPEN", "half_open": "half-open"}


def format_status(snapshot: Sequence[ProviderStatus]) -> str:
    """Plain text for chat: one block per provider, best score first."""
    if not snapshot:
        return "No language-model providers are configured: replies come from offline mode."
    lines = ["LLM providers (best first):"]
    for rank, status in enumerate(sorted(snapshot, key=lambda s: -s.score), start=1):
        breaker = _BREAKER_LABEL[status.breaker]
        if status.next_probe_in_s is not None:
            breaker += f", probes in {status.next_probe_in_s:.0f}s"
        if status.rate_limited_for_s > 0:
            breaker += f", rate-limited {status.rate_limited_for_s:.0f}s"
        lines.append(
            f"{rank}. {status.name}: score {status.score:.1f}, "
            f"success {status.success_rate:.0%}, "
            f"p50 {status.p50_ms:.0f} ms, p95 {status.p95_ms:.0f} ms, breaker {breaker}"
        )
        lines.append(
            f"   last hour: {status.requests_last_hour} requests "
            f"({status.failures_last_hour} failed), {status.tokens_last_hour} tokens"
        )
    return "\n".join(lines)
