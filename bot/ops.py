"""The operators' HTTP endpoint of `attune run`: liveness and a JSON view of the process.

`GET /healthz` answers 200 while the process serves (503 once it is stopping), for process
supervisors and load balancers; `GET /status` gives the adapters, the LLM providers (score,
breaker, latency), the storage writer's group-commit counters and the last background jobs.
It binds to loopback by default: it is for operators, not the public.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from bot.llm.status import ProviderStatus

log = logging.getLogger(__name__)

StatusSource = Callable[[], Awaitable[dict[str, Any]]]


class OpsServer:
    def __init__(self, host: str, port: int, status: StatusSource) -> None:
        self._host = host
        self._port = port
        self._status = status
        self._runner: web.AppRunner | None = None
        self.serving = False
        self.bound_port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/status", self._status_view)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.bound_port = int(self._runner.addresses[0][1])  # the real port when asked for 0
        self.serving = True
        log.info("ops endpoint on http://%s:%s", self._host, self.bound_port)

    async def stop(self) -> None:
        self.serving = False
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        if not self.serving:
            return web.json_response({"status": "stopping"}, status=503)
        return web.json_response({"status": "ok"})

    async def _status_view(self, request: web.Request) -> web.Response:
        return web.json_response(await self._status())


def providers_json(snapshot: Sequence[ProviderStatus]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(status) for status in snapshot]
