"""The bot's ten traits for one user and one message, with an explanation for `/why`.

Strategies (each gives a target per trait from the persona's base traits and the user's
profile; a trait moves toward the user's value only as far as the profile is confident):

- mirror: talk like the user: formality, enthusiasm, humour and directness move toward the
  user's observed values.
- complement: supply what the user lacks: those four move from the persona's base opposite
  to how far the user leans from the middle (base - confidence x (user - 0.5)), so a very
  formal user gets a less formal bot and an average user the persona itself; an anxious
  user (high neuroticism) gets a calmer, more empathetic bot; a scattered user (low
  conscientiousness) a more structured one.
- balance: `balance_weight` x mirror + (1 - balance_weight) x complement, per trait.

Short-term rules then adjust the target from the current message, starting from the
persona's base wherever the strategy pulled the other way (a sad user never gets a funnier
bot because complement wanted one): distress or sadness -> more empathy and agreeableness,
less humour and enthusiasm; anger -> calmer and more agreeable; urgency -> more direct and
structured; crisis -> the crisis targets (supportive, no humour) and `crisis_mode`, which
prompting turns into explicit directives at once.

Finally every trait is kept in [0, 1] and moves at most `max_step_per_message` from the traits
used for the previous message and at most `max_step_per_day` from the traits at the start of
the (UTC) day: no personality whiplash. A locked state keeps the previous traits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from personality.personas import Persona
from personality.profile import UserProfile
from personality.signals import TRAITS, MessageSignals, clamp

Strategy = Literal["mirror", "complement", "balance"]
STRATEGIES: tuple[Strategy, ...] = ("mirror", "complement", "balance")
STRATEGY_CHOICES: tuple[str, ...] = ("auto", *STRATEGIES)
MIRRORED: tuple[str, ...] = ("formality", "enthusiasm", "humor", "directness")
SECONDS_PER_DAY = 86_400.0
REPORT_FLOOR = 0.005
"""Contributions smaller than this are left out of explanations."""

CRISIS_TARGETS: Mapping[str, float] = {
    "empathy": 1.0,
    "agreeableness": 0.9,
    "neuroticism": 0.0,
    "humor": 0.0,
    "enthusiasm": 0.2,
    "directness": 0.6,
    "conscientiousness": 0.8,
}


@dataclass(frozen=True, slots=True)
class AdaptationLimits:
    max_step_per_message: float = 0.1
    max_step_per_day: float = 0.3
    balance_weight: float = 0.5


@dataclass(frozen=True, slots=True)
class PersonaState:
    """Per-user adaptation state, stored between messages."""

    traits: Mapping[str, float] | None = None
    """The traits used for the previous reply; None before the first (or after a reset)."""
    day: int | None = None
    day_start: Mapping[str, float] | None = None
    """The traits at the start of `day`: the anchor of the per-day step limit."""
    strategy_override: str = "auto"
    persona_override: str | None = None
    locked: bool = False

    def with_strategy(self, strategy: str) -> PersonaState:
        if strategy not in STRATEGY_CHOICES:
            raise ValueError(f"unknown strategy {strategy!r}; use {', '.join(STRATEGY_CHOICES)}")
        return replace(self, strategy_override=strategy)

    def with_persona(self, name: str | None) -> PersonaState:
        return replace(self, persona_override=name)

    def with_lock(self, locked: bool) -> PersonaState:
        return replace(self, locked=locked)

    @staticmethod
    def reset() -> PersonaState:
        """Back to the configured persona: overrides, lock and adapted traits cleared."""
        return PersonaState()

    def to_json(self) -> dict[str, Any]:
        return {
            "traits": dict(self.traits) if self.traits is not None else None,
            "day": self.day,
            "day_start": dict(self.day_start) if self.day_start is not None else None,
            "strategy_override": self.strategy_override,
            "persona_override": self.persona_override,
            "locked": self.locked,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PersonaState:
        def traits(raw: Any) -> dict[str, float] | None:
            if raw is None:
                return None
            return {t: clamp(float(raw.get(t, 0.5))) for t in TRAITS}

        strategy = str(data.get("strategy_override", "auto"))
        day = data.get("day")
        return cls(
            traits=traits(data.get("traits")),
            day=int(day) if day is not None else None,
            day_start=traits(data.get("day_start")),
            strategy_override=strategy if strategy in STRATEGY_CHOICES else "auto",
            persona_override=data.get("persona_override"),
            locked=bool(data.get("locked", False)),
        )


@dataclass(frozen=True, slots=True)
class Contribution:
    source: str
    """A strategy name, or the rule: "distress", "anger", "urgency", "crisis"."""
    trait: str
    delta: float


@dataclass(frozen=True, slots=True)
class Explanation:
    strategy: str
    persona: str
    locked: bool = False
    crisis_mode: bool = False
    contributions: tuple[Contribution, ...] = ()
    moved: Mapping[str, float] = field(default_factory=dict)
    """How far each trait actually moved for this message (after the step limits)."""
    limited: tuple[str, ...] = ()
    """Traits the step limits held back from their target."""

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "persona": self.persona,
            "locked": self.locked,
            "crisis_mode": self.crisis_mode,
            "contributions": [
                {"source": c.source, "trait": c.trait, "delta": round(c.delta, 4)}
                for c in self.contributions
            ],
            "moved": {t: round(d, 4) for t, d in self.moved.items()},
            "limited": list(self.limited),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Explanation:
        return cls(
            strategy=str(data.get("strategy", "")),
            persona=str(data.get("persona", "")),
            locked=bool(data.get("locked", False)),
            crisis_mode=bool(data.get("crisis_mode", False)),
            contributions=tuple(
                Contribution(str(c["source"]), str(c["trait"]), float(c["delta"]))
                for c in data.get("contributions", [])
            ),
            moved={str(t): float(d) for t, d in dict(data.get("moved", {})).items()},
            limited=tuple(str(t) for t in data.get("limited", [])),
        )


@dataclass(frozen=True, slots=True)
class Adaptation:
    traits: Mapping[str, float]
    state: PersonaState
    explanation: Explanation

    @property
    def crisis_mode(self) -> bool:
        return self.explanation.crisis_mode


def resolve_strategy(state: PersonaState, chosen: str) -> Strategy:
    """The user's override if set, else `chosen` (config or bandit); "auto" means balance."""
    name = state.strategy_override if state.strategy_override != "auto" else chosen
    for strategy in STRATEGIES:
        if strategy == name:
            return strategy
    return "balance"


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _mirror(base: Mapping[str, float], profile: UserProfile) -> dict[str, float]:
    targets = dict(base)
    for t in MIRRORED:
        targets[t] = _lerp(base[t], profile.value(t), profile.confidence(t))
    return targets


def _complement(base: Mapping[str, float], profile: UserProfile) -> dict[str, float]:
    targets = dict(base)
    for t in MIRRORED:
        targets[t] = base[t] - profile.confidence(t) * (profile.value(t) - 0.5)
    anxiety, anxiety_conf = profile.value("neuroticism"), profile.confidence("neuroticism")
    targets["neuroticism"] = _lerp(
        base["neuroticism"], min(base["neuroticism"], 1.0 - anxiety), anxiety_conf
    )
    targets["empathy"] = _lerp(base["empathy"], max(base["empathy"], anxiety), anxiety_conf)
    order, order_conf = profile.value("conscientiousness"), profile.confidence("conscientiousness")
    targets["conscientiousness"] = _lerp(
        base["conscientiousness"], max(base["conscientiousness"], 1.0 - order), order_conf
    )
    return targets


def strategy_targets(
    base: Mapping[str, float], profile: UserProfile, strategy: Strategy, balance_weight: float
) -> dict[str, float]:
    """The traits a strategy aims at for this user, before the message rules."""
    base = {t: clamp(base.get(t, 0.5)) for t in TRAITS}
    if strategy == "mirror":
        return _mirror(base, profile)
    if strategy == "complement":
        return _complement(base, profile)
    mirror, complement = _mirror(base, profile), _complement(base, profile)
    w = clamp(balance_weight)
    return {t: w * mirror[t] + (1.0 - w) * complement[t] for t in TRAITS}


def message_rules(signals: MessageSignals) -> tuple[Contribution, ...]:
    """Adjustments of the target from the current message alone (not the crisis targets)."""
    emotions = signals.emotions
    rules: list[Contribution] = []
    distress = max(
        emotions.get("sadness", 0.0), emotions.get("fear", 0.0), -signals.sentiment, 0.0
    )
    if distress >= 0.3:
        rules += [
            Contribution("distress", "empathy", 0.5 * distress),
            Contribution("distress", "agreeableness", 0.2 * distress),
            Contribution("distress", "humor", -0.5 * distress),
            Contribution("distress", "enthusiasm", -0.4 * distress),
        ]
    anger = emotions.get("anger", 0.0)
    if anger >= 0.3:
        rules += [
            Contribution("anger", "neuroticism", -0.4 * anger),
            Contribution("anger", "agreeableness", 0.4 * anger),
            Contribution("anger", "humor", -0.3 * anger),
            Contribution("anger", "enthusiasm", -0.2 * anger),
        ]
    if signals.urgency >= 0.4:
        rules += [
            Contribution("urgency", "directness", 0.4 * signals.urgency),
            Contribution("urgency", "conscientiousness", 0.4 * signals.urgency),
            Contribution("urgency", "humor", -0.2 * signals.urgency),
        ]
    return tuple(rules)


def _limit(target: float, previous: float, anchor: float, limits: AdaptationLimits) -> float:
    step, daily = limits.max_step_per_message, limits.max_step_per_day
    moved = previous + clamp(target - previous, -step, step)
    moved = clamp(moved, anchor - daily, anchor + daily)
    return clamp(clamp(moved, previous - step, previous + step))


def adapt(
    persona: Persona,
    profile: UserProfile,
    signals: MessageSignals,
    state: PersonaState,
    strategy: Strategy,
    limits: AdaptationLimits,
    now: float,
) -> Adaptation:
    """The bot's traits for this message, the next state and why they are what they are."""
    base = {t: clamp(persona.traits.get(t, 0.5)) for t in TRAITS}
    previous = dict(state.traits) if state.traits is not None else base
    if state.locked:
        explanation = Explanation(strategy, persona.name, locked=True, crisis_mode=signals.crisis)
        return Adaptation(previous, state, explanation)

    targets = strategy_targets(base, profile, strategy, limits.balance_weight)
    contributions = [
        Contribution(strategy, t, targets[t] - base[t])
        for t in TRAITS
        if abs(targets[t] - base[t]) >= REPORT_FLOOR
    ]
    for rule in message_rules(signals):
        # A rule overrides the strategy's direction: "less humour" starts from the lower of
        # the strategy's target and the persona's base, never from a target pushed up.
        t = rule.trait
        start = min(targets[t], base[t]) if rule.delta < 0 else max(targets[t], base[t])
        contributions.append(Contribution(rule.source, t, start + rule.delta - targets[t]))
        targets[t] = start + rule.delta
    if signals.crisis:
        for t, value in CRISIS_TARGETS.items():
            contributions.append(Contribution("crisis", t, value - targets[t]))
            targets[t] = value

    day = int(now // SECONDS_PER_DAY)
    anchor = dict(state.day_start) if state.day == day and state.day_start else previous
    traits = {t: _limit(clamp(targets[t]), previous[t], anchor[t], limits) for t in TRAITS}
    moved = {t: traits[t] - previous[t] for t in TRAITS if abs(traits[t] - previous[t]) > 1e-9}
    limited = tuple(t for t in TRAITS if abs(traits[t] - clamp(targets[t])) > 1e-9)
    explanation = Explanation(
        strategy,
        persona.name,
        crisis_mode=signals.crisis,
        contributions=tuple(c for c in contributions if abs(c.delta) >= REPORT_FLOOR),
        moved=moved,
        limited=limited,
    )
    next_state = replace(state, traits=traits, day=day, day_start=anchor)
    return Adaptation(traits, next_state, explanation)


def render_why(explanation: Explanation, provider: str) -> str:
    """The `/why` text for the last reply."""
    lines = [
        f"Persona: {explanation.persona}; strategy: {explanation.strategy}; "
        f"answered by: {provider}."
    ]
    if explanation.locked:
        lines.append("Adaptation is locked, so my style did not change.")
    if explanation.crisis_mode:
        lines.append(
            "Your message sounded like you might be in crisis, so I switched to a supportive mode."
        )
    by_source: dict[str, list[str]] = {}
    for c in explanation.contributions:
        sign = "+" if c.delta > 0 else "-"
        by_source.setdefault(c.source, []).append(f"{c.trait} {sign}{abs(c.delta):.2f}")
    labels = {
        "distress": "you sounded down or worried",
        "anger": "you sounded frustrated",
        "urgency": "you sounded in a hurry",
        "crisis": "crisis support",
    }
    for source, items in by_source.items():
        label = labels.get(source, f"{source} strategy (fitting your style)")
        lines.append(f"- {label}: {', '.join(items)}")
    if explanation.moved:
        moved = ", ".join(f"{t} {d:+.2f}" for t, d in explanation.moved.items())
        lines.append(f"What actually changed this time: {moved}")
    if explanation.limited:
        lines.append(
            "Held back by the step limits (I change gradually): " + ", ".join(explanation.limited)
        )
    if not explanation.contributions and not explanation.locked:
        lines.append("Nothing in your message or profile moved my style away from the persona.")
    return "\n".join(lines)
