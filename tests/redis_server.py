"""A real `redis-server` for the tests that need one, on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REDIS_BINARY = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throw-away `redis-server` (no persistence) on a free loopback port; its URL."""
    if not Path(REDIS_BINARY).exists():
        pytest.skip(f"redis-server not found at {REDIS_BINARY}: apt-get install redis-server")
    port = _free_port()
    process = subprocess.Popen(
        [
            REDIS_BINARY,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            "",
            "--loglevel",
            "notice",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:  # blocks until the server logs; no polling
        seen.append(line)
        if "Ready to accept connections" in line:
            break
    else:
        process.wait()
        pytest.fail("redis-server exited before it was ready:\n" + "".join(seen[-20:]))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()
        process.stdout.close()
