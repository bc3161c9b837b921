"""Charts as PNG bytes: the `/profile` radar chart and an experiment's effect over time.

Drawn on a bare matplotlib `Figure` with the Agg canvas (no pyplot global state), so they are
safe to call from a worker thread; each takes ~50 ms, so callers run them off the loop.
matplotlib is imported on first use: it costs ~30 MB of memory that a bot which never draws
should not carry.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from personality.signals import TRAITS, clamp

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(size: tuple[float, float], dpi: int = 100) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def radar_chart_png(
    user_traits: Mapping[str, float], bot_traits: Mapping[str, float], *, dpi: int = 100
) -> bytes:
    """A PNG radar chart of the ten traits: "you" and "attune", each in [0, 1]."""
    angles = [2 * math.pi * i / len(TRAITS) for i in range(len(TRAITS))]
    closed = [*angles, angles[0]]
    figure = _figure((5, 5))
    axes = figure.add_subplot(projection="polar")
    for label, traits, colour in (
        ("you", user_traits, "tab:blue"),
        ("attune", bot_traits, "tab:orange"),
    ):
        values = [clamp(traits.get(t, 0.5)) for t in TRAITS]
        values.append(values[0])
        axes.plot(closed, values, color=colour, linewidth=2, label=label)
        axes.fill(closed, values, color=colour, alpha=0.2)
    axes.set_xticks(angles)
    axes.set_xticklabels(list(TRAITS), fontsize=8)
    axes.set_ylim(0.0, 1.0)
    axes.set_yticks([0.25, 0.5, 0.75])
    axes.set_yticklabels([])
    axes.legend(loc="upper right", bbox_to_anchor=(1.15, 1.12))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class EffectPoint:
    """The cumulative effect of one variant, with its interval, as of `at`."""

    at: datetime
    effect: float
    ci_low: float
    ci_high: float


def effect_chart_png(points: Sequence[EffectPoint], *, title: str = "Effect vs control") -> bytes:
    """A PNG line chart of the effect over time with its interval shaded (Agg, no pyplot)."""
    figure = _figure((7, 3.5))
    axes = figure.add_subplot()
    ordered = sorted(points, key=lambda p: p.at)
    start = ordered[0].at if ordered else datetime.min
    times = [(p.at - start).total_seconds() / 86400.0 for p in ordered]
    axes.fill_between(
        times,
        [p.ci_low for p in ordered],
        [p.ci_high for p in ordered],
        alpha=0.25,
        label="interval",
    )
    axes.plot(times, [p.effect for p in ordered], marker="o", label="effect")
    axes.axhline(0.0, color="grey", linewidth=1)
    axes.set_xlabel("days since " + (f"{start:%Y-%m-%d}" if ordered else "start"))
    axes.set_title(title)
    axes.set_ylabel("relative effect")
    if ordered:
        axes.legend(loc="best")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
