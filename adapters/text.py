"""Splitting long replies for platforms with a message size limit."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_message(text: str, limit: int) -> list[str]:
    """`text` cut into parts of at most `limit` characters, preferring line breaks, then
    sentence ends, then spaces, and only as a last resort the middle of a word. No part is
    empty and joining the parts loses nothing but the whitespace at the cuts."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = _best_cut(window, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    if rest:
        parts.append(rest)
    return parts


def _best_cut(window: str, limit: int) -> int:
    floor = limit // 2  # never cut so early that parts become tiny
    newline = window.rfind("\n", floor, limit + 1)
    if newline > 0:
        return newline
    sentence_ends = [
        m.end() for m in _SENTENCE_END.finditer(window) if floor <= m.start() <= limit
    ]
    if sentence_ends:
        return min(sentence_ends[-1], limit)
    space = window.rfind(" ", floor, limit + 1)
    if space > 0:
        return space
    return limit
