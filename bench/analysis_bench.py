"""Analysis speed: per-message latency without and with the sentence embedding, throughput.

Run: .venv/bin/python bench/analysis_bench.py [--messages N]

Prints one JSON object. The baseline measured in the same run is VADER's `polarity_scores`
alone on the same messages (`ratio_to_vader`), single-message embedding for the batched
and async paths (`speedup_vs_single`), and the embedding alone (sentence model without the
fine-tuned emotion layers, head on the embedding) for the one-pass embedding + emotions
(`ratio_to_embedding_only_p50`). Messages are GoEmotions dev texts when
../shared/data is present, else a built-in sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.embedding import AsyncEmbedder, SentenceEmbedder  # noqa: E402 - after sys.path
from personality.analysis import MessageAnalyzer  # noqa: E402
from personality.lexicons import Lexicons  # noqa: E402

SAMPLE = [
    "hey, how are you doing today?",
    "I've never been this sad in my life!",
    "URGENT!!! I need the report by 5pm",
    "Dear team, could you please send me the minutes? Kind regards",
    "lol gonna be late again 😂😂",
    "I'm so happy for you, congratulations!",
    "This is the worst service I have ever had, I'm furious.",
]


def messages(count: int) -> list[str]:
    dev = ROOT.parent / "shared" / "data" / "goemotions" / "dev.tsv"
    texts = SAMPLE
    if dev.is_file():
        texts = [line.split("\t")[0] for line in dev.read_text(encoding="utf-8").splitlines()]
    return [texts[index % len(texts)] for index in range(count)]


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 4),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 4),
    }


def timed_each(
    texts: Sequence[str],
    call: Callable[[str], object],
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Per-call milliseconds by `clock` (wall time by default; `time.thread_time` counts only
    this thread's CPU time, which leaves out preemption by other processes on a busy host)."""
    timings = []
    for text in texts:
        start = clock()
        call(text)
        timings.append((clock() - start) * 1000)
    return timings


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def async_throughput(embedder: SentenceEmbedder, texts: Sequence[str]) -> float:
    async with AsyncEmbedder(embedder, max_batch=32) as batched:
        start = time.perf_counter()
        await asyncio.gather(*(batched.encode_one(text) for text in texts))
        return len(texts) / (time.perf_counter() - start)


def analyse_encoded(
    analyzer: MessageAnalyzer, embedder: SentenceEmbedder, texts: Sequence[str]
) -> None:
    """The production path: one pass for embeddings and emotions, then the analysis."""
    encoded = embedder.encode(texts)
    for index, text in enumerate(texts):
        emotions = encoded.emotions[index] if encoded.emotions is not None else None
        analyzer.analyse(text, encoded.embeddings[index], emotions)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--model-messages", type=int, default=256)
    args = parser.parse_args()
    texts = messages(args.messages)
    rss_start = rss_mb()
    analyzer = MessageAnalyzer.load()
    lexicons = Lexicons()
    for text in texts[:200]:  # warm caches
        analyzer.analyse(text)
    vader = timed_each(texts, lexicons.read)
    lexical = timed_each(texts, analyzer.analyse)
    lexical_cpu = timed_each(texts, analyzer.analyse, time.thread_time)

    embedder = SentenceEmbedder()
    rss_loaded = rss_mb()
    model_texts = texts[: args.model_messages]
    embedder.encode(model_texts[:16])  # warm up
    embed_only = timed_each(
        model_texts, lambda text: analyzer.analyse(text, embedder.embed([text])[0])
    )
    single = timed_each(model_texts, lambda text: analyse_encoded(analyzer, embedder, [text]))
    start = time.perf_counter()
    analyse_encoded(analyzer, embedder, model_texts)
    batched_rate = len(model_texts) / (time.perf_counter() - start)
    single_rate = 1000 * len(single) / sum(single)
    async_rate = asyncio.run(async_throughput(embedder, model_texts))

    report: dict[str, Any] = {
        "messages": len(texts),
        "without_embedding": {
            **percentiles(lexical),
            "cpu_time": percentiles(lexical_cpu),
            "baseline_lexicons_only": percentiles(vader),
            "ratio_to_vader_p50": round(statistics.median(lexical) / statistics.median(vader), 2),
        },
        "with_embedding": {
            "messages": len(model_texts),
            "emotion_layers": embedder.emotion_top is not None,
            "single": {**percentiles(single), "messages_per_s": round(single_rate, 1)},
            "baseline_embedding_only": percentiles(embed_only),
            "ratio_to_embedding_only_p50": round(
                statistics.median(single) / statistics.median(embed_only), 2
            ),
            "batched_64": {
                "messages_per_s": round(batched_rate, 1),
                "speedup_vs_single": round(batched_rate / single_rate, 2),
            },
            "async_microbatch_32": {
                "messages_per_s": round(async_rate, 1),
                "speedup_vs_single": round(async_rate / single_rate, 2),
            },
        },
        "rss_mb": {"start": rss_start, "after_model_load": rss_loaded, "end": rss_mb()},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
