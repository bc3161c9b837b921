"""Builds the generator from `[llm]` config: one `OpenAIProvider` per entry behind a router."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping

from bot.config import LLMSection
from bot.llm.offline import OfflineResponder
from bot.llm.outcomes import ChatProvider
from bot.llm.provider import OpenAIProvider
from bot.llm.router import ProviderRouter

log = logging.getLogger(__name__)


def build_generator(
    settings: LLMSection,
    env: Mapping[str, str],
    *,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    offline: OfflineResponder | None = None,
) -> ProviderRouter:
    """A router over the configured providers; with none it always answers offline.

    A provider whose `api_key_env` names an unset variable is left out with a warning (it
    could only answer 401); one with an empty `api_key_env` is a keyless local server.
    """
    providers: list[ChatProvider] = []
    for section in settings.providers:
        key: str | None = None
        if section.api_key_env:
            key = env.get(section.api_key_env, "").strip() or None
            if key is None:
                log.warning(
                    "provider %s left out: environment variable %s is not set",
                    section.name,
                    section.api_key_env,
                )
                continue
        providers.append(OpenAIProvider(section, key))
    if not providers:
        log.info("no LLM provider available: replies come from the offline responder")
    return ProviderRouter(providers, settings, clock=clock, rng=rng, offline=offline)
