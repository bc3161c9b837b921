"""Pipeline overhead with the offline responder: per-stage p50/p99, messages per second with
1,000 simulated users, start-up time to ready and resident memory after start-up.

Baselines measured in the same run: the storage write a turn needs anyway (record_turn
alone) for the per-message figures, and a bare interpreter start for the start-up figure.
The per-message figures run without the sentence model (no inference); start-up and memory
are those of the shipped config.toml, model included.
Run: .venv/bin/python bench/pipeline_bench.py   (prints one JSON object)
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402  (the path above makes the project importable)
from bot.clock import ManualClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.events import IncomingMessage, Platform  # noqa: E402
from bot.storage.conversations import TurnRecord  # noqa: E402

USERS = 1_000
MESSAGES_PER_USER = 5
SEQUENTIAL_MESSAGES = 2_000


def ship_config(folder: Path) -> Path:
    """The shipped config.toml, copied so its data lands in `folder`."""
    path = folder / "config.toml"
    shutil.copy(ROOT / "config.toml", path)
    return path


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 4),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 4),
    }


async def pipeline_figures(folder: Path) -> dict[str, object]:
    shipped = load_config(ship_config(folder))
    # The overhead excludes model inference (embeddings off) and the rate limit, which
    # would otherwise answer the flood politely instead of running it through the pipeline.
    config = replace(
        shipped,
        limits=replace(shipped.limits, rate_capacity=1e9),
        analysis=replace(shipped.analysis, embeddings=False),
    )
    app = await App.create(config, clock=ManualClock(), env={})
    try:
        sent: dict[str, list[str]] = {}

        async def user(index: int) -> None:
            for n in range(MESSAGES_PER_USER):
                text = f"message {n} from user {index}, how are you today?"
                sent.setdefault(str(index), []).append(text)
                await app.pipeline.process(
                    IncomingMessage(Platform.TELEGRAM, str(index), str(index), "U", text)
                )

        # Latency: one message at a time, so the figures are the pipeline's own cost.
        timings: list[dict[str, float]] = []
        for n in range(SEQUENTIAL_MESSAGES):
            result = await app.pipeline.process(
                IncomingMessage(
                    Platform.TELEGRAM,
                    f"s{n % 100}",
                    f"s{n % 100}",
                    "U",
                    f"sequential message {n}, how are you today?",
                )
            )
            timings.append(result.latency_ms)
        stages = sorted({stage for t in timings for stage in t})
        overhead = [t["total"] - t.get("generation", 0.0) for t in timings]

        # Throughput: 1,000 users writing at once, checking nothing is lost or reordered.
        started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(USERS)))
        elapsed = time.perf_counter() - started
        rows = await app.db.fetchall(
            "SELECT u.platform_user_id, m.text FROM messages m JOIN users u ON u.id = m.user_id"
            " WHERE m.role = 'user' ORDER BY m.id"
        )
        stored: dict[str, list[str]] = {}
        for uid, text in rows:
            stored.setdefault(uid, []).append(text)

        user_row = await app.store.ensure_user("bench", "baseline", "B", 0.0)
        baseline: list[float] = []
        for n in range(2_000):
            record = TurnRecord(
                user_row.id,
                "c",
                str(n),
                "hello",
                "reply",
                "companion",
                "base",
                "offline",
                0.0,
                {},
                {},
                {},
                0.0,
            )
            t0 = time.perf_counter()
            await app.store.record_turn(record)
            baseline.append((time.perf_counter() - t0) * 1000)
        return {
            "users": USERS,
            "messages": USERS * MESSAGES_PER_USER,
            "messages_per_s": round(USERS * MESSAGES_PER_USER / elapsed, 1),
            "lost_or_reordered": sum(stored.get(u, []) != texts for u, texts in sent.items()),
            "overhead_ms_excluding_generation": quantiles(overhead),
            "stages_ms": {
                stage: quantiles([t.get(stage, 0.0) for t in timings]) for stage in stages
            },
            "baseline_record_turn_alone_ms": quantiles(baseline),
            "overhead_p50_over_baseline": round(
                statistics.median(overhead) / statistics.median(baseline), 2
            ),
        }
    finally:
        await app.aclose()


def startup_figures(folder: Path, runs: int = 5) -> dict[str, object]:
    config_path = ship_config(folder)
    ready: list[float] = []
    rss: list[int] = []
    bare: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "--log-level",
                "INFO",
                "run",
                "--config",
                str(config_path),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            if "attune is ready" in line:
                break
        ready.append(time.perf_counter() - t0)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss.append(
            int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
        )
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "startup_to_ready_s_median": round(statistics.median(ready), 3),
        "bare_interpreter_s_median": round(statistics.median(bare), 3),
        "startup_over_bare": round(statistics.median(ready) / statistics.median(bare), 1),
        "rss_after_startup_mb_median": round(statistics.median(rss) / 1024, 1),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        figures = asyncio.run(pipeline_figures(folder))
        figures.update(startup_figures(folder))
    figures["cpu_count"] = os.cpu_count()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
