"""Discord buttons: one persistent, custom_id-based button class for every attune button.

Every custom_id is a `CallbackCodec` payload (signed for the user the button was made for), so
no state lives in memory: the `SignedButton` template is registered on each start-up and a
press on a message sent before a restart is dispatched like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import discord

from adapters.callbacks import CallbackCodec, FeedbackPress
from bot.events import Action, FeedbackValue

# A codec payload: kind letter, body, ".", a 16-character urlsafe signature.
_PAYLOAD = re.compile(r"(?P<payload>[af].*\.[A-Za-z0-9_-]{16})")
_EMOJI = {FeedbackValue.UP: "👍", FeedbackValue.DOWN: "👎"}
_CHOSEN_STYLE = {
    FeedbackValue.UP: discord.ButtonStyle.success,
    FeedbackValue.DOWN: discord.ButtonStyle.danger,
}


class ButtonPressHandler(Protocol):
    """What a press is handed to (the adapter's interaction handler)."""

    async def on_button(self, interaction: discord.Interaction[Any], payload: str) -> None: ...


class HasButtonHandler(Protocol):
    button_handler: ButtonPressHandler


class SignedButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=_PAYLOAD):
    """A button whose custom_id is a signed codec payload."""

    def __init__(
        self,
        payload: str,
        *,
        label: str | None = None,
        emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(custom_id=payload, label=label, emoji=emoji, style=style)
        )
        self.payload = payload

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SignedButton:
        return cls(match["payload"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client: HasButtonHandler = interaction.client
        await client.button_handler.on_button(interaction, self.payload)


def reply_view(
    codec: CallbackCodec,
    user_id: str,
    interaction_id: int | None,
    actions: Sequence[Action] = (),
    chosen: FeedbackValue | None = None,
) -> discord.ui.View | None:
    """The buttons for a reply: confirmation actions first, then 👍/👎; None when there are none.

    `chosen` highlights the button the user pressed, so the message shows the choice."""
    if interaction_id is None and not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(
            SignedButton(
                codec.action(action.command, user_id),
                label=action.label,
                style=discord.ButtonStyle.primary,
            )
        )
    if interaction_id is not None:
        for value in (FeedbackValue.UP, FeedbackValue.DOWN):
            style = _CHOSEN_STYLE[value] if value is chosen else discord.ButtonStyle.secondary
            payload = codec.feedback(interaction_id, value, user_id)
            view.add_item(SignedButton(payload, emoji=_EMOJI[value], style=style))
    return view


def feedback_interaction_id(
    codec: CallbackCodec, user_id: str, rows: Iterable[discord.Component]
) -> int | None:
    """The interaction the 👍/👎 buttons among a message's components rate, for this user."""
    for row in rows:
        children = row.children if isinstance(row, discord.ActionRow) else [row]
        for child in children:
            custom_id = getattr(child, "custom_id", None)
            if not isinstance(custom_id, str):
                continue
            press = codec.decode(custom_id, user_id)
            if isinstance(press, FeedbackPress):
                return press.interaction_id
    return None
