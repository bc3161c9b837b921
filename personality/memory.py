"""Long-term memory policy: what is worth remembering, what counts as a repeat, what to recall.

Pure functions and values, no I/O; the store, the cache and the glue live in `bot/`.

What is remembered (the cues, checked per sentence of a user's message, case-insensitive):

- explicit: "remember (that) ...", "don't forget (that) ...", "note that ..." -> pinned,
  importance 0.9 (the user asked; it never expires, decays or is evicted);
- fact: first person + a stable fact: "I'm a/an ...", "I work ...", "I live ...",
  "I'm from ...", "my name is ...", "I have a ...", "I'm allergic to ...", "my sister Ana
  ..." (a relative, partner, pet or friend) -> importance 0.7;
- preference: "I love/like/enjoy/hate/prefer/can't stand ...", "my favourite ... is ..."
  -> importance 0.6;
- plan: "I'm going to ...", "I plan to ...", "I'll ...", "I'm moving/starting/visiting ..."
  -> importance 0.5; plans expire: today/tonight after 1 day, tomorrow 2 days, this/next
  week or weekend 14 days, next month 60 days, any other plan after 90 days.

A statement whose embedding has cosine >= DUPLICATE_THRESHOLD with a live memory of the same
user refreshes that memory instead of adding one. There is no LLM extraction step yet: these
cues are the only path (an LLM extractor would return `MemoryCandidate` values as well).

Questions are not remembered unless they carry an explicit cue; transient states ("I'm
tired") are not facts because "I'm" needs an article or a fixed phrase after it.

Recall score (all terms in [0, 1] except cosine in [-1, 1]):
`0.7 * cosine + 0.2 * recency + 0.1 * importance`, where recency halves every 30 days since
the memory was last told (pinned memories keep recency 1). Only memories whose cosine reaches
the similarity floor are candidates; the best `top_k` are taken in score order as long as
their estimated tokens fit the budget (a memory that does not fit is skipped, a shorter one
after it may still fit). Tokens are estimated as ceil(characters / 4) + 3: OpenAI's rule of
thumb of ~4 characters per English token, plus the list-item framing in the prompt.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from personality.signals import Embedding
from personality.text import clean

EMBEDDING_DIM: Final = 384
"""all-MiniLM-L6-v2 rows; the memory code only needs every row to have the same width."""

DUPLICATE_THRESHOLD: Final = 0.88
"""Cosine at or above which a new statement refreshes an existing memory instead of adding
one. Measured with all-MiniLM-L6-v2: paraphrases and corrections score 0.89-0.99 ("I'm a
nurse" / "I work as a nurse" 0.89, "... married in May" / "... married in June" 0.97), while
different facts of the same shape stay near 0.8 or below ("I have a cat called Miso" / "... a
dog called Miso" 0.80, "I live in Leeds" / "I live in London" 0.75)."""

WEIGHT_SIMILARITY: Final = 0.7
WEIGHT_RECENCY: Final = 0.2
WEIGHT_IMPORTANCE: Final = 0.1
RECENCY_HALF_LIFE_S: Final = 30 * 86_400.0
CHARS_PER_TOKEN: Final = 4
TOKENS_PER_ITEM: Final = 3
MAX_PER_MESSAGE: Final = 5
"""A message yields at most this many memories (a pasted wall of "I'm ..." lines must not
turn into thousands of embeddings and writes)."""
SHORTLIST_FACTOR: Final = 8
"""Only the best `top_k * 8` candidates are tried against the token budget, so the cost of
a recall does not grow with the number of memories that pass the floor."""

DAY_S: Final = 86_400.0
PLAN_DEFAULT_S: Final = 90 * DAY_S

IMPORTANCE: Final[dict[str, float]] = {
    "explicit": 0.9,
    "fact": 0.7,
    "preference": 0.6,
    "plan": 0.5,
}


@dataclass(frozen=True, slots=True)
class MemoryCandidate:
    """A statement worth remembering, as the policy decided it."""

    text: str
    kind: str
    importance: float
    pinned: bool
    expires_in_s: float | None = None


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_EXPLICIT = re.compile(
    r"^(?:please\s+|pls\s+|and\s+)?(?:remember|don'?t\s+forget|do\s+not\s+forget|note)"
    r"\s*(?:that\s+|:\s*|,\s*)?(?P<rest>.+)$",
    re.IGNORECASE,
)
_RELATION = (
    r"(?:wife|husband|partner|girlfriend|boyfriend|fianc[eé]e?|sister|brother|sibling|mother|"
    r"mom|mum|father|dad|parents?|son|daughter|kids?|children|child|baby|grandm[ao]\w*|"
    r"grandfather|grandpa|aunt|uncle|cousin|niece|nephew|dog|cat|puppy|kitten|pet|"
    r"best\s+friend|friend|boss|roommate|flatmate|colleague|team|job|birthday)"
)
_FACT = re.compile(
    r"\b(?:i'?m|i\s+am)\s+(?:an?\s+\w+|from\b|allergic\b|married\b|engaged\b|divorced\b|"
    r"single\b|vegan\b|vegetarian\b|pregnant\b|retired\b|studying\b|learning\b|"
    r"(?:\d+|\w+ty(?:-\w+)?)\s+years?\s+old\b)"
    r"|\bi\s+(?:work|study|live|grew\s+up)\b"
    r"|\bi\s+(?:have|'ve\s+got|'ve|have\s+got)\s+(?:an?|two|three|\d+)\s+\w+"
    r"|\bi\s+was\s+born\b"
    r"|\bmy\s+name\s+is\b|\bcall\s+me\b"
    rf"|\bmy\s+(?:\w+\s+)?{_RELATION}\b",
    re.IGNORECASE,
)
_PREFERENCE = re.compile(
    r"\bi\s+(?:really\s+|do\s+not\s+|don'?t\s+|absolutely\s+)?"
    r"(?:love|like|enjoy|hate|prefer|adore|dislike|can'?t\s+stand)\b"
    r"|\bmy\s+fav(?:ou)?rite\b",
    re.IGNORECASE,
)
_PLAN = re.compile(
    r"\b(?:i'?m|i\s+am)\s+(?:going\s+to|planning|moving|starting|visiting|flying|travell?ing|"
    r"getting|taking|leaving|quitting|having)\b"
    r"|\bi\s+(?:will|plan\s+to|intend\s+to|'ll)\b|\bi'll\b",
    re.IGNORECASE,
)
_HORIZONS: Final = (
    (re.compile(r"\b(?:today|tonight|this\s+(?:morning|afternoon|evening))\b", re.I), DAY_S),
    (re.compile(r"\btomorrow\b", re.I), 2 * DAY_S),
    (re.compile(r"\b(?:this|next)\s+(?:week|weekend)\b", re.I), 14 * DAY_S),
    (re.compile(r"\bnext\s+month\b", re.I), 60 * DAY_S),
)


def has_words(text: str) -> bool:
    """Whether `text` holds at least one letter or digit (emoji-only and blank text do not)."""
    return any(char.isalnum() for char in text)


def bounded(text: str, max_chars: int) -> tuple[str, bool]:
    """`text` cleaned and cut to `max_chars` at a word boundary when possible; and whether it
    was cut."""
    text = " ".join(clean(text).split())
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut).rstrip(), True


def plan_horizon(text: str) -> float:
    """Seconds until a plan stops being worth recalling (see the module docstring)."""
    for pattern, seconds in _HORIZONS:
        if pattern.search(text):
            return seconds
    return PLAN_DEFAULT_S


def classify(sentence: str) -> MemoryCandidate | None:
    """The memory one sentence carries under the documented cues, or None."""
    sentence = sentence.strip()
    explicit = _EXPLICIT.match(sentence)
    if explicit is not None and has_words(explicit["rest"]):
        return MemoryCandidate(explicit["rest"].strip(), "explicit", IMPORTANCE["explicit"], True)
    if sentence.endswith("?") or len(sentence.split()) < 3:
        return None
    if _PLAN.search(sentence):
        return MemoryCandidate(sentence, "plan", IMPORTANCE["plan"], False, plan_horizon(sentence))
    if _PREFERENCE.search(sentence):
        return MemoryCandidate(sentence, "preference", IMPORTANCE["preference"], False)
    if _FACT.search(sentence):
        return MemoryCandidate(sentence, "fact", IMPORTANCE["fact"], False)
    return None


def extract(text: str, max_chars: int, limit: int = MAX_PER_MESSAGE) -> list[MemoryCandidate]:
    """The memorable statements in a user's message (at most `limit`), each bounded to
    `max_chars` before the cues look at it, so hostile input costs bounded work."""
    candidates: list[MemoryCandidate] = []
    for match in _SENTENCE.finditer(clean(text)):
        candidate = classify(bounded(match.group(), max_chars)[0])
        if candidate is None or not has_words(candidate.text):
            continue
        candidates.append(candidate)
        if len(candidates) == limit:
            break
    return candidates


def estimate_tokens(chars: int) -> int:
    """Prompt tokens a memory of `chars` characters costs (see the module docstring)."""
    return math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_ITEM


def normalised(vector: npt.ArrayLike) -> Embedding:
    """`vector` as a float32 row of unit length (a zero vector stays zero)."""
    row = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(row))
    return row if norm == 0.0 else (row / norm).astype(np.float32)


_HEADER = struct.Struct("<4sII")
_MAGIC = b"MEM1"


@dataclass(frozen=True, slots=True)
class MemoryMatrix:
    """One user's live memories as columns, ready for one matrix-vector product per recall.

    Texts stay in the store: ranking needs only their lengths, and only the winners' texts
    are read. `touched_at` is when the memory was last told (created or refreshed by a
    near-duplicate); `expires_at` is +inf for memories that never expire.
    """

    ids: npt.NDArray[np.int64]
    embeddings: npt.NDArray[np.float32]
    importance: npt.NDArray[np.float32]
    touched_at: npt.NDArray[np.float64]
    expires_at: npt.NDArray[np.float64]
    chars: npt.NDArray[np.int32]
    pinned: npt.NDArray[np.bool_]

    @classmethod
    def empty(cls, dim: int = EMBEDDING_DIM) -> MemoryMatrix:
        return cls(
            np.zeros(0, np.int64),
            np.zeros((0, dim), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.float64),
            np.zeros(0, np.float64),
            np.zeros(0, np.int32),
            np.zeros(0, np.bool_),
        )

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def nbytes(self) -> int:
        return sum(
            column.nbytes
            for column in (
                self.ids,
                self.embeddings,
                self.importance,
                self.touched_at,
                self.expires_at,
                self.chars,
                self.pinned,
            )
        )

    def with_row(
        self,
        memory_id: int,
        embedding: Embedding,
        importance: float,
        touched_at: float,
        expires_at: float | None,
        chars: int,
        pinned: bool,
    ) -> MemoryMatrix:
        """This matrix plus one new memory (what the store now holds after an insert that
        evicted nothing), so a write need not reload the user's whole matrix."""
        expires = math.inf if expires_at is None else expires_at
        return MemoryMatrix(
            np.append(self.ids, np.int64(memory_id)),
            np.vstack([self.embeddings, embedding.astype(np.float32, copy=False)[None, :]]),
            np.append(self.importance, np.float32(importance)),
            np.append(self.touched_at, np.float64(touched_at)),
            np.append(self.expires_at, np.float64(expires)),
            np.append(self.chars, np.int32(chars)),
            np.append(self.pinned, np.bool_(pinned)),
        )

    def to_bytes(self) -> bytes:
        """A compact encoding for caches that hold bytes (Redis)."""
        rows, dim = self.embeddings.shape
        columns = (
            (self.ids, "<i8"),
            (self.embeddings, "<f4"),
            (self.importance, "<f4"),
            (self.touched_at, "<f8"),
            (self.expires_at, "<f8"),
            (self.chars, "<i4"),
            (self.pinned, np.bool_),
        )
        # One copy in all: the columns are joined as buffers, without intermediate bytes.
        parts: list[bytes | memoryview] = [_HEADER.pack(_MAGIC, rows, dim)]
        parts.extend(np.ascontiguousarray(col, dtype=kind).data for col, kind in columns)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> MemoryMatrix:
        """The matrix `to_bytes` encoded; the arrays are read-only views on `data`."""
        magic, rows, dim = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise ValueError("not an encoded memory matrix")
        offset = _HEADER.size
        columns: list[npt.NDArray[np.generic]] = []
        for dtype, count in (
            ("<i8", rows),
            ("<f4", rows * dim),
            ("<f4", rows),
            ("<f8", rows),
            ("<f8", rows),
            ("<i4", rows),
            (np.bool_, rows),
        ):
            column = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
            offset += column.nbytes
            columns.append(column)
        if offset != len(data):
            raise ValueError("encoded memory matrix has the wrong length")
        ids, flat, importance, touched, expires, chars, pinned = columns
        return cls(
            ids.astype(np.int64, copy=False),
            flat.astype(np.float32, copy=False).reshape(rows, dim),
            importance.astype(np.float32, copy=False),
            touched.astype(np.float64, copy=False),
            expires.astype(np.float64, copy=False),
            chars.astype(np.int32, copy=False),
            pinned.astype(np.bool_, copy=False),
        )


def similarities(matrix: MemoryMatrix, query: Embedding) -> npt.NDArray[np.float32]:
    """Cosine of every memory to `query` (rows and query are unit length).

    `einsum` rather than `@`: a matrix-vector product is memory-bound, and OpenBLAS's threads
    make it 40x slower on a busy 2-core host (12 ms against 0.3 ms for 10,000 rows)."""
    if len(matrix) == 0:
        return np.zeros(0, np.float32)
    scores: npt.NDArray[np.float32] = np.einsum("ij,j->i", matrix.embeddings, normalised(query))
    return scores


def find_duplicate(
    matrix: MemoryMatrix, embedding: Embedding, now: float, threshold: float = DUPLICATE_THRESHOLD
) -> int | None:
    """The id of the live memory `embedding` repeats (cosine >= threshold), or None."""
    if len(matrix) == 0:
        return None
    scores = np.where(matrix.expires_at > now, similarities(matrix, embedding), -np.inf)
    best = int(np.argmax(scores))
    return int(matrix.ids[best]) if scores[best] >= threshold else None


@dataclass(frozen=True, slots=True)
class RecallPolicy:
    top_k: int = 5
    token_budget: int = 300
    similarity_floor: float = 0.35


@dataclass(frozen=True, slots=True)
class Ranked:
    id: int
    score: float
    similarity: float
    expires_at: float


def rank(matrix: MemoryMatrix, query: Embedding, now: float, policy: RecallPolicy) -> list[Ranked]:
    """The memories to recall for `query`, best first (see the module docstring)."""
    if len(matrix) == 0 or policy.top_k <= 0:
        return []
    sims = similarities(matrix, query)
    live = (matrix.expires_at > now) & (sims >= policy.similarity_floor)
    candidates = np.flatnonzero(live)
    if candidates.size == 0:
        return []
    age = np.maximum(now - matrix.touched_at[candidates], 0.0)
    recency = np.where(matrix.pinned[candidates], 1.0, 0.5 ** (age / RECENCY_HALF_LIFE_S))
    scores = (
        WEIGHT_SIMILARITY * sims[candidates]
        + WEIGHT_RECENCY * recency
        + WEIGHT_IMPORTANCE * matrix.importance[candidates]
    )
    shortlist = _best(scores, policy.top_k * SHORTLIST_FACTOR)
    chosen: list[Ranked] = []
    spent = 0
    for position in shortlist.tolist():
        index = int(candidates[position])
        cost = estimate_tokens(int(matrix.chars[index]))
        if spent + cost > policy.token_budget:
            continue
        spent += cost
        chosen.append(
            Ranked(
                int(matrix.ids[index]),
                float(scores[position]),
                float(sims[index]),
                float(matrix.expires_at[index]),
            )
        )
        if len(chosen) == policy.top_k:
            break
    return chosen


def _best(scores: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.intp]:
    """Positions of the `count` highest scores, best first, without sorting all of them."""
    if scores.size > count:
        top = np.argpartition(-scores, count - 1)[:count]
        return top[np.argsort(-scores[top], kind="stable")]
    return np.argsort(-scores, kind="stable")
