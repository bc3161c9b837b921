"""The `/profile` radar chart: the user's inferred traits against the bot's traits for them.

Drawn on a bare matplotlib `Figure` with the Agg canvas (no pyplot global state), so it is
safe to call from a worker thread; it takes ~50 ms, so callers should run it off the loop.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from personality.signals import TRAITS, clamp


def radar_chart_png(
    user_traits: Mapping[str, float], bot_traits: Mapping[str, float], *, dpi: int = 100
) -> bytes:
    """A PNG radar chart of the ten traits: "you" and "attune", each in [0, 1]."""
    angles = [2 * math.pi * i / len(TRAITS) for i in range(len(TRAITS))]
    closed = [*angles, angles[0]]
    figure = Figure(figsize=(5, 5))
    FigureCanvasAgg(figure)
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
