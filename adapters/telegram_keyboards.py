"""Inline keyboards: 👍/👎 under a reply, confirmation buttons, and the keyboard after a press.

Every callback payload comes from `CallbackCodec`, signed for the user the reply was for.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.callbacks import CallbackCodec
from bot.events import FeedbackValue, Reply

_LABELS = {FeedbackValue.UP: "👍", FeedbackValue.DOWN: "👎"}
CHOSEN_MARK = " ✓"


def feedback_row(
    codec: CallbackCodec, interaction_id: int, user_id: str, chosen: FeedbackValue | None = None
) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            _LABELS[value] + (CHOSEN_MARK if value is chosen else ""),
            callback_data=codec.feedback(interaction_id, value, user_id),
        )
        for value in (FeedbackValue.UP, FeedbackValue.DOWN)
    ]


def reply_keyboard(
    codec: CallbackCodec, reply: Reply, user_id: str
) -> InlineKeyboardMarkup | None:
    """The buttons for `reply`: its actions, one per row, then the feedback row."""
    rows = [
        [InlineKeyboardButton(action.label, callback_data=codec.action(action.command, user_id))]
        for action in reply.actions
    ]
    if reply.interaction_id is not None:
        rows.append(feedback_row(codec, reply.interaction_id, user_id))
    return InlineKeyboardMarkup(rows) if rows else None


def with_choice(
    markup: InlineKeyboardMarkup | None,
    codec: CallbackCodec,
    interaction_id: int,
    user_id: str,
    chosen: FeedbackValue,
) -> InlineKeyboardMarkup:
    """`markup` with its feedback row showing `chosen`; other rows are kept as they are."""
    payloads = {codec.feedback(interaction_id, value, user_id) for value in _LABELS}
    rows: list[list[InlineKeyboardButton]] = []
    replaced = False
    for row in markup.inline_keyboard if markup is not None else ():
        if any(button.callback_data in payloads for button in row):
            rows.append(feedback_row(codec, interaction_id, user_id, chosen))
            replaced = True
        else:
            rows.append(list(row))
    if not replaced:
        rows.append(feedback_row(codec, interaction_id, user_id, chosen))
    return InlineKeyboardMarkup(rows)
