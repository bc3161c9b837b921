"""Signed button payloads, shared by every adapter with buttons.

A payload names what the button does and carries a truncated HMAC over it and the id of the
user it was made for. A press is accepted only from that user and only with a valid
signature, so a payload cannot be forged or replayed by someone else to rate another person's
reply. Payloads fit Telegram's 64-byte callback data and Discord's 100-character custom_id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from bot.events import FeedbackValue

MAX_BYTES = 64
_SIG_CHARS = 16
_VALUES = {"u": FeedbackValue.UP, "d": FeedbackValue.DOWN}


@dataclass(frozen=True, slots=True)
class FeedbackPress:
    interaction_id: int
    value: FeedbackValue


@dataclass(frozen=True, slots=True)
class ActionPress:
    command: str


class CallbackCodec:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the signing key must be at least 16 bytes")
        self._key = key

    def feedback(self, interaction_id: int, value: FeedbackValue, user_id: str) -> str:
        body = f"f{value.value[0]}{interaction_id:x}"
        return f"{body}.{self._sign(body, user_id)}"

    def action(self, command: str, user_id: str) -> str:
        body = "a" + command
        payload = f"{body}.{self._sign(body, user_id)}"
        if len(payload.encode()) > MAX_BYTES:
            raise ValueError(f"action command too long for a button: {command!r}")
        return payload

    def decode(self, payload: str, user_id: str) -> FeedbackPress | ActionPress | None:
        """What the button does, or None when it was not made for this user or was altered."""
        body, _, signature = payload.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body, user_id)):
            return None
        if body.startswith("a") and len(body) > 1:
            return ActionPress(body[1:])
        if body.startswith("f") and len(body) > 2 and body[1] in _VALUES:
            try:
                interaction_id = int(body[2:], 16)
            except ValueError:
                return None
            return FeedbackPress(interaction_id, _VALUES[body[1]])
        return None

    def _sign(self, body: str, user_id: str) -> str:
        digest = hmac.new(self._key, f"{user_id}\x00{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIG_CHARS]
