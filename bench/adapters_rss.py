"""Resident memory of `attune run` with both adapters on (Telegram and Discord), against the
local fake Bot API and fake Discord gateway, beside the same process with no adapter.

Uses the shipped config.toml (sentence model included) with both adapters enabled; each
variant is started `RUNS` times and the median RSS once ready is printed as JSON.
Run: .venv/bin/python bench/adapters_rss.py   (needs ../shared/data for the fakes' specs)
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.discord_support import TOKEN as DISCORD_TOKEN  # noqa: E402  (path set above)
from tests.discord_support import running_fake  # noqa: E402
from tests.fakes_telegram import TOKEN as TELEGRAM_TOKEN  # noqa: E402
from tests.fakes_telegram import BotApiSpec, FakeBotApi  # noqa: E402

RUNS = 3


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


async def run_once(config: Path, ready: asyncio.Future[None] | None) -> float:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "DISCORD_BOT_TOKEN": DISCORD_TOKEN}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--log-level",
        "INFO",
        "run",
        "--config",
        str(config),
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    while b"attune is ready" not in await proc.stderr.readline():
        pass
    if ready is not None:
        await ready
    rss = rss_mb(proc.pid)
    proc.terminate()
    await proc.communicate()
    return rss


async def main() -> None:
    shipped = (ROOT / "config.toml").read_text()
    results: dict[str, list[float]] = {"no_adapter": [], "telegram_and_discord": []}
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.toml"
        plain.write_text(shipped)
        for _ in range(RUNS):
            results["no_adapter"].append(await run_once(plain, None))
            telegram = FakeBotApi(BotApiSpec())
            await telegram.start()
            async with running_fake() as discord:
                both = Path(tmp) / "both.toml"
                both.write_text(
                    shipped.replace(
                        "enabled = false                  # token from $TELEGRAM_BOT_TOKEN\n"
                        'base_url = ""',
                        f'enabled = true\nbase_url = "{telegram.base_url}"',
                    ).replace(
                        "enabled = false                  # token from $DISCORD_BOT_TOKEN",
                        f'enabled = true\napi_base_url = "{discord.api_url}"\n'
                        f'gateway_url = "{discord.gateway_url}"',
                    )
                )
                connected = asyncio.ensure_future(
                    asyncio.gather(
                        telegram.wait_calls("setMyCommands"),
                        discord.wait_for(lambda: discord.sessions >= 1),
                    )
                )
                results["telegram_and_discord"].append(await run_once(both, connected))
            await telegram.stop()
    medians = {name: round(statistics.median(values), 1) for name, values in results.items()}
    print(
        json.dumps(
            {
                "rss_mb_median": medians,
                "adapters_add_mb": round(
                    medians["telegram_and_discord"] - medians["no_adapter"], 1
                ),
                "runs": RUNS,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
