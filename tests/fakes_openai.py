"""A fake OpenAI-compatible server (aiohttp, loopback) with faults chosen per request.

`FakeOpenAI` answers `POST /v1/chat/completions`. It validates the request body shape (model,
messages with role and content) and answers 400 when it is wrong. Each request takes the next
fault from a queue (`push`), or else the `default` fault, or one drawn by `fault_picker`.
Hanging requests wait on an event the tests never set; `stop()` releases them.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

FaultKind = Literal[
    "ok", "hang", "500", "429", "400", "401", "malformed", "empty", "length", "slow"
]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind = "ok"
    retry_after: str | None = None
    """Sent as the Retry-After header with a 429."""
    delay_s: float = 0.0
    """For "slow": the time before the first byte of the answer."""
    text: str = ""
    """For "ok": the reply text (default: "reply from NAME")."""


OK = Fault()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class FakeOpenAI:
    name: str = "fake"
    default: Fault = OK
    fault_picker: Callable[[], Fault] | None = None
    port: int = field(default_factory=free_port)
    queue: deque[Fault] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    cancelled: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a request has arrived."""
    was_cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the client went away during a request (the handler was cancelled)."""
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *faults: Fault) -> None:
        self.queue.extend(faults)

    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        self._release.clear()
        return self

    async def stop(self) -> None:
        """Stop listening: later connections are refused. Hanging requests are released."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _next_fault(self) -> Fault:
        if self.queue:
            return self.queue.popleft()
        if self.fault_picker is not None:
            return self.fault_picker()
        return self.default

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "body is not JSON")
        problem = _check_body(body)
        if problem:
            return _error(400, problem)
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        self.started.set()
        fault = self._next_fault()
        try:
            return await self._answer(request, fault, body)
        except asyncio.CancelledError:
            self.cancelled += 1
            self.was_cancelled.set()
            raise

    async def _answer(
        self, request: web.Request, fault: Fault, body: dict[str, Any]
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind == "hang":
            await self._release.wait()
            return _error(503, "released at shutdown")
        if kind == "slow":
            await asyncio.sleep(fault.delay_s)  # the fault itself: a slow first byte
        if kind == "500":
            return _error(500, "internal error")
        if kind == "429":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return _error(429, "rate limited", headers)
        if kind == "400":
            return _error(400, "bad request")
        if kind == "401":
            return _error(401, "Incorrect API key provided")
        if kind == "malformed":
            return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
        text = fault.text or f"reply from {self.name}"
        if kind == "empty":
            return web.json_response(_completion(body["model"], [], "stop"))
        finish = "length" if kind == "length" else "stop"
        return web.json_response(_completion(body["model"], [text], finish))


def _check_body(body: Any) -> str:
    if not isinstance(body, dict):
        return "body must be an object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model is required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for message in messages:
        if not isinstance(message, dict):
            return "each message must be an object"
        if message.get("role") not in ("system", "user", "assistant"):
            return "message role is invalid"
        if not isinstance(message.get("content"), str):
            return "message content must be a string"
    return ""


def _completion(model: str, texts: list[str], finish: str) -> dict[str, Any]:
    choices = [
        {
            "index": i,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish,
        }
        for i, text in enumerate(texts)
    ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": choices,
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    payload = {"error": {"message": message, "type": "fake_error", "code": None}}
    return web.json_response(payload, status=status, headers=headers)
