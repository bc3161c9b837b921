"""Personas (base traits from `config.toml`) and the matcher that ranks them for a user.

Matching modes, each a score in [0, 1] (higher fits better), with every trait weighted by how
confident the profile is about it, so an unknown user scores every persona the same:

- similarity: 1 - weighted mean |persona - user|; a persona that talks like the user.
- complementarity: 1 - weighted mean |persona - (1 - user)|; a persona strong where the user
  is not (structured for the scattered, calm for the anxious).
- hybrid: `weight` x similarity + (1 - weight) x complementarity.

Ties keep the configuration order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from personality.profile import UserProfile
from personality.signals import TRAITS, clamp

MatchMode = Literal["similarity", "complementarity", "hybrid"]


class PersonaLike(Protocol):
    """What a persona section of the configuration provides (bot/config.py PersonaSection)."""

    @property
    def description(self) -> str: ...

    @property
    def traits(self) -> Mapping[str, float]: ...

    @property
    def notes(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    description: str
    traits: Mapping[str, float]
    notes: str = ""

    @classmethod
    def from_mapping(cls, name: str, raw: Mapping[str, Any]) -> Persona:
        """A persona from a plain mapping {description, traits, notes}; traits are clamped and
        missing ones default to 0.5."""
        traits_raw: Mapping[str, Any] = raw.get("traits", {})
        traits = {t: clamp(float(traits_raw.get(t, 0.5))) for t in TRAITS}
        return cls(name, str(raw.get("description", "")), traits, str(raw.get("notes", "")))


def personas_from_config(sections: Mapping[str, PersonaLike]) -> dict[str, Persona]:
    """Personas from the `[personas.NAME]` sections (or anything with the same attributes)."""
    return {
        name: Persona.from_mapping(
            name,
            {"description": s.description, "traits": s.traits, "notes": s.notes},
        )
        for name, s in sections.items()
    }


def _distance(persona: Persona, target: Mapping[str, float], profile: UserProfile) -> float:
    weights = {t: profile.confidence(t) for t in TRAITS}
    total = sum(weights.values())
    if total <= 0.0:
        return 0.5
    return sum(weights[t] * abs(persona.traits[t] - target[t]) for t in TRAITS) / total


def match_score(
    persona: Persona, profile: UserProfile, mode: MatchMode = "hybrid", weight: float = 0.5
) -> float:
    user = profile.means()
    similarity = 1.0 - _distance(persona, user, profile)
    if mode == "similarity":
        return similarity
    complementarity = 1.0 - _distance(persona, {t: 1.0 - v for t, v in user.items()}, profile)
    if mode == "complementarity":
        return complementarity
    w = clamp(weight)
    return w * similarity + (1.0 - w) * complementarity


def rank_personas(
    personas: Mapping[str, Persona],
    profile: UserProfile,
    mode: MatchMode = "hybrid",
    weight: float = 0.5,
) -> list[tuple[str, float]]:
    """(name, score) best first."""
    scored = [(name, match_score(p, profile, mode, weight)) for name, p in personas.items()]
    return sorted(scored, key=lambda item: -item[1])


def render_persona(
    persona: Persona,
    strategy: str,
    *,
    strategy_override: str,
    persona_override: str | None,
    locked: bool,
    available: Mapping[str, Persona],
    ranking: Sequence[tuple[str, float]] = (),
) -> str:
    """The `/persona` text: current persona, strategy, controls, and the personas ranked by
    how well they fit the user (`rank_personas`)."""
    chosen_by = "you chose it" if persona_override else "the default"
    mode = "your choice" if strategy_override != "auto" else "chosen automatically"
    lines = [
        f"Persona: {persona.name} - {persona.description} ({chosen_by})",
        f"Adaptation strategy: {strategy} ({mode})",
        "Adaptation is locked: my style stays as it is now." if locked else "Adaptation: on",
        "Other personas: " + (", ".join(n for n in available if n != persona.name) or "none"),
        *(
            ["Fit for you (hybrid match): " + ", ".join(f"{n} {s:.2f}" for n, s in ranking)]
            if ranking
            else []
        ),
        "Change with /persona auto|mirror|complement|balance, /persona use NAME, "
        "/persona lock, /persona reset.",
    ]
    return "\n".join(lines)
