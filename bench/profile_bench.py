"""Benchmarks for issue 5; prints one JSON object.

1. The daily profile job on USERS users x 10 insights (and 10 stored traits each), as the
   scheduler runs it (changes recorded, not returned), against a baseline measured in the
   same run: one plain GROUP BY scan of the same insights (the least any consolidation must
   read). Target: job under 10 s. Reading the recorded changes back is timed separately.
2. Per message: profile update + adaptation + prompt building (p50/p99), against the profile
   update alone as the baseline.

Run: .venv/bin/python bench/profile_bench.py [--users N] [--messages N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import SchedulerSection
from bot.storage.db import Database
from bot.storage.migrations import apply_migrations
from personality.adaptation import AdaptationLimits, PersonaState, adapt
from personality.charts import radar_chart_png
from personality.personas import Persona
from personality.profile import UserProfile, update_profile
from personality.prompting import PromptContext, build_prompt
from personality.signals import EMOTIONS, TRAITS, MessageSignals
from scheduler.jobs import TaskService

DAY = 86_400.0
NOW = 2_000 * DAY


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fill(path: Path, users: int, rng: random.Random) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO users (id, platform, platform_user_id, created_at, last_seen_at)"
            " VALUES (?, 'bench', ?, 0, ?)",
            ((u, str(u), NOW - rng.random() * 6 * DAY) for u in range(1, users + 1)),
        )
        conn.executemany(
            "INSERT INTO profile_traits (user_id, trait, value, evidence, updated_at)"
            " VALUES (?, ?, ?, 5, 0)",
            ((u, t, rng.random()) for u in range(1, users + 1) for t in TRAITS),
        )
        conn.executemany(
            "INSERT INTO insights (user_id, trait, delta, source, created_at)"
            " VALUES (?, ?, ?, 'bench', ?)",
            (
                (u, rng.choice(TRAITS), rng.uniform(-0.5, 0.5), NOW - rng.random() * 29 * DAY)
                for u in range(1, users + 1)
                for _ in range(10)
            ),
        )
    conn.close()


async def daily_bench(users: int, rng: random.Random) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        db = await Database.open(path)
        await apply_migrations(db)
        await db.close()
        started = time.perf_counter()
        fill(path, users, rng)
        setup_s = time.perf_counter() - started
        db = await Database.open(path)
        try:
            started = time.perf_counter()
            await db.fetchall(
                "SELECT user_id, trait, SUM(delta) FROM insights WHERE created_at >= ?"
                " GROUP BY user_id, trait",
                (NOW - 30 * DAY,),
            )
            baseline_s = time.perf_counter() - started
            tasks = TaskService(db, SchedulerSection(), lambda: NOW)
            started = time.perf_counter()
            result = await tasks.daily_profile_update(with_changes=False)
            job_s = time.perf_counter() - started
            started = time.perf_counter()
            changes = await tasks.changes(result.run.id)
            changes_read_s = time.perf_counter() - started
        finally:
            await db.close()
    return {
        "users": users,
        "insights": users * 10,
        "setup_s": round(setup_s, 2),
        "baseline_group_by_scan_s": round(baseline_s, 3),
        "job_s": round(job_s, 3),
        "ratio_job_to_baseline": round(job_s / baseline_s, 2),
        "job_ms_per_user": round(job_s * 1000 / users, 4),
        "target_s": 10.0,
        "status": result.run.status,
        "users_updated": result.run.succeeded,
        "trait_changes": sum(len(c) for c in changes.values()),
        "changes_read_back_s": round(changes_read_s, 3),
    }


def random_signals(rng: random.Random) -> MessageSignals:
    weights = [rng.random() for _ in EMOTIONS]
    total = sum(weights)
    return MessageSignals(
        sentiment=rng.uniform(-1, 1),
        emotions={e: w / total for e, w in zip(EMOTIONS, weights, strict=True)},
        formality=rng.random(),
        politeness=rng.random(),
        urgency=rng.random(),
        emoji_rate=rng.random() * 0.2,
        question_rate=rng.random(),
        length=rng.randint(5, 400),
        big_five={t: rng.random() for t in TRAITS[:5]},
        big_five_confidence=rng.random(),
        crisis=rng.random() < 0.01,
        source="bench",
    )


def message_bench(messages: int, rng: random.Random) -> dict[str, object]:
    persona = Persona("companion", "warm, curious companion", dict.fromkeys(TRAITS, 0.5), "n")
    limits = AdaptationLimits()
    history = [("user" if i % 2 == 0 else "bot", "some earlier turn " * 8) for i in range(30)]
    memories = [f"remembered fact number {i} about the user" for i in range(5)]
    inputs = [random_signals(rng) for _ in range(messages)]

    baseline: list[float] = []
    profile = UserProfile()
    for signals in inputs:
        started = time.perf_counter()
        profile, _ = update_profile(profile, signals, 0.2)
        baseline.append(time.perf_counter() - started)

    full: list[float] = []
    profile, state = UserProfile(), PersonaState()
    for index, signals in enumerate(inputs):
        started = time.perf_counter()
        profile, _ = update_profile(profile, signals, 0.2)
        result = adapt(persona, profile, signals, state, "balance", limits, NOW + index * 60)
        context = PromptContext(
            persona, result.traits, "how are you?", "Alice", memories=memories, history=history
        )
        build_prompt(context, 3000)
        full.append(time.perf_counter() - started)
        state = result.state

    started = time.perf_counter()
    radar_chart_png(profile.means(), state.traits or persona.traits)
    chart_ms = (time.perf_counter() - started) * 1000
    base_p50 = statistics.median(baseline)
    return {
        "messages": messages,
        "baseline_profile_update_us": {
            "p50": round(base_p50 * 1e6, 1),
            "p99": round(percentile(baseline, 0.99) * 1e6, 1),
        },
        "adapt_and_prompt_us": {
            "p50": round(statistics.median(full) * 1e6, 1),
            "p99": round(percentile(full, 0.99) * 1e6, 1),
        },
        "ratio_p50_to_baseline": round(statistics.median(full) / base_p50, 2),
        "radar_chart_ms": round(chart_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=5_000)
    args = parser.parse_args()
    rng = random.Random(5)
    report = {
        "daily_job": asyncio.run(daily_bench(args.users, rng)),
        "per_message": message_bench(args.messages, rng),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
