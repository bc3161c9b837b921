"""Making arbitrary user text safe for lexicons and models.

Chat platforms deliver any `str`, including NUL bytes and lone surrogates ("\\ud800") that
make tokenizers and encoders raise. `clean` removes what no model can use; `model_input`
also cuts the text to what the sentence model reads, and says whether it cut.
"""

from __future__ import annotations

import re

MODEL_MAX_CHARS = 1000
"""About 256 word pieces of English: the sentence model never reads beyond that, so longer
texts are cut here, and the analysis reports `truncated`."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """`text` without control characters, with lone surrogates replaced by U+FFFD (paired ones
    become the character they encode)."""
    if not text.isascii():
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROL.sub(" ", text)


def model_input(text: str, max_chars: int = MODEL_MAX_CHARS) -> tuple[str, bool]:
    """The cleaned text the model should read, and whether it was cut to `max_chars`."""
    cut = len(text) > max_chars
    return clean(text[:max_chars] if cut else text), cut
