"""Making untrusted message text safe to process and store."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COMBINING_RUN = re.compile(
    r"([\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{3})[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)


def clean_text(text: str, max_chars: int) -> tuple[str, bool]:
    """`text` without control characters, lone surrogates or runaway combining marks
    ("zalgo"), cut to `max_chars`; the flag says whether it was cut."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    text = _CONTROL.sub("", text)
    text = _COMBINING_RUN.sub(r"\1", text)
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > max_chars:
        return text[:max_chars].rstrip(), True
    return text, False
