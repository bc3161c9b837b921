"""The personal commands: /profile, /persona, /why and the memory commands.

Each handler loads what it needs, calls a pure renderer of `personality/`, and answers with
a `Reply`; adapters render it (the radar chart becomes a photo, personal replies are private
where the platform allows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.commands import CommandContext, CommandService
from bot.events import Attachment, Reply
from bot.memory_service import MemoryCommands
from bot.storage.conversations import ConversationStore
from bot.storage.profiles import ProfileStore
from personality.adaptation import STRATEGY_CHOICES, Explanation, PersonaState, render_why
from personality.charts import radar_chart_png
from personality.personas import Persona, rank_personas, render_persona
from personality.profile import render_profile

PERSONA_USAGE = (
    "Use /persona to see my persona, /persona auto|mirror|complement|balance to choose how I "
    "adapt, /persona use NAME, /persona lock, /persona unlock or /persona reset."
)


class PersonalCommands:
    def __init__(
        self,
        store: ConversationStore,
        profiles: ProfileStore,
        personas: Mapping[str, Persona],
        default_persona: str,
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._personas = personas
        self._default = default_persona

    def register(self, commands: CommandService) -> None:
        commands.register("profile", "what I have learnt about you, with a chart", self.profile)
        commands.register("persona", "see or change how I adapt to you", self.persona)
        commands.register("why", "explain my last reply", self.why)

    def _persona_of(self, state: PersonaState) -> Persona:
        name = state.persona_override if state.persona_override in self._personas else None
        return self._personas[name or self._default]

    async def profile(self, ctx: CommandContext) -> Reply:
        user_id = ctx.turn.user.id
        profile = await self._profiles.load_profile(user_id)
        state = await self._profiles.load_persona_state(user_id)
        bot_traits = dict(state.traits or self._persona_of(state).traits)
        chart = await asyncio.to_thread(radar_chart_png, profile.means(), bot_traits)
        return Reply(
            render_profile(profile, bot_traits),
            attachments=(Attachment("profile.png", chart, "image/png", kind="photo"),),
            personal=True,
        )

    async def persona(self, ctx: CommandContext) -> Reply:
        user_id, now = ctx.turn.user.id, ctx.turn.now
        state = await self._profiles.load_persona_state(user_id)
        word, _, rest = ctx.args.partition(" ")
        word = word.lower()
        if not word:
            persona = self._persona_of(state)
            strategy = state.strategy_override
            profile = await self._profiles.load_profile(user_id)
            return Reply(
                render_persona(
                    persona,
                    strategy,
                    strategy_override=state.strategy_override,
                    persona_override=state.persona_override,
                    locked=state.locked,
                    available=self._personas,
                    ranking=rank_personas(self._personas, profile),
                ),
                personal=True,
            )
        if word in STRATEGY_CHOICES:
            new_state, answer = state.with_strategy(word), f"Strategy set to {word}."
        elif word == "use":
            name = rest.strip()
            if name not in self._personas:
                known = ", ".join(self._personas)
                return Reply(f"I have no persona called {name[:40]!r}. Choose one of: {known}.")
            new_state, answer = state.with_persona(name), f"I'll be {name} for you from now on."
        elif word in ("lock", "unlock"):
            locked = word == "lock"
            new_state = state.with_lock(locked)
            answer = "Locked: my style stays as it is." if locked else "Unlocked: I adapt again."
        elif word == "reset":
            new_state, answer = PersonaState.reset(), "Reset: back to my default persona."
        else:
            return Reply(PERSONA_USAGE)
        await self._profiles.save_persona_state(user_id, new_state, now)
        return Reply(answer, personal=True)

    async def why(self, ctx: CommandContext) -> Reply:
        last = await self._store.last_interaction(ctx.turn.user.id)
        if last is None:
            return Reply("I haven't replied to you yet, so there's nothing to explain.")
        data = last.explanation
        lines = [render_why(Explanation.from_json(data), str(data.get("provider", "?")))]
        signals = data.get("signals") or {}
        if signals:
            lines.append(
                f"I read your message as {signals.get('emotion', 'neutral')} (sentiment "
                f"{float(signals.get('sentiment', 0.0)):+.2f}, from {signals.get('source')})."
            )
        memories = data.get("memories") or []
        if memories:
            lines.append("I remembered: " + "; ".join(str(m) for m in memories))
        experiment = data.get("experiment")
        if experiment:
            lines.append(
                f"You are in experiment {experiment['id']} (variant {experiment['variant']})."
            )
        return Reply("\n".join(lines), personal=True)


class MemoryCommandHandlers:
    def __init__(self, memory: MemoryCommands) -> None:
        self._memory = memory

    def register(self, commands: CommandService) -> None:
        commands.register("remember", "ask me to remember something", self.remember)
        commands.register("memories", "list what I remember about you", self.memories)
        commands.register("forget_memory", "delete one memory by its id", self.forget_memory)

    async def remember(self, ctx: CommandContext) -> Reply:
        return Reply(await self._memory.remember(ctx.turn.user.id, ctx.args), personal=True)

    async def memories(self, ctx: CommandContext) -> Reply:
        return Reply(await self._memory.memories(ctx.turn.user.id), personal=True)

    async def forget_memory(self, ctx: CommandContext) -> Reply:
        return Reply(await self._memory.forget_memory(ctx.turn.user.id, ctx.args), personal=True)
