"""Transport-neutral events: what adapters hand to the core and what the core hands back.

Adapters translate platform updates into these objects and never pass platform types inward;
the core answers with a `Reply` that every adapter knows how to render.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    CONSOLE = "console"
    TELEGRAM = "telegram"
    DISCORD = "discord"


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One text message addressed to the bot, already filtered by its adapter."""

    platform: Platform
    chat_id: str
    user_id: str
    display_name: str
    text: str
    message_id: str = ""
    reply_to: str | None = None
    is_private: bool = True
    mentions_bot: bool = False

    @property
    def user_key(self) -> str:
        """A key unique across platforms: one profile per person per platform."""
        return f"{self.platform.value}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the reply carries: `kind` is "photo" (an image to show) or "document"."""

    filename: str
    data: bytes
    mime_type: str
    kind: str = "document"


@dataclass(frozen=True, slots=True)
class Action:
    """A button that sends a command back when pressed (confirmations such as /forget)."""

    label: str
    command: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot answers. `interaction_id` set means: show 👍/👎 buttons for it."""

    text: str
    interaction_id: int | None = None
    attachments: tuple[Attachment, ...] = ()
    actions: tuple[Action, ...] = ()
    personal: bool = False
    """True for answers about the user themself (profile, export): Discord sends them
    ephemeral in guild channels."""


class FeedbackValue(StrEnum):
    UP = "up"
    DOWN = "down"

    @property
    def reward(self) -> float:
        return 1.0 if self is FeedbackValue.UP else 0.0


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """A 👍/👎 press on the reply that `interaction_id` produced."""

    platform: Platform
    user_id: str
    interaction_id: int
    value: FeedbackValue

    @property
    def user_key(self) -> str:
        return f"{self.platform.value}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    """The core's answer to a press: `stored` is True only once it is durably written."""

    stored: bool
    message: str
    value: FeedbackValue | None = None
    changed: bool = False
