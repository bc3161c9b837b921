"""Requests/s of attune's router vs LiteLLM's Router, side by side, against one local fake.

Run: .venv/bin/python bench/litellm_compare.py [--requests N]
LiteLLM pins `openai<3`, so it is never a project dependency: this script creates its own
throwaway virtualenv (/tmp/litellm-venv) and installs it there on first use. The fake server
runs in a separate process (`llm_router_bench.py --serve`); the two routers are measured in
alternating rounds in their own processes, and the medians are compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = Path("/tmp/litellm-venv")
ROUNDS = 4

LITELLM_SCRIPT = """
import asyncio, json, sys, time
import litellm

litellm.telemetry = False
litellm.suppress_debug_info = True
url, n = sys.argv[1], int(sys.argv[2])
router = litellm.Router(
    model_list=[{"model_name": "m", "litellm_params": {
        "model": "openai/m", "api_base": url, "api_key": "k"}}],
    num_retries=0,
)
messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]

async def call():
    return await router.acompletion(model="m", messages=messages, max_tokens=50)

async def throughput(concurrency):
    queue = iter(range(n))
    async def worker():
        for _ in queue:
            await call()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return round(n / (time.perf_counter() - started), 1)

async def main():
    for _ in range(50):
        await call()
    print(json.dumps({f"c{c}": await throughput(c) for c in (1, 16)}))

asyncio.run(main())
"""


def ensure_litellm() -> str | None:
    """The venv's python with litellm installed, or None (with the reason on stderr)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        venv.create(VENV, with_pip=True)
    probe = subprocess.run([python, "-c", "import litellm"], capture_output=True)
    if probe.returncode != 0:
        install = subprocess.run(
            [python, "-m", "pip", "install", "-q", "litellm"], capture_output=True, text=True
        )
        if install.returncode != 0:
            print(f"litellm could not be installed: {install.stderr[-500:]}", file=sys.stderr)
            return None
    return str(python)


def run_json(cmd: list[str]) -> dict[str, float]:
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(n: int) -> dict[str, Any]:
    python = ensure_litellm()
    if python is None:
        return {"litellm": "not installable here; no comparison"}
    server = subprocess.Popen(
        [sys.executable, str(HERE / "llm_router_bench.py"), "--serve", "compare"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    ours_cmd = [sys.executable, str(HERE / "llm_router_bench.py"), "--rps-only", url]
    ours_cmd += ["--requests", str(n)]
    theirs_cmd = [python, "-c", LITELLM_SCRIPT, url, str(n)]
    samples: dict[str, list[dict[str, float]]] = {"attune": [], "litellm": []}
    try:
        for round_number in range(ROUNDS):
            order = [("attune", ours_cmd), ("litellm", theirs_cmd)]
            for name, cmd in order if round_number % 2 == 0 else reversed(order):
                samples[name].append(run_json(cmd))
    finally:
        server.stdin.close()
        server.wait()
    result: dict[str, Any] = {"requests_per_round": n, "rounds": ROUNDS}
    for key in ("c1", "c16"):
        ours = statistics.median(s[key] for s in samples["attune"])
        theirs = statistics.median(s[key] for s in samples["litellm"])
        result[f"rps_{key}"] = {
            "attune": ours,
            "litellm": theirs,
            "ratio": round(ours / theirs, 2),
        }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(main(args.requests), indent=2))
