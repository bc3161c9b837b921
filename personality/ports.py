"""The ports the analysis needs from the outside world: only the sentence embedder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt


class Embedder(Protocol):
    """Turns texts into sentence embeddings, one L2-normalised float32 row per text."""

    dim: int

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...
